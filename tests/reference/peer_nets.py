"""Networks for the peer comparisons in ``test_peers.py``: one description, three simulators.

A :class:`DetNet` is a small deterministic network written once (explicit synapses, integer
delays in steps, spike-train inputs on the grid) and then built in neurosim, NEST and Brian2.
Every runner returns the spikes as an ``(n, 2)`` int64 array of ``(stamp, neuron)`` rows,
sorted, where ``stamp`` is NEST's time stamp in steps (a spike emitted in update step ``k``,
the step from ``k*dt`` to ``(k+1)*dt``, has stamp ``k + 1``) and ``neuron`` is a global index
(population ``e`` first, then ``i``).

Mapping onto Brian2 (see ``run_brian2``), for NEST's discrete-time semantics:

* Brian2 stamps a spike with the *start* of the step in which it is found (``t = k*dt``), so
  ``stamp = round(t/dt) + 1``; a spike-train input with NEST stamp ``T`` is given to a
  ``SpikeGeneratorGroup`` at ``T - dt``.
* NEST holds a neuron for ``round(t_ref/dt)`` whole steps after the spike step and frees it in
  the step after; Brian2 holds it for ``timestep(refractory) - 1`` steps after the spike step,
  so ``refractory = t_ref + dt``.
* ``iaf_psc_exp``: the synapse adds its weight to ``I_syn`` after the state update of the step
  of arrival (Brian2's default ``synapses`` slot), which moves ``V`` from the next step, as in
  NEST; the delay is NEST's delay.
* ``iaf_psc_delta``: NEST adds the input arriving in a step to ``V`` *before* that step's
  threshold test. The Brian2 pathway runs in the ``before_thresholds`` slot, so it sees the
  spikes of the previous step; the delay is therefore NEST's delay minus one step (a 1-step
  NEST delay is a 0 delay in Brian2). NEST discards input that arrives while the neuron is
  refractory; so does Brian2, whose ``(unless refractory)`` flag makes every write to v,
  synaptic ones included, conditional on ``not_refractory`` (the synapse's explicit
  ``* int(not_refractory_post)`` only spells that out).
* ``iaf_psc_alpha``: I' = y - I/tau_syn, y' = -y/tau_syn; a spike adds ``w e / tau_syn`` to
  y in the ``synapses`` slot (NEST adds it to dI after the step), NEST's delay.
* Every parameter is a per-neuron ``(constant)`` variable of the group (equal in all neurons
  or not), ``refractory = "t_ref + dt"`` per neuron.
* Exact integration (``method="exact"``); threshold ``v >= V_th``.

The CUBA helpers (``run_neurosim_cuba``, ``run_brian2_cuba``) return a :class:`CubaRun`
with the same stamp convention; Brian2's CUBA can be drawn from its own seed or rebuilt from
neurosim's synapses and initial potentials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

import neurosim as ns
from neurosim.analysis import isi_cv  # the same statistic for every simulator

DT = 0.1  # ms

#: Brian2 and neurosim use the same parameter names as NEST (ms, mV, pA, pF)
_COMMON = dict(C_m=250.0, tau_m=10.0, t_ref=2.0, E_L=-70.0, V_reset=-68.0, V_th=-55.0)
_SYN = dict(tau_syn_ex=2.0, tau_syn_in=5.0)


@dataclass
class Conn:
    """Explicit synapses ``pre[j] -> post[j]`` (indices within the populations)."""

    pre_pop: str
    post_pop: str
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray  # pA (iaf_psc_exp) or mV (iaf_psc_delta)
    delay: np.ndarray  # whole steps, >= 1
    port: str  # "exc" (weights > 0) or "inh" (weights < 0)


@dataclass
class DetNet:
    """A deterministic network of two populations ``e`` and ``i`` of ``model`` neurons."""

    model: str
    sizes: dict[str, int]
    params: dict[str, dict[str, float]]  # per population, NEST names
    v0: dict[str, np.ndarray]  # initial V_m per population
    n_inp: int
    inp_stamps: np.ndarray  # input spike times in steps (NEST stamps, >= 1)
    inp_idx: np.ndarray
    conns: list[Conn] = field(default_factory=list)
    duration: float = 1000.0  # ms

    @property
    def offsets(self) -> dict[str, int]:
        return {"e": 0, "i": self.sizes["e"]}

    @property
    def n(self) -> int:
        return sum(self.sizes.values())

    def global_conns(self):
        """(pre source kind, global pre, global post, weight, delay steps, port) per Conn."""
        off = self.offsets
        for c in self.conns:
            pre = c.pre if c.pre_pop == "inp" else c.pre + off[c.pre_pop]
            yield c.pre_pop == "inp", pre, c.post + off[c.post_pop], c.weight, c.delay, c.port


def deterministic_net(model: str, seed: int = 7, duration: float = 1000.0,
                      per_neuron: bool = False) -> DetNet:
    """52 neurons (40 ``e``, 12 ``i``) driven by 30 spike trains and a constant current.

    ``e`` sits below rheobase (I_e = 300 pA, rheobase 375 pA) and fires from its inputs;
    ``i`` sits just above it (I_e = 390 pA). Input (30 units at ~20 Hz, 8 per neuron),
    recurrent excitation (from ``e``, p = 0.15) and inhibition (from ``i``, p = 0.25) have
    heterogeneous weights and delays of 1 to 40 steps, including the one-step minimum.

    ``per_neuron``: the same network with parameters that differ between neurons (arrays:
    C_m, tau_m, t_ref, V_th, I_e around the values above, and tau_syn_ex for iaf_psc_exp),
    drawn after everything else.
    """
    rng = np.random.default_rng(seed)
    delta = model == "iaf_psc_delta"
    sizes = {"e": 40, "i": 12}
    base = dict(_COMMON) if delta else {**_COMMON, **_SYN}
    params = {"e": {**base, "I_e": 300.0}, "i": {**base, "I_e": 390.0}}
    v0 = {p: rng.uniform(-70.0, -56.0, size=n) for p, n in sizes.items()}
    n_steps = int(round(duration / DT))
    n_inp, rate = 30, 20.0
    stamps, idx = [], []
    for u in range(n_inp):
        k = rng.choice(np.arange(10, n_steps - 10), size=rng.poisson(rate * duration / 1e3),
                       replace=False)
        stamps.append(np.sort(k))
        idx.append(np.full(k.size, u))
    stamps, idx = np.concatenate(stamps), np.concatenate(idx)
    order = np.argsort(stamps, kind="stable")
    # weights: mV for delta synapses, pA for exponential currents (~0.005 mV peak per pA)
    w_inp, w_exc, w_inh = ((0.5, 2.0), (0.2, 0.8), (-2.0, -0.5)) if delta else \
        ((150.0, 450.0), (40.0, 160.0), (-300.0, -80.0))
    if model == "iaf_psc_alpha":  # an alpha current of peak w carries e times the charge
        w_inp, w_exc, w_inh = ((a / np.e, b / np.e) for a, b in (w_inp, w_exc, w_inh))
    conns = []
    for post_pop, n_post in sizes.items():
        pre = np.concatenate([rng.choice(n_inp, 8, replace=False) for _ in range(n_post)])
        post = np.repeat(np.arange(n_post), 8)
        conns.append(Conn("inp", post_pop, pre, post, rng.uniform(*w_inp, pre.size),
                          rng.integers(1, 41, pre.size), "exc"))
    for pre_pop, p, w, port in (("e", 0.15, w_exc, "exc"), ("i", 0.25, w_inh, "inh")):
        for post_pop, n_post in sizes.items():
            mask = rng.random((sizes[pre_pop], n_post)) < p
            pre, post = np.nonzero(mask)
            d = rng.integers(1, 31, pre.size)
            d[: min(5, d.size)] = 1  # make sure the minimum delay occurs
            conns.append(Conn(pre_pop, post_pop, pre, post, rng.uniform(*w, pre.size), d, port))
    if per_neuron:
        for pop, n in sizes.items():
            q = params[pop]
            q.update(C_m=rng.uniform(200.0, 300.0, n), tau_m=rng.uniform(8.0, 12.0, n),
                     t_ref=rng.choice([1.5, 2.0, 2.5], n), V_th=rng.uniform(-56.0, -54.0, n),
                     I_e=q["I_e"] + rng.uniform(-40.0, 40.0, n))
            if not delta:
                q["tau_syn_ex"] = rng.uniform(1.5, 3.0, n)
    return DetNet(model, sizes, params, v0, n_inp, stamps[order], idx[order], conns, duration)


def _as_rows(stamps, ids) -> np.ndarray:
    rows = np.column_stack([np.asarray(stamps, np.int64), np.asarray(ids, np.int64)])
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


# ------------------------------------------------------------------------------- neurosim
def run_neurosim(net: DetNet, record_v: bool = False):
    """Spike rows (and, with ``record_v``, V_m of every neuron after every step)."""
    m = ns.Network(seed=0)
    for pop, n in net.sizes.items():
        m.population(pop, net.model, n, V_m=net.v0[pop], **net.params[pop])
        m.spike_monitor(pop)
        if record_v:
            m.state_monitor(pop, "V_m")
    m.spike_train("inp", net.n_inp, times=net.inp_stamps * DT, indices=net.inp_idx)
    for c in net.conns:
        m.connect(c.pre_pop, c.post_pop, ns.arrays(c.pre, c.post), weight=c.weight,
                  delay=c.delay * DT, port=c.port)
    sim = m.compile(dt=DT)
    sim.run(net.duration)
    rows = []
    for pop, off in net.offsets.items():
        k, i = sim.spike_steps(pop)
        rows.append(_as_rows(k, i.astype(np.int64) + off))
    spikes = _as_rows(*np.concatenate(rows).T)
    if not record_v:
        return spikes
    v = np.concatenate([sim.state(pop, "V_m")[1] for pop in net.sizes], axis=1)
    return spikes, v


# ----------------------------------------------------------------------------------- NEST
def prepare_nest_import() -> None:
    """Call before the first ``import nest``: ``PYNEST_QUIET`` suppresses NEST's banner."""
    os.environ.setdefault("PYNEST_QUIET", "1")


def import_nest():
    """Import NEST (see :func:`prepare_nest_import`) and keep it quiet: errors only."""
    prepare_nest_import()
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    return nest


def run_nest(net: DetNet, record_v: bool = False):
    """The same network in NEST (one thread, resolution DT)."""
    nest = import_nest()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=DT, local_num_threads=1, print_time=False)
    n = net.n
    neurons = nest.Create(net.model, n)
    for pop, off in net.offsets.items():
        size = net.sizes[pop]
        nodes = neurons[off:off + size]
        nodes.set({k: v.tolist() if isinstance(v, np.ndarray) else v
                   for k, v in net.params[pop].items()})
        nodes.set(V_m=list(net.v0[pop]))
    gens = nest.Create("spike_generator", net.n_inp)
    for u in range(net.n_inp):
        st = net.inp_stamps[net.inp_idx == u]
        gens[u].set(spike_times=np.round(st * DT, 9).tolist())
    gen_ids = np.asarray(gens.tolist(), np.int64)
    neu_ids = np.asarray(neurons.tolist(), np.int64)
    for is_inp, pre, post, w, d, _port in net.global_conns():
        pre_ids = gen_ids[pre] if is_inp else neu_ids[pre]
        # NEST routes by the sign of the weight: > 0 to the excitatory, < 0 to the inhibitory
        # input of iaf_psc_exp (neurosim's ports "exc" and "inh")
        nest.Connect(pre_ids, neu_ids[post], "one_to_one",
                     {"synapse_model": "static_synapse", "weight": np.asarray(w, float),
                      "delay": np.round(np.asarray(d) * DT, 9)})
    rec = nest.Create("spike_recorder")
    nest.Connect(neurons, rec)
    if record_v:
        mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
        nest.Connect(mm, neurons)
    nest.Simulate(net.duration)
    ev = rec.get("events")
    first = neu_ids[0]
    spikes = _as_rows(np.rint(ev["times"] / DT), ev["senders"] - first)
    if not record_v:
        return spikes
    e = mm.get("events")
    k = np.rint(e["times"] / DT).astype(np.int64)
    v = np.full((int(k.max()), n), np.nan)
    v[k - 1, e["senders"] - first] = e["V_m"]
    return spikes, v


# --------------------------------------------------------------------------------- Brian2
def _b2_unit(u) -> str:
    """The Brian2 unit name of a parameter's unit (mV -> volt, ms -> second, ...)."""
    return {"mV": "volt", "ms": "second", "pF": "farad", "pA": "amp"}[str(u)]


def run_brian2(net: DetNet, nest_refractory: bool = True,
               nest_delta_order: bool = True) -> np.ndarray:
    """The same network in Brian2 (numpy target), mapped onto NEST's conventions.

    Each flag switches one part of the mapping (module docstring) off, back to Brian2's
    default: ``nest_refractory`` (refractory = t_ref + dt instead of t_ref),
    ``nest_delta_order`` (delta synapses before the threshold test with the delay shortened
    by one step, instead of after it with NEST's delay).
    """
    import brian2 as b2
    from brian2 import ms, mV, pA, pF

    b2.prefs.codegen.target = "numpy"
    dt = DT * ms
    delta = net.model == "iaf_psc_delta"
    alpha = net.model == "iaf_psc_alpha"
    units = dict(E_L=mV, tau_m=ms, C_m=pF, V_th=mV, V_reset=mV, I_e=pA, tau_syn_ex=ms,
                 tau_syn_in=ms)
    # every parameter a per-neuron constant of the group (the same in all neurons, or not)
    values = {k: np.concatenate([np.broadcast_to(net.params[q][k], net.sizes[q])
                                 for q in net.sizes]) for k in units if k in net.params["e"]}
    t_ref = np.concatenate([np.broadcast_to(net.params[q]["t_ref"], net.sizes[q])
                            for q in net.sizes])
    if delta:
        eqs = """
        dv/dt = (E_L - v) / tau_m + I_e / C_m : volt (unless refractory)
        """
    elif alpha:  # I' = y - I/tau, y' = -y/tau: a spike of weight w adds w e / tau to y
        eqs = """
        dv/dt = (E_L - v) / tau_m + (I_ex + I_in + I_e) / C_m : volt (unless refractory)
        dI_ex/dt = y_ex - I_ex / tau_syn_ex : amp
        dy_ex/dt = -y_ex / tau_syn_ex : amp / second
        dI_in/dt = y_in - I_in / tau_syn_in : amp
        dy_in/dt = -y_in / tau_syn_in : amp / second
        """
    else:
        eqs = """
        dv/dt = (E_L - v) / tau_m + (I_ex + I_in + I_e) / C_m : volt (unless refractory)
        dI_ex/dt = -I_ex / tau_syn_ex : amp
        dI_in/dt = -I_in / tau_syn_in : amp
        """
    eqs += "".join(f"{k} : {_b2_unit(units[k])} (constant)\n"
                   for k in values)
    eqs += "t_ref : second (constant)\n"
    G = b2.NeuronGroup(net.n, eqs, threshold="v >= V_th", reset="v = V_reset",
                       refractory="t_ref + dt" if nest_refractory else "t_ref",
                       method="exact", dt=dt, namespace={})
    for k, x in values.items():
        setattr(G, k, x * units[k])
    G.t_ref = t_ref * ms
    G.v = np.concatenate([net.v0["e"], net.v0["i"]]) * mV
    inp = b2.SpikeGeneratorGroup(net.n_inp, net.inp_idx, (net.inp_stamps - 1) * dt, dt=dt)
    objs = [G, inp]
    for is_inp, pre, post, w, d, port in net.global_conns():
        if delta:
            # the gate is what Brian2 does anyway: ``(unless refractory)`` makes every write to
            # v, synaptic ones included, conditional on not_refractory
            on_pre = "v_post += w * int(not_refractory_post)"
            model, unit, shift = "w : volt", mV, int(nest_delta_order)
        elif alpha:
            model, unit, shift = "w : amp", pA, 0
            on_pre = ("y_ex_post += w * exp(1) / tau_syn_ex_post" if port == "exc"
                      else "y_in_post += w * exp(1) / tau_syn_in_post")
        else:
            model, unit, shift = "w : amp", pA, 0
            on_pre = "I_ex_post += w" if port == "exc" else "I_in_post += w"
        S = b2.Synapses(inp if is_inp else G, G, model=model, on_pre=on_pre, dt=dt)
        S.connect(i=np.asarray(pre), j=np.asarray(post))
        S.w = np.asarray(w) * unit
        S.delay = (np.asarray(d) - shift) * dt
        if delta and nest_delta_order:
            S.pre.when = "before_thresholds"
        objs.append(S)
    mon = b2.SpikeMonitor(G)
    objs.append(mon)
    b2.Network(*objs).run(net.duration * ms, namespace={})
    return _as_rows(np.rint(np.asarray(mon.t / dt)) + 1, np.asarray(mon.i))


# ----------------------------------------------------------------------------------- CUBA
@dataclass
class CubaRun:
    """Spikes of one CUBA run (global neuron index: excitatory first) and its structure."""

    n: int
    duration: float  # ms
    stamps: np.ndarray  # NEST time stamps (steps)
    ids: np.ndarray
    v0: np.ndarray | None = None  # initial V_m (mV), global order
    exc_pairs: tuple[np.ndarray, np.ndarray] | None = None  # (pre, post) of every synapse
    inh_pairs: tuple[np.ndarray, np.ndarray] | None = None

    def stats(self) -> tuple[float, float]:
        """(mean rate in Hz, mean ISI CV)."""
        return (self.stamps.size / self.n / (self.duration / 1e3),
                isi_cv(self.stamps * DT, self.ids))


def run_neurosim_cuba(seed: int, n: int = 4000, duration: float = 1000.0,
                      structure: bool = False) -> CubaRun:
    """neurosim's CUBA network (``neurosim.models.networks.cuba``); with ``structure`` the
    initial potentials and synapses are returned too, to rebuild the same network elsewhere."""
    from neurosim.models.networks import cuba

    net = cuba.build(n, seed=seed)
    sim = net.compile(DT)
    n_exc = net.pops["exc"].size
    off = {"exc": 0, "inh": n_exc}
    run = CubaRun(n, duration, np.empty(0, np.int64), np.empty(0, np.int64))
    if structure:
        run.v0 = np.concatenate([sim.get("exc", "V_m"), sim.get("inh", "V_m")])
        pairs = {"exc": ([], []), "inh": ([], [])}
        for name, proj in net.projections.items():
            csr = sim.projection(name)
            pairs[proj.pre][0].append(csr.pre() + off[proj.pre])
            pairs[proj.pre][1].append(csr.post.astype(np.int64) + off[proj.post])
        run.exc_pairs, run.inh_pairs = (tuple(np.concatenate(x) for x in pairs[q])
                                        for q in ("exc", "inh"))
    sim.run(duration)
    rows = [_as_rows(*sim.spike_steps(q)) + [0, off[q]] for q in ("exc", "inh")]
    run.stamps, run.ids = _as_rows(*np.concatenate(rows).T).T
    return run


def run_brian2_cuba(seed: int | None = None, n: int = 4000, duration: float = 1000.0,
                    delay: float = DT, refractory: float = 5.0 + DT, strict: bool = False,
                    same_as: CubaRun | None = None) -> CubaRun:
    """Brian2's CUBA example (``examples/CUBA.py``; numpy target, exact integration).

    The defaults put it in neurosim's discrete-time conventions: a delay of one step
    (``delay=0`` is the example's), a refractory period of 5 ms + dt (``5.0`` is the example's)
    and the threshold ``v >= Vt`` (``strict=True``: the example's ``v > Vt``). Connectivity
    (p = 80/n, autapses allowed) and v0 ~ U(Vr, Vt) are drawn by Brian2 from ``seed``, or
    copied from the neurosim run ``same_as``.
    """
    import brian2 as b2
    from brian2 import ms, mV

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    if seed is not None:
        b2.seed(seed)
    dt = DT * ms
    ns_ = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV,
               El=-49 * mV, we=1.62 * mV, wi=-9 * mV)
    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    P = b2.NeuronGroup(n, eqs, threshold="v > Vt" if strict else "v >= Vt", reset="v = Vr",
                       refractory=refractory * ms, method="exact", dt=dt, namespace=ns_)
    Ce = b2.Synapses(P, P, on_pre="ge += we", delay=delay * ms, dt=dt, namespace=ns_)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", delay=delay * ms, dt=dt, namespace=ns_)
    if same_as is None:
        n_exc = int(round(0.8 * n))
        P.v = "Vr + rand() * (Vt - Vr)"
        Ce.connect(f"i < {n_exc}", p=80.0 / n, namespace={})
        Ci.connect(f"i >= {n_exc}", p=80.0 / n, namespace={})
    else:
        P.v = same_as.v0 * mV
        Ce.connect(i=same_as.exc_pairs[0], j=same_as.exc_pairs[1])
        Ci.connect(i=same_as.inh_pairs[0], j=same_as.inh_pairs[1])
    mon = b2.SpikeMonitor(P)
    b2.Network(P, Ce, Ci, mon).run(duration * ms, namespace={})
    stamps, ids = _as_rows(np.rint(np.asarray(mon.t / dt)) + 1, np.asarray(mon.i)).T
    return CubaRun(n, duration, stamps, ids)

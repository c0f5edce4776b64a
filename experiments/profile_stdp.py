"""Where neurosim's time goes in the plastic benchmark network (``experiments/bench_stdp.py``),
and what two rewrites of the plastic drivers would give.

    python experiments/profile_stdp.py                 # N = 10,000, 1 s of biology
    python experiments/profile_stdp.py --n 2500 --json out.json

The network of ``peers/_stdp.py`` runs ``--warm`` ms; its E->E state (weights, traces) is
saved and it runs one more second, timed as ``sim.run`` = the compiled loop (``run_chunk``) +
the Python around it (the Poisson input of each 100 ms chunk, drawn by compiled kernels
called once per chunk, ``PoissonInput.events``). The same for the network with static E->E
synapses. Then:

* **replays** of that second's E spikes through the E->E kernels, from the saved state
  (``pre``: presynaptic synapse visits, ``post``: postsynaptic ones):

  - ``static``: neurosim's ``deliver`` with one shared weight (E->E without plasticity);
  - ``generated``: the generated drivers in the engine's order (``deliver_r`` = presynaptic
    hooks + delivery, ``jump_traces``, ``post_r`` = postsynaptic hooks + trace jumps); its
    final weights must equal the simulator's (that checks the replay);
  - ``generated pre only`` / ``generated post only``: one driver alone;
  - ``deferred``: potentiation deferred to the next presynaptic spike (as NEST's
    ``stdp_synapse`` does): each target keeps a short history of its spike stamps, a
    presynaptic spike first applies, in time order, the potentiations of the target's spikes
    since its own previous spike, then the depression, then delivers; a target's spike only
    appends its stamp and moves its trace; at the end one pass brings every synapse up to date
    (``flush``). One walk over the synapses by source instead of two, no walk by target.

  ``deferred`` must give weights identical (bit for bit) to ``generated``. (A ``hoisted``
  variant, the drivers with the tuple's fields read once per call, measured 0.45 s against
  0.81 s and became the engine's drivers in commit 34ce367.)
* the **neuron updates** (``update_psc_exp`` + ``compact``, E and I, 10,000 steps);
* the **Poisson input** alone (``PoissonInput.events`` for 1 s of all sources).

Every figure is the best of ``--repeats``; the load average is printed, since the machine is
shared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import _stdp as S  # noqa: E402
import stdp_neurosim  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.kernels.engine import compact, deliver  # noqa: E402
from neurosim.kernels.plasticity import jump_traces, trace_jump  # noqa: E402
from neurosim.models.neurons.lif import update_psc_exp  # noqa: E402
from neurosim.models.plasticity.stdp import (  # noqa: E402
    depress,
    potentiate,
)

STEPS = 10000  # 1 s at dt = 0.1 ms
HISTORY = 64   # spike stamps kept per target by the deferred prototype


# ------------------------------------------------------------- deferred potentiation
@njit(inline="always")
def _decayed(tr, d, tab, rate):
    """tr * exp(-d * rate) exactly as ``trace_at`` computes it (table, else exp)."""
    if d < tab.size:
        return tr * tab[d]
    return tr * math.exp(-d * rate)


@njit(inline="always")
def _pending(hist, hist_n, q, t0):
    """Index of the first of q's recorded spikes with stamp >= t0 (all are < now)."""
    H = hist.shape[1]
    n = hist_n[q]
    m = n
    while m > 0 and m > n - H and hist[q, (m - 1) % H] >= t0:
        m -= 1
    return m, n


@njit
def pre_deferred(spk, lo, hi, indptr, post, w, ring_row, stamp, x_tr, x_last, x_tab, x_rate,
                 y_tr, y_last, y_tab, y_rate, hist, hist_n, w_max, lam, alpha_lam):
    """A presynaptic spike at ``stamp``: per synapse, the target's spikes since the source's
    previous spike potentiate (in time order, with the source's trace at each of them), then
    the target's trace depresses, then the weight is delivered."""
    H = hist.shape[1]
    for j in range(lo, hi):
        i = spk[j]
        t0, x0 = x_last[i], x_tr[i]
        for k in range(indptr[i], indptr[i + 1]):
            q = post[k]
            wk = w[k]
            m, n = _pending(hist, hist_n, q, t0)
            for e in range(m, n):
                wk = potentiate(wk, w_max, lam, 0.0,
                                _decayed(x0, hist[q, e % H] - t0, x_tab, x_rate))
            wk = depress(wk, w_max, alpha_lam, 0.0,
                         _decayed(y_tr[q], stamp - y_last[q], y_tab, y_rate))
            w[k] = wk
            ring_row[q] += wk


@njit
def flush_deferred(indptr, post, w, x_tr, x_last, x_tab, x_rate, hist, hist_n, w_max, lam):
    """Every synapse: apply its pending potentiations (at the end of a run, or before the
    target histories would overflow)."""
    H = hist.shape[1]
    for i in range(indptr.size - 1):
        t0, x0 = x_last[i], x_tr[i]
        for k in range(indptr[i], indptr[i + 1]):
            q = post[k]
            m, n = _pending(hist, hist_n, q, t0)
            if m < n:
                wk = w[k]
                for e in range(m, n):
                    wk = potentiate(wk, w_max, lam, 0.0,
                                    _decayed(x0, hist[q, e % H] - t0, x_tab, x_rate))
                w[k] = wk


# ------------------------------------------------------------- replay drivers
def make_replays(deliver_r, post_r):
    @njit
    def replay(what, ptr, spk, bounds, indptr, post, w, w_shared, delay, ring, pl, k0, hist,
               hist_n):
        """Stamp by stamp, in the engine's order: deliveries (pre hooks) of the stamp's spikes,
        the sources' traces jump, the targets' hooks and traces."""
        lo = np.zeros(1, np.int64)
        cnt = np.zeros(1, np.int64)
        H = hist.shape[1]
        x_tr, x_last, x_tab = pl.pre_tr[0], pl.pre_last, pl.pre_tab[0]
        y_tr, y_last, y_tab = pl.post_tr[0], pl.post_last, pl.post_tab[0]
        x_rate, y_rate = pl.pre_par[0, 0], pl.post_par[0, 0]
        w_max, lam, alam = pl.coef[0], pl.coef[1], pl.coef[2]
        for s in range(ptr.size - 1):
            a, b = ptr[s], ptr[s + 1]
            if a == b:
                continue
            T = k0 + s + 1
            slot = s % ring.shape[0]
            lo[0] = a
            cnt[0] = b - a
            if what == 0:    # static E->E
                deliver(spk, lo, cnt, bounds, 0, post, w_shared, delay, ring, 0, slot)
            elif what == 1:  # generated, in full
                deliver_r(spk, lo, cnt, bounds, 0, post, w, delay, ring, 0, slot, T, pl)
                jump_traces(spk, lo, cnt, pl.pre_tr, pl.pre_last, T, pl.pre_tab, pl.pre_par)
                post_r(spk, lo, cnt, 0, w, T, pl)
            elif what == 2:  # generated pre only
                deliver_r(spk, lo, cnt, bounds, 0, post, w, delay, ring, 0, slot, T, pl)
                jump_traces(spk, lo, cnt, pl.pre_tr, pl.pre_last, T, pl.pre_tab, pl.pre_par)
            elif what == 3:  # generated post only
                post_r(spk, lo, cnt, 0, w, T, pl)
            elif what == 4:  # deferred
                sl = slot + delay[0]
                if sl >= ring.shape[0]:
                    sl -= ring.shape[0]
                pre_deferred(spk, a, b, indptr, post, w, ring[sl, 0], T, x_tr, x_last, x_tab,
                             x_rate, y_tr, y_last, y_tab, y_rate, hist, hist_n, w_max, lam,
                             alam)
                jump_traces(spk, lo, cnt, pl.pre_tr, pl.pre_last, T, pl.pre_tab, pl.pre_par)
                for j in range(a, b):
                    q = spk[j]
                    hist[q, hist_n[q] % H] = T
                    hist_n[q] += 1
                    trace_jump(pl.post_tr, pl.post_last, q, T, pl.post_tab, pl.post_par)
        if what == 4:
            flush_deferred(indptr, post, w, x_tr, x_last, x_tab, x_rate, hist, hist_n, w_max,
                           lam)
        return 0
    return replay


REPLAYS = [  # (key, label, unit)
    ("static", "static E->E deliver (shared weight)", "pre"),
    ("generated", "generated drivers, in full (pre + post)", "update"),
    ("generated_pre", "  generated deliver_r alone (+ jump_traces)", "pre"),
    ("generated_post", "  generated post_r alone", "post"),
    ("deferred", "deferred potentiation, in full (+ final flush)", "update"),
]


@njit
def neuron_steps(n_steps, st_e, cf_e, inp_e, ie_e, sp_e, spk_e, st_i, cf_i, inp_i, ie_i, sp_i,
                 spk_i):
    tot = 0
    ne, ni = st_e.shape[1], st_i.shape[1]
    for _ in range(n_steps):
        update_psc_exp(0, ne, st_e, cf_e, inp_e, ie_e, sp_e)
        tot += compact(sp_e, 0, ne, spk_e)
        update_psc_exp(0, ni, st_i, cf_i, inp_i, ie_i, sp_i)
        tot += compact(sp_i, 0, ni, spk_i)
    return tot


def timed_run(sim, ms: float) -> tuple[float, float]:
    """(whole sim.run, compiled loop) seconds."""
    inner, acc = sim._run_chunk, [0.0]

    def wrapper(*a):
        t = time.perf_counter()
        r = inner(*a)
        acc[0] += time.perf_counter() - t
        return r

    sim._run_chunk = wrapper
    t = time.perf_counter()
    sim.run(ms)
    total = time.perf_counter() - t
    sim._run_chunk = inner
    return total, acc[0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--warm", type=float, default=1000.0, help="ms run before the profile")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = dict(N=args.n, load_at_start=[round(x, 2) for x in os.getloadavg()],
               cpus=os.cpu_count())
    print(f"profile_stdp: N = {args.n}, load {os.getloadavg()[0]:.2f}", flush=True)

    # ---- 1. one second of the whole loop, static and plastic
    for mode in ("static", "plastic"):
        sim = stdp_neurosim.build(ns, args.n, mode == "plastic", args.seed).compile(dt=S.DT)
        sim.run(args.warm)
        if mode == "plastic":
            pl, _ = sim._plastic["EE"]
            _, csr, bounds = next(x for x in sim._projs if x[0].name == "EE")
            saved = dict(w=csr.weight.copy(), pre_tr=pl.pre_tr.copy(),
                         pre_last=pl.pre_last.copy(), post_tr=pl.post_tr.copy(),
                         post_last=pl.post_last.copy())
            k0 = sim.k
        total, inner = timed_run(sim, 1000.0)
        out[mode] = dict(run_s=total, compiled_loop_s=inner, python_s=total - inner)
        print(f"{mode:8s} 1 s of biology: sim.run {total:.3f} s = compiled loop {inner:.3f} s + "
              f"per-chunk Python + Poisson input {total - inner:.3f} s", flush=True)

    # ---- 2. Poisson input alone
    pops = [p for p in sim.network.pops.values() if hasattr(p, "rate")]
    n_ev = 0

    def draw():
        nonlocal n_ev
        n_ev = 0
        for j, p in enumerate(pops):
            p._cache = None
            for c in range(10):
                _, ev = p.events(c * 1000, 1000, S.DT, (args.seed, 2, 100 + j))
                n_ev += ev.size

    ts = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        draw()
        ts.append(time.perf_counter() - t)
    out["poisson"] = dict(s=min(ts), events=n_ev, ns_per_event=min(ts) / n_ev * 1e9)
    print(f"Poisson input (compiled, per chunk), 1 s: {min(ts):.3f} s for {n_ev} events "
          f"({min(ts) / n_ev * 1e9:.0f} ns per event)", flush=True)

    # ---- 3. replays of the E->E kernels (sim is the plastic one)
    mod = sys.modules[[m for m in sys.modules if m.startswith("neurosim_loop_")
                       and hasattr(sys.modules[m], "deliver_r0")][0]]
    stamps, ids = sim.spike_steps("E")
    sel = stamps > k0
    stamps, ids = stamps[sel], ids[sel].astype(np.int32)
    order = np.argsort(stamps, kind="stable")
    stamps, ids = stamps[order], np.ascontiguousarray(ids[order])
    ptr = np.zeros(STEPS + 1, np.int64)
    np.cumsum(np.bincount(stamps - k0 - 1, minlength=STEPS), out=ptr[1:])
    n_e = csr.indptr.size - 1
    n_pre = int(np.diff(csr.indptr)[ids].sum())
    n_post = int(np.bincount(csr.post, minlength=n_e)[ids].sum())
    per = {"pre": n_pre, "post": n_post, "update": n_pre + n_post}
    out.update(e_spikes=int(ids.size), pre_visits=n_pre, post_visits=n_post)
    print(f"replay of that second: {ids.size} E spikes, {n_pre} presynaptic and {n_post} "
          f"postsynaptic synapse visits (STDP updates)", flush=True)
    replay = make_replays(mod.deliver_r0, mod.post_r0)
    ring = np.zeros_like(sim._pops["E"].ring)
    w_shared = np.array([S.J_EXC])
    final, out["replay"] = {}, {}
    for what, (key, label, unit) in enumerate(REPLAYS):
        best = None
        for rep in range(args.repeats + 1):  # the first call compiles
            w = saved["w"].copy()
            p = pl._replace(**{k: saved[k].copy() for k in
                               ("pre_tr", "pre_last", "post_tr", "post_last")})
            hist = np.zeros((n_e, HISTORY), np.int64)
            hist_n = np.zeros(n_e, np.int64)
            t = time.perf_counter()
            replay(what, ptr if rep else ptr[:3], ids, bounds, csr.indptr, csr.post, w,
                   w_shared, csr.delay, ring, p, k0, hist, hist_n)
            t = time.perf_counter() - t
            if rep:
                best = t if best is None else min(best, t)
        final[key] = w
        out["replay"][key] = dict(s=best, ns_per_item=best / per[unit] * 1e9, unit=unit)
        print(f"  {label:50s} {best:7.3f} s  {best / per[unit] * 1e9:6.1f} ns per {unit}",
              flush=True)
    checks = {"generated == simulator": np.array_equal(final["generated"], csr.weight),
              "deferred == generated": np.array_equal(final["deferred"], final["generated"])}
    out["bit_identical"] = {k: bool(v) for k, v in checks.items()}
    print("  weights bit for bit: " + ", ".join(f"{k}: {v}" for k, v in checks.items()),
          flush=True)

    # ---- 4. neuron updates
    e, i_ = sim._pops["E"], sim._pops["I"]
    arrs = [e.state, e.coef, e.ring[0], e.iext, e.spiked, e.spk[0],
            i_.state, i_.coef, i_.ring[0], i_.iext, i_.spiked, i_.spk[0]]
    neuron_steps(2, *[x.copy() for x in arrs])
    ts = []
    for _ in range(args.repeats):
        cp = [x.copy() for x in arrs]
        t = time.perf_counter()
        neuron_steps(STEPS, *cp)
        ts.append(time.perf_counter() - t)
    out["neurons"] = dict(s=min(ts), ns_per_neuron_step=min(ts) / STEPS / args.n * 1e9)
    print(f"neuron updates (update_psc_exp + compact, E and I, {STEPS} steps): {min(ts):.3f} s "
          f"({min(ts) / STEPS / args.n * 1e9:.2f} ns per neuron and step)", flush=True)

    # ---- 5. what the rewrites would give (estimate: replace the E->E plastic kernels)
    r = out["replay"]
    static_loop = out["static"]["compiled_loop_s"]
    for key in ("generated", "deferred"):
        est = static_loop - r["static"]["s"] + r[key]["s"]
        out[f"estimate_plastic_compiled_loop_{key}_s"] = est
        print(f"estimated plastic compiled loop with the {key} drivers: {est:.3f} s per bio-s "
              f"(+ Poisson input {out['poisson']['s']:.3f} s, drawn outside the loop)")
    out["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()

"""Song, Miller & Abbott (2000) in neurosim and Brian2: additive STDP makes 1,000 Poisson inputs
compete for one neuron; the weights split into two groups and the output rate settles.

    python experiments/song2000.py                                  # 4 seeds each, 100 s
    python experiments/song2000.py --seeds 2 --duration 20 --exact 0   # a quick look
    python experiments/song2000.py --variants example,mapped \\
        --json experiments/results/song2000_2026-11-22.json \\
        --plot experiments/results/song2000_2026-11-22.png

The network is ``neurosim.models.networks.song2000`` (see its docstring for the mapping of
Brian2's ``examples/synapses/STDP.py`` onto ``iaf_psc_exp`` + ``Plasticity("stdp")``). Brian2
runs its example in one of two variants:

* ``example``: the example as published (delay 0, ``ge += w`` before the depression of the
  same spike, ``v > vt``, v(0) = 0 mV), only with an explicit dt = 0.1 ms (its default);
* ``mapped``: neurosim's discrete-time conventions: the presynaptic pathway depresses first and
  then adds the new weight to a buffer ``gbuf`` that a ``run_regularly`` operation adds to
  ``ge`` right after the next step's state update (``when="after_groups"``): the input of a
  spike in step s moves v from step s + 2, as neurosim's one-step delay does; ``v >= vt``,
  v(0) = vr. STDP pairs the spike times in both tools.

Each tool runs ``--seeds`` seeds (neurosim seeds 1..n; Brian2 ``seed(1..n)``: independent
random draws of inputs and initial weights). Printed and stored (``--json``):

* output rate per ``--bin`` s bin (stabilisation), and in the last 20 s;
* fraction of final weights below 0.1 w_max and above 0.9 w_max (bimodality);
* two-sample Kolmogorov-Smirnov distances between final weight distributions (w / w_max,
  1,000 values each): neurosim vs Brian2 (every pair of seeds), Brian2 vs Brian2 and neurosim
  vs neurosim (every pair of distinct seeds): mean and max;
* wall times: ``wall_s`` (build + compile + run, as a user waits for one run in a warm process),
  ``loop_s`` (the simulation loop: neurosim ``sim.run`` after a one-step warm-up run; Brian2
  ``device._last_run_time``, its timer around the time-step loop, code generation excluded);
* ``--exact T``: neurosim seed 1 for T s with its input spikes and initial weights handed to
  Brian2's ``mapped`` variant (a ``SpikeGeneratorGroup``): whether the output spikes are
  identical and how far the final weights are apart (0 skips the check).

``--from-json PATH`` prints the report (and writes ``--plot``) of stored results, running
nothing.

Brian2 runs with the runtime Cython target by default (``--brian2-target``): it compiles
each code object once (cached across runs and processes: the objects have fixed names), and
its loop is ~3x faster than numpy's here (~20 s vs ~60 s per 100 s on an idle core). C++
standalone would compile and run one project per seed and report its results through files,
for a loop that takes ~20 s. If Cython cannot compile, the script falls back to numpy and
says so.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from neurosim.models.networks import song2000

DT = 0.1  # ms
LOW, HIGH = 0.1, 0.9  # bimodality: fractions of w / w_max below LOW and above HIGH
#: Brian2's example in its own units (gmax and the trace steps are dimensionless)
B2 = dict(N=1000, F=15.0, taum=10.0, taupre=20.0, taupost=20.0, Ee=0.0, vt=-54.0, vr=-60.0,
          El=-74.0, taue=5.0, gmax=0.01)
B2["dApre"] = 0.01 * B2["gmax"]
B2["dApost"] = -B2["dApre"] * B2["taupre"] / B2["taupost"] * 1.05


# ----------------------------------------------------------------------------- statistics
def ks(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: sup |F_a - F_b| over the pooled values."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    x = np.concatenate([a, b])
    fa = np.searchsorted(a, x, side="right") / a.size
    fb = np.searchsorted(b, x, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def ks_critical(n: int, m: int | None = None) -> float:
    """The 5 % critical value of the two-sample KS statistic for samples of n and m values
    (asymptotic: 1.358 sqrt((n + m) / (n m))): larger distances reject "same distribution"
    for independent samples."""
    m = n if m is None else m
    return 1.358 * math.sqrt((n + m) / (n * m))


def ks_pairs(runs_a, runs_b=None) -> list[float]:
    """KS distances between final weights: every (a, b) pair, or every pair of distinct runs
    of ``runs_a`` when ``runs_b`` is None."""
    pairs = (itertools.combinations(runs_a, 2) if runs_b is None
             else itertools.product(runs_a, runs_b))
    return [ks(x["w_final"], y["w_final"]) for x, y in pairs]


def summarise(values: list[float]) -> dict:
    return dict(mean=statistics.fmean(values), max=max(values), min=min(values), n=len(values),
                values=[round(v, 4) for v in values]) if values else {}


def run_stats(stamps, w_final, duration_s: float, bin_s: float) -> dict:
    """Rates and bimodality of one run: ``stamps`` are output spike stamps (time = stamp dt),
    ``w_final`` the final weights / w_max."""
    t = np.asarray(stamps, float) * DT / 1e3
    n_bins = max(1, int(round(duration_s / bin_s)))
    rates = np.histogram(t, bins=n_bins, range=(0.0, duration_s))[0] / (duration_s / n_bins)
    rate_1s = np.histogram(t, bins=int(round(duration_s)), range=(0.0, duration_s))[0] \
        if duration_s >= 1 else np.empty(0)
    last = min(20.0, duration_s)
    w = np.asarray(w_final, float)
    return dict(rate_bins_Hz=rates.round(3).tolist(), rate_1s_Hz=rate_1s.tolist(),
                rate_last20_Hz=float(np.sum(t > duration_s - last) / last),
                rate_Hz=float(t.size / duration_s), n_spikes=int(t.size),
                frac_low=float(np.mean(w < LOW)), frac_high=float(np.mean(w > HIGH)),
                frac_zero=float(np.mean(w == 0.0)), frac_wmax=float(np.mean(w == 1.0)),
                w_mean=float(w.mean()))


def bimodality_series(times_s, W) -> dict:
    """Fractions below LOW / above HIGH of every weight sample (rows of W, w / w_max)."""
    return dict(t_s=np.round(times_s, 4).tolist(), low=np.mean(W < LOW, axis=1).round(4).tolist(),
                high=np.mean(W > HIGH, axis=1).round(4).tolist())


# ------------------------------------------------------------------------------- neurosim
def run_neurosim(seed: int, duration_s: float, bin_s: float = 10.0, weight_every_s: float = 1.0,
                 record_inputs: bool = False) -> dict:
    """One run of ``song2000`` in neurosim (weights returned as w / w_max)."""
    t0 = time.perf_counter()
    net = song2000.build(seed=seed, weight_every=weight_every_s * 1e3,
                         record_inputs=record_inputs)
    sim = net.compile(dt=DT)
    w_max = song2000.w_max_pA()
    w0 = sim.weights("inp_to_out")
    build_s = time.perf_counter() - t0
    sim.run(DT)  # warm-up step: JIT / cache load, outside the loop timer
    t1 = time.perf_counter()
    sim.run(duration_s * 1e3 - DT)
    loop_s = time.perf_counter() - t1
    wall_s = time.perf_counter() - t0
    stamps, _ = sim.spike_steps("out")
    w = sim.weights("inp_to_out") / w_max
    t_w, W = sim.weights_recorded("inp_to_out")
    res = dict(tool="neurosim", variant="neurosim", seed=seed, build_s=build_s, loop_s=loop_s,
               wall_s=wall_s, **run_stats(stamps, w, duration_s, bin_s),
               bimodality=bimodality_series(np.r_[0.0, t_w / 1e3],
                                            np.vstack([w0 / w_max, W / w_max])),
               w_final=w.round(4).tolist())
    if record_inputs:
        res["_inputs"] = sim.spike_steps("inp")
        res["_w0"] = w0 / song2000.PA_PER_G  # in Brian2's units of ge
        res["_stamps"] = stamps
        res["_w_final_exact"] = w
    return res


# --------------------------------------------------------------------------------- Brian2
def _brian2(target: str):
    import brian2 as b2

    b2.prefs.logging.console_log_level = "WARNING"
    b2.prefs.codegen.target = target
    return b2


def run_brian2(seed: int, duration_s: float, variant: str = "example", target: str = "cython",
               bin_s: float = 10.0, weight_every_s: float = 1.0, inputs=None, w0=None) -> dict:
    """Brian2's ``examples/synapses/STDP.py`` (``variant`` ``example`` or ``mapped``, see the
    module docstring). ``inputs`` = (stamps, indices) replaces the PoissonGroup by a
    SpikeGeneratorGroup (stamp T fires at (T - 1) dt), ``w0`` (units of ge) the random initial
    weights. Weights returned as w / gmax."""
    if variant not in ("example", "mapped"):
        raise ValueError(f"unknown Brian2 variant {variant!r}")
    b2 = _brian2(target)
    from brian2 import Hz, ms, mV, second

    t0 = time.perf_counter()
    # Brian2 names the objects in its generated code and numbers them while earlier ones are
    # alive: fixed names (and the old objects collected) let every run reuse compiled code
    gc.collect()
    b2.start_scope()
    b2.seed(seed)
    dt = DT * ms
    b2.defaultclock.dt = dt
    p = B2
    ns_ = dict(taum=p["taum"] * ms, taupre=p["taupre"] * ms, taupost=p["taupost"] * ms,
               Ee=p["Ee"] * mV, vt=p["vt"] * mV, vr=p["vr"] * mV, El=p["El"] * mV,
               taue=p["taue"] * ms, gmax=p["gmax"], dApre=p["dApre"], dApost=p["dApost"])
    eqs = """
    dv/dt = (ge * (Ee - vr) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    if inputs is None:
        inp = b2.PoissonGroup(p["N"], rates=p["F"] * Hz, namespace={}, name="song_inp")
    else:
        stamps, idx = inputs
        inp = b2.SpikeGeneratorGroup(p["N"], np.asarray(idx), (np.asarray(stamps) - 1) * dt,
                                     name="song_inp")
    syn_model = """w : 1
                   dApre/dt = -Apre / taupre : 1 (event-driven)
                   dApost/dt = -Apost / taupost : 1 (event-driven)"""
    on_post = """Apost += dApost
                 w = clip(w + Apre, 0, gmax)"""
    if variant == "example":
        G = b2.NeuronGroup(1, eqs, threshold="v > vt", reset="v = vr", method="exact",
                           namespace=ns_, name="song_out")
        on_pre = """ge += w
                    Apre += dApre
                    w = clip(w + Apost, 0, gmax)"""
        objs = [G]
    else:
        G = b2.NeuronGroup(1, eqs + "gbuf : 1\n", threshold="v >= vt", reset="v = vr",
                           method="exact", namespace=ns_, name="song_out")
        G.v = p["vr"] * mV
        on_pre = """Apre += dApre
                    w = clip(w + Apost, 0, gmax)
                    gbuf_post += w"""
        # after the next step's state update, before its threshold: I_syn of iaf_psc_exp
        feed = G.run_regularly("ge += gbuf\ngbuf = 0", when="after_groups", name="song_feed")
        objs = [G, feed]
    S = b2.Synapses(inp, G, syn_model, on_pre=on_pre, on_post=on_post, namespace=ns_,
                    name="song_syn")
    S.connect()
    if w0 is None:
        S.w = "rand() * gmax"
    else:
        S.w = np.asarray(w0)
    spikes = b2.SpikeMonitor(G, name="song_spikes")
    wmon = b2.StateMonitor(S, "w", record=True, dt=weight_every_s * second, when="end",
                           name="song_wmon")
    net = b2.Network(inp, S, spikes, wmon, *objs, name="song_net")
    w_init = np.asarray(S.w[:]) / p["gmax"]
    build_s = time.perf_counter() - t0
    net.run(duration_s * second, namespace={})
    loop_s = float(b2.device._last_run_time)
    wall_s = time.perf_counter() - t0
    stamps = np.rint(np.asarray(spikes.t / dt)).astype(np.int64) + 1
    w = np.asarray(S.w[:]) / p["gmax"]
    # samples after the steps that start at 0, 1, 2 ... s; the first one is replaced by the
    # initial weights at t = 0 and the final weights are added at the end
    t_w = np.asarray(wmon.t / second) + DT / 1e3
    W = np.asarray(wmon.w).T / p["gmax"]
    keep = np.arange(t_w.size) > 0
    res = dict(tool="brian2", variant=variant, target=target, seed=seed, build_s=build_s,
               loop_s=loop_s, wall_s=wall_s, codegen_s=wall_s - build_s - loop_s,
               **run_stats(stamps, w, duration_s, bin_s),
               bimodality=bimodality_series(np.r_[0.0, t_w[keep], duration_s],
                                            np.vstack([w_init, W[keep], w])),
               w_final=w.round(4).tolist())
    if inputs is not None:
        res["_stamps"], res["_w_final_exact"] = stamps, w
    return res


def usable_target(target: str) -> str:
    """``target`` if Brian2 can run a tiny network with it, else "numpy" (with a warning)."""
    if target == "numpy":
        return target
    try:
        b2 = _brian2(target)
        b2.start_scope()
        g = b2.NeuronGroup(1, "dv/dt = -v / (10*ms) : 1", method="exact")
        b2.Network(g).run(0.2 * b2.ms)
        return target
    except Exception as e:  # no compiler, no Cython: Brian2 still runs with numpy
        print(f"Brian2 target {target!r} does not work here ({type(e).__name__}: {e}); "
              "using numpy", file=sys.stderr)
        return "numpy"


# ----------------------------------------------------------------------------- experiment
def exact_check(duration_s: float, target: str) -> dict:
    """neurosim seed 1 and Brian2 ``mapped`` on the same input spikes and initial weights."""
    ours = run_neurosim(1, duration_s, record_inputs=True)
    theirs = run_brian2(1, duration_s, "mapped", target, inputs=ours["_inputs"],
                        w0=ours["_w0"])
    a, b = ours["_stamps"], theirs["_stamps"]
    same = bool(np.array_equal(a, b))
    first = None
    if not same:
        n = min(a.size, b.size)
        d = np.flatnonzero(a[:n] != b[:n])
        first = int(d[0]) if d.size else n
    return dict(duration_s=duration_s, target=target, n_input_spikes=int(ours["_inputs"][0].size),
                n_spikes_neurosim=int(a.size), n_spikes_brian2=int(b.size),
                identical_spikes=same, first_difference_index=first,
                max_abs_dw_over_wmax=float(np.max(np.abs(ours["_w_final_exact"]
                                                         - theirs["_w_final_exact"]))),
                frac_low=ours["frac_low"], frac_high=ours["frac_high"],
                wall_neurosim_s=ours["wall_s"], wall_brian2_s=theirs["wall_s"])


def experiment(seeds: int = 4, duration_s: float = 100.0, variants=("example",),
               target: str = "cython", bin_s: float = 10.0, exact_s: float = 100.0,
               log=print) -> dict:
    target = usable_target(target)
    runs = {"neurosim": []}
    for s in range(1, seeds + 1):
        runs["neurosim"].append(run_neurosim(s, duration_s, bin_s))
        log(f"neurosim seed {s}: {runs['neurosim'][-1]['wall_s']:.1f} s")
    for v in variants:
        runs[f"brian2-{v}"] = []
        for s in range(1, seeds + 1):
            runs[f"brian2-{v}"].append(run_brian2(s, duration_s, v, target, bin_s))
            log(f"brian2 ({v}, {target}) seed {s}: {runs[f'brian2-{v}'][-1]['wall_s']:.1f} s")
    ks_out = {"neurosim-neurosim": summarise(ks_pairs(runs["neurosim"]))}
    for v in variants:
        b = runs[f"brian2-{v}"]
        ks_out[f"neurosim-brian2_{v}"] = summarise(ks_pairs(runs["neurosim"], b))
        ks_out[f"brian2_{v}-brian2_{v}"] = summarise(ks_pairs(b))
    if len(variants) == 2:
        ks_out["brian2_example-brian2_mapped"] = summarise(
            ks_pairs(runs["brian2-example"], runs["brian2-mapped"]))
    out = dict(experiment="song2000", date="2026-11-22", dt_ms=DT, duration_s=duration_s,
               seeds=seeds, bin_s=bin_s, brian2_target=target, low=LOW, high=HIGH,
               variants=list(variants), runs=runs, ks=ks_out)
    if exact_s > 0:
        out["exact"] = exact_check(exact_s, target)
        log(f"exact check ({exact_s:g} s): identical spikes = {out['exact']['identical_spikes']}")
    return out


def report(res: dict) -> str:
    lines = [f"Song, Miller & Abbott (2000): {res['seeds']} seeds x {res['duration_s']:g} s, "
             f"dt = {res['dt_ms']} ms, Brian2 target {res['brian2_target']}", ""]
    lines.append(f"output rate (Hz) per {res['bin_s']:g} s bin, mean over seeds "
                 "[min..max of the last 20 s]:")
    for name, runs in res["runs"].items():
        bins = np.mean([r["rate_bins_Hz"] for r in runs], axis=0)
        last = [r["rate_last20_Hz"] for r in runs]
        lines.append(f"  {name:16s} " + " ".join(f"{x:5.1f}" for x in bins)
                     + f"   [{min(last):.1f}..{max(last):.1f}]")
    lines += ["", f"final weights: fraction < {LOW} w_max / > {HIGH} w_max (per seed), "
              "mean w / w_max"]
    for name, runs in res["runs"].items():
        lo = " ".join(f"{r['frac_low']:.3f}" for r in runs)
        hi = " ".join(f"{r['frac_high']:.3f}" for r in runs)
        mw = statistics.fmean(r["w_mean"] for r in runs)
        lines.append(f"  {name:16s} low {lo} | high {hi} | mean {mw:.3f}")
    crit = ks_critical(len(next(iter(res["runs"].values()))[0]["w_final"]))
    lines += ["", "Kolmogorov-Smirnov distance between final weight distributions "
              f"(mean / max over pairs of seeds; 5 % critical value {crit:.4f}):"]
    for name, k in res["ks"].items():
        lines.append(f"  {name:30s} {k['mean']:.4f} / {k['max']:.4f}   ({k['n']} pairs)")
    lines += ["", "wall time per run (s): build+run / loop only (median over seeds; first run "
              "incl. JIT or Cython compile: wall of seed 1)"]
    for name, runs in res["runs"].items():
        lines.append(f"  {name:16s} {statistics.median(r['wall_s'] for r in runs):7.2f} / "
                     f"{statistics.median(r['loop_s'] for r in runs):7.2f}   "
                     f"(seed 1: {runs[0]['wall_s']:.2f})")
    if "exact" in res:
        e = res["exact"]
        lines += ["", f"same inputs and initial weights, {e['duration_s']:g} s, Brian2 mapped "
                  f"to neurosim's conventions: identical spikes = {e['identical_spikes']} "
                  f"({e['n_spikes_neurosim']} vs {e['n_spikes_brian2']}), max |dw| / w_max = "
                  f"{e['max_abs_dw_over_wmax']:.2e}"]
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(res["runs"])
    colors = dict(zip(names, ["C0", "C1", "C2"], strict=False))
    fig, ax = plt.subplots(3, 2, figsize=(12, 11))
    bins = np.linspace(0, 1, 21)
    for name in names:
        w = np.concatenate([r["w_final"] for r in res["runs"][name]])
        ax[0, 0].hist(w, bins, histtype="step", lw=1.8, color=colors[name],
                      weights=np.full(w.size, 1 / len(res["runs"][name])), label=name)
    ax[0, 0].set(xlabel="final weight / w_max", ylabel="synapses per run (20 bins)",
                 title=f"final weights after {res['duration_s']:g} s ({res['seeds']} seeds each)")
    ax[0, 0].legend()
    for name in names:
        r1 = np.array([r["rate_1s_Hz"] for r in res["runs"][name]], float)
        t = np.arange(r1.shape[1]) + 0.5
        ax[0, 1].plot(t, r1.mean(0), color=colors[name], label=name, lw=1.2)
        ax[0, 1].fill_between(t, r1.min(0), r1.max(0), color=colors[name], alpha=0.15)
    ax[0, 1].set(xlabel="time (s)", ylabel="output rate (Hz, 1 s bins)",
                 title="output rate: mean over seeds, band = min..max")
    ax[0, 1].legend()
    for a, name in zip(ax[1], names[:2], strict=False):
        w = res["runs"][name][0]["w_final"]
        a.plot(np.arange(len(w)), w, ".", ms=3, color=colors[name])
        a.set(xlabel="input index", ylabel="final weight / w_max",
              title=f"{name}, seed {res['runs'][name][0]['seed']}")
    for name in names:
        for j, r in enumerate(res["runs"][name]):
            b = r["bimodality"]
            kw = dict(color=colors[name], lw=1, alpha=0.8)
            ax[2, 0].plot(b["t_s"], b["low"], label=f"{name}: < {LOW}" if j == 0 else None,
                          **kw)
            ax[2, 0].plot(b["t_s"], b["high"], ls="--",
                          label=f"{name}: > {HIGH}" if j == 0 else None, **kw)
    ax[2, 0].set(xlabel="time (s)", ylabel="fraction of weights",
                 title=f"bimodality: w < {LOW} w_max (solid), > {HIGH} w_max (dashed)")
    ax[2, 0].legend(fontsize=8)
    groups = list(res["ks"])
    for x, g in enumerate(groups):
        v = res["ks"][g]["values"]
        ax[2, 1].plot(np.full(len(v), x) + np.linspace(-0.15, 0.15, len(v)), v, "o", ms=4)
        ax[2, 1].hlines(res["ks"][g]["mean"], x - 0.3, x + 0.3, color="k")
    short = [g.replace("neurosim", "ns").replace("brian2_", "b2 ").replace("-", "\nvs ")
             for g in groups]
    ax[2, 1].set_xticks(range(len(groups)), short, fontsize=8)
    crit = ks_critical(len(res["runs"]["neurosim"][0]["w_final"]))
    ax[2, 1].axhline(crit, color="0.5", ls=":", label=f"5 % critical value ({crit:.3f})")
    ax[2, 1].set_ylim(0, 1.15 * crit)
    ax[2, 1].legend(fontsize=8, loc="lower right")
    ax[2, 1].set(ylabel="KS distance", title="KS distance of final weights, pairs of seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _public(res: dict) -> dict:
    """The result without the private (underscore) arrays."""
    return {k: ([{kk: vv for kk, vv in r.items() if not kk.startswith("_")} for r in v]
                if isinstance(v, list) and v and isinstance(v[0], dict) else
                _public(v) if isinstance(v, dict) else v) for k, v in res.items()}


def dumps(res: dict) -> str:
    """JSON with one key per line but every list of numbers on one line."""
    text = json.dumps(res, indent=1)
    return re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]",
                  text)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="seeds per tool (1..n)")
    ap.add_argument("--duration", type=float, default=100.0, help="biological time, s")
    ap.add_argument("--bin", type=float, default=10.0, help="rate bins, s")
    ap.add_argument("--variants", default="example",
                    help="Brian2 variants: example, mapped or example,mapped")
    ap.add_argument("--brian2-target", default="cython", choices=("cython", "numpy"))
    ap.add_argument("--exact", type=float, default=100.0,
                    help="s of the same-input check against Brian2 mapped (0: skip)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--plot", default=None, help="write the figure here (PNG)")
    ap.add_argument("--from-json", default=None, metavar="PATH",
                    help="run nothing: report (and --plot) the results stored in PATH")
    args = ap.parse_args(argv)
    if args.from_json:
        res = json.loads(Path(args.from_json).read_text())
    else:
        variants = tuple(v for v in args.variants.split(",") if v)
        res = experiment(args.seeds, args.duration, variants, args.brian2_target, args.bin,
                         args.exact, log=lambda m: print(m, file=sys.stderr, flush=True))
        res = _public(res)
    print(report(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(dumps(res))
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(res, Path(args.plot))
    return res


if __name__ == "__main__":
    main()

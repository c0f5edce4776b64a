"""Two variants of neurosim on the CUBA network, measured side by side in one process.

    python experiments/bench_variants.py                         # 1 vs 2 threads, N = 64000
    python experiments/bench_variants.py --compare ring --delay 1.0 --json out.json
    python experiments/bench_variants.py --compare balance      # 2 threads: fixed shares or not
    python experiments/bench_variants.py --compare per_unit     # parameters per neuron or not
    python experiments/bench_variants.py --compare per_unit --per-unit V_th
    python experiments/bench_variants.py --compare noise --n 4000   # a noise current or not
    python experiments/bench_variants.py --n 32000 --rounds 20

Each comparison is a baseline and a candidate. ``--compare threads``: one thread (baseline)
against two. ``--compare ring``: the network whose model declares no jumps (baseline: every
input through the ring buffer, as before jumps existed) against the network as built
(one-delay projections jump into the synaptic currents, ``NeuronSpec.jumps``); the two agree
to round-off (tests/engine/test_jumps.py). ``--compare balance``: two threads with the
shares of units fixed at one half each (baseline) against two threads whose shares move
toward the faster thread after each call (the default, :mod:`neurosim.balance`); the
results are the same bit for bit. ``--compare per_unit``: the network as built (every
parameter one number) against the same network with the parameters ``--per-unit`` (default
``tau_m,V_th,I_e``) given per neuron (:mod:`neurosim.kernels.coefs`: for the default, six of
the eleven coefficients of ``iaf_psc_exp`` become per-neuron rows), each value moved by at
most 1e-12 of its own size so that the rows differ while the dynamics stay the same (the
spike counts are printed). ``--compare noise``: the network as built against the same
network with a noise current (mean 0, std ``--noise-std`` pA, redrawn every step) on every
neuron: the cost of drawing it (:class:`neurosim.stimuli.NoiseCurrent`).

``bench_cuba.py`` runs every case in its own process, one after the other; on a machine whose
second core is shared with other work (this project's VM), runs minutes apart see different
machines. Here both simulations are built and warmed up, then run alternately, ``--piece-ms``
of biological time each, for ``--rounds`` rounds, so both see the same conditions. Printed
(and written with ``--json``): seconds of loop per biological second of each variant (min,
median), the candidate's speed-up per round (baseline time / candidate time of the same
round: min, median, max), the ratio of the two best times (the speed-up with the least
interference from other work, as ``timeit`` reports its best), the bytes of each
variant's data structures and the peak RSS of the process (both networks alive together);
for threaded variants the spread of the threads' speeds per call of the compiled loop
(fastest / slowest, from the tick counts, see neurosim.balance).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import time

import numpy as np

from neurosim import Simulation
from neurosim.models.networks import cuba
from neurosim.population import Population


def without_jumps(net):
    """``net`` with its populations running their model minus the jumps declaration."""
    for pop in net.pops.values():
        if isinstance(pop, Population):
            pop.spec = dataclasses.replace(pop.spec, name=pop.spec.name + "_ring", jumps=())
    return net


def per_unit(net, seed: int, names=("tau_m", "V_th", "I_e")):
    """``net`` with the parameters ``names`` given per neuron, each within 1e-12 relative (or
    1e-12 in its unit) of the shared value: per-unit coefficient rows, the same dynamics."""
    rng = np.random.default_rng(seed)
    for pop in net.pops.values():
        if isinstance(pop, Population):
            for k in names:
                x = pop.params[k]
                pop.params[k] = x + (abs(x) or 1.0) * 1e-12 * rng.uniform(-1.0, 1.0, pop.size)
    return net


def noisy(net, std: float):
    """``net`` with a noise current (mean 0, ``std`` pA, redrawn every step) on every
    neuron population."""
    for name, pop in list(net.pops.items()):
        if isinstance(pop, Population):
            net.noise_current(name, mean=0.0, std=std)
    return net


def variants(compare: str, n: int, delay: float, seed: int,
             per_unit_names=("tau_m", "V_th", "I_e"),
             noise_std: float = 1.0) -> dict[str, Simulation]:
    """{baseline name: simulation, candidate name: simulation}."""
    def build():
        return cuba.build(n, seed=seed, delay=delay)

    if compare == "threads":
        return {"1 thread": Simulation(build(), 0.1, 1), "2 threads": Simulation(build(), 0.1, 2)}
    if compare == "per_unit":
        return {"shared": Simulation(build(), 0.1, 1),
                "per unit": Simulation(per_unit(build(), seed, per_unit_names), 0.1, 1)}
    if compare == "noise":
        return {"no noise": Simulation(build(), 0.1, 1),
                "noise": Simulation(noisy(build(), noise_std), 0.1, 1)}
    if compare == "balance":
        fixed = Simulation(build(), 0.1, 2)
        fixed.balance = False
        return {"fixed": fixed, "balanced": Simulation(build(), 0.1, 2)}
    return {"ring": Simulation(without_jumps(build()), 0.1, 1),
            "jumps": Simulation(build(), 0.1, 1)}


def measure(compare: str, n: int, rounds: int, piece_ms: float, delay: float,
            seed: int, per_unit_names=("tau_m", "V_th", "I_e"), noise_std: float = 1.0) -> dict:
    sims = variants(compare, n, delay, seed, per_unit_names, noise_std)
    for sim in sims.values():
        sim.run(20.0)  # load the loop, leave the start transient
    per_bio_s = {name: [] for name in sims}
    for _ in range(rounds):
        for name, sim in sims.items():
            start = time.perf_counter()
            sim.run(piece_ms)
            per_bio_s[name].append((time.perf_counter() - start) / (piece_ms / 1000.0))
    base, cand = per_bio_s.values()
    ratio = [x / y for x, y in zip(base, cand, strict=True)]
    return dict(compare=compare, N=n, delay_ms=delay, rounds=rounds, piece_ms=piece_ms,
                seed=seed, variants=list(sims), per_unit=list(per_unit_names),
                noise_std_pA=noise_std,
                parallel={name: sim.structure.parallel for name, sim in sims.items()},
                jumps={name: len(sim.structure.jumps) for name, sim in sims.items()},
                thread_shares={name: sim.thread_shares.tolist() for name, sim in sims.items()},
                share_moves={name: sim.thread_stats["moves"] for name, sim in sims.items()},
                thread_spread={name: sim.thread_stats["spread"] for name, sim in sims.items()},
                move_s={name: sim.thread_stats["move_s"] for name, sim in sims.items()},
                memory_bytes={name: sim.memory_bytes() for name, sim in sims.items()},
                spikes={name: sum(sim.spike_steps(p)[0].size for p in ("exc", "inh"))
                        for name, sim in sims.items()},
                loop_per_bio_s=per_bio_s, speedup_per_round=ratio, speedup_min=min(ratio),
                speedup_median=statistics.median(ratio), speedup_max=max(ratio),
                speedup_best=min(base) / min(cand),
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", choices=("threads", "ring", "balance", "per_unit", "noise"),
                    default="threads")
    ap.add_argument("--per-unit", default="tau_m,V_th,I_e",
                    help="parameters given per neuron in --compare per_unit (comma-separated)")
    ap.add_argument("--noise-std", type=float, default=1.0,
                    help="std (pA) of the noise current of --compare noise")
    ap.add_argument("--n", type=int, default=64000, help="number of neurons")
    ap.add_argument("--delay", type=float, default=0.1, help="synaptic delay (ms)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--piece-ms", type=float, default=300.0,
                    help="biological time per piece (ms, a whole number of 0.1 ms steps)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-per-thread", type=int, default=0,
                    help="split networks with at least this many neurons per thread (default: "
                         "neurosim's MIN_UNITS_PER_THREAD), to time threads below it")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    if args.min_per_thread:
        import neurosim.simulation

        neurosim.simulation.MIN_UNITS_PER_THREAD = args.min_per_thread
    r = measure(args.compare, args.n, args.rounds, args.piece_ms, args.delay, args.seed,
                tuple(args.per_unit.split(",")), args.noise_std)
    base, cand = r["variants"]
    print(f"CUBA N = {r['N']}, delay {r['delay_ms']:g} ms, {r['rounds']} rounds of "
          f"{r['piece_ms']:g} ms per variant")
    print(f"{'variant':>10}  loop s per bio-s: min  median  jumping projections  MB data")
    for name, v in r["loop_per_bio_s"].items():
        mb = sum(r["memory_bytes"][name].values()) / 1e6
        print(f"{name:>10}  {min(v):>21.3f}  {statistics.median(v):6.3f}  "
              f"{r['jumps'][name]:>19}  {mb:7.1f}")
    if max(r["share_moves"].values()):
        print("thread shares at the end: " + ", ".join(
            f"{name} {' / '.join(f'{x:.2f}' for x in v)} ({r['share_moves'][name]} moves, "
            f"median {1e3 * np.median(r['move_s'][name] or [0]):.1f} ms each)"
            for name, v in r["thread_shares"].items()))
    for name, v in r["thread_spread"].items():
        if v:
            q = np.percentile(v, [50, 90, 100])
            print(f"{name}: fastest / slowest thread speed per call (median, 90th pct, max): "
                  f"{q[0]:.2f}, {q[1]:.2f}, {q[2]:.2f} ({len(v)} calls)")
    if not r["parallel"].get("2 threads", True):
        print("note: network too small to split, two threads ran the serial loop")
    print(f"speed-up of {cand} over {base} per round: min {r['speedup_min']:.2f}  median "
          f"{r['speedup_median']:.2f}  max {r['speedup_max']:.2f}")
    print(f"speed-up of the best times (least interference): {r['speedup_best']:.2f}")
    print("spikes: " + ", ".join(f"{name} {k:,}" for name, k in r["spikes"].items()))
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB (both networks)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
        print(f"wrote {args.json}")
    return r


if __name__ == "__main__":
    main()

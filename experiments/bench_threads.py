"""Two threads against one on the CUBA network, measured side by side in one process.

    python experiments/bench_threads.py                        # N = 64000, 10 rounds
    python experiments/bench_threads.py --n 32000 --rounds 20 --json out.json

``bench_cuba.py`` runs every case in its own process, one after the other; on a machine whose
second core is shared with other work (this project's VM), a one-thread run and a two-thread
run minutes apart see different machines. Here one simulation per thread count is built and
warmed up, then the two run alternately, ``--piece-ms`` of biological time each, for
``--rounds`` rounds, so both see the same conditions. Printed (and written with ``--json``):
seconds of loop per biological second per thread count (min, median), and the speed-up per
round (one-thread time / two-thread time of the same round: min, median, max). Peak RSS of the
process is printed too (both networks are alive together).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

from neurosim import Simulation
from neurosim.models.networks import cuba


def measure(n: int, rounds: int, piece_ms: float, seed: int) -> dict:
    sims = {t: Simulation(cuba.build(n, seed=seed), dt=0.1, threads=t) for t in (1, 2)}
    for sim in sims.values():
        sim.run(20.0)  # load the loop, leave the start transient
    per_bio_s = {t: [] for t in sims}
    for _ in range(rounds):
        for t, sim in sims.items():
            start = time.perf_counter()
            sim.run(piece_ms)
            per_bio_s[t].append((time.perf_counter() - start) / (piece_ms / 1000.0))
    ratio = [a / b for a, b in zip(per_bio_s[1], per_bio_s[2], strict=True)]
    return dict(N=n, rounds=rounds, piece_ms=piece_ms, seed=seed,
                parallel=sims[2].structure.parallel,
                loop_per_bio_s={str(t): v for t, v in per_bio_s.items()},
                speedup_per_round=ratio,
                speedup_min=min(ratio), speedup_median=statistics.median(ratio),
                speedup_max=max(ratio),
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64000, help="number of neurons")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--piece-ms", type=float, default=300.0,
                    help="biological time per piece (ms, a whole number of 0.1 ms steps)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    r = measure(args.n, args.rounds, args.piece_ms, args.seed)
    print(f"CUBA N = {r['N']}, {r['rounds']} rounds of {r['piece_ms']:g} ms per thread count"
          f"{'' if r['parallel'] else ' (network too small: two threads ran the serial loop)'}")
    print("threads  loop s per bio-s: min  median")
    for t, v in r["loop_per_bio_s"].items():
        print(f"{t:>7}  {min(v):>21.3f}  {statistics.median(v):.3f}")
    print(f"speed-up of two threads per round: min {r['speedup_min']:.2f}  median "
          f"{r['speedup_median']:.2f}  max {r['speedup_max']:.2f}")
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB (both networks)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
        print(f"wrote {args.json}")
    return r


if __name__ == "__main__":
    main()

"""The main job: simulate the CUBA benchmark network and write its spikes.

    python experiments/cuba.py                      # N = 4000, 1 s, results/cuba.h5
    python experiments/cuba.py --n 16000 --duration 10000 --threads 2

Prints a summary (rates, ISI CV, timings) and writes an HDF5 result file.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neurosim.io.hdf5 import save
from neurosim.models.networks import cuba


def isi_cv(times: np.ndarray, ids: np.ndarray) -> float:
    """Mean coefficient of variation of the inter-spike intervals (units with >= 3 spikes)."""
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    same = i[1:] == i[:-1]
    isi = np.diff(t)[same]
    owner = i[1:][same]
    if isi.size == 0:
        return float("nan")
    cnt = np.bincount(owner)
    s1 = np.bincount(owner, isi)
    s2 = np.bincount(owner, isi * isi)
    ok = cnt >= 2
    mean = s1[ok] / cnt[ok]
    var = s2[ok] / cnt[ok] - mean**2
    return float(np.mean(np.sqrt(np.maximum(var, 0)) / mean))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000, help="number of neurons")
    ap.add_argument("--duration", type=float, default=1000.0, help="biological time, ms")
    ap.add_argument("--dt", type=float, default=0.1, help="time step, ms")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="results/cuba.h5", help="HDF5 result file")
    ap.add_argument("--overwrite", action="store_true", default=True)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    net = cuba.build(args.n, seed=args.seed)
    sim = net.compile(dt=args.dt, threads=args.threads)
    t1 = time.perf_counter()
    sim.run(args.duration)
    t2 = time.perf_counter()
    summary = {"N": args.n, "T_ms": args.duration, "synapses": sim.n_synapses()}
    all_t, all_i = [], []
    for k, pop in enumerate(("exc", "inh")):
        t, i = sim.spikes(pop)
        summary[f"rate_{pop}_Hz"] = len(t) / net.pops[pop].size / (args.duration / 1000)
        all_t.append(t)
        all_i.append(i + k * net.pops["exc"].size)
    t, i = np.concatenate(all_t), np.concatenate(all_i)
    summary["rate_Hz"] = len(t) / args.n / (args.duration / 1000)
    summary["isi_cv"] = isi_cv(t, i)
    summary["build_s"] = t1 - t0
    summary["run_s"] = t2 - t1
    path = save(sim, args.out, overwrite=args.overwrite)
    print(f"CUBA  N={args.n}  T={args.duration:g} ms  dt={args.dt} ms  seed={args.seed}  "
          f"synapses={summary['synapses']:,}")
    print(f"  mean rate {summary['rate_Hz']:.2f} Hz (exc {summary['rate_exc_Hz']:.2f}, "
          f"inh {summary['rate_inh_Hz']:.2f}), ISI CV {summary['isi_cv']:.3f}")
    print(f"  build {summary['build_s']:.2f} s, run {summary['run_s']:.2f} s "
          f"(incl. JIT/cache load)  ->  {path}")
    return summary


if __name__ == "__main__":
    main()

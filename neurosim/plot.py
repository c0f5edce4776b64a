"""Figures: a result file (spike raster, population rates, state traces, weight histograms)
and learning (Hebbian receptive fields, accuracy against depth).

matplotlib (the ``cli`` extra) is imported only inside the functions, with the non-interactive
Agg backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .errors import bad

#: at most this many dots in a raster (a uniform subsample of the units beyond it)
MAX_RASTER_POINTS = 200_000


def plot_results(res, out, max_units_traced: int = 5) -> Path:
    """Draw what ``res`` (a :class:`neurosim.io.hdf5.Results`) holds into the PNG ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ["raster", "rates"] if res.populations else []
    panels += [("state", pv) for pv in res.state_vars]
    panels += [("weights", p) for p in res.projections]
    if not panels:
        panels = ["empty"]
    heights = [3 if p == "raster" else 1.6 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, sum(heights) + 0.6),
                             gridspec_kw=dict(height_ratios=heights), squeeze=False)
    t_end = res.t_flushed or 1.0
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        if panel == "raster":
            offset = 0
            for c, pop in enumerate(res.populations):
                t, i = res.spikes(pop)
                size = res.network["populations"][pop]["size"]
                if len(t) > MAX_RASTER_POINTS:  # keep whole units, drop others
                    keep_every = int(np.ceil(len(t) / MAX_RASTER_POINTS))
                    sel = i % keep_every == 0
                    t, i = t[sel], i[sel]
                ax.scatter(t, i + offset, s=0.5, marker=".", color=colors[c % len(colors)],
                           linewidths=0, label=pop, rasterized=True)
                offset += size
            ax.set_ylim(0, max(offset, 1))
            ax.set_ylabel("unit")
            ax.set_title(f"{res.path.name}: {res.status}, {t_end:g} ms, dt = {res.dt} ms")
            ax.legend(loc="upper right", markerscale=10, fontsize="small")
        elif panel == "rates":
            width = max(res.dt, min(5.0, t_end / 200))
            edges = np.arange(0.0, t_end + width, width)
            for c, pop in enumerate(res.populations):
                t, _ = res.spikes(pop)
                size = res.network["populations"][pop]["size"]
                counts, _ = np.histogram(t, edges)
                ax.plot(edges[:-1], counts / size / (width / 1000.0),
                        color=colors[c % len(colors)], lw=0.8, label=pop)
            ax.set_ylabel(f"rate (Hz)\n{width:g} ms bins")
        elif panel[0] == "state":
            pop, var = panel[1]
            t, v = res.state(pop, var)
            ids = res.recorded_ids(pop, var)
            for j in range(min(max_units_traced, v.shape[1])):
                ax.plot(t, v[:, j], lw=0.7, label=f"{pop}[{ids[j]}]")
            ax.set_ylabel(var)
            ax.legend(loc="upper right", fontsize="x-small", ncol=min(5, v.shape[1]))
        elif panel[0] == "weights":
            times, w, _, _ = res.weights(panel[1])
            for j in sorted({0, len(times) - 1}):
                ax.hist(w[j], bins=50, histtype="step", label=f"t = {times[j]:g} ms")
            ax.set_xlabel(f"weight of {panel[1]}")
            ax.set_ylabel("synapses")
            ax.legend(fontsize="small")
            continue
        else:
            ax.text(0.5, 0.5, "nothing recorded", ha="center", va="center")
        ax.set_xlim(0, t_end)
    for ax in axes[:, 0]:
        if not ax.get_xlabel():
            ax.set_xlabel("time (ms)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# -- learning --------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out, plt) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _rf_tiles(weights, image_shape=None, n: int = 64, order: str = "first"):
    """Select and scale the receptive fields drawn by :func:`plot_receptive_fields`.

    Returns
    -------
    index : numpy.ndarray
        The neurons shown, in drawing order.
    tiles : numpy.ndarray
        ``(n, h, w, 3)`` RGB in [0, 1] (each filter min-max scaled on its own), or ``(n, h, w)``
        for one channel, each filter divided by its largest ``|w|`` (so in [-1, 1], 0 stays 0).
    signed : bool
        Whether any shown one-channel weight is negative (RGB tiles: ``False``).
    """
    owner = "plot_receptive_fields"
    if hasattr(weights, "detach"):  # a torch tensor, on any device
        weights = weights.detach().cpu().numpy()
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise bad(owner, "weights", type(weights).__name__, "must be a numeric array") from None
    if w.ndim == 4:
        k, c, h, wd = w.shape
        if image_shape is not None and (np.ndim(image_shape) != 1
                                        or tuple(image_shape) not in ((c, h, wd), (h, wd))):
            raise bad(owner, "image_shape", image_shape,
                      f"does not match the conv filters of shape {(c, h, wd)}")
    elif w.ndim == 2:
        k, n_in = w.shape
        if image_shape is None:
            side = math.isqrt(n_in)
            side3 = math.isqrt(n_in // 3)
            if side * side == n_in:
                image_shape = (side, side)
            elif 3 * side3 * side3 == n_in:
                image_shape = (3, side3, side3)
            else:
                raise bad(owner, "image_shape", None,
                          f"must be given: {n_in} inputs per neuron are not a square image")
        shape = tuple(image_shape) if np.ndim(image_shape) == 1 else None
        if (shape is None or len(shape) not in (2, 3) or not all(_is_int(d) and d > 0
                                                                for d in shape)):
            raise bad(owner, "image_shape", image_shape,
                      "must be (H, W) or (C, H, W) with positive integer sizes")
        if math.prod(shape) != n_in:
            raise bad(owner, "image_shape", image_shape,
                      f"holds {math.prod(shape)} pixels but each weight row has {n_in}")
        if len(shape) == 2:
            shape = (1,) + shape
        w = w.reshape((k,) + shape)
        c = shape[0]
    else:
        raise bad(owner, "weights", f"array of shape {w.shape}",
                  "must be (K, C, h, w) conv filters or (K, N) dense weight rows")
    if c not in (1, 3):
        raise bad(owner, "weights", f"array of shape {w.shape}",
                  f"has {c} channels: only 1 (grey) or 3 (RGB) can be drawn; for a deeper "
                  "layer plot one channel, weights[:, i:i + 1]")
    if k == 0:
        raise bad(owner, "weights", f"array of shape {w.shape}", "has no neurons")
    if not np.all(np.isfinite(w)):
        raise bad(owner, "weights", "non-finite values", "must be finite (the layer diverged?)")
    if not _is_int(n) or n < 1:
        raise bad(owner, "n", n, "must be an integer >= 1")
    if order == "first":
        index = np.arange(min(n, k))
    elif order in ("norm", "converged"):
        norms = np.sqrt((w.reshape(k, -1).astype(np.float64) ** 2).sum(axis=1))
        key = -norms if order == "norm" else np.abs(norms - 1.0)
        index = np.argsort(key, kind="stable")[:n]
    else:
        raise bad(owner, "order", order, "must be 'first', 'norm' (largest norm first) or "
                  "'converged' (norm nearest 1 first)")
    sel = w[index]
    if c == 3:
        lo = sel.min(axis=(1, 2, 3), keepdims=True)
        span = sel.max(axis=(1, 2, 3), keepdims=True) - lo
        rgb = np.where(span > 0, (sel - lo) / np.where(span > 0, span, 1.0), 0.5)
        return index, rgb.transpose(0, 2, 3, 1), False
    grey = sel[:, 0]
    peak = np.abs(grey).max(axis=(1, 2), keepdims=True)
    return index, grey / np.where(peak > 0, peak, 1.0), bool((grey < 0).any())


def plot_receptive_fields(weights, out, image_shape=None, n: int = 64, cols: int = 8,
                          title: str | None = None, order: str = "first",
                          cmap: str | None = None) -> Path:
    """Draw the weights of a Hebbian layer as a grid of images, one per neuron.

    Parameters
    ----------
    weights
        ``(K, C, h, w)`` conv filters or ``(K, N)`` dense weight rows (numpy array, or a torch
        tensor on any device). Only images with 1 or 3 channels can be drawn.
    out
        The PNG written (its folder is created).
    image_shape
        For dense rows: ``(H, W)`` or channels-first ``(C, H, W)`` with ``C * H * W == N``,
        e.g. ``(28, 28)`` or ``(3, 32, 32)``; by default a square ``(s, s)`` if ``N = s * s``,
        else ``(3, s, s)`` if ``N = 3 * s * s``. For conv filters it may be left out (or must
        match them).
    n
        How many neurons to draw (at most ``K``).
    cols
        Images per row of the grid.
    title
        Figure title (default: the layer shape and which neurons are shown).
    order
        ``"first"``: neurons ``0 .. n - 1``; ``"norm"``: the ``n`` largest weight vectors (L2),
        largest first; ``"converged"``: the ``n`` whose norm is nearest 1 (SoftHebb's
        fixed point: the neurons that learned most, since they start at norm ~25).
    cmap
        Colour map of one-channel images (default: ``"RdBu_r"``, 0 white, if any drawn weight
        is negative; ``"gray"``, 0 black, if all are >= 0).

    Returns
    -------
    pathlib.Path
        ``out``.

    Notes
    -----
    Every image is scaled on its own: RGB filters min-max to [0, 1] (a constant filter is
    mid grey); one-channel filters are divided by their largest ``|w|`` and drawn on
    [-1, 1] (signed) or [0, 1], so that zero keeps its colour. Each image is labelled with
    its neuron index.

    Raises
    ------
    ConfigError
        ``weights`` of another number of dimensions, channels other than 1 or 3, no neurons or
        non-finite values; an ``image_shape`` that does not match ``N``; bad ``n``, ``cols``
        or ``order``.
    """
    index, tiles, signed = _rf_tiles(weights, image_shape, n, order)
    if not _is_int(cols) or cols < 1:
        raise bad("plot_receptive_fields", "cols", cols, "must be an integer >= 1")
    plt = _pyplot()
    m = len(index)
    n_cols = min(cols, m)
    n_rows = math.ceil(m / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(0.95 * n_cols + 0.3, 1.0 * n_rows + 0.6),
                             squeeze=False)
    if tiles.ndim == 4:
        kw = {}
    elif signed:
        kw = dict(cmap=cmap or "RdBu_r", vmin=-1.0, vmax=1.0)
    else:
        kw = dict(cmap=cmap or "gray", vmin=0.0, vmax=1.0)
    for j, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if j < m:
            ax.imshow(tiles[j], interpolation="nearest", **kw)
            ax.set_title(str(index[j]), fontsize=6, pad=2)
    w_shape = tuple(np.shape(weights))
    if title is None:
        title = (f"receptive fields of a {w_shape} layer: "
                 + {"first": f"first {m}", "norm": f"{m} largest by norm",
                    "converged": f"{m} with norm nearest 1"}[order])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, out, plt)


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _depth_rows(rows) -> dict[str, list[tuple[int, float, float | None]]]:
    """Validate the rows of :func:`plot_accuracy_vs_depth` -> method -> [(layers, acc, std)]
    sorted by layers, methods in order of first appearance."""
    owner = "plot_accuracy_vs_depth"
    if isinstance(rows, Mapping) or not hasattr(rows, "__iter__"):
        raise bad(owner, "rows", type(rows).__name__, "must be a list of dicts")
    out: dict[str, list[tuple[int, float, float | None]]] = {}
    seen: set[tuple[str, int]] = set()
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise bad(owner, f"rows[{i}]", r, "must be a dict with 'method', 'layers' and "
                      "'accuracy' (and optionally 'std')")
        for key in ("method", "layers", "accuracy"):
            if key not in r:
                raise bad(owner, f"rows[{i}]", dict(r), f"has no '{key}'")
        method, layers, acc, std = r["method"], r["layers"], r["accuracy"], r.get("std")
        if not isinstance(method, str) or not method:
            raise bad(owner, f"rows[{i}]['method']", method, "must be a non-empty string")
        if not _is_int(layers) or layers < 0:
            raise bad(owner, f"rows[{i}]['layers']", layers,
                      "must be an integer >= 0 (hidden layers)")
        try:
            acc_f = float(acc)
        except (TypeError, ValueError):
            acc_f = float("nan")
        if not 0.0 <= acc_f <= 100.0:
            raise bad(owner, f"rows[{i}]['accuracy']", acc, "must be a percentage in [0, 100]")
        std_f = None
        if std is not None:
            try:
                std_f = float(std)
            except (TypeError, ValueError):
                std_f = float("nan")
            if not (np.isfinite(std_f) and std_f >= 0):
                raise bad(owner, f"rows[{i}]['std']", std, "must be a finite number >= 0")
        if (method, int(layers)) in seen:
            raise bad(owner, f"rows[{i}]", dict(r),
                      f"repeats method '{method}' at {int(layers)} layers")
        seen.add((method, int(layers)))
        out.setdefault(method, []).append((int(layers), acc_f, std_f))
    if not out:
        raise bad(owner, "rows", [], "must hold at least one result")
    return {m: sorted(v) for m, v in out.items()}


def plot_accuracy_vs_depth(rows, out, title: str | None = None) -> Path:
    """Accuracy against the number of hidden layers, one line per training method.

    Parameters
    ----------
    rows
        Dicts ``{"method": str, "layers": int, "accuracy": float}`` with an optional
        ``"std": float``; ``accuracy`` and ``std`` in percent, ``layers`` the number of hidden
        layers (0 = a classifier on the raw input). Each (method, layers) pair at most once.
    out
        The PNG written (its folder is created).
    title
        Figure title.

    Returns
    -------
    pathlib.Path
        ``out``.

    Notes
    -----
    Methods are drawn in the order of their first row, each as a line with markers through
    its points sorted by depth, with error bars (``± std``) where any of its rows has a
    ``std`` (missing ones count as 0).

    Raises
    ------
    ConfigError
        No rows, a row that is not a dict or lacks a key, a method that is not a string,
        negative or non-integer layers, an accuracy outside [0, 100], a negative or
        non-finite std, a repeated (method, layers).
    """
    series = _depth_rows(rows)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for j, (method, pts) in enumerate(series.items()):
        x = [p[0] for p in pts]
        y = [p[1] for p in pts]
        has_std = any(p[2] is not None for p in pts)
        yerr = [p[2] or 0.0 for p in pts] if has_std else None
        ax.errorbar(x, y, yerr=yerr, marker=_MARKERS[j % len(_MARKERS)], ms=6, lw=1.5,
                    capsize=3 if has_std else 0, label=method)
    depths = sorted({p[0] for pts in series.values() for p in pts})
    ax.set_xticks(depths)
    if len(depths) == 1:
        ax.set_xlim(depths[0] - 1, depths[0] + 1)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _save(fig, out, plt)

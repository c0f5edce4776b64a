"""Spike-train statistics."""

from __future__ import annotations

import numpy as np


def rates(ids: np.ndarray, n_units: int, duration_ms: float) -> np.ndarray:
    """Firing rate (Hz) of each unit 0..n_units-1 over ``duration_ms``."""
    return np.bincount(ids, minlength=n_units) / (duration_ms / 1000.0)


def isi_cv(times: np.ndarray, ids: np.ndarray, min_spikes: int = 3) -> float:
    """Mean coefficient of variation (std / mean) of the inter-spike intervals over the units
    with at least ``min_spikes`` spikes; NaN if there are none."""
    times, ids = np.asarray(times, np.float64), np.asarray(ids, np.int64)
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    same = i[1:] == i[:-1]
    isi, owner = np.diff(t)[same], i[1:][same]
    if isi.size == 0:
        return float("nan")
    cnt = np.bincount(owner)
    s1 = np.bincount(owner, isi)
    s2 = np.bincount(owner, isi * isi)
    ok = cnt >= min_spikes - 1
    if not ok.any():
        return float("nan")
    mean = s1[ok] / cnt[ok]
    var = np.maximum(s2[ok] / cnt[ok] - mean**2, 0.0)
    return float(np.mean(np.sqrt(var) / mean))

"""Seeded random values for weights, delays and initial states.

A distribution is sampled with the network's numpy ``Generator`` when the network is
compiled, so the same seed gives the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high)."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)


@dataclass(frozen=True)
class Normal:
    """Gaussian with mean ``mu`` and standard deviation ``sigma``; optional clipping bounds."""

    mu: float
    sigma: float
    low: float = -np.inf
    high: float = np.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.clip(rng.normal(self.mu, self.sigma, size=n), self.low, self.high)


@dataclass(frozen=True)
class LogNormal:
    """exp(N(mu, sigma)) -- positive weights with a heavy tail."""

    mu: float
    sigma: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size=n)


Distribution = Uniform | Normal | LogNormal


def resolve(value, n: int, rng: np.random.Generator) -> np.ndarray:
    """A float64 array of length ``n`` (scalars are broadcast, distributions sampled)."""
    if hasattr(value, "sample"):
        return np.asarray(value.sample(rng, n), dtype=np.float64)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    return arr

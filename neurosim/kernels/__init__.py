"""Numba kernels: top-level ``@njit(cache=True)`` functions only."""

"""Units and the one rule that turns times into steps.

neurosim uses NEST's units everywhere: time ms, voltage mV, current pA, capacitance pF,
conductance nS, rate Hz. Values are plain floats in those units; importers that speak
other units (NIR uses seconds) convert at the boundary.

Clock convention (written once, used everywhere)
-------------------------------------------------
Update step ``k`` (k = 0, 1, ...) advances every state from ``k*dt`` to ``(k+1)*dt``. An event
emitted during step ``k`` carries the time stamp ``(k+1)*dt`` (NEST's convention: the end of
the step in which the threshold was found crossed). Recorders store that integer stamp
``k + 1``; times are ``stamp * dt``. An event emitted in step ``k`` through a delay of ``d``
steps is consumed in step ``k + d``.
"""

from __future__ import annotations

import numpy as np

TIME = "ms"
VOLTAGE = "mV"
CURRENT = "pA"
CAPACITANCE = "pF"
CONDUCTANCE = "nS"
RATE = "Hz"

#: relative slack that absorbs binary round-off (0.3 / 0.1 = 2.9999999999999996)
_EPS = 1e-9


def to_steps(duration_ms, dt: float) -> np.ndarray | int:
    """Convert a duration in ms to a whole number of steps.

    The one rounding rule: ``steps = floor(duration / dt + 0.5)`` (round half up), applied after
    a relative slack of 1e-9 so that values that are multiples of ``dt`` up to binary round-off
    convert exactly. Scalars give an ``int``, arrays an ``int64`` array.
    """
    x = np.asarray(duration_ms, dtype=np.float64) / dt
    steps = np.floor(x + 0.5 + _EPS * np.abs(x))
    if steps.ndim == 0:
        return int(steps)
    return steps.astype(np.int64)


def is_multiple(duration_ms: float, dt: float) -> bool:
    """True if ``duration_ms`` is a whole number of steps up to binary round-off."""
    x = duration_ms / dt
    return abs(x - round(x)) <= 1e-6 * max(1.0, abs(x))

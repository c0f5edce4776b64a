r"""Surrogate gradients: Heaviside spikes forward, a smooth pseudo-derivative backward.

Every surrogate is a :class:`torch.autograd.Function` of ``x = V - theta`` (mV; membrane
potential minus threshold) and a ``scale`` :math:`k` (1/mV). Forward it is the engine's firing
rule, a Heaviside step that fires at equality (``V >= V_th``):

.. math::

    S(x) = H(x) = \begin{cases} 1 & x \ge 0 \\ 0 & x < 0 \end{cases}

Backward, :math:`\partial S / \partial x` is replaced by a pseudo-derivative :math:`\sigma'(x)`
(dimension 1/mV) that peaks at 1 for :math:`x = 0` and has a width of about :math:`1/k` mV:

==================  =============================================  ============================
name                :math:`\sigma'(x)`                             primitive :math:`\sigma(x)`
==================  =============================================  ============================
``fast_sigmoid``    :math:`1 / (1 + k|x|)^2` (SuperSpike,          :math:`x / (1 + k|x|)`
                    Zenke & Ganguli 2018)
``arctan``          :math:`1 / (1 + (\pi k x / 2)^2)`              :math:`\frac{2}{\pi k}
                                                                   \arctan(\pi k x / 2)`
``triangle``        :math:`\max(0, 1 - k|x|)`                      piecewise quadratic
==================  =============================================  ============================

The primitives (:data:`PRIMITIVES`) are smooth functions whose true derivative is the
surrogate; the tests run :func:`torch.autograd.gradcheck` of each surrogate's ``backward``
against them.

:func:`spike_function` turns a name (or a callable) and a scale into the ``spike_fn(x)`` that
the models' array steps take.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..errors import bad

#: default scale k (1/mV): pseudo-derivatives about 1 mV wide
DEFAULT_SCALE = 1.0


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """``1.`` where ``x >= 0``, else ``0.`` (x's dtype): the engine's ``V >= V_th``."""
    return (x >= 0).to(x.dtype)


def fast_sigmoid_grad(x: torch.Tensor, scale: float) -> torch.Tensor:
    r""":math:`\sigma'(x) = 1 / (1 + k|x|)^2` (1/mV)."""
    return 1.0 / (1.0 + scale * x.abs()) ** 2


def arctan_grad(x: torch.Tensor, scale: float) -> torch.Tensor:
    r""":math:`\sigma'(x) = 1 / (1 + (\pi k x / 2)^2)` (1/mV)."""
    return 1.0 / (1.0 + (0.5 * math.pi * scale * x) ** 2)


def triangle_grad(x: torch.Tensor, scale: float) -> torch.Tensor:
    r""":math:`\sigma'(x) = \max(0, 1 - k|x|)` (1/mV)."""
    return torch.clamp(1.0 - scale * x.abs(), min=0.0)


def _fast_sigmoid_primitive(x, scale):
    return x / (1.0 + scale * x.abs())


def _arctan_primitive(x, scale):
    return 2.0 / (math.pi * scale) * torch.atan(0.5 * math.pi * scale * x)


def _triangle_primitive(x, scale):
    # integral of max(0, 1 - k|t|) from 0 to x: x - k x|x|/2 inside, +-1/(2k) outside
    inside = x - 0.5 * scale * x * x.abs()
    return torch.where(x.abs() < 1.0 / scale, inside, torch.sign(x) * (0.5 / scale))


class _Surrogate(torch.autograd.Function):
    """Heaviside forward; ``grad * self.grad_fn(x, scale)`` backward (``scale`` gets none)."""

    grad_fn: Callable[[torch.Tensor, float], torch.Tensor]

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float = DEFAULT_SCALE) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.scale = float(scale)
        return heaviside(x)


class FastSigmoid(_Surrogate):
    r"""``FastSigmoid.apply(x, scale)``: :math:`H(x)` forward, :math:`1/(1 + k|x|)^2` backward."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * fast_sigmoid_grad(x, ctx.scale), None


class ArcTan(_Surrogate):
    r"""``ArcTan.apply(x, scale)``: :math:`H(x)` forward,
    :math:`1/(1 + (\pi k x/2)^2)` backward."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * arctan_grad(x, ctx.scale), None


class Triangle(_Surrogate):
    r"""``Triangle.apply(x, scale)``: :math:`H(x)` forward, :math:`\max(0, 1 - k|x|)`
    backward."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * triangle_grad(x, ctx.scale), None


#: the surrogates by name
SURROGATES: dict[str, type[torch.autograd.Function]] = {
    "fast_sigmoid": FastSigmoid,
    "arctan": ArcTan,
    "triangle": Triangle,
}

#: smooth functions whose derivative is each surrogate's pseudo-derivative (for tests)
PRIMITIVES: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "fast_sigmoid": _fast_sigmoid_primitive,
    "arctan": _arctan_primitive,
    "triangle": _triangle_primitive,
}


def spike_function(surrogate: str | Callable[[torch.Tensor], torch.Tensor] = "fast_sigmoid",
                   scale: float | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``spike_fn(x)`` for a model's array step.

    Parameters
    ----------
    surrogate
        ``"fast_sigmoid"``, ``"arctan"``, ``"triangle"`` or a callable ``f(x) -> spikes``
        (used as is; it must return Heaviside spikes forward to match the engine).
    scale
        The surrogate's scale k (1/mV, > 0); default :data:`DEFAULT_SCALE`. Not allowed with
        a callable.
    """
    if callable(surrogate):
        if scale is not None:
            raise bad("spike_function", "scale", scale, "applies to named surrogates only")
        return surrogate
    if surrogate not in SURROGATES:
        raise bad("spike_function", "surrogate", surrogate,
                  f"is not one of {', '.join(SURROGATES)} (or a callable)")
    k = DEFAULT_SCALE if scale is None else scale
    if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
        raise bad("spike_function", "scale", scale, "must be a finite number > 0 (1/mV)")
    fn = SURROGATES[surrogate]
    k = float(k)

    def spike_fn(x: torch.Tensor) -> torch.Tensor:
        return fn.apply(x, k)

    spike_fn.__name__ = f"{surrogate}_{k:g}"
    return spike_fn

r"""SoftHebb as torch modules: dense and convolutional soft-WTA layers, blocks and nets.

The equations are those of :mod:`neurosim.models.plasticity.softhebb` (the Numba CPU backend
of dense layers; read its docstring for the rules ``soft``, ``softkrotov``, ``hard``,
``krotov``, the layer-wide normalisation and the adaptive learning rate). Here they run on
torch tensors (CPU or CUDA), for dense layers (parity with the Numba path is tested) and for
convolutional layers, where competition happens at every output position across channels.

Convolutional update (Journé et al., ICLR 2023; the authors' ``delta_weight``): with
:math:`P_{b,h,w}` the input patch under output position :math:`(h, w)`,

.. math::

    \Delta W_k = \sum_{b,h,w} y_{k,b,h,w}\, P_{b,h,w}
                 - \Big(\sum_{b,h,w} y_{k,b,h,w}\, u_{k,b,h,w}\Big) W_k ,

whose first term is one convolution of the (padded) input with the factors, batch and channel
axes swapped ("the conv trick": ``conv2d(x^T, y^T)``, valid for stride 1), checked against an
explicit unfold / im2col sum in the tests.

Blocks follow the authors' order: ``BatchNorm2d(affine=False)`` (no learned parameters, its
running statistics are updated while its block learns) → Hebbian conv (reflect padding) →
activation (:class:`Triangle` or :class:`RePU`) → pooling. Differences from the authors' code:
stride 1 and dilation 1 only (every preset); ``pre_triangle`` makes the WTA act on
:math:`\mathrm{Triangle}_1(u)` (their layer-2 option), our reading of the code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from neurosim.errors import bad

from .softhebb import RADIUS, check_positive, check_rule

# ------------------------------------------------------------------------- activations


class RePU(nn.Module):
    r""":math:`\mathrm{RePU}_p(u) = \max(0, u)^p` (rectified power unit)."""

    def __init__(self, power: float = 1.0):
        super().__init__()
        self.power = check_positive(type(self).__name__, "power", power)

    def centre(self, u: torch.Tensor) -> torch.Tensor:
        return u

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.centre(u))
        return y if self.power == 1.0 else y.pow(self.power)

    def extra_repr(self) -> str:
        return f"power={self.power}"


class Triangle(RePU):
    r""":math:`\mathrm{Triangle}_p(u)_c = \max(0, u_c - \bar u)^p`, :math:`\bar u` the mean over
    channels (dim 1) at the same position (Coates et al. 2011 "triangle k-means")."""

    def centre(self, u: torch.Tensor) -> torch.Tensor:
        return u - u.mean(dim=1, keepdim=True)


class SoftmaxT(nn.Module):
    r""":math:`\operatorname{softmax}(t\,u)` over dim 1 (the MNIST MLP's forward, :math:`t = 5`)."""

    def __init__(self, t_invert: float = 1.0):
        super().__init__()
        self.t_invert = check_positive("SoftmaxT", "t_invert", t_invert)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.t_invert * u, dim=1)

    def extra_repr(self) -> str:
        return f"t_invert={self.t_invert}"


class UnitNorm(nn.Module):
    r"""Each sample scaled to unit L2 norm, :math:`x / \lVert x \rVert_2` (over all its
    features): the 2022 model's inputs on the unit sphere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return (flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)).view_as(x)


def activation(name: str, power: float = 1.0) -> nn.Module:
    """``"triangle"``, ``"repu"``, ``"relu"``, ``"softmax"`` (``power`` = 1/τ) or ``"none"``."""
    if name == "triangle":
        return Triangle(power)
    if name == "repu":
        return RePU(power)
    if name == "relu":
        return nn.ReLU()
    if name == "softmax":
        return SoftmaxT(power)
    if name == "none":
        return nn.Identity()
    raise bad("activation", "name", name,
              "must be 'triangle', 'repu', 'relu', 'softmax' or 'none'")


# ------------------------------------------------------------------------- the rule


def postsynaptic(u: torch.Tensor, rule: str, t_invert: float, delta: float = 0.4,
                 ranking: int = 2) -> torch.Tensor:
    """The plasticity factor :math:`y` of pre-activations ``u`` (neurons along dim 1)."""
    code = check_rule("postsynaptic", rule)
    win = u.argmax(dim=1, keepdim=True)
    if code == 2:
        return torch.zeros_like(u).scatter_(1, win, 1.0)
    if code == 3:
        order = torch.argsort(u, dim=1, descending=True, stable=True)
        y = torch.zeros_like(u).scatter_(1, order[:, :1], 1.0)
        return y.scatter_(1, order[:, ranking - 1:ranking], -delta)
    y = torch.softmax(t_invert * u, dim=1)
    if code == 1:
        y = -y
        y.scatter_(1, win, -torch.gather(y, 1, win))
    return y


def apply_update(weight: torch.Tensor, dw: torch.Tensor, lr: float, lr_power: float) -> None:
    """``weight += eta_k * dw / max|dw|`` in place (norms taken before the update)."""
    dw = dw / (dw.abs().max() + 1e-30)
    norms = weight.reshape(weight.shape[0], -1).norm(dim=1)
    eta = lr * ((norms - RADIUS).abs() + 1e-10).pow(lr_power)
    weight.add_(eta.view(-1, *([1] * (weight.ndim - 1))) * dw)


class _Hebbian(nn.Module):
    """What dense and conv SoftHebb layers share: rule parameters and the weight."""

    def __init__(self, owner, shape, rule, t_invert, lr, lr_power, radius, init, delta,
                 ranking, generator):
        super().__init__()
        self.rule = rule
        check_rule(owner, rule)
        self.t_invert = check_positive(owner, "t_invert", t_invert)
        self.lr = check_positive(owner, "lr", lr, allow_zero=True)
        self.lr_power = check_positive(owner, "lr_power", lr_power, allow_zero=True)
        self.delta = check_positive(owner, "delta", delta, allow_zero=True)
        self.ranking = int(ranking)
        radius = check_positive(owner, "radius", radius)
        fan_in = math.prod(shape[1:])
        if init == "normal":
            w = torch.randn(shape, generator=generator) * (radius / math.sqrt(fan_in))
        elif init == "positive":
            w = torch.rand(shape, generator=generator) * math.sqrt(3.0 * radius ** 2 / fan_in)
        else:
            raise bad(owner, "init", init, "must be 'normal' or 'positive'")
        #: the weights; not trained by gradients unless ``requires_grad_`` is set (backprop)
        self.weight = nn.Parameter(w, requires_grad=False)

    def factor(self, u: torch.Tensor) -> torch.Tensor:
        return postsynaptic(u, self.rule, self.t_invert, self.delta, self.ranking)

    def convergence(self) -> tuple[float, float]:
        """(mean |‖w_k‖ − 1|, fraction of neurons with it < 0.01)."""
        dev = (self.weight.detach().reshape(self.weight.shape[0], -1).double().norm(dim=1)
               - RADIUS).abs()
        return float(dev.mean()), float((dev < 1e-2).double().mean())

    def extra_repr(self) -> str:
        return (f"rule={self.rule!r}, t_invert={self.t_invert}, lr={self.lr}, "
                f"lr_power={self.lr_power}")


class SoftHebbLinear(_Hebbian):
    """Dense soft-WTA layer: ``forward(x) = x W^T``; :meth:`hebbian_update` learns.

    Same parameters as :class:`neurosim.models.plasticity.softhebb.SoftHebbDense`.
    """

    def __init__(self, n_in: int, n_out: int, rule: str = "softkrotov", t_invert: float = 1.0,
                 lr: float = 0.08, lr_power: float = 0.5, radius: float = 25.0,
                 init: str = "normal", delta: float = 0.4, ranking: int = 2,
                 generator: torch.Generator | None = None):
        super().__init__("SoftHebbLinear", (int(n_out), int(n_in)), rule, t_invert, lr,
                         lr_power, radius, init, delta, ranking, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.weight)

    def delta_weight(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """Raw (un-normalised) :math:`\\Delta W` of the batch ``x`` (B, N)."""
        x = x.flatten(1)
        u = F.linear(x, self.weight) if u is None else u
        y = self.factor(u)
        return y.t() @ x - (y * u).sum(0)[:, None] * self.weight

    @torch.no_grad()
    def hebbian_update(self, x: torch.Tensor) -> None:
        """One plasticity step on the batch ``x``."""
        apply_update(self.weight, self.delta_weight(x), self.lr, self.lr_power)


class SoftHebbConv2d(_Hebbian):
    """Convolutional soft-WTA layer (stride 1, ``padding`` with reflection).

    Parameters as :class:`SoftHebbLinear`, plus ``in_channels``, ``out_channels``,
    ``kernel_size`` and ``padding``; ``pre_triangle`` lets the WTA see
    :math:`\\mathrm{Triangle}_1(u)` instead of :math:`u`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0,
                 rule: str = "softkrotov", t_invert: float = 1.0, lr: float = 0.08,
                 lr_power: float = 0.5, radius: float = 25.0, init: str = "normal",
                 delta: float = 0.4, ranking: int = 2, pre_triangle: bool = False,
                 generator: torch.Generator | None = None):
        k = int(kernel_size)
        super().__init__("SoftHebbConv2d", (int(out_channels), int(in_channels), k, k), rule,
                         t_invert, lr, lr_power, radius, init, delta, ranking, generator)
        if int(padding) != padding or padding < 0:
            raise bad("SoftHebbConv2d", "padding", padding, "must be an integer >= 0")
        self.padding = int(padding)
        self.pre_triangle = bool(pre_triangle)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        p = self.padding
        return F.pad(x, (p, p, p, p), mode="reflect") if p else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.weight)

    def delta_weight(self, x: torch.Tensor) -> torch.Tensor:
        """Raw :math:`\\Delta W` (K, C, k, k) of the batch ``x`` (B, C, H, W)."""
        xp = self.pad(x)
        u = F.conv2d(xp, self.weight)
        y = self.factor(Triangle(1.0)(u) if self.pre_triangle else u)
        yx = F.conv2d(xp.transpose(0, 1), y.transpose(0, 1)).transpose(0, 1)
        yu = (y * u).sum(dim=(0, 2, 3))
        return yx - yu.view(-1, 1, 1, 1) * self.weight

    @torch.no_grad()
    def hebbian_update(self, x: torch.Tensor) -> None:
        apply_update(self.weight, self.delta_weight(x), self.lr, self.lr_power)

    def extra_repr(self) -> str:
        k_out, c_in, k, _ = self.weight.shape
        return (f"{c_in}, {k_out}, kernel_size={k}, padding={self.padding}, "
                + super().extra_repr())


class HebbianBlock(nn.Module):
    """``input norm → Hebbian layer → activation → [pool]``.

    ``input_norm``: ``"batch"`` (``BatchNorm(affine=False)``, the conv presets), ``"unit"``
    (:class:`UnitNorm`, the MNIST MLP) or ``"none"``.

    :meth:`learn` runs one unsupervised step on a batch of this block's inputs: batch norm in
    training mode (its running statistics move; the batch is normalised with its own
    statistics), then the Hebbian update of the layer. ``forward`` is the plain forward pass
    (use ``eval()`` for the running statistics).
    """

    def __init__(self, layer: _Hebbian, act: nn.Module, pool: nn.Module | None = None,
                 input_norm: str = "batch"):
        super().__init__()
        c_in = layer.weight.shape[1]
        if input_norm == "batch":
            bn = nn.BatchNorm2d if isinstance(layer, SoftHebbConv2d) else nn.BatchNorm1d
            self.norm = bn(c_in, affine=False)
        elif input_norm == "unit":
            self.norm = UnitNorm()
        elif input_norm == "none":
            self.norm = nn.Identity()
        else:
            raise bad("HebbianBlock", "input_norm", input_norm,
                      "must be 'batch', 'unit' or 'none'")
        self.layer, self.act = layer, act
        self.pool = pool if pool is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.layer, SoftHebbLinear):
            x = x.flatten(1)
        return self._after_norm(self.norm(x))

    def _after_norm(self, xn: torch.Tensor) -> torch.Tensor:
        """Layer, activation and pooling of the normalised input."""
        return self.pool(self.act(self.layer(xn)))

    @torch.no_grad()
    def learn(self, x: torch.Tensor, plastic: bool = True,
              output: bool = False) -> torch.Tensor | None:
        """One unsupervised step (``plastic=False``: only the batch-norm statistics move).

        ``output``: also return the block's output for this batch, computed as the step
        saw it (batch statistics, weights before the update), the input of the next block
        when all blocks learn together (``train_hebbian(mode="consecutive")``).
        """
        if isinstance(self.layer, SoftHebbLinear):
            x = x.flatten(1)
        was = self.norm.training
        self.norm.train()
        xn = self.norm(x)
        self.norm.train(was)
        out = self._after_norm(xn) if output else None
        if plastic:
            self.layer.hebbian_update(xn)
        return out

"""Surrogate gradients: Heaviside forward (fires at equality), the documented pseudo-derivative
backward, checked with gradcheck against smooth primitives in float64."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import neurosim as ns  # noqa: E402
from neurosim.torch import surrogate as sg  # noqa: E402

NAMES = list(sg.SURROGATES)


def _twin(name):
    """The surrogate's own backward under a smooth forward (its primitive), so that
    gradcheck's finite differences test the backward."""
    base = sg.SURROGATES[name]
    primitive = sg.PRIMITIVES[name]

    class Twin(base):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = float(scale)
            return primitive(x, scale)

    return Twin


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [0.5, 1.0, 4.0])
def test_gradcheck_backward_is_derivative_of_primitive(name, scale):
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(64, generator=gen, dtype=torch.float64) - 0.5) * (6.0 / scale)
    if name == "triangle":  # keep finite differences off the kinks at 0 and +-1/scale
        kinks = torch.tensor([0.0, 1.0 / scale, -1.0 / scale], dtype=torch.float64)
        x = x[(x[:, None] - kinks).abs().min(dim=1).values > 1e-3]
    x.requires_grad_(True)
    twin = _twin(name)
    assert torch.autograd.gradcheck(lambda t: twin.apply(t, scale), (x,), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_forward_is_heaviside_at_equality(name):
    x = torch.tensor([-1.0, -1e-300, 0.0, 1e-300, 2.0], dtype=torch.float64,
                     requires_grad=True)
    s = sg.SURROGATES[name].apply(x, 1.0)
    assert s.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert s.dtype == torch.float64
    s.sum().backward()
    assert x.grad[2].item() == 1.0  # every pseudo-derivative peaks at 1 (1/mV) at threshold
    assert torch.all(x.grad >= 0)


def test_pseudo_derivative_values():
    x = torch.tensor([0.5, -2.0], dtype=torch.float64)
    k = 2.0
    torch.testing.assert_close(sg.fast_sigmoid_grad(x, k), 1 / (1 + k * x.abs()) ** 2)
    torch.testing.assert_close(sg.arctan_grad(x, k), 1 / (1 + (math.pi * k * x / 2) ** 2))
    torch.testing.assert_close(sg.triangle_grad(x, k), torch.tensor([0.0, 0.0],
                                                                    dtype=torch.float64))
    torch.testing.assert_close(sg.triangle_grad(x, 0.5), torch.tensor([0.75, 0.0],
                                                                      dtype=torch.float64))


def test_spike_function_and_errors():
    fn = sg.spike_function("arctan", 3.0)
    x = torch.tensor([0.2], requires_grad=True)
    fn(x).backward()
    torch.testing.assert_close(x.grad, sg.arctan_grad(x.detach(), 3.0))
    custom = sg.spike_function(sg.heaviside)
    assert custom is sg.heaviside
    with pytest.raises(ns.ConfigError, match="surrogate"):
        sg.spike_function("relu")
    with pytest.raises(ns.ConfigError, match="scale"):
        sg.spike_function("triangle", 0.0)
    with pytest.raises(ns.ConfigError, match="scale"):
        sg.spike_function(sg.heaviside, 2.0)

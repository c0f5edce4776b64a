"""The model registry: one line per model (neuron models and plasticity rules), duplicates
rejected, model files loaded lazily.

``neurosim`` never imports ``neurosim.models`` at import time; the first :func:`get` does.
"""

from __future__ import annotations

import importlib

from .spec import NeuronSpec, PlasticitySpec

_MODELS: dict[str, NeuronSpec] = {}
_RULES: dict[str, PlasticitySpec] = {}

#: where each built-in model is declared (module path relative to neurosim.models)
_BUILTIN: dict[str, str] = {
    "iaf_psc_exp": "neurons.lif",
    "iaf_psc_delta": "neurons.lif",
    "iaf_psc_alpha": "neurons.lif_alpha",
    "lif_cond_exp": "neurons.lif_cond",
    "alif_psc_exp": "neurons.alif",
    "izhikevich": "neurons.izhikevich",
    "nir_lif": "neurons.nir_lif",
    "nir_if": "neurons.nir_if",
    "nir_cubalif": "neurons.nir_cubalif",
}


#: where each built-in plasticity rule is declared
_BUILTIN_RULES: dict[str, str] = {
    "stdp": "plasticity.stdp",
    "stdp_nn": "plasticity.stdp",
    "triplet": "plasticity.triplet",
    "triplet_nn": "plasticity.triplet",
    "rstdp": "plasticity.rstdp",
    "hebb": "plasticity.hebbian",
    "oja": "plasticity.hebbian",
    "bcm": "plasticity.hebbian",
}


def register(spec):
    """Add a neuron model or a plasticity rule. A second one under the same name is an
    error."""
    table, what = (_RULES, "plasticity rule") if isinstance(spec, PlasticitySpec) else (
        _MODELS, "neuron model")
    old = table.get(spec.name)
    if old is not None and old is not spec:
        raise ValueError(f"a {what} named {spec.name!r} is already registered")
    table[spec.name] = spec
    return spec


def get_rule(name: str | PlasticitySpec) -> PlasticitySpec:
    """The plasticity rule registered under ``name`` (a spec passes through)."""
    if isinstance(name, PlasticitySpec):
        return name
    if name not in _RULES and name in _BUILTIN_RULES:
        importlib.import_module("neurosim.models." + _BUILTIN_RULES[name])
    try:
        return _RULES[name]
    except KeyError:
        raise KeyError(f"unknown plasticity rule {name!r}; known: "
                       f"{', '.join(rule_names())}") from None


def rule_names() -> list[str]:
    """Every plasticity rule name, built-in and registered."""
    return sorted(set(_BUILTIN_RULES) | set(_RULES))


def get(name: str | NeuronSpec) -> NeuronSpec:
    """The spec registered under ``name`` (a spec passes through)."""
    if isinstance(name, NeuronSpec):
        return name
    if name not in _MODELS and name in _BUILTIN:
        importlib.import_module("neurosim.models." + _BUILTIN[name])
    try:
        return _MODELS[name]
    except KeyError:
        raise KeyError(f"unknown neuron model {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Every model name, built-in and registered."""
    return sorted(set(_BUILTIN) | set(_MODELS))

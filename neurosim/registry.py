"""The model registry: one line per model, duplicates rejected, model files loaded lazily.

``neurosim`` never imports ``neurosim.models`` at import time; the first :func:`get` does.
"""

from __future__ import annotations

import importlib

from .spec import NeuronSpec

_MODELS: dict[str, NeuronSpec] = {}

#: where each built-in model is declared (module path relative to neurosim.models)
_BUILTIN: dict[str, str] = {
    "iaf_psc_exp": "neurons.lif",
    "iaf_psc_delta": "neurons.lif",
    "alif_psc_exp": "neurons.alif",
    "izhikevich": "neurons.izhikevich",
    "nir_lif": "neurons.nir_lif",
    "nir_if": "neurons.nir_if",
    "nir_cubalif": "neurons.nir_cubalif",
}


def register(spec: NeuronSpec) -> NeuronSpec:
    """Add a model. A second model under the same name is an error."""
    old = _MODELS.get(spec.name)
    if old is not None and old is not spec:
        raise ValueError(f"a neuron model named {spec.name!r} is already registered")
    _MODELS[spec.name] = spec
    return spec


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

"""Populations: a model, a size, parameter values and initial state (data only).

Two kinds exist: :class:`Population` (neurons integrated by a model kernel) and the event
sources of :mod:`neurosim.stimuli` (Poisson inputs, spike trains), which emit spikes but have
no state to integrate. Both have a ``name`` and a ``size``.
"""

from __future__ import annotations

import numpy as np

from . import registry
from .distributions import resolve
from .errors import bad
from .spec import NeuronSpec


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise bad(kind, "name", name, "must be a Python identifier (letters, digits, _)")
    return name


def check_size(owner: str, size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise bad(owner, "size", size, "must be a positive integer")
    return int(size)


class Population:
    """``size`` neurons of one model.

    Parameters
    ----------
    name : identifier, unique in the network.
    model : a registered model name (``"iaf_psc_exp"``) or a :class:`NeuronSpec`.
    size : number of neurons (> 0).
    **values : model parameters and initial values of state variables, each a number, an
        array of length ``size`` (one value per unit) or a distribution such as
        ``Uniform(-60, -50)`` (drawn with the network's seed when it is compiled). The
        kernel then reads a row over the units for each coefficient that differs between
        them (another compiled variant; see :mod:`neurosim.kernels.coefs`). The CUBA loop at
        N = 64,000 takes 1.14x as long with ``V_th`` per neuron, 1.75x with ``tau_m``,
        ``V_th`` and ``I_e`` (six rows of ``iaf_psc_exp``; ``bench_variants.py --compare
        per_unit``).
    """

    kind = "neurons"

    def __init__(self, name: str, model: str | NeuronSpec, size: int, **values):
        self.name = check_name("Population", name)
        owner = f"Population '{name}'"
        try:
            self.spec = registry.get(model)
        except KeyError as e:
            raise bad(owner, "model", model, str(e.args[0])) from None
        self.size = check_size(owner, size)
        params = {k: v for k, v in values.items() if k in self.spec.param_names}
        self.init = {k: v for k, v in values.items() if k in self.spec.state_names}
        unknown = set(values) - set(params) - set(self.init)
        if unknown:
            k = sorted(unknown)[0]
            raise bad(owner, k, values[k], f"is neither a parameter nor a state variable of "
                      f"{self.spec.name!r} (parameters: {', '.join(self.spec.param_names)}; "
                      f"state: {', '.join(self.spec.state_names)})")
        self.params = self.spec.validate_params(owner, params, self.size)

    def param_values(self, rng: np.random.Generator) -> dict:
        """Every parameter as a float or a float64 array of shape ``(size,)``: distributions
        drawn (in declaration order) and checked."""
        out = {}
        for p in self.spec.params:
            v = self.params[p.name]
            if hasattr(v, "sample"):
                v = p.check_units(f"Population '{self.name}'", resolve(v, self.size, rng))
            out[p.name] = v
        return out

    def initial_state(self, rng: np.random.Generator, params: dict | None = None) -> np.ndarray:
        """(n_state, size) float64, from declared inits overridden by the user's values; an
        init naming a parameter (``V_m`` starts at ``E_L``) takes its value from ``params``
        (:meth:`param_values`; default: ``self.params``, without distributions)."""
        owner = f"Population '{self.name}'"
        params = self.params if params is None else params
        state = np.empty((len(self.spec.state), self.size))
        for row, sv in enumerate(self.spec.state):
            if sv.name in self.init:
                v = resolve(self.init[sv.name], self.size, rng)
                if v.shape != (self.size,):
                    raise bad(owner, sv.name, f"array of shape {v.shape}",
                              f"must be a scalar or have shape ({self.size},)")
                if np.isnan(v).any():
                    raise bad(owner, sv.name, "array with NaN", "must not contain NaN")
            else:
                v = params[sv.init] if isinstance(sv.init, str) else sv.init
            state[row] = v
        return state

    def __repr__(self):
        return f"Population({self.name!r}, {self.spec.name!r}, size={self.size})"

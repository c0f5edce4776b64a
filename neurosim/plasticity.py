"""Plasticity on a projection: a rule (see :class:`neurosim.spec.PlasticitySpec`) with its
parameter values, and the arrays it needs once compiled.

Usage::

    net.connect("inp", "out", ns.all_to_all(), weight=ns.Uniform(0.0, 1.0),
                plasticity=ns.Plasticity("stdp", tau_plus=20.0, lambda_=0.01, w_max=1.0))

When spikes change weights (the step order of :mod:`neurosim.simulation`): the spikes of
step ``s`` carry the stamp ``T = s + 1``. A presynaptic spike at ``T`` runs ``on_pre`` on each
of its synapses when it is delivered (the weight is updated first, then the updated weight is
sent), reading the target's traces at ``T``; a postsynaptic spike at ``T`` runs ``on_post`` on
each synapse onto it, reading the sources' traces at ``T``. For a pre and a post spike with the
same stamp the presynaptic one comes first, so a pair with ``t_post - t_pre = 0`` potentiates
(as in Brian2's default schedule). The pairing uses the spike times of the two neurons; the
transmission delay does not enter it.
"""

from __future__ import annotations

import math

import numpy as np

from . import registry
from .errors import bad
from .kernels.plasticity import PlasticArrays, by_target, decay_params
from .units import is_multiple, to_steps


class Plasticity:
    """A plasticity rule with parameter values, to pass as ``Network.connect(plasticity=...)``.

    Parameters
    ----------
    rule : a registered rule name (``"stdp"``, ``"triplet"``, ``"oja"`` ...) or a
        :class:`~neurosim.spec.PlasticitySpec`.
    every : ms, rate rules only: the period of the weight updates (default: one step).
    **params : the rule's parameters (see ``neurosim models --rules``).
    """

    def __init__(self, rule, every: float | None = None, **params):
        owner = f"Plasticity '{getattr(rule, 'name', rule)}'"
        try:
            self.spec = registry.get_rule(rule)
        except KeyError as e:
            raise bad(owner, "rule", rule, str(e.args[0])) from None
        self.params = self.spec.validate_params(owner, params)
        self.spec.coefficients(owner, self.params, 1.0)  # inconsistent values fail here
        if every is not None:
            if self.spec.kind != "rate":
                raise bad(owner, "every", every, "applies to rate rules only")
            if not (isinstance(every, (int, float)) and math.isfinite(every) and every > 0):
                raise bad(owner, "every", every, "must be a period > 0 (ms)")
        self.every = every

    @property
    def name(self) -> str:
        return self.spec.name

    def describe(self) -> dict:
        d = {"rule": self.spec.name,
             "params": {k: {"value": v, "unit": self.spec.param(k).unit}
                        for k, v in self.params.items()}}
        if self.every is not None:
            d["every_ms"] = self.every
        return d

    def __repr__(self):
        return f"Plasticity({self.spec.name!r}, {self.params})"

    # ----------------------------------------------------------------------- compiling
    def every_steps(self, dt: float) -> int:
        if self.every is None:
            return 1
        if not is_multiple(self.every, dt):
            raise bad(f"Plasticity '{self.name}'", "every", self.every,
                      f"must be a whole number of steps of dt = {dt} ms")
        return int(to_steps(self.every, dt))

    def compile(self, owner: str, csr, n_pre: int, n_post: int, dt: float) -> PlasticArrays:
        """The arrays of this rule on ``csr``: traces, tables, the by-target view and the
        per-synapse and per-target state."""
        spec, p = self.spec, self.params
        coef = np.array(spec.coefficients(owner, p, dt))

        def side(traces, n):
            taus = [p[t.tau] for t in traces]
            keeps = [p[t.keep] if isinstance(t.keep, str) else t.keep for t in traces]
            incs = [p[t.inc] if isinstance(t.inc, str) else t.inc for t in traces]
            table, par = decay_params(taus, keeps, incs, dt)
            return np.zeros((2, n)), np.zeros(n, np.int64), table, par

        syn = np.empty((len(spec.syn_state), csr.nnz))
        for row, sv in enumerate(spec.syn_state):
            syn[row] = p[sv.init] if isinstance(sv.init, str) else sv.init
        post_state = np.empty((len(spec.post_state), n_post))
        for row, sv in enumerate(spec.post_state):
            post_state[row] = p[sv.init] if isinstance(sv.init, str) else sv.init
        if spec.kind == "spike":
            col_ptr, col_syn, col_pre = by_target(csr.indptr, csr.post, n_post)
            if col_syn.size < 2 ** 31:  # half the bytes on the postsynaptic walk
                col_syn = col_syn.astype(np.int32)
        else:  # rate rules walk the synapses by source
            col_ptr, col_syn, col_pre = (np.zeros(1, np.int64), np.zeros(1, np.int32),
                                         np.zeros(1, np.int32))
        return PlasticArrays(syn, coef, *side(spec.pre_traces, n_pre),
                             *side(spec.post_traces, n_post), col_ptr, col_syn, col_pre,
                             post_state)

"""Declarations of neuron models: parameters, state, ports, derived coefficients, kernel.

A neuron model is one file in ``models/neurons`` that builds one :class:`NeuronSpec`. The
engine, the documentation tables and (later) the HDF5 schema and torch modules read that
declaration; nothing about a model is written twice.

The update kernel has one fixed signature for every model::

    update(lo, hi, state, coef, inp, i_ext, spiked) -> None

``state``  float64 (n_state, n): one row per :class:`StateVar`, in declaration order.
``coef``   float64 (n_coef,): the coefficients returned by ``derive`` (population-wide); or,
           where some parameter was given per unit, a tuple of n_coef items, each a float
           (shared by the units) or a float64 (n,) row. Read coefficient j (a constant) as
           ``c = row(coef, j, lo, hi)`` before the loop and ``each(c, i)`` in it
           (:mod:`neurosim.kernels.coefs`): Numba compiles each form apart, the
           population-wide one as ``coef[j]``.
``inp``    float64 (n_ports, n): the ring-buffer slot of this step; the kernel adds it in and
           clears it (sets it to 0) for units ``lo <= i < hi``. ``None`` for a model that
           declares ``jumps`` when no input of the population goes through the ring (see
           below): the kernel then reads no input at all.
``i_ext``  float64 (n,): external current (pA) from current stimuli, held between steps;
           ``None`` when no current stimulus targets the population (one row less to read:
           at N = 64,000 on two threads the rest of the state then nearly fits each core's
           L2 cache). Write ``ie = None if i_ext is None else i_ext[lo:hi]`` and
           ``0.0 if ie is None else ie[i]``: Numba compiles the two cases apart.
``spiked`` uint8 (n,): the kernel sets 1 for units that fire in this step, 0 otherwise.

It integrates units ``lo <= i < hi`` over one step: charge -> fire -> reset. Write it
branch-free over slices ``x[lo:hi]`` with the loop index running from 0 (``for i in
range(hi - lo)``): then LLVM vectorizes it (about 4x faster than indexing from ``lo``).

Jumps. Where every port's input enters the step as the *last* operation on one state
variable, ``X <- (X decayed) + inp[port]``, and nothing later in the step reads ``X`` (the
synaptic currents of ``iaf_psc_exp``, the conductances of ``lif_cond_exp``), the model may
name those variables in ``NeuronSpec.jumps``. A static projection from a neuron population
with one delay d for all its synapses (up to ``simulation.MAX_JUMP_DELAY`` steps) onto such a
model then skips the ring buffer: after the kernel ran, the weights of the spikes of d steps
ago (the spike lists are kept that long) are added straight into ``X`` (Brian2's
``on_pre: X += w``). The kernel, passed ``inp=None`` when no input of the population goes
through the ring, reads and clears no buffer: 32 of the ~105 bytes a ``iaf_psc_exp`` step
moves per neuron. Several events for one unit in one step are then summed onto ``X`` one by
one instead of into the ring slot first: the same numbers up to the rounding of that sum.

A trainable model also declares the same step as whole-array operations, for
:mod:`neurosim.torch` (and for tests with numpy)::

    array_step(xp, state, coef, inp, i_ext, spike_fn, detach=None) -> (new_state, spikes)

``xp``       the array module, ``numpy`` or ``torch`` (neurosim.torch passes torch with a
             faster ``where``); the step uses only arithmetic,
             comparisons and ``xp.where``, so the model file never imports torch.
``state``    tuple of per-unit arrays, one per :class:`StateVar` in declaration order (any
             common shape, e.g. ``(batch, n)``).
``coef``     the tuple returned by ``derive`` (floats, or 0-d / broadcastable tensors where a
             coefficient is learned).
``inp``      tuple with one array (or scalar 0.0, or None: nothing) per port: the weights
             arriving in this step. Absent inputs and coefficients known to change nothing
             (plain numbers: I_e = 0, V_min = -inf, n_ref = 0) skip their operations.
``i_ext``    external current (pA), array, scalar or None (none).
``spike_fn`` ``spike_fn(x)`` with ``x = V - threshold`` returns the spikes as 0./1. of x's
             dtype: Heaviside ``x >= 0`` forward (the engine's ``V >= V_th``), a surrogate
             gradient backward in torch.
``detach``   applied to the spikes before they enter the reset and the other spike-triggered
             updates (None: identity, the reset is differentiated through the spike).

It returns the new state (a tuple, same order) and the spikes. In float64 it must give the
kernel's numbers (same operations in the same order; ``tests/torch/test_parity.py`` checks
every registered trainable model against the engine).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import bad

#: check name -> (test of a float or float64 array, elementwise; what a failing value lacks)
_CHECKS: dict[str, tuple[Callable, str]] = {
    "finite": (np.isfinite, "must be finite"),
    "positive": (lambda x: np.isfinite(x) & (x > 0), "must be > 0"),
    "nonnegative": (lambda x: np.isfinite(x) & (x >= 0), "must be >= 0"),
    "any": (lambda x: ~np.isnan(x), "must not be NaN"),
}


@dataclass(frozen=True)
class Param:
    """A model parameter: a float in a physical unit, one for the population or one per unit
    (neuron populations: :meth:`NeuronSpec.validate_params` with ``n``).

    ``check`` is one of ``"finite"``, ``"positive"``, ``"nonnegative"``, ``"any"`` (not NaN;
    +-inf allowed, e.g. a lower bound that is off).
    """

    name: str
    default: float
    unit: str
    doc: str
    check: str = "finite"

    def __post_init__(self):
        if self.check not in _CHECKS:
            raise ValueError(f"Param {self.name}: unknown check {self.check!r}")

    def validate(self, owner: str, value) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise bad(owner, self.name, value, "is not a number") from None
        ok, why = _CHECKS[self.check]
        if not ok(x):
            raise bad(owner, self.name, value, f"{why} ({self.unit})")
        return x

    def validate_units(self, owner: str, value, n: int):
        """A number (checked float), one value per unit (checked float64 array of shape
        ``(n,)``) or a distribution (``Uniform(8, 12)``: kept, drawn and checked by
        :meth:`check_units` when the network is compiled)."""
        if hasattr(value, "sample"):
            return value
        if np.ndim(value) == 0:
            return self.validate(owner, value)
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise bad(owner, self.name, value, "is not a number or an array of numbers") \
                from None
        if arr.shape != (n,):
            raise bad(owner, self.name, f"array of shape {arr.shape}",
                      f"must be a number or have shape ({n},): one value per unit")
        return self.check_units(owner, arr)

    def check_units(self, owner: str, arr: np.ndarray) -> np.ndarray:
        """``arr`` (one value per unit) if every value passes the check; else the error
        names the first unit that fails."""
        ok, why = _CHECKS[self.check]
        good = ok(arr)
        if not good.all():
            i = int(np.argmin(good))
            raise bad(owner, self.name, float(arr[i]), f"(unit {i}) {why} ({self.unit})")
        return arr


@dataclass(frozen=True)
class StateVar:
    """A per-unit state variable. ``init`` is a number or the name of a parameter."""

    name: str
    init: float | str
    unit: str
    doc: str


@dataclass(frozen=True)
class NeuronSpec:
    """The declaration of a neuron model.

    Parameters
    ----------
    name : registry name (NEST's where the model is NEST's, e.g. ``"iaf_psc_exp"``).
    params, state : the declarations above.
    ports : names of the input ports, in ring-buffer order (``("exc", "inh")``).
    coef_names : names of the coefficients ``derive`` returns, in kernel order.
    derive : ``derive(p: dict[str, float], dt: float) -> tuple[float, ...]``; computes the
        per-step coefficients (exact propagators, refractory steps) once per run.
    update : the ``@njit(cache=True)`` kernel described in the module docstring.
    doc : the model's equations (shown by ``neurosim inspect`` and the docs).
    trainable : an ``array_step`` exists for it, so ``neurosim.torch`` can train it.
    array_step : the same step as array operations (see the module docstring); required
        when ``trainable`` is True.
    jumps : per port, the state variable its input jumps as the step's last operation on it
        (see "Jumps" in the module docstring); empty when the model has no such form.
    """

    name: str
    params: tuple[Param, ...]
    state: tuple[StateVar, ...]
    ports: tuple[str, ...]
    coef_names: tuple[str, ...]
    derive: Callable
    update: Callable
    doc: str = ""
    trainable: bool = False
    array_step: Callable | None = None
    jumps: tuple[str, ...] = ()
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        names = [p.name for p in self.params] + [s.name for s in self.state]
        if len(set(names)) != len(names):
            raise ValueError(f"NeuronSpec {self.name}: duplicate parameter/state names {names}")
        for s in self.state:
            if isinstance(s.init, str) and s.init not in self.param_names:
                raise ValueError(f"NeuronSpec {self.name}: state {s.name} init {s.init!r} "
                                 "names no parameter")
        if not self.ports:
            raise ValueError(f"NeuronSpec {self.name}: needs at least one input port")
        if self.jumps and (len(self.jumps) != len(self.ports)
                           or not set(self.jumps) <= set(self.state_names)):
            raise ValueError(f"NeuronSpec {self.name}: jumps {self.jumps} must name one state "
                             f"variable per port {self.ports}")
        if self.trainable and self.array_step is None:
            raise ValueError(f"NeuronSpec {self.name}: trainable=True needs an array_step")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.state)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def validate_params(self, owner: str, values: dict, n: int | None = None) -> dict:
        """Defaults overridden by ``values``, every value checked: numbers only, or with
        ``n`` (a population of ``n`` units) also one value per unit or a distribution
        (:meth:`Param.validate_units`)."""
        out = self.defaults()
        for k, v in values.items():
            if k not in out:
                raise bad(owner, k, v, f"is not a parameter of model {self.name!r} "
                          f"(parameters: {', '.join(self.param_names)})")
            p = self.param(k)
            out[k] = p.validate(owner, v) if n is None else p.validate_units(owner, v, n)
        return out

    def coefficients(self, owner: str, params: dict[str, float], dt: float) -> tuple:
        coefs = tuple(float(c) for c in self.derive(params, dt))
        if len(coefs) != len(self.coef_names):
            raise RuntimeError(f"model {self.name}: derive returned {len(coefs)} coefficients, "
                               f"declared {len(self.coef_names)}")
        for n, c in zip(self.coef_names, coefs, strict=True):
            if math.isnan(c):
                raise bad(owner, n, c, f"(derived at dt={dt} ms) is NaN")
        return coefs

    def unit_coefficients(self, owner: str, params: dict, dt: float, n: int) -> np.ndarray:
        """The kernel's ``coef``: float64 ``(n_coef,)`` when every parameter is a number,
        else ``(n_coef, n)`` with one column per unit (``params`` holds numbers and float64
        arrays of shape ``(n,)``, distributions already drawn). ``derive`` is called once per
        distinct combination of the per-unit values (it is written for numbers)."""
        varying = [k for k, v in params.items() if np.ndim(v)]
        if not varying:
            return np.array(self.coefficients(owner, params, dt))
        table = np.stack([np.broadcast_to(params[k], (n,)) for k in varying], axis=1)
        combos, which = np.unique(table, axis=0, return_inverse=True)
        which = which.reshape(-1)
        first = np.full(len(combos), n)
        np.minimum.at(first, which, np.arange(n))
        cols = np.empty((len(self.coef_names), len(combos)))
        for c, values in enumerate(combos):
            p = {**params, **{k: float(x) for k, x in zip(varying, values, strict=True)}}
            cols[:, c] = self.coefficients(f"{owner} (unit {first[c]})", p, dt)
        return np.ascontiguousarray(cols[:, which])

    def doc_table(self) -> str:
        """A Markdown table of parameters and state, generated from the declaration."""
        rows = ["| name | kind | default / init | unit | meaning |", "|---|---|---|---|---|"]
        rows += [f"| `{p.name}` | param | {p.default} | {p.unit} | {p.doc} |" for p in self.params]
        rows += [f"| `{s.name}` | state | {s.init} | {s.unit} | {s.doc} |" for s in self.state]
        for port, jump in zip(self.ports, self.jumps or ("",) * len(self.ports), strict=True):
            how = (f"weights of static single-delay projections jump into `{jump}` after the step"
                   if jump else "weights go through the ring buffer")
            rows.append(f"| `{port}` | input port | | | {how} |")
        return "\n".join(rows)


@dataclass(frozen=True)
class Trace:
    r"""A per-neuron spike trace of a plasticity rule (one value per pre- or postsynaptic unit).

    Between the neuron's spikes it decays, and at a spike it jumps:

    .. math::

        x(t) = x(t_0)\, e^{-(t - t_0)/\tau}, \qquad x \leftarrow \kappa\, x + a

    with ``tau`` the rule parameter named by ``tau``, ``a`` the increment and ``kappa`` 1
    (all-to-all: every earlier spike counts) or 0 (nearest spike: the trace is reset to
    ``a``); ``inc`` and ``keep`` are numbers or names of rule parameters. The decay is
    computed analytically when the trace is read, from the step of its last jump, so traces
    cost nothing between spikes.
    """

    name: str
    tau: str
    doc: str
    inc: str | float = 1.0
    keep: str | float = 1.0


@dataclass(frozen=True)
class PlasticitySpec:
    r"""The declaration of a synaptic plasticity rule (one file in ``models/plasticity``).

    Two kinds exist:

    ``kind="spike"`` -- event-driven (STDP family). Up to two presynaptic traces ``r1, r2``
    and two postsynaptic traces ``o1, o2`` (:class:`Trace`); hooks, all ``@njit``::

        on_pre(k, w, syn, coef, r1, r2, o1, o2, stamp)    # a presynaptic spike crosses k
        on_post(k, w, syn, coef, r1, r2, o1, o2, stamp)   # the target of k fired

    ``k`` is the synapse (CSR index), ``w`` the weights (float64, nnz), ``syn`` the extra
    per-synapse state (float64, (n_syn, nnz)), ``coef`` the rule's coefficients, ``r*``/``o*``
    the traces of the synapse's two neurons just before this spike (not yet including it),
    ``stamp`` the spike's time step. They change ``w[k]`` (and ``syn[:, k]``) in place. The
    optional ``on_sync(k, w, syn, coef, stamp)`` brings a synapse up to ``stamp`` (rules whose
    weight drifts between spikes, e.g. reward-modulated STDP).

    ``kind="rate"`` -- periodic (Hebb, Oja, BCM). One presynaptic and one postsynaptic
    trace (rate estimates, Hz); every ``every`` steps::

        on_post_update(q, post_state, coef, y)           # each target q, before the synapses
        on_step(k, w, syn, coef, x, y, post_state, q)    # each synapse k onto target q

    Parameters are declared with :class:`Param` (floats with units, one per rule); ``derive``
    maps them (and dt) to the coefficient tuple named by ``coef_names``.
    """

    name: str
    kind: str
    params: tuple[Param, ...]
    coef_names: tuple[str, ...]
    derive: Callable
    pre_traces: tuple[Trace, ...] = ()
    post_traces: tuple[Trace, ...] = ()
    syn_state: tuple[StateVar, ...] = ()
    post_state: tuple[StateVar, ...] = ()
    on_pre: Callable | None = None
    on_post: Callable | None = None
    on_sync: Callable | None = None
    on_step: Callable | None = None
    on_post_update: Callable | None = None
    doc: str = ""

    def __post_init__(self):
        if self.kind not in ("spike", "rate"):
            raise ValueError(f"PlasticitySpec {self.name}: kind must be 'spike' or 'rate'")
        if len(self.pre_traces) > 2 or len(self.post_traces) > 2:
            raise ValueError(f"PlasticitySpec {self.name}: at most two traces per side")
        if self.kind == "spike" and (self.on_pre is None or self.on_post is None):
            raise ValueError(f"PlasticitySpec {self.name}: a spike rule needs on_pre and on_post")
        if self.kind == "rate" and (self.on_step is None or len(self.pre_traces) != 1
                                    or len(self.post_traces) != 1):
            raise ValueError(f"PlasticitySpec {self.name}: a rate rule needs on_step and one "
                             "trace per side")
        names = set(self.param_names)
        for tr in self.pre_traces + self.post_traces:
            for ref in (tr.tau, tr.inc, tr.keep):
                if isinstance(ref, str) and ref not in names:
                    raise ValueError(f"PlasticitySpec {self.name}: trace {tr.name} names "
                                     f"unknown parameter {ref!r}")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    defaults = NeuronSpec.defaults
    validate_params = NeuronSpec.validate_params
    coefficients = NeuronSpec.coefficients

    @property
    def hooks(self) -> tuple[Callable, ...]:
        return tuple(f for f in (self.on_pre, self.on_post, self.on_sync, self.on_step,
                                 self.on_post_update) if f is not None)

    def doc_table(self) -> str:
        """A Markdown table of parameters, traces and per-synapse state."""
        rows = ["| name | kind | default / init | unit | meaning |", "|---|---|---|---|---|"]
        rows += [f"| `{p.name}` | param | {p.default} | {p.unit} | {p.doc} |" for p in self.params]
        for side, trs in (("pre", self.pre_traces), ("post", self.post_traces)):
            rows += [f"| `{t.name}` | {side} trace | 0 | 1 | {t.doc} (tau `{t.tau}`) |"
                     for t in trs]
        rows += [f"| `{s.name}` | synapse state | {s.init} | {s.unit} | {s.doc} |"
                 for s in self.syn_state]
        rows += [f"| `{s.name}` | target state | {s.init} | {s.unit} | {s.doc} |"
                 for s in self.post_state]
        return "\n".join(rows)

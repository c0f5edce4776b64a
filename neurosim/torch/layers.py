r"""Torch modules that run neurosim's trainable models step by step, and a feed-forward stack
that converts to and from a :class:`neurosim.Network`.

:class:`NeuronLayer` holds one population's coefficients (derived once by the model's
``derive``, exactly as the engine derives them) and advances a batch of units by one step with
the model's ``array_step``: the Numba kernel's step, in the same order (charge -> fire ->
reset), with a surrogate gradient at the threshold.

:class:`SpikingMLP` is ``Linear -> NeuronLayer -> Linear -> NeuronLayer ...`` over time.

Time alignment with the engine
------------------------------
The stack is the engine's network of populations joined by all-to-all projections with a
delay of exactly one step (``delay = dt``), and runs the same step for step:

* step ``k`` advances from ``k dt`` to ``(k + 1) dt`` (:mod:`neurosim.units`);
* ``x[k]`` (input, shape ``(T, batch, n_in)``) is what the input units emit in step ``k``: in
  the engine a spike-train source firing at time ``(k + 1) dt`` (stamp ``k + 1``);
* a Linear layer is a projection with a one-step delay: the spikes of layer ``l`` in step
  ``k`` arrive at layer ``l + 1`` in step ``k + 1``. In the stack, the weighted input of
  layer ``l + 1`` in step ``k`` is :math:`W_{l+1} s_l[k - 1]` (zero for ``k = 0``), the
  input of the first layer in step ``k`` is :math:`W_1 x[k - 1]`;
* ``spikes[k]`` of a layer is the engine's spike in step ``k``, recorded with the stamp
  ``k + 1`` (time ``(k + 1) dt``); ``v[k]`` is the engine's ``V_m`` state monitor sample
  after step ``k`` (time ``(k + 1) dt``).

So an input spike reaches layer ``l`` (1-based) ``l`` steps later. A ``psc_delta`` layer can
fire in the step its input arrives, so the earliest output spike of an ``L``-layer stack is
in step ``L``; a ``psc_exp`` current moves V one step after it arrives (NEST's order), so
each ``psc_exp`` layer adds one more step: earliest output spike in step ``2L``.

Numbers: the engine computes in float64. A float64 stack gives the engine's spikes (the
weighted sums differ only by summation order, ~1e-16 relative); a float32 stack agrees to
float32 round-off, so a spike whose V lands within ~1e-5 mV of threshold can differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .. import registry
from ..errors import bad
from ..spec import NeuronSpec
from .surrogate import spike_function

State = tuple[torch.Tensor, ...]
SpikeFn = Callable[[torch.Tensor], torch.Tensor]
PortInput = torch.Tensor | Sequence[torch.Tensor | float | None] | Mapping[str, torch.Tensor]


def trainable_spec(model: str | NeuronSpec, owner: str = "NeuronLayer") -> NeuronSpec:
    """The registered spec of ``model``; a ConfigError unless it has an ``array_step``."""
    try:
        spec = registry.get(model)
    except KeyError as e:
        raise bad(owner, "model", model, str(e.args[0])) from None
    if not spec.trainable or spec.array_step is None:
        names = [n for n in registry.names() if registry.get(n).trainable]
        raise bad(owner, "model", spec.name, f"is not trainable (no array_step); trainable "
                  f"models: {', '.join(names)}")
    return spec


class NeuronLayer(nn.Module):
    """``size`` units of a trainable neuron model, advanced one step per call.

    Parameters
    ----------
    model
        A registered model name with ``trainable=True`` (``"iaf_psc_exp"``,
        ``"iaf_psc_delta"``, ``"iaf_psc_alpha"``, ``"alif_psc_exp"``) or its spec.
    size
        Number of units.
    dt
        Time step (ms). The coefficients are derived once, in float64, by the model's
        ``derive`` (exact propagators, refractory steps) and stored in ``dtype``.
    params
        Model parameters (physical units), each a number or one value per unit (an array of
        length ``size``); the rest take their defaults. A coefficient that differs between
        units enters the step as a ``(size,)`` tensor, the others as numbers.
    surrogate
        ``"fast_sigmoid"``, ``"arctan"``, ``"triangle"`` or a callable ``spike_fn(x)``
        (see :mod:`neurosim.torch.surrogate`).
    dtype
        Floating dtype of the coefficients and the state (``torch.float32`` or ``float64``).
    scale
        Surrogate scale k (1/mV); default :data:`~neurosim.torch.surrogate.DEFAULT_SCALE`.
    learn
        Names of parameters to train, each an ``nn.Parameter`` of the parameter's shape: a
        scalar, or ``(size,)`` where it was given per unit (e.g. ``("V_th",)``). Allowed
        are parameters that the model passes unchanged into its coefficients (``V_th``,
        ``V_reset``, ``E_L``, ``I_e``, ``q_a``, ...), so that a trained value is an
        ordinary parameter value for the engine.
    detach_reset
        Detach the spike where it enters the reset (and the refractory / adaptation
        updates): no gradient flows through the reset, only through the spike output.
        Default False: the reset ``V <- s V_reset + (1 - s) V`` is differentiated through
        ``s`` with the surrogate.

    Notes
    -----
    The state is a tuple of ``(batch, size)`` tensors, one per state variable of the model
    (:attr:`state_names`), in declaration order; the refractory counter is a float number of
    steps, as in the engine.
    """

    def __init__(self, model: str | NeuronSpec, size: int, dt: float,
                 params: Mapping[str, float] | None = None,
                 surrogate: str | SpikeFn = "fast_sigmoid", dtype: torch.dtype = torch.float32,
                 *, scale: float | None = None, learn: Sequence[str] = (),
                 detach_reset: bool = False):
        super().__init__()
        owner = "NeuronLayer"
        self.spec = trainable_spec(model, owner)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise bad(owner, "size", size, "must be a positive integer")
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise bad(owner, "dt", dt, "must be a finite number > 0 (ms)")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise bad(owner, "dtype", dtype, "must be a floating torch dtype")
        self.size, self.dt = int(size), float(dt)
        self.params = self.spec.validate_params(owner, dict(params or {}), self.size)
        for k, v in self.params.items():
            if hasattr(v, "sample"):
                raise bad(owner, k, v, "cannot be a distribution here: give the values drawn")
        coef = self.spec.unit_coefficients(owner, self.params, self.dt, self.size)
        self.register_buffer("coef", torch.tensor(coef, dtype=torch.float64).to(dtype))
        self._coef_src: torch.Tensor | None = None  # the buffer _coef_values was read from
        self._coef_version = -1
        self._coef_values: tuple = ()
        self.learn = tuple(learn)
        for name in self.learn:
            self._check_learnable(owner, name)
        self.learned = nn.ParameterDict({
            name: nn.Parameter(torch.tensor(self.params[name], dtype=dtype))
            for name in self.learn})
        self._learn_index = {n: self.spec.coef_names.index(n) for n in self.learn}
        self.spike_fn = spike_function(surrogate, scale)
        self.surrogate = surrogate if isinstance(surrogate, str) else "custom"
        self.detach_reset = bool(detach_reset)

    def _check_learnable(self, owner: str, name: str) -> None:
        spec, p = self.spec, self.params
        if name not in spec.param_names:
            raise bad(owner, "learn", name, f"is not a parameter of {spec.name!r}")
        if name not in spec.coef_names:
            raise bad(owner, "learn", name, "is not passed unchanged into the coefficients "
                      f"(coefficients: {', '.join(spec.coef_names)})")
        j = spec.coef_names.index(name)
        p = {k: float(np.ravel(v)[0]) for k, v in p.items()}  # derive is written for numbers
        base = spec.derive(p, self.dt)
        moved = spec.derive({**p, name: p[name] + 1.0}, self.dt)
        same = all(a == b for i, (a, b) in enumerate(zip(base, moved, strict=True)) if i != j)
        if not (base[j] == p[name] and moved[j] == p[name] + 1.0 and same):
            raise bad(owner, "learn", name, "enters other coefficients (propagators); only "
                      "parameters passed unchanged into the coefficients can be learned")

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the state tensors, in order."""
        return self.spec.state_names

    @property
    def ports(self) -> tuple[str, ...]:
        """Names of the input ports, in order."""
        return self.spec.ports

    def coefficients(self) -> tuple[float | torch.Tensor, ...]:
        """The model's coefficients: Python floats (the values of the ``coef`` buffer, in its
        dtype), a ``(size,)`` tensor for a coefficient that differs between units, learned
        parameters substituted as their tensors.

        Plain numbers keep the step cheap (no tensor per coefficient and step) and let the
        model's step skip operations that cannot change anything (see ``array_step``). The
        floats are read from the buffer once and again only after it changed (moved,
        converted, loaded), so a step on a GPU does not synchronise."""
        buf = self.coef
        if buf is not self._coef_src or buf._version != self._coef_version:
            if buf.ndim == 1:
                self._coef_values = tuple(buf.tolist())
            else:  # per unit: rows that are one number stay numbers
                same = (buf == buf[:, :1]).all(dim=1).tolist()
                self._coef_values = tuple(float(buf[j, 0]) if same[j] else buf[j]
                                          for j in range(buf.shape[0]))
            self._coef_src, self._coef_version = buf, buf._version
        if not self._learn_index:
            return self._coef_values
        coef = list(self._coef_values)
        for name, j in self._learn_index.items():
            coef[j] = self.learned[name]
        return tuple(coef)

    def model_params(self) -> dict[str, float]:
        """Every model parameter (physical units), with the current learned values: the
        parameters of the equivalent engine population."""
        out = dict(self.params)
        for name in self.learn:
            v = self.learned[name].detach().cpu().double()
            out[name] = float(v) if v.ndim == 0 else v.numpy()
        return out

    def initial_state(self, batch: int, device: torch.device | str | None = None) -> State:
        """The declared initial state (e.g. ``V_m = E_L``), shape ``(batch, size)`` each."""
        device = self.coef.device if device is None else device
        out = []
        for sv in self.spec.state:
            if isinstance(sv.init, str) and sv.init in self.learned:
                value = self.learned[sv.init].detach()
            else:
                value = self.params[sv.init] if isinstance(sv.init, str) else sv.init
            value = torch.as_tensor(value, dtype=self.coef.dtype, device=device)
            out.append(value.expand(batch, self.size).clone())
        return tuple(out)

    def _ports(self, inp: PortInput) -> tuple:
        ports = self.spec.ports
        if isinstance(inp, torch.Tensor):
            return (inp,) + (None,) * (len(ports) - 1)
        if isinstance(inp, Mapping):
            unknown = set(inp) - set(ports)
            if unknown:
                raise bad("NeuronLayer", "inp", sorted(unknown)[0],
                          f"is not a port of {self.spec.name!r} (ports: {', '.join(ports)})")
            return tuple(inp.get(p) for p in ports)
        inp = tuple(inp)
        if len(inp) != len(ports):
            raise bad("NeuronLayer", "inp", f"{len(inp)} entries",
                      f"must have one per port ({', '.join(ports)})")
        return inp

    def forward(self, inp: PortInput, state: State | None = None,
                i_ext: torch.Tensor | float | None = None) -> tuple[torch.Tensor, State]:
        """Advance one step.

        Parameters
        ----------
        inp
            The weights arriving in this step, ``(batch, size)`` per port (pA for
            ``psc_exp`` ports, mV for ``psc_delta`` ports): a tensor (the first port, e.g.
            ``exc``; any sign), a sequence with one entry per port or a dict by port name
            (missing / None: no input).
        state
            The state tuple; None starts from :meth:`initial_state`.
        i_ext
            External current (pA), ``(batch, size)``, ``(size,)`` or a scalar; None: 0.

        Returns
        -------
        spikes, state
            Spikes ``(batch, size)`` (0./1. forward) and the new state.
        """
        ports = self._ports(inp)
        if state is None:
            first = next((x for x in ports if isinstance(x, torch.Tensor)), None)
            if first is None:
                raise bad("NeuronLayer", "state", None, "is needed when no input is a tensor")
            state = self.initial_state(first.shape[0], first.device)
        new_state, spikes = self.spec.array_step(
            _XP, tuple(state), self.coefficients(), ports, i_ext, self.spike_fn,
            _detach if self.detach_reset else None)
        return spikes, tuple(new_state)

    def run(self, inputs: Sequence[torch.Tensor | None], state: State, port: int = 0,
            record: int | None = None, recurrent: nn.Module | None = None
            ) -> tuple[list[torch.Tensor], State, list[torch.Tensor]]:
        """Advance ``len(inputs)`` steps, ``inputs[k]`` arriving on port number ``port`` in
        step ``k`` (None: nothing arrives), no external current.

        ``recurrent`` (e.g. an ``nn.Linear(size, size)``) adds ``recurrent(s[k - 1])``, the
        layer's own spikes of the previous step through a one-step projection, to what
        arrives in step ``k``. The loop of :meth:`forward` without its per-step argument
        handling: the coefficients are read once. Returns the spikes of every step, the
        final state and state variable number ``record`` after every step (an empty list
        if None).
        """
        step, coef, spike_fn = self.spec.array_step, self.coefficients(), self.spike_fn
        detach = _detach if self.detach_reset else None
        none = (None,) * len(self.spec.ports)
        spikes, trace = [], []
        for cur in inputs:
            if recurrent is not None and spikes:
                rec = recurrent(spikes[-1])
                cur = rec if cur is None else cur + rec
            inp = none if cur is None else none[:port] + (cur,) + none[port + 1:]
            state, s = step(_XP, state, coef, inp, None, spike_fn, detach)
            spikes.append(s)
            if record is not None:
                trace.append(state[record])
        return spikes, tuple(state), trace

    def extra_repr(self) -> str:
        learn = f", learn={self.learn}" if self.learn else ""
        return (f"{self.spec.name}, size={self.size}, dt={self.dt}, "
                f"surrogate={self.surrogate}{learn}, dtype={self.coef.dtype}")


def _detach(s: torch.Tensor) -> torch.Tensor:
    return s.detach()


class _TorchOps:
    """The array module handed to the models' ``array_step``: ``torch``, with a ``where``
    that fills a scalar into a tensor with ``masked_fill`` (half the time of ``torch.where``
    on a CPU; the same values and gradients)."""

    @staticmethod
    def where(cond, a, b):
        if (isinstance(a, (int, float)) and isinstance(b, torch.Tensor)
                and cond.shape == b.shape):
            return b.masked_fill(cond, a)
        return torch.where(cond, a, b)

    def __getattr__(self, name):
        return getattr(torch, name)


_XP = _TorchOps()


class StackOutput(NamedTuple):
    """What :meth:`SpikingMLP.forward` returns.

    Attributes
    ----------
    spikes
        Output layer spikes, ``(T, batch, n_out)``.
    v
        Output layer membrane potential ``V_m`` after each step (mV), ``(T, batch, n_out)``.
    layers
        Spikes of every layer, first to last, each ``(T, batch, n_l)`` (the last is
        ``spikes``).
    state
        Final state of every layer (pass it back in to continue a run).
    """

    spikes: torch.Tensor
    v: torch.Tensor
    layers: list[torch.Tensor]
    state: list[State]


def _per_layer(value, n: int, what: str, single: type | tuple) -> list:
    if value is None or isinstance(value, single):
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise bad("SpikingMLP", what, value, f"must be one value or one per layer ({n})")
    return value


class SpikingMLP(nn.Module):
    """A layered spiking network: ``Linear -> NeuronLayer -> Linear -> NeuronLayer ...``,
    feed-forward or with recurrent layers.

    Each Linear layer (no bias: the engine's synapses have none) is an all-to-all projection
    with a one-step delay onto one input port of the next population; see the module
    docstring for the time alignment with the engine. A recurrent layer also has a Linear
    ``n_l -> n_l`` from its own spikes (``recurrents[str(l)]``): in the engine an all-to-all
    self-projection (autapses included) with a one-step delay onto the same port.

    Parameters
    ----------
    sizes
        ``(n_in, n_1, ..., n_L)``: input features and the size of each neuron layer.
    model
        Trainable model name, or one per layer.
    dt
        Time step (ms).
    params
        Model parameters (dict), or one dict (or None) per layer.
    surrogate, dtype, scale, learn, detach_reset
        As in :class:`NeuronLayer`, for every layer.
    port
        The input port each Linear layer feeds (default: the model's first port, ``exc``),
        or one per layer. Weights of either sign are fine on any port.
    recurrent
        Give layers recurrent weights: a bool for every layer or one per layer.
    weight_scale
        Linear weights start as ``nn.Linear``'s default draw,
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times ``weight_scale``. Weights are in the unit
        of the target port: pA for ``psc_exp`` models (a current jump; with the default
        parameters 1 pA moves V by at most ~6e-3 mV), mV for ``psc_delta`` (a jump of V).
    """

    def __init__(self, sizes: Sequence[int], model: str | Sequence[str] = "iaf_psc_exp",
                 dt: float = 1.0, params: Mapping | Sequence[Mapping | None] | None = None,
                 surrogate: str | SpikeFn = "fast_sigmoid", dtype: torch.dtype = torch.float32,
                 *, scale: float | None = None, learn: Sequence[str] = (),
                 detach_reset: bool = False, port: str | Sequence[str] | None = None,
                 weight_scale: float = 1.0, recurrent: bool | Sequence[bool] = False):
        super().__init__()
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise bad("SpikingMLP", "sizes", sizes, "must be n_in and at least one layer, > 0")
        n = len(sizes) - 1
        models = _per_layer(model, n, "model", (str, NeuronSpec))
        params_l = _per_layer(params, n, "params", Mapping)
        ports = _per_layer(port, n, "port", str)
        self.sizes, self.dt = tuple(sizes), float(dt)
        self.neurons = nn.ModuleList(
            NeuronLayer(m, sizes[i + 1], dt, p, surrogate, dtype, scale=scale, learn=learn,
                        detach_reset=detach_reset)
            for i, (m, p) in enumerate(zip(models, params_l, strict=True)))
        self.ports = []
        for layer, p in zip(self.neurons, ports, strict=True):
            p = layer.ports[0] if p is None else p
            if p not in layer.ports:
                raise bad("SpikingMLP", "port", p, f"is not an input of {layer.spec.name!r} "
                          f"(ports: {', '.join(layer.ports)})")
            self.ports.append(p)
        self.linears = nn.ModuleList(nn.Linear(sizes[i], sizes[i + 1], bias=False, dtype=dtype)
                                     for i in range(n))
        rec = _per_layer(recurrent, n, "recurrent", bool)
        self.recurrents = nn.ModuleDict({
            str(i): nn.Linear(sizes[i + 1], sizes[i + 1], bias=False, dtype=dtype)
            for i in range(n) if rec[i]})
        names = self.neurons[-1].state_names
        self._v_index = names.index("V_m") if "V_m" in names else 0
        if weight_scale != 1.0:
            with torch.no_grad():
                for lin in (*self.linears, *self.recurrents.values()):
                    lin.weight.mul_(weight_scale)

    def initial_state(self, batch: int, device: torch.device | str | None = None) -> list[State]:
        """The initial state of every layer."""
        return [layer.initial_state(batch, device) for layer in self.neurons]

    def forward(self, x: torch.Tensor, state: list[State] | None = None) -> StackOutput:
        """Run over time.

        Parameters
        ----------
        x
            Input spikes (or any values), ``(T, batch, n_in)``: ``x[k]`` is what the input
            units emit in step ``k``; it reaches the first layer in step ``k + 1``.
        state
            Per-layer states (e.g. ``StackOutput.state`` of a previous call); None: initial.
            Spikes in flight (emitted in the last step of the previous call) are not carried
            over: each call starts with nothing arriving in its first step.
        """
        if x.dim() != 3 or x.shape[2] != self.sizes[0]:
            raise bad("SpikingMLP", "x", f"tensor of shape {tuple(x.shape)}",
                      f"must be (T, batch, {self.sizes[0]})")
        B = x.shape[1]
        states = list(self.initial_state(B, x.device) if state is None else state)
        # Layer by layer: with one-step delays, layer l in step k only needs the spikes of
        # layer l - 1 up to step k - 1, so each projection is applied to all steps at once.
        src = x.to(self.linears[0].weight.dtype)
        n = len(self.neurons)
        layers = []
        for l, (layer, lin) in enumerate(zip(self.neurons, self.linears, strict=True)):
            # what arrives in step k is W src[k - 1]; nothing in step 0
            if src.requires_grad:  # drop the last step's output: no slice to backpropagate
                cur = [None] + list(lin(src).unbind(0)[:-1])
            else:  # (the input, usually) project T - 1 steps only
                cur = [None] + list(lin(src[:-1]).unbind(0)) if len(src) else []
            spikes, states[l], trace = layer.run(cur, tuple(states[l]),
                                                 layer.ports.index(self.ports[l]),
                                                 self._v_index if l == n - 1 else None,
                                                 self.recurrents[str(l)]
                                                 if str(l) in self.recurrents else None)
            src = torch.stack(spikes)
            layers.append(src)
        return StackOutput(layers[-1], torch.stack(trace), layers, states)

    # ------------------------------------------------------------------ engine conversion
    def weights(self) -> list[np.ndarray]:
        """The Linear weights as float64 arrays ``W[post, pre]`` (target port units)."""
        return [lin.weight.detach().cpu().to(torch.float64).numpy() for lin in self.linears]

    def recurrent_weights(self) -> dict[int, np.ndarray]:
        """Layer index -> recurrent weights ``W[post, pre]`` as float64 arrays."""
        return {int(i): lin.weight.detach().cpu().to(torch.float64).numpy()
                for i, lin in self.recurrents.items()}

    def to_network(self, inputs: np.ndarray | torch.Tensor | None = None, *, net=None,
                   input_name: str = "input", names: Sequence[str] | None = None,
                   seed: int | None = 0, monitor: bool = True):
        """The equivalent engine network: the trained weights and parameters, for the
        event-driven simulator.

        Parameters
        ----------
        inputs
            One sample's input spike counts ``(T, n_in)`` (non-negative integers; batch
            size 1): ``x[k, i] = c`` becomes ``c`` spikes of source unit ``i`` at time
            ``(k + 1) dt`` (emitted in step ``k``). None: no input spikes.
        net
            Add to this network instead of a new one. If it already has a population named
            ``input_name`` (a source or neurons, size ``n_in``), that drives the first layer
            and ``inputs`` must be None.
        input_name
            Name of the input population.
        names
            Names of the neuron populations; default ``layer1 .. layerL``.
        seed
            Seed of a new network.
        monitor
            Add a spike monitor to every layer.

        Returns
        -------
        neurosim.Network
            Layer ``l`` is a population of the layer's model with :meth:`NeuronLayer.
            model_params` (learned values included); Linear ``l`` is an ``all_to_all``
            projection onto the layer's port with weight ``W[post, pre]`` per synapse (zeros
            kept) and delay ``dt``; a recurrent layer also gets an ``all_to_all`` self-
            projection (autapses included) named ``<layer>_rec``, created after its input
            projection. Run it with ``net.compile(dt=self.dt)``.
        """
        from ..connect import all_to_all
        from ..network import Network

        n = len(self.neurons)
        names = [f"layer{i + 1}" for i in range(n)] if names is None else list(names)
        if len(names) != n:
            raise bad("SpikingMLP.to_network", "names", names, f"must name {n} layers")
        net = Network(seed=seed) if net is None else net
        if input_name in net.pops:
            if inputs is not None:
                raise bad("SpikingMLP.to_network", "inputs", "an array",
                          f"cannot be given: the network already has '{input_name}'")
            if net.pops[input_name].size != self.sizes[0]:
                raise bad("SpikingMLP.to_network", "input_name", input_name,
                          f"has size {net.pops[input_name].size}, the stack {self.sizes[0]}")
        else:
            x = np.zeros((0, self.sizes[0])) if inputs is None else inputs
            times, idx = raster_to_times(x, self.dt, self.sizes[0])
            net.spike_train(input_name, self.sizes[0], times=times, indices=idx)
        pre = input_name
        rec = self.recurrent_weights()
        for i, (layer, w, port, name) in enumerate(zip(self.neurons, self.weights(), self.ports,
                                                       names, strict=True)):
            net.population(name, layer.spec.name, layer.size, **layer.model_params())
            net.connect(pre, name, all_to_all(), weight=np.ascontiguousarray(w.T).ravel(),
                        delay=self.dt, port=port)
            if i in rec:
                net.connect(name, name, all_to_all(autapses=True), name=f"{name}_rec",
                            weight=np.ascontiguousarray(rec[i].T).ravel(), delay=self.dt,
                            port=port)
            if monitor:
                net.spike_monitor(name)
            pre = name
        return net

    @classmethod
    def from_network(cls, net, layers: Sequence[str], dt: float, **kwargs) -> SpikingMLP:
        """A stack from a layered engine network.

        Parameters
        ----------
        net
            A :class:`neurosim.Network`.
        layers
            Population names: the input (a source or neurons), then each neuron layer.
            Every projection onto a layer must come from the previous name, target one port
            per layer and have a delay of one step (any rule and weights: they are built as
            the engine builds them, with ``net.compile(dt)``, and summed into a dense
            ``W[post, pre]``).
        dt
            Time step (ms).
        **kwargs
            Passed to the constructor (``surrogate``, ``dtype``, ``learn`` ...); ``model``,
            ``params`` and ``port`` come from the network. The populations' initial values
            are not used: the stack starts from the models' declared initial state.
        """
        from ..population import Population

        owner = "SpikingMLP.from_network"
        layers = list(layers)
        if len(layers) < 2:
            raise bad(owner, "layers", layers, "must name the input and at least one layer")
        for name in layers:
            if name not in net.pops:
                raise bad(owner, "layers", name, "is not a population of the network")
        for name in layers[1:]:
            if not isinstance(net.pops[name], Population):
                raise bad(owner, "layers", name, "is an input source, not a neuron layer")
            trainable_spec(net.pops[name].spec, owner)
        projs = {name: [] for name in layers[1:]}
        recs = {name: [] for name in layers[1:]}
        for proj in net.projections.values():
            if proj.post in projs:
                want = layers[layers.index(proj.post) - 1]
                if proj.pre == proj.post:
                    recs[proj.post].append(proj)
                    continue
                if proj.pre != want:
                    raise bad(owner, "projection", proj.name, f"comes from '{proj.pre}'; "
                              f"layer '{proj.post}' may only receive from '{want}' or itself")
                projs[proj.post].append(proj)
        ports = []
        for name, ps in projs.items():
            used = {p.port for p in (*ps, *recs[name])}
            if len(used) > 1:
                raise bad(owner, "port", sorted(used), f"layer '{name}' receives on several "
                          "ports; the stack feeds one port per layer")
            ports.append(used.pop() if used else None)
        sim = net.compile(dt=dt)
        pops = [net.pops[name] for name in layers]
        def dense(ps, n_post, n_pre):
            w = np.zeros((n_post, n_pre))
            for proj in ps:
                csr = sim.projection(proj.name)
                if csr.nnz and np.any(csr.delays() != 1):
                    raise bad(owner, "delay", proj.delay, f"of projection '{proj.name}' must "
                              f"be one step (dt = {dt} ms)")
                np.add.at(w, (csr.post, csr.pre()), csr.weights())
            return w

        ws = [dense(projs[name], pops[i + 1].size, pops[i].size)
              for i, name in enumerate(layers[1:])]
        rws = {i: dense(recs[name], pops[i + 1].size, pops[i + 1].size)
               for i, name in enumerate(layers[1:]) if recs[name]}
        stack = cls([p.size for p in pops], model=[p.spec.name for p in pops[1:]], dt=dt,
                    params=[p.params for p in pops[1:]], port=ports,
                    recurrent=[i in rws for i in range(len(pops) - 1)], **kwargs)
        with torch.no_grad():
            for lin, w in zip(stack.linears, ws, strict=True):
                lin.weight.copy_(torch.from_numpy(w))
            for i, w in rws.items():
                stack.recurrents[str(i)].weight.copy_(torch.from_numpy(w))
        return stack


def raster_to_times(x: np.ndarray | torch.Tensor, dt: float,
                    n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts ``(T, n)`` -> ``(times, indices)`` for ``Network.spike_train``.

    ``x[k, i] = c`` (a non-negative integer) gives ``c`` spikes of unit ``i`` emitted in step
    ``k``, i.e. at time ``(k + 1) dt`` (ms).
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 2 or (n is not None and x.shape[1] != n):
        raise bad("raster_to_times", "x", f"array of shape {x.shape}", "must be (T, n_units)"
                  + ("" if n is None else f" with n_units = {n}"))
    counts = np.rint(x).astype(np.int64)
    if np.any(counts != x) or np.any(counts < 0):
        raise bad("raster_to_times", "x", "array", "must hold non-negative integer counts")
    k, i = np.nonzero(counts)
    rep = counts[k, i]
    k, i = np.repeat(k, rep), np.repeat(i, rep)
    return (k + 1) * dt, i


def engine_raster(sim, pop: str, n_steps: int | None = None, size: int | None = None,
                  k0: int = 0) -> np.ndarray:
    """A spike monitor's spikes as counts ``(n_steps, size)``: row ``k`` holds the spikes of
    step ``k0 + k`` (stamps ``k0 + k + 1``), the layout of :attr:`StackOutput.spikes`."""
    stamps, units = sim.spike_steps(pop)
    size = sim.network.pops[pop].size if size is None else size
    n_steps = sim.k - k0 if n_steps is None else n_steps
    out = np.zeros((n_steps, size))
    rows = stamps - 1 - k0
    keep = (rows >= 0) & (rows < n_steps)
    np.add.at(out, (rows[keep], units[keep]), 1.0)
    return out

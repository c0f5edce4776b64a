"""Network: a mutable builder of populations, projections, stimuli and monitors.

``Network.compile(dt)`` validates everything (a :class:`~neurosim.errors.ConfigError` names
the object, the parameter and the bad value), builds the CSR projections, derives the model
coefficients, allocates state and ring buffers and returns a :class:`Simulation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import bad
from .plasticity import Plasticity
from .population import Population, check_name
from .projection import Projection
from .spec import NeuronSpec
from .stimuli import CurrentStep, NoiseCurrent, PoissonInput, SpikeTrain


def _describe_value(v):
    """A number, a distribution, or an array summarised (shape, min, mean, max)."""
    if hasattr(v, "sample"):
        return {"distribution": type(v).__name__, **{k: float(x) for k, x in vars(v).items()}}
    arr = np.asarray(v)
    if arr.ndim == 0 or (arr.size and np.all(arr == arr.flat[0])):  # uniform: one number
        return arr.flat[0].item() if arr.size else float(arr)
    if arr.size <= 16:
        return arr.tolist()
    return {"array": list(arr.shape), "min": float(arr.min()), "mean": float(arr.mean()),
            "max": float(arr.max())}


def _describe_rule(rule) -> dict:
    out = {"type": type(rule).__name__}
    for k, x in vars(rule).items():
        out[k] = _describe_value(x) if isinstance(x, np.ndarray) else x
    return out


@dataclass(frozen=True)
class SpikeMonitorSpec:
    pop: str


@dataclass(frozen=True)
class WeightMonitorSpec:
    proj: str
    indices: np.ndarray | None
    every: int


@dataclass(frozen=True)
class StateMonitorSpec:
    pop: str
    var: str
    indices: np.ndarray | None
    every: int


class Network:
    """A network under construction.

    Parameters
    ----------
    seed : int or None. One seed drives everything random (connectivity, random weights and
        delays, initial states, Poisson inputs): the same seed gives the same spikes, bit for
        bit, on the same machine. None draws a fresh seed, readable as ``Simulation.seed``.
    """

    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise bad("Network", "seed", seed, "must be a non-negative integer or None")
        self.seed = seed
        self.pops: dict[str, Population | PoissonInput | SpikeTrain] = {}
        self.projections: dict[str, Projection] = {}
        self.currents: list[CurrentStep] = []
        self.noises: list[NoiseCurrent] = []
        self.spike_monitors: list[SpikeMonitorSpec] = []
        self.state_monitors: list[StateMonitorSpec] = []
        self.weight_monitors: list[WeightMonitorSpec] = []

    # ----------------------------------------------------------------------------- building
    def _add_pop(self, pop):
        if pop.name in self.pops:
            raise bad("Network", "name", pop.name, "is already used by another population")
        self.pops[pop.name] = pop
        return pop

    def population(self, name: str, model: str | NeuronSpec, size: int, **values) -> Population:
        """Add ``size`` neurons of ``model``; ``values`` set parameters and initial states."""
        return self._add_pop(Population(name, model, size, **values))

    def poisson(self, name: str, size: int, rate) -> PoissonInput:
        """Add ``size`` Poisson sources of ``rate`` Hz."""
        return self._add_pop(PoissonInput(name, size, rate))

    def spike_train(self, name: str, size: int, times, indices) -> SpikeTrain:
        """Add ``size`` sources firing at the given times (ms)."""
        return self._add_pop(SpikeTrain(name, size, times, indices))

    def current(self, target: str, times, amplitudes, indices=None) -> CurrentStep:
        """Inject a piecewise-constant current (pA) into ``target`` (see CurrentStep)."""
        cs = CurrentStep(self._name(target), times, amplitudes, indices)
        self.currents.append(cs)
        return cs

    def noise_current(self, target: str, mean: float = 0.0, std: float = 0.0,
                      dt: float | None = None, start: float = 0.0, stop: float | None = None,
                      indices=None) -> NoiseCurrent:
        """Inject a Gaussian noise current (pA), mean + std N(0, 1) redrawn every ``dt`` ms,
        independently for each unit, from ``start`` to ``stop`` ms (NEST's
        ``noise_generator``; see NoiseCurrent)."""
        nc = NoiseCurrent(self._name(target), mean, std, dt, start, stop, indices)
        self.noises.append(nc)
        return nc

    def connect(self, pre, post, rule, weight, delay=1.0, port: str = "exc",
                name: str | None = None, plasticity: Plasticity | None = None) -> Projection:
        """Add synapses from ``pre`` to input ``port`` of ``post`` (see Projection);
        ``plasticity`` makes their weights learn (see :class:`neurosim.Plasticity`)."""
        if plasticity is not None and not isinstance(plasticity, Plasticity):
            raise bad("Network.connect", "plasticity", plasticity,
                      "must be a neurosim.Plasticity (e.g. Plasticity('stdp', ...))")
        pre, post = self._name(pre), self._name(post)
        if name is None:
            name = f"{pre}_to_{post}"
            n = 1
            while name in self.projections:
                n += 1
                name = f"{pre}_to_{post}_{n}"
        check_name("Projection", name)
        if name in self.projections:
            raise bad("Network", "projection name", name, "is already used")
        proj = Projection(name, pre, post, rule, weight, delay, port, plasticity)
        self.projections[name] = proj
        return proj

    def spike_monitor(self, pop) -> SpikeMonitorSpec:
        """Record every spike of ``pop``."""
        m = SpikeMonitorSpec(self._name(pop))
        if m in self.spike_monitors:
            raise bad("Network", "spike_monitor", m.pop, "is already recorded")
        self.spike_monitors.append(m)
        return m

    def state_monitor(self, pop, var: str, indices=None, every: int = 1) -> StateMonitorSpec:
        """Record state variable ``var`` of ``pop`` (units ``indices``, default all) every
        ``every`` steps, after the step (times ``every*dt, 2*every*dt, ...``)."""
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise bad(f"state_monitor on '{pop}'", "every", every, "must be an integer >= 1")
        idx = None if indices is None else np.asarray(indices, dtype=np.int64).ravel()
        m = StateMonitorSpec(self._name(pop), var, idx, int(every))
        self.state_monitors.append(m)
        return m

    def weight_monitor(self, proj, indices=None, every: float | None = None) -> WeightMonitorSpec:
        """Record the weights of projection ``proj``: synapses ``indices`` (CSR order, see
        ``Simulation.synapses``; default all) every ``every`` ms (default: every step).

        The sample at time T holds the weights after every plasticity event of the spikes
        up to T (spikes stamped <= T) and every periodic update up to T."""
        name = proj if isinstance(proj, str) else proj.name
        idx = None if indices is None else np.asarray(indices, dtype=np.int64).ravel()
        if every is not None and not (isinstance(every, (int, float)) and math.isfinite(every)
                                      and every > 0):
            raise bad(f"weight_monitor on '{name}'", "every", every, "must be > 0 (ms)")
        m = WeightMonitorSpec(name, idx, every)
        self.weight_monitors.append(m)
        return m

    @staticmethod
    def _name(pop) -> str:
        return pop if isinstance(pop, str) else pop.name

    # ------------------------------------------------------------------------- describing
    def describe(self) -> dict:
        """Everything the network is made of, as JSON-ready data (stored in result files):
        every population with its model, size, parameters (value and unit) and initial
        values, every projection, stimulus and monitor."""
        pops = {}
        for name, pop in self.pops.items():
            if isinstance(pop, Population):
                pops[name] = dict(
                    kind="neurons", model=pop.spec.name, size=pop.size,
                    params={k: {"value": _describe_value(v), "unit": pop.spec.param(k).unit}
                            for k, v in pop.params.items()},
                    init={k: _describe_value(v) for k, v in pop.init.items()})
            elif isinstance(pop, PoissonInput):
                pops[name] = dict(kind="poisson", size=pop.size, rate_Hz=_describe_value(pop.rate))
            else:
                pops[name] = dict(kind="spike_train", size=pop.size, n_spikes=int(pop.times.size))
        projs = {name: dict(pre=p.pre, post=p.post, port=p.port,
                            rule=_describe_rule(p.rule), weight=_describe_value(p.weight),
                            delay_ms=_describe_value(p.delay),
                            plasticity=None if p.plasticity is None else p.plasticity.describe())
                 for name, p in self.projections.items()}
        return dict(
            seed=self.seed, populations=pops, projections=projs,
            currents=[dict(target=c.target, times_ms=c.times.tolist(),
                           amplitudes_pA=(c.amplitudes.tolist() if c.amplitudes.ndim == 1
                                          else _describe_value(c.amplitudes)),
                           indices=None if c.indices is None else _describe_value(c.indices))
                      for c in self.currents],
            noise_currents=[dict(target=c.target, mean_pA=c.mean, std_pA=c.std, dt_ms=c.dt,
                                 start_ms=c.start, stop_ms=c.stop,
                                 indices=None if c.indices is None else
                                 _describe_value(c.indices)) for c in self.noises],
            spike_monitors=[m.pop for m in self.spike_monitors],
            state_monitors=[dict(pop=m.pop, var=m.var, every=m.every,
                                 indices=None if m.indices is None else
                                 _describe_value(m.indices)) for m in self.state_monitors],
            weight_monitors=[dict(projection=m.proj, every_ms=m.every,
                                  indices=None if m.indices is None else
                                  _describe_value(m.indices)) for m in self.weight_monitors])

    # --------------------------------------------------------------------------- checking
    def validate(self, dt: float) -> None:
        """Raise ConfigError for anything that cannot be simulated at step ``dt`` (ms)."""
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise bad("Network.compile", "dt", dt, "must be a finite number > 0 (ms)")
        if not self.pops:
            raise bad("Network", "populations", [], "is empty; add a population first")
        for pop in self.pops.values():
            if hasattr(pop, "check"):
                pop.check(dt)
        for proj in self.projections.values():
            owner = f"Projection '{proj.name}'"
            for role in ("pre", "post"):
                nm = getattr(proj, role)
                if nm not in self.pops:
                    raise bad(owner, role, nm, f"is not a population of this network "
                              f"(populations: {', '.join(self.pops)})")
            target = self.pops[proj.post]
            if not isinstance(target, Population):
                raise bad(owner, "post", proj.post, "is an input source; sources receive nothing")
            if proj.port not in target.spec.ports:
                raise bad(owner, "port", proj.port, f"is not an input of {target.spec.name!r} "
                          f"(ports: {', '.join(target.spec.ports)})")
            if not hasattr(proj.rule, "pairs"):
                raise bad(owner, "rule", proj.rule, "is not a connectivity rule (neurosim.connect)")
        for m in self.weight_monitors:
            if m.proj not in self.projections:
                raise bad("weight_monitor", "proj", m.proj, "is not a projection of this "
                          f"network (projections: {', '.join(self.projections) or 'none'})")
        for cs in self.currents:
            if not isinstance(self.pops.get(cs.target), Population):
                raise bad("CurrentStep", "target", cs.target, "is not a neuron population")
        for nc in self.noises:
            if not isinstance(self.pops.get(nc.target), Population):
                raise bad("NoiseCurrent", "target", nc.target, "is not a neuron population")
            nc.check(self.pops[nc.target].size, dt)
        for m in self.spike_monitors:
            if m.pop not in self.pops:
                raise bad("spike_monitor", "pop", m.pop, "is not a population of this network")
        for m in self.state_monitors:
            pop = self.pops.get(m.pop)
            if not isinstance(pop, Population):
                raise bad("state_monitor", "pop", m.pop, "is not a neuron population")
            if m.var not in pop.spec.state_names:
                raise bad(f"state_monitor on '{m.pop}'", "var", m.var,
                          f"is not a state variable (state: {', '.join(pop.spec.state_names)})")
            if m.indices is not None and m.indices.size and (
                    m.indices.min() < 0 or m.indices.max() >= pop.size):
                raise bad(f"state_monitor on '{m.pop}'", "indices", m.indices,
                          f"must be in 0..{pop.size - 1}")

    def compile(self, dt: float = 0.1, threads: int = 1):
        """Validate, build and return a ready :class:`~neurosim.simulation.Simulation`.

        ``threads`` > 1 runs the neuron updates and the event delivery on that many threads;
        the spikes are bit-identical to one thread.
        """
        from .simulation import Simulation

        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise bad("Network.compile", "threads", threads, "must be an integer >= 1")
        self.validate(dt)
        return Simulation(self, float(dt), int(threads))

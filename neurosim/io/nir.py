r"""NIR (Neuromorphic Intermediate Representation, ``nir`` 1.0) import and export.

:func:`read` turns a NIR graph (or a ``.nir`` file) into a :class:`NIRNetwork`: a neurosim
:class:`~neurosim.network.Network` plus the names of its input and output populations and
the step offsets that line its spikes up with a discrete-time framework. :func:`write` turns a
network (or a compiled simulation, with its current weights) into a ``nir.NIRGraph``.

Units and time
--------------
NIR graphs carry no step and, in practice, use seconds and dimensionless voltages (snnTorch,
SpikingJelly and Norse all do). ``dt`` is therefore an explicit argument, in **seconds**
(default ``1e-4``, the frameworks' convention), and :func:`write` also stores it in the graph's
metadata (``{"dt": dt, "time_unit": "s", "voltage_unit": "mV", ...}``). At the boundary, NIR
time constants and delays (s) become ms, NIR voltages are read as mV, NIR inputs keep their
numbers (the unit of a weight is the unit of the input of the node it feeds). The network is
simulated with the step ``dt`` (``NIRNetwork.dt`` = ``1000 dt`` ms).

Mapping (NIR node -> neurosim)
------------------------------
=================  ========================================================================
``LIF``            population ``nir_lif``: ``tau_m = 1000 tau`` (ms), ``R = r``,
                   ``V_leak = v_leak``, ``V_th = v_threshold``, ``V_reset = v_reset`` (mV)
``LI``             ``nir_lif`` with ``V_th = +inf``
``Threshold``      ``nir_lif`` with ``tau_m = 0`` (no memory), ``R = 1``, ``V_leak = 0``,
                   ``V_th = threshold``
``IF``             ``nir_if``: ``R = r / 1000`` (per ms), ``V_th``, ``V_reset``
``I``              ``nir_if`` with ``V_th = +inf``
``CubaLIF``        ``nir_cubalif``: ``tau_syn``, ``tau_m = 1000 tau_mem`` (ms), ``R = r``,
                   ``w_in``, ``V_leak``, ``V_th``, ``V_reset``
``CubaLI``         ``nir_cubalif`` with ``V_th = +inf``
``Input``          a ``SpikeTrain`` source (inputs are spike counts per step, see
                   :meth:`NIRNetwork.set_input`)
``Output``         spike monitor on the neuron node it reads (``V_m`` state monitor for the
                   non-spiking LI, I, CubaLI)
``Affine``         the weights of projections; the bias becomes the target's ``I_bias``
``Linear``         the weights of projections (``neurosim.arrays``: one synapse per non-zero
                   entry, weight = the entry)
``Scale``          a diagonal factor folded into the projections' weights
``Flatten``        identity on the (C-order) flat unit index
``Conv1d/2d``      dense linear maps on the flat index (PyTorch semantics: zero padding,
                   groups, dilation), folded into the projections' weights; a conv bias
                   becomes ``I_bias``
``Sum/AvgPool2d``  the same (average pooling divides by the kernel size)
``Delay``          adds ``round(delay / dt)`` steps to the synapses' delay
``NIRGraph``       nested graphs are flattened; node ``b`` inside ``a`` becomes ``a__b``
=================  ========================================================================

Every chain of linear nodes (Affine, Linear, Scale, Flatten, Delay, convolutions, pooling, the
Input/Output nodes of nested graphs) between two neuron nodes, or between an Input and a neuron
node, is multiplied out into one projection. The neuron models (``models/neurons/nir_*.py``)
implement the frameworks' discrete dynamics (forward Euler with the input of the step, fire on
the new value, hard reset), per-unit parameters and NIR's strict ``V > V_th``
(``threshold=">="`` gives SpikingJelly's ``V >= V_th``). Initial state (NIR has none): ``V``
starts at ``v_leak`` (LIF, LI, CubaLI(F)), at ``v_reset`` (IF) or 0 (I, Threshold),
``I_syn`` at 0 -- what snnTorch, SpikingJelly and Norse do.

Time offsets
------------
A synapse needs at least one step in neurosim (an event found in step ``s`` is consumed in step
``s + d``, ``d >= 1``), while the frameworks pass a spike through a layer in the same step. So
every NIR edge into a neuron node is a projection with a delay of **one step** plus its Delay
nodes. Input step ``t`` of a framework is emitted by the Input population in neurosim step
``t`` (stamp ``t + 1``); a population ``k`` synaptic steps from the input (its *onset*,
``NIRNetwork.onset``) makes the spikes of framework step ``t`` in neurosim step ``t + k``
(stamp ``t + k + 1``). A recurrent edge (``lif -> w_rec -> lif``) has one step in both, so
layered and recurrent networks (snnTorch ``RLeaky``) match spike for spike;
:meth:`NIRNetwork.run` applies the offsets. Affine biases start at the onset of their target
(``t_bias``), as in a framework, where a layer's bias starts with its first step.

neurosim -> NIR
---------------
``nir_lif``/``nir_if``/``nir_cubalif`` populations map back as above (``V_th = +inf``
everywhere gives LI/I/CubaLI; ``tau_m = 0, R = 1, V_leak = 0`` gives Threshold).
``iaf_psc_delta`` (exact integration) becomes a ``LIF`` with ``tau = tau_m``,
``r = tau_m/dt`` (so a weight of w mV is a jump of w under the frameworks' convention that a
spike is an input of 1 for one step), ``v_leak = E_L + I_e tau_m/C_m``; ``iaf_psc_exp``
becomes a ``CubaLIF`` with ``r = tau_m/C_m`` (mV/pA), ``w_in = tau_syn/dt`` (a weight of w pA
makes ``I_syn`` jump by w) and the same ``v_leak``. Each projection becomes a ``Linear`` node
(``Affine`` where it carries its target's ``I_bias``) of shape (n_post, n_pre), dense, and a
``Delay`` node of ``(d - 1) dt`` where its delay d is longer than one step (one Linear/Delay
pair per distinct delay). Sources become ``Input`` nodes; the spike-monitored (and
``V_m``-monitored) populations, or else the populations without outgoing projections, get
``Output`` nodes.

Refused (``ConfigError`` naming population, parameter and value): models NIR cannot express
(``alif_psc_exp``: adaptation; ``izhikevich``; any other), ``t_ref > 0`` (NIR has no refractory
period), a finite ``V_min`` (``iaf_psc_delta``), ``tau_syn_in != tau_syn_ex`` (a CubaLIF has
one synaptic time constant), plastic projections, ``I_bias`` on a population without incoming
projections (NIR carries biases on Affine nodes only).

Round trips
-----------
:func:`write` also stores, as JSON strings under the key ``"neurosim"`` of the nodes' metadata,
what NIR cannot hold: the neurosim model, parameters and initial values of every population
(``iaf_psc_*``'s ``C_m``, ``E_L``/``I_e`` split, ``threshold_ge``, ``t_bias``, initial ``V_m``),
the name, port, connectivity rule, weight and delay (as given: numbers, arrays or
distributions) of every projection, the spike times or Poisson rates of the sources, and, in
the graph's metadata, the seed, the order of populations and projections, current stimuli and
monitors. :func:`read` uses this metadata only where it rebuilds exactly what the NIR
parameters say: a population's metadata if it gives exactly the node in the graph, a
projection's rule if it draws (with the network's seed, in the original order) exactly the
synapses of the graph; random rules are restored all together or not at all, since they share
one generator. A graph edited by another tool falls back to the NIR parameters (with a warning
for populations; projections become explicit ``arrays`` rules). So ``read(write(net))`` gives
the same network description (populations with their models, parameters and initial values;
projections with their rules; stimuli; monitors) and the same spikes. Limits: synapses of
weight 0 are not in a dense NIR matrix, and multapses with the same delay are merged (the
rebuilt synapses then differ, and the rules fall back to ``arrays``); initial values given as
distributions are stored as the values drawn with the network's seed; a network without a seed
draws one for the export, and its random rules come back as ``arrays``.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .. import __version__
from ..connect import (
    AllToAll,
    Explicit,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    OneToOne,
    arrays,
)
from ..distributions import LogNormal, Normal, Uniform
from ..errors import ConfigError, bad
from ..network import Network
from ..population import Population
from ..projection import Projection
from ..stimuli import PoissonInput, SpikeTrain
from ..units import to_steps

#: the frameworks' step (s): snnTorch's exporter hard-codes it, SpikingJelly defaults to it
DEFAULT_DT = 1e-4

NEURON_TYPES = ("LIF", "LI", "IF", "I", "CubaLIF", "CubaLI", "Threshold")
CONV_TYPES = ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d")
LINEAR_TYPES = ("Affine", "Linear", "Scale", "Flatten", "Delay") + CONV_TYPES
NON_SPIKING = ("LI", "I", "CubaLI")
NIR_MODELS = ("nir_lif", "nir_if", "nir_cubalif")
EXPORTABLE = NIR_MODELS + ("iaf_psc_delta", "iaf_psc_exp")


def _nir():
    try:
        import nir
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("NIR support needs the 'nir' package: pip install 'nir>=1.0.7'") from e
    return nir


# ------------------------------------------------------------------------------- metadata
def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def _meta(d: dict) -> dict:
    """Metadata for a NIR node: neurosim's information as one JSON string (NIR's HDF5 files
    keep strings; nested dicts of lists do not survive them)."""
    return {"neurosim": json.dumps(_jsonable(d))}


def _meta_of(node) -> dict | None:
    md = getattr(node, "metadata", None)
    if not isinstance(md, dict):
        return None
    s = md.get("neurosim")
    if isinstance(s, bytes):
        s = s.decode("utf8")
    if not isinstance(s, str):
        return None
    try:
        d = json.loads(s)
    except ValueError:
        return None
    return d if isinstance(d, dict) else None


# --------------------------------------------------------------------------- the wrapper
@dataclass
class NIRNetwork:
    """A network read from NIR, with what is needed to drive it like the original model.

    Attributes
    ----------
    network : the neurosim network (add monitors, compile and run it as any other).
    dt : the simulation step in ms (``1000 *`` the ``dt`` given to :func:`read`).
    inputs : NIR Input node name -> source population (a ``SpikeTrain``).
    outputs : NIR Output node name -> the neuron population it reads.
    nodes : NIR node path (nested: ``"outer.inner"``) -> population.
    onset : population -> the neurosim step of its framework step 0 (synaptic steps from the
        input; see the module docstring).
    kinds : population -> NIR node type (``"LIF"``, ``"Input"``, ...).
    shapes : NIR Input/Output node name -> the node's shape.
    sim : the :class:`~neurosim.simulation.Simulation` of the last :meth:`run`.
    """

    network: Network
    dt: float
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    onset: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    sim: Any = None

    def _source(self, name: str) -> str:
        if name in self.inputs:
            return self.inputs[name]
        if name in self.inputs.values():
            return name
        raise bad("NIRNetwork", "input", name,
                  f"is not an input (inputs: {', '.join(self.inputs) or 'none'})")

    def set_input(self, name: str, spikes) -> None:
        """Make input ``name`` emit ``spikes``: an array (steps, *shape) of spike counts per
        framework step (non-negative integers; a count c is c events in that step). Step
        ``t`` is emitted in neurosim step ``t`` (time stamp ``(t + 1) dt``)."""
        pop = self._source(name)
        size = self.network.pops[pop].size
        x = np.asarray(spikes)
        owner = f"NIRNetwork input '{name}'"
        if x.ndim < 1 or (x.shape[0] and x[0].size != size):
            raise bad(owner, "spikes", f"array of shape {x.shape}",
                      f"must have shape (steps, {size}) or (steps, *shape)")
        xf = x.reshape(x.shape[0], size).astype(np.float64)
        if not np.all(np.isfinite(xf)) or np.any(xf < 0) or np.any(xf != np.round(xf)):
            raise bad(owner, "spikes", "non-integer or negative values",
                      "must be spike counts (neurosim inputs are events; NIR's analog inputs "
                      "are not supported)")
        counts = xf.astype(np.int64)
        t, i = np.nonzero(counts)
        c = counts[t, i]
        t, i = np.repeat(t, c), np.repeat(i, c)
        self.network.pops[pop] = SpikeTrain(pop, size, (t + 1) * self.dt, i)

    def spiking(self, pop: str) -> bool:
        """True unless ``pop`` is a non-spiking NIR node (LI, I, CubaLI)."""
        return self.kinds.get(pop) not in NON_SPIKING

    def _ensure_monitors(self) -> None:
        net = self.network
        for pop in self.outputs.values():
            if self.spiking(pop):
                if pop not in [m.pop for m in net.spike_monitors]:
                    net.spike_monitor(pop)
            elif not any(m.pop == pop and m.var == "V_m" and m.indices is None and m.every == 1
                         for m in net.state_monitors):
                net.state_monitor(pop, "V_m")

    def run(self, inputs: Mapping[str, Any] | None = None, steps: int | None = None,
            threads: int = 1) -> dict[str, np.ndarray]:
        """Run like the framework: ``steps`` framework steps of the given inputs.

        ``inputs`` maps Input node names to spike-count arrays (see :meth:`set_input`).
        Compiles the network, runs ``steps`` + the largest output onset steps, and returns,
        per Output node, an array (steps, *shape): spike counts per framework step, or the
        membrane potential after each framework step for non-spiking outputs. The compiled
        simulation is kept in ``self.sim``.
        """
        n_in = 0
        for name, x in (inputs or {}).items():
            self.set_input(name, x)
            n_in = max(n_in, len(x))
        steps = n_in if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise bad("NIRNetwork.run", "steps", steps, "must be an integer >= 0")
        self._ensure_monitors()
        lag = max((self.onset.get(p, 0) for p in self.outputs.values()), default=0)
        sim = self.network.compile(self.dt, threads)
        sim.run((steps + lag) * self.dt)
        self.sim = sim
        return {name: self.frames(pop, steps).reshape(
            (steps, *self.shapes.get(name, (self.network.pops[pop].size,))))
            for name, pop in self.outputs.items()}

    def frames(self, pop: str, steps: int, sim=None) -> np.ndarray:
        """(steps, n) activity of population ``pop`` on the framework's clock, from a run of
        ``sim`` (default: the last :meth:`run`): spike counts per framework step (neurosim
        step ``t + onset``), or ``V_m`` after it for non-spiking populations (a ``V_m``
        state monitor on all units must have been added before compiling)."""
        sim = self.sim if sim is None else sim
        if sim is None:
            raise bad("NIRNetwork.frames", "sim", None, "no run yet: call run() first")
        size = self.network.pops[pop].size
        k0 = self.onset.get(pop, 0)
        r = np.zeros((steps, size))
        if self.spiking(pop):
            stamps, idx = sim.spike_steps(pop)
            t = stamps - 1 - k0
            keep = (t >= 0) & (t < steps)
            np.add.at(r, (t[keep], idx[keep]), 1.0)
        else:
            times, v = sim.state(pop, "V_m")
            t = np.rint(times / self.dt).astype(np.int64) - 1 - k0
            keep = (t >= 0) & (t < steps)
            r[t[keep]] = v[keep]
        return r


# ---------------------------------------------------------------------- linear operators
class _Term(dict):
    """{delay steps: matrix (n_out, n_in) or None for the identity}."""


def _add_mats(a, b, n):
    if a is None and b is None:
        return 2.0 * np.eye(n)
    if a is None:
        return b + np.eye(n)
    if b is None:
        return a + np.eye(a.shape[0])
    return a + b


class _Sig:
    """A node's output as a sum of linear images of sources plus a constant:
    ``y(t) = sum_{src} sum_d M_{src,d} x_src(t - d) + bias``."""

    def __init__(self, n: int):
        self.n = n
        self.terms: dict[tuple[str, str | None], _Term] = {}
        self.bias = np.zeros(n)

    def add(self, other: _Sig) -> None:
        for key, term in other.terms.items():
            mine = self.terms.setdefault(key, _Term())
            for d, m in term.items():
                mine[d] = (m.copy() if m is not None else None) if d not in mine else \
                    _add_mats(mine[d], m, self.n)
        self.bias = self.bias + other.bias


@dataclass
class _Part:
    delay: int
    kind: str  # "mat", "diag", "id"
    data: np.ndarray | None = None

    def apply(self, m):
        if self.kind == "id":
            return m
        if self.kind == "mat":
            return self.data.copy() if m is None else self.data @ m
        return np.diag(self.data) if m is None else self.data[:, None] * m

    def apply_vec(self, v):
        if self.kind == "id":
            return v
        if self.kind == "mat":
            return self.data @ v
        return self.data * v


# ----------------------------------------------------------------------------- flattening
_SEP = "."


def _flatten(graph, prefix: str = ""):
    """(nodes, edges, pass_through): nested graphs inlined, node paths ``outer.inner``; the
    Input/Output nodes of nested graphs become identity (pass-through) nodes."""
    nir = _nir()
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    passes: set[str] = set()
    sub_in: dict[str, list[str]] = {}
    sub_out: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        path = prefix + name
        if isinstance(node, nir.NIRGraph):
            n2, e2, p2 = _flatten(node, path + _SEP)
            nodes.update(n2)
            edges.extend(e2)
            passes |= p2
            sub_in[name] = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            sub_out[name] = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
        else:
            nodes[path] = node
            if prefix and isinstance(node, (nir.Input, nir.Output)):
                passes.add(path)

    def end(name: str, ports: dict[str, list[str]], role: str) -> str:
        if name in ports:
            if len(ports[name]) != 1:
                raise bad(f"NIR graph '{prefix or 'top'}'", "edge", name,
                          f"names a nested graph with {len(ports[name])} {role} nodes; "
                          f"name one of them as '{name}{_SEP}<{role}>'")
            return prefix + name + _SEP + ports[name][0]
        if prefix + name not in nodes:
            raise bad(f"NIR graph '{prefix or 'top'}'", "edge", name, "names no node")
        return prefix + name

    for a, b in graph.edges:
        edges.append((end(a, sub_out, "output"), end(b, sub_in, "input")))
    return nodes, edges, passes


def _type(node) -> str:
    return type(node).__name__


def _pop_name(path: str, used: set[str]) -> str:
    name = re.sub(r"\W", "_", path.replace(_SEP, "__"))
    if not name or not name.isidentifier():
        name = "n" + name
    base, k = name, 2
    while name in used:
        name = f"{base}_{k}"
        k += 1
    used.add(name)
    return name


def _float_array(node_name: str, node, attr: str) -> np.ndarray:
    v = getattr(node, attr, None)
    owner = f"NIR node '{node_name}' ({_type(node)})"
    if v is None:
        raise bad(owner, attr, None, "is missing")
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise bad(owner, attr, v, "is not numeric") from None
    if np.isnan(arr).any():
        raise bad(owner, attr, arr, "must not contain NaN")
    return arr


def _node_size(path: str, node) -> int | None:
    """Flat size of the output of ``node`` where its own parameters say it (None: inherited)."""
    t = _type(node)
    if t in ("Input", "Output"):
        typ = node.input_type.get("input") if t == "Input" else node.output_type.get("output")
        if typ is None or np.asarray(typ).size == 0:
            return None
        return int(np.prod(np.asarray(typ, dtype=np.int64)))
    if t in CONV_TYPES:
        return int(np.prod(_conv(node, path)[1]))
    if t in ("Affine", "Linear"):
        w = np.asarray(node.weight)
        if w.ndim != 2:
            raise bad(f"NIR node '{path}' ({t})", "weight", f"array of shape {w.shape}",
                      "must be 2-D (out, in)")
        return int(w.shape[0])
    first = {"Scale": "scale", "Delay": "delay", "LIF": "tau", "LI": "tau", "IF": "r",
             "I": "r", "CubaLIF": "tau_mem", "CubaLI": "tau_mem", "Threshold": "threshold"}
    if t in first:
        arr = np.asarray(getattr(node, first[t]))
        return int(arr.size) if arr.ndim else None
    return None


def _in_size(node) -> int | None:
    if _type(node) in ("Affine", "Linear"):
        return int(np.asarray(node.weight).shape[1])
    if _type(node) in CONV_TYPES:
        return int(np.prod(_conv(node, "")[0]))
    return None


def _conv(node, path: str, build: bool = False):
    """Conv1d/Conv2d/SumPool2d/AvgPool2d as a dense linear map on the C-order flat index:
    (input shape, output shape, matrix (n_out, n_in) or None, bias or None). PyTorch
    semantics (zero padding, ``'same'`` pads ``d (k - 1) // 2`` before; average pooling
    divides by the kernel size)."""
    t = _type(node)
    owner = f"NIR node '{path}' ({t})"
    conv = t.startswith("Conv")
    if conv:
        w = np.asarray(node.weight, dtype=np.float64)
        nd, cout, cin_g, ks = w.ndim - 2, w.shape[0], w.shape[1], w.shape[2:]
        groups = int(np.asarray(node.groups))
    else:
        nd = 2
        ks = tuple(int(k) for k in np.broadcast_to(np.asarray(node.kernel_size), (2,)))

    def tup(v):
        return tuple(int(x) for x in np.broadcast_to(np.asarray(v, dtype=np.int64), (nd,)))

    given = getattr(node, "input_shape", None)
    if conv and given is not None and np.size(given):
        in_shape = (cin_g * groups, *tup(given))
    else:
        typ = (node.input_type or {}).get("input")
        if typ is None or np.size(typ) != nd + 1:
            raise bad(owner, "input_type", typ, f"must be known (channels + {nd} spatial "
                      "dimensions; give input_shape or a typed graph)")
        in_shape = tuple(int(x) for x in np.asarray(typ))
    stride, dil = tup(node.stride), tup(getattr(node, "dilation", 1))
    pad = node.padding
    pad = pad.decode() if isinstance(pad, bytes) else pad
    pad = str(pad) if isinstance(pad, np.ndarray) and pad.dtype.kind in "US" else pad
    size = in_shape[1:]
    if isinstance(pad, str):
        if pad not in ("same", "valid"):
            raise bad(owner, "padding", pad, "must be 'same', 'valid' or integers")
        pads = tuple(d * (k - 1) // 2 for d, k in zip(dil, ks, strict=True)) \
            if pad == "same" else (0,) * nd
        out = size if pad == "same" else tuple(
            (n - d * (k - 1) - 1) // s + 1 for n, d, k, s in zip(size, dil, ks, stride,
                                                                strict=True))
    else:
        pads = tup(pad)
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                    for n, p, d, k, s in zip(size, pads, dil, ks, stride, strict=True))
    c_out = cout if conv else in_shape[0]
    out_shape = (c_out, *out)
    if min(out) < 1:
        raise bad(owner, "shape", in_shape, f"gives an empty output {out_shape}")
    if not build:
        return in_shape, out_shape, None, None
    if conv and in_shape[0] != cin_g * groups:
        raise bad(owner, "weight", w.shape, f"does not fit the input channels {in_shape[0]}")
    # every (output channel, input channel of its group, kernel tap, output position)
    c_in = cin_g if conv else 1
    grid = np.indices((c_out, c_in, *ks, *out)).reshape(2 + 2 * nd, -1)
    co, j, k, o = grid[0], grid[1], grid[2:2 + nd], grid[2 + nd:]
    ci = (co // (cout // groups)) * cin_g + j if conv else co
    pos = [o[a] * stride[a] - pads[a] + k[a] * dil[a] for a in range(nd)]
    ok = np.all([(p >= 0) & (p < n) for p, n in zip(pos, size, strict=True)], axis=0)
    rows = np.ravel_multi_index((co[ok], *(x[ok] for x in o)), out_shape)
    cols = np.ravel_multi_index((ci[ok], *(x[ok] for x in pos)), in_shape)
    if conv:
        vals = w[(co[ok], j[ok], *(x[ok] for x in k))]
    else:
        vals = np.full(rows.size, 1.0 / np.prod(ks) if t == "AvgPool2d" else 1.0)
    mat = np.zeros((int(np.prod(out_shape)), int(np.prod(in_shape))))
    np.add.at(mat, (rows, cols), vals)
    bias = None
    if conv and getattr(node, "bias", None) is not None:
        bias = np.repeat(np.asarray(node.bias, dtype=np.float64).reshape(-1), int(np.prod(out)))
    return in_shape, out_shape, mat, bias


# -------------------------------------------------------------------------------- reading
def read(graph_or_path, dt: float = DEFAULT_DT, *, threshold: str = ">",
         seed: int | None = None) -> NIRNetwork:
    """Build a neurosim network from a NIR graph.

    Parameters
    ----------
    graph_or_path : a ``nir.NIRGraph`` or the path of a NIR file (``nir.write``).
    dt : the step, in seconds, that the graph's parameters assume (NIR stores none;
        ``1e-4`` for snnTorch's and SpikingJelly's exporters). The network runs at
        ``1000 dt`` ms. A different ``"dt"`` in the graph's metadata gives a warning.
    threshold : ``">"`` (NIR, snnTorch: fire when V > V_th) or ``">="`` (SpikingJelly).
    seed : the network's seed (a graph written by neurosim brings its own).

    Returns
    -------
    NIRNetwork
        The network and the names of its inputs and outputs; see the module docstring for
        the mapping, the units and the step offsets.
    """
    nir = _nir()
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise bad("nir.read", "dt", dt, "must be a finite number > 0 (seconds)")
    if threshold not in (">", ">="):
        raise bad("nir.read", "threshold", threshold, "must be '>' or '>='")
    graph = nir.read(str(graph_or_path)) if isinstance(graph_or_path, (str, Path)) \
        else graph_or_path
    if not isinstance(graph, nir.NIRGraph):
        graph = nir.NIRGraph(nodes={"node": graph}, edges=[], type_check=False)
    dt_ms = float(dt) * 1000.0
    gmeta = _meta_of(graph) or {}
    md = graph.metadata if isinstance(graph.metadata, dict) else {}
    if "dt" in md:
        try:
            g_dt = float(np.asarray(md["dt"]))
        except (TypeError, ValueError):
            g_dt = None
        if g_dt is not None and not math.isclose(g_dt, dt, rel_tol=1e-9):
            warnings.warn(f"nir.read: the graph's metadata says dt = {g_dt} s, reading with "
                          f"dt = {dt} s", stacklevel=2)
    if gmeta.get("kind") != "network":
        gmeta = {}

    nodes, edges, passes = _flatten(graph)
    preds: dict[str, list[str]] = {p: [] for p in nodes}
    for a, b in edges:
        preds[b].append(a)
    role = {}
    for path, node in nodes.items():
        t = _type(node)
        if path in passes:
            role[path] = "linear"
        elif t == "Input":
            role[path] = "source"
        elif t == "Output":
            role[path] = "sink"
        elif t in NEURON_TYPES:
            role[path] = "neuron"
        elif t in LINEAR_TYPES:
            role[path] = "linear"
        else:
            raise bad(f"NIR node '{path}'", "type", t,
                      f"is not supported by neurosim (supported: "
                      f"{', '.join(NEURON_TYPES + LINEAR_TYPES)}, Input, Output, NIRGraph)")
    sizes = _sizes(nodes, preds)

    # ---- populations
    used: set[str] = set()
    pop_of: dict[str, str] = {}
    specs: dict[str, tuple] = {}  # pop -> ("source"/"neurons", args...)
    kinds: dict[str, str] = {}
    for path, node in nodes.items():
        if role[path] not in ("source", "neuron"):
            continue
        meta = _meta_of(node) or {}
        want = meta.get("name") if gmeta else None
        name = want if isinstance(want, str) and want.isidentifier() and want not in used \
            else _pop_name(path, used)
        used.add(name)
        pop_of[path] = name
        kinds[name] = _type(node)

    # ---- inputs of every neuron node and output: products of linear chains
    memo: dict[str, _Sig] = {}
    projection_tag: dict[str, dict] = {}
    for path, node in nodes.items():
        m = _meta_of(node)
        if role[path] == "linear" and m and m.get("kind") == "projection":
            projection_tag[path] = m

    def output_of(path: str, stack: tuple[str, ...]) -> _Sig:
        if role[path] in ("source", "neuron"):
            s = _Sig(sizes[path])
            s.terms[(path, None)] = _Term({0: None})
            return s
        if role[path] == "sink":
            raise bad(f"NIR node '{path}'", "edges", "Output -> ...", "an Output feeds nothing")
        if path in memo:
            return memo[path]
        if path in stack:
            raise bad(f"NIR node '{path}'", "edges", " -> ".join(stack + (path,)),
                      "is a loop of linear nodes without a neuron (no step can break it)")
        sin = input_of(path, stack + (path,))
        parts, bias = _parts(path, nodes[path], sizes, dt_ms, path in passes)
        out = _Sig(sizes[path])
        tag = projection_tag.get(path, {}).get("name")
        for (src, t0), term in sin.terms.items():
            key = (src, t0 if t0 is not None else tag)
            new = out.terms.setdefault(key, _Term())
            for d, m in term.items():
                for p in parts:
                    r = p.apply(m)
                    dd = d + p.delay
                    new[dd] = (r if r is None else r.copy()) if dd not in new else \
                        _add_mats(new[dd], r, out.n)
        for p in parts:
            out.bias = out.bias + p.apply_vec(sin.bias)
        if bias is not None:
            out.bias = out.bias + bias
        memo[path] = out
        return out

    def input_of(path: str, stack: tuple[str, ...]) -> _Sig:
        s = _Sig(sizes[path] if _in_size(nodes[path]) is None else _in_size(nodes[path]))
        for p in preds[path]:
            o = output_of(p, stack)
            if o.n != s.n:
                raise bad(f"NIR edge '{p}' -> '{path}'", "shape", (o.n, s.n),
                          "sizes differ (output of the source, input of the target)")
            s.add(o)
        return s

    inputs_sig = {p: input_of(p, ()) for p in nodes if role[p] in ("neuron", "sink")}

    # ---- projections (before onsets, which need their delays)
    ports = {m.get("name"): m.get("port") for m in projection_tag.values()}
    proj_specs = [spec for path in nodes if role[path] == "neuron"
                  for spec in _projection_specs(inputs_sig[path], pop_of, pop_of[path],
                                                sizes[path], ports, dt_ms)]
    sending = {spec.src for spec in proj_specs}
    for path in nodes:
        if role[path] == "neuron" and _type(nodes[path]) in NON_SPIKING \
                and pop_of[path] in sending:
            raise bad(f"NIR node '{path}' ({_type(nodes[path])})", "output", "membrane potential",
                      "cannot feed other neurons in neurosim: projections carry spikes only "
                      "(use LI/I/CubaLI nodes as read-outs)")

    onset = _onsets([pop_of[p] for p in nodes if role[p] == "source"],
                    [pop_of[p] for p in nodes if role[p] == "neuron"], proj_specs, dt_ms)

    # ---- population specs (metadata first, else NIR parameters)
    ge = 1.0 if threshold == ">=" else 0.0
    for path, node in nodes.items():
        name = pop_of.get(path)
        if name is None:
            continue
        n = sizes[path]
        meta = _meta_of(node)
        if role[path] == "source":
            specs[name] = ("source", _source_from_meta(meta, name, n))
            continue
        bias = inputs_sig[path].bias
        restored = _population_from_meta(meta, name, n, node, bias, dt_ms,
                                         name in sending) if meta else None
        if restored is not None:
            specs[name] = ("neurons", *restored)
            continue
        model, values = _population_from_nir(path, node, n, dt_ms, ge)
        if np.any(bias != 0):
            values["I_bias"] = _compact(bias)
            values["t_bias"] = onset[name] * dt_ms
        specs[name] = ("neurons", model, n, values)

    # ---- assemble the network, in the written order where known
    net = Network(seed=gmeta.get("seed", seed) if gmeta else seed)
    order = [p for p in gmeta.get("populations", []) if p in specs] if gmeta else []
    order += [p for p in specs if p not in order]
    for name in order:
        spec = specs[name]
        if spec[0] == "source":
            src = spec[1]
            if isinstance(src, PoissonInput):
                net.poisson(name, src.size, src.rate)
            else:
                net.spike_train(name, src.size, src.times, src.indices)
        else:
            _, model, n, values = spec
            net.population(name, model, n, **values)
    written = gmeta.get("projections", []) if gmeta else []
    ordered = sorted(proj_specs, key=lambda p: written.index(p.tag) if p.tag in written
                     else len(written))
    originals = _original_projections(ordered, projection_tag, gmeta, net, dt_ms)
    for p in ordered:
        target = net.pops[p.dst]
        port = p.port if p.port in target.spec.ports else target.spec.ports[0]
        name = p.tag if isinstance(p.tag, str) and p.tag.isidentifier() and \
            p.tag not in net.projections else None
        if name is not None and name in originals:
            rule, weight, delay = originals[name]
        else:
            d = p.delay
            rule, weight, delay = arrays(p.pre, p.post), p.weight, \
                float(d[0]) if np.all(d == d[0]) else d
        net.connect(p.src, p.dst, rule, weight, delay, port=port, name=name)

    result = NIRNetwork(net, dt_ms, nodes=dict(pop_of),
                        onset={p: onset.get(p, 0) for p in net.pops}, kinds=kinds)
    for path, node in nodes.items():
        if role[path] == "source" and path in graph.nodes:
            result.inputs[path] = pop_of[path]
            result.shapes[path] = tuple(int(x) for x in np.atleast_1d(
                np.asarray(node.input_type["input"], dtype=np.int64)))
        if role[path] == "sink" and path in graph.nodes:
            src = _output_source(path, inputs_sig[path], role)
            result.outputs[path] = pop_of[src]
            typ = node.output_type.get("output")
            shape = tuple(int(x) for x in np.atleast_1d(np.asarray(typ, dtype=np.int64))) \
                if typ is not None and np.asarray(typ).size else (sizes[src],)
            result.shapes[path] = shape if int(np.prod(shape)) == sizes[src] else (sizes[src],)
    if gmeta:
        _restore_network_meta(net, gmeta)
    else:
        result._ensure_monitors()
    return result


class _ProjSpec(NamedTuple):
    tag: str | None  # neurosim projection name (metadata) or None
    src: str
    dst: str
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray  # ms
    port: str | None


def _projection_specs(sig: _Sig, pop_of: dict, dst: str, n: int, ports: dict, dt_ms: float):
    """One projection per (source, neurosim projection name) term of a neuron node's input:
    a synapse per non-zero matrix entry, delay one step plus the term's Delay steps."""
    out = []
    for (src, tag), term in sig.terms.items():
        pre_l, post_l, w_l, d_l = [], [], [], []
        for d, m in sorted(term.items()):
            if m is None:
                post = pre = np.arange(n)
                w = np.ones(n)
            else:
                post, pre = np.nonzero(m)
                w = m[post, pre]
            pre_l.append(pre)
            post_l.append(post)
            w_l.append(w)
            d_l.append(np.full(pre.size, (1 + d) * dt_ms))
        pre, post = np.concatenate(pre_l), np.concatenate(post_l)
        if pre.size:
            order = np.lexsort((post, pre))
            out.append(_ProjSpec(tag, pop_of[src], dst, pre[order], post[order],
                                 np.concatenate(w_l)[order], np.concatenate(d_l)[order],
                                 ports.get(tag)))
    return out


def _onsets(sources: list[str], neurons: list[str], specs: list[_ProjSpec], dt_ms: float):
    """Population -> its fewest synaptic steps from an input (0 where none reaches it)."""
    onset = dict.fromkeys(sources, 0)
    changed = True
    while changed:
        changed = False
        for p in specs:
            if p.src in onset:
                k = onset[p.src] + to_steps(float(p.delay.min()), dt_ms)
                if k < onset.get(p.dst, 1 << 62):
                    onset[p.dst] = k
                    changed = True
    for pop in neurons:
        onset.setdefault(pop, 0)
    return onset


def _output_source(path: str, sig: _Sig, role: dict) -> str:
    """The neuron node an Output reads (directly or through identity-like nodes)."""
    ok = len(sig.terms) == 1 and not np.any(sig.bias)
    if ok:
        (src, _), term = next(iter(sig.terms.items()))
        ok = len(term) == 1 and 0 in term and term[0] is None and role[src] == "neuron"
    if not ok:
        raise bad(f"NIR node '{path}' (Output)", "input",
                  ", ".join(sorted({s for s, _ in sig.terms})) or "nothing",
                  "must be one neuron node, directly or through Flatten/identity nodes "
                  "(neurosim outputs spikes or membrane potentials, not linear read-outs)")
    return src


_RULES = {c.__name__: c for c in (AllToAll, OneToOne, FixedProbability, FixedInDegree,
                                   FixedOutDegree, Explicit)}
_DISTS = {c.__name__: c for c in (Uniform, Normal, LogNormal)}


def _encode_value(v):
    if hasattr(v, "sample"):
        return {"distribution": type(v).__name__, **vars(v)}
    a = np.asarray(v, dtype=np.float64)
    return float(a) if a.ndim == 0 else {"array": a.tolist()}


def _decode_value(v):
    if isinstance(v, dict) and "distribution" in v:
        return _DISTS[v["distribution"]](**{k: x for k, x in v.items() if k != "distribution"})
    if isinstance(v, dict):
        return np.asarray(v["array"], dtype=np.float64)
    return float(v)


def _encode_rule(rule) -> dict | None:
    if type(rule).__name__ not in _RULES:
        return None
    return {"type": type(rule).__name__, **{k: np.asarray(x).tolist() if isinstance(
        x, np.ndarray) else x for k, x in vars(rule).items()}}


def _decode_rule(d: dict):
    cls = _RULES[d["type"]]
    args = {k: x for k, x in d.items() if k != "type"}
    if cls is Explicit:
        args = {k: np.asarray(x, dtype=np.int64) for k, x in args.items()}
    return cls(**args)


def _is_random(rule, weight, delay) -> bool:
    return isinstance(rule, (FixedProbability, FixedInDegree, FixedOutDegree)) or \
        hasattr(weight, "sample") or hasattr(delay, "sample")


def _same_csr(a, b) -> bool:
    return (np.array_equal(a.indptr, b.indptr) and np.array_equal(a.post, b.post)
            and np.array_equal(a.weights(), b.weights())
            and np.array_equal(a.delays(), b.delays()))


def _original_projections(ordered, tags: dict, gmeta: dict, net: Network, dt_ms: float):
    """{name: (rule, weight, delay)} of the projections whose original rule (from neurosim's
    metadata) rebuilds exactly the synapses of the graph. Random rules draw from the build
    generator of the network's seed in projection order, so they are restored only all
    together, and only with a seed."""
    if not gmeta:
        return {}
    metas = {m.get("name"): m for m in tags.values()}
    seed = gmeta.get("build_seed")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0]) \
        if isinstance(seed, int) and gmeta.get("seed") is not None else None
    random_ok = rng is not None
    found = {}
    for tag, src, dst, pre, post, w, d, port in ordered:  # _ProjSpec
        m = metas.get(tag)
        try:
            spec = (_decode_rule(m["rule"]), _decode_value(m["weight"]),
                    _decode_value(m["delay"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            random_ok = False
            continue
        n_pre, n_post = net.pops[src].size, net.pops[dst].size
        random = _is_random(*spec)
        if random and rng is None:
            continue
        try:
            csr = Projection(tag, src, dst, *spec, port).build(
                n_pre, n_post, rng if rng is not None else np.random.default_rng(0), dt_ms)
        except (ConfigError, ValueError):
            random_ok = False
            continue
        ref = Projection(tag, src, dst, arrays(pre, post), w, d, port).build(
            n_pre, n_post, np.random.default_rng(0), dt_ms)
        match = _same_csr(csr, ref)
        random_ok &= match or not random
        if match:
            found[tag] = (spec, random)
    return {t: spec for t, (spec, random) in found.items() if random_ok or not random}


def _sizes(nodes: dict, preds: dict) -> dict[str, int]:
    sizes = {p: _node_size(p, n) for p, n in nodes.items()}
    changed = True
    while changed:
        changed = False
        for p, s in sizes.items():
            if s is None:
                known = [sizes[q] for q in preds[p] if sizes[q] is not None]
                if known:
                    sizes[p] = known[0]
                    changed = True
    for p, s in sizes.items():
        if s is None:
            raise bad(f"NIR node '{p}' ({_type(nodes[p])})", "shape", None,
                      "cannot be inferred (give the node per-neuron parameter arrays)")
    return sizes


def _parts(path: str, node, sizes: dict, dt_ms: float, passthrough: bool):
    """The linear node as (parts, bias): y = sum_p part_p(x)(t - delay_p) + bias."""
    t = "Flatten" if passthrough else _type(node)
    n = sizes[path]
    if t == "Flatten":
        return [_Part(0, "id")], None
    if t in ("Affine", "Linear"):
        w = _float_array(path, node, "weight")
        if not np.all(np.isfinite(w)):
            raise bad(f"NIR node '{path}' ({t})", "weight", "array with inf", "must be finite")
        b = _float_array(path, node, "bias").reshape(-1) if t == "Affine" else None
        if b is not None and (b.size != w.shape[0] or not np.all(np.isfinite(b))):
            raise bad(f"NIR node '{path}' (Affine)", "bias", b,
                      f"must be finite with {w.shape[0]} values")
        return [_Part(0, "mat", w)], b
    if t in CONV_TYPES:
        _, _, mat, bias = _conv(node, path, build=True)
        return [_Part(0, "mat", mat)], bias
    if t == "Scale":
        s = np.broadcast_to(_float_array(path, node, "scale"), (n,)).copy()
        return [_Part(0, "diag", s)], None
    # Delay
    d = np.broadcast_to(_float_array(path, node, "delay"), (n,))
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise bad(f"NIR node '{path}' (Delay)", "delay", d, "must be finite and >= 0 (s)")
    steps = to_steps(d * 1000.0, dt_ms)
    parts = []
    for k in np.unique(steps):
        parts.append(_Part(int(k), "diag", (steps == k).astype(np.float64)))
    if len(parts) == 1:
        parts = [_Part(parts[0].delay, "id")]
    return parts, None


def _compact(arr: np.ndarray):
    """One number where every value is the same (or a number was given), else a copy."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    return float(arr[0]) if arr.size and np.all(arr == arr[0]) else arr.copy()


def _population_from_nir(path: str, node, n: int, dt_ms: float, ge: float):
    """(model, values) for a NIR neuron node, from its parameters."""
    t = _type(node)
    owner = f"NIR node '{path}' ({t})"

    def per_unit(attr, default=None, check=None):
        if getattr(node, attr, None) is None and default is not None:
            arr = np.full(n, float(default))
        else:
            arr = _float_array(path, node, attr)
            try:
                arr = np.broadcast_to(arr, arr.shape if arr.size == n else (n,)).reshape(n)
            except ValueError:
                raise bad(owner, attr, f"array of shape {arr.shape}",
                          f"does not fit the node's {n} units") from None
        if check == "tau" and (np.any(arr < 0) or not np.all(np.isfinite(arr))):
            raise bad(owner, attr, _compact(arr), "must be finite and >= 0 (s)")
        if check == "finite" and not np.all(np.isfinite(arr)):
            raise bad(owner, attr, _compact(arr), "must be finite")
        return arr.astype(np.float64)

    v: dict[str, Any] = {}

    def leaky_threshold(spiking: bool) -> None:
        """Threshold and reset of a leaky node; a non-spiking one (LI, CubaLI) never fires
        and rests at V_leak. V starts at V_leak."""
        if spiking:
            v["V_th"] = per_unit("v_threshold")
            v["V_reset"] = per_unit("v_reset", 0.0, check="finite")
        else:
            v["V_th"] = np.full(n, np.inf)
            v["V_reset"] = v["V_leak"]
        v["V_m"] = v["V_leak"]

    if t in ("LIF", "LI"):
        model = "nir_lif"
        v["tau_m"] = per_unit("tau", check="tau") * 1000.0
        v["R"] = per_unit("r", check="finite")
        v["V_leak"] = per_unit("v_leak", check="finite")
        leaky_threshold(t == "LIF")
    elif t == "Threshold":
        model = "nir_lif"
        v.update(tau_m=0.0, R=1.0, V_leak=0.0, V_th=per_unit("threshold"), V_reset=0.0,
                 V_m=0.0)
    elif t in ("IF", "I"):
        model = "nir_if"
        v["R"] = per_unit("r", check="finite") / 1000.0
        if t == "IF":
            v["V_th"] = per_unit("v_threshold")
            v["V_reset"] = per_unit("v_reset", 0.0, check="finite")
            v["V_m"] = v["V_reset"]
        else:
            v.update(V_th=np.inf, V_reset=0.0, V_m=0.0)
    else:  # CubaLIF, CubaLI
        model = "nir_cubalif"
        v["tau_syn"] = per_unit("tau_syn", check="tau") * 1000.0
        v["tau_m"] = per_unit("tau_mem", check="tau") * 1000.0
        v["R"] = per_unit("r", check="finite")
        v["w_in"] = per_unit("w_in", 1.0, check="finite")
        v["V_leak"] = per_unit("v_leak", check="finite")
        leaky_threshold(t == "CubaLIF")
    if t not in NON_SPIKING and ge:
        v["threshold_ge"] = ge
    return model, {k: _compact(x) if isinstance(x, np.ndarray) else x for k, x in v.items()}


def _decode_init(init: dict) -> dict:
    return {k: (np.asarray(x, dtype=np.float64) if isinstance(x, list) else x)
            for k, x in init.items()}


def _population_from_meta(meta: dict, name: str, n: int, node, bias, dt_ms: float,
                          sends: bool):
    """(model, size, values) from neurosim's metadata, if it rebuilds exactly this node."""
    if meta.get("kind") != "population":
        return None
    try:
        values = {**meta["params"], **_decode_init(meta["init"])}
        pop = Population(name, meta["model"], n, **values)
        rng = np.random.default_rng(0)
        p = pop.param_values(rng)
        want, want_bias = _node_for(pop, p, pop.initial_state(rng, p), dt_ms, sends)
    except (ConfigError, KeyError, TypeError, ValueError) as e:
        warnings.warn(f"nir.read: population '{name}': ignoring neurosim metadata ({e})",
                      stacklevel=3)
        return None
    want_bias = np.zeros(n) if want_bias is None else want_bias
    if _same_node(want, node) and np.array_equal(want_bias, bias):
        return meta["model"], n, values
    warnings.warn(f"nir.read: population '{name}': the NIR parameters differ from those "
                  f"neurosim's metadata gives at dt = {dt_ms / 1000.0} s (edited by another "
                  "tool, or read with another dt?); using the NIR parameters", stacklevel=3)
    return None


def _same_node(a, b) -> bool:
    if type(a) is not type(b):
        return False
    for f in ("tau", "r", "v_leak", "v_threshold", "v_reset", "tau_syn", "tau_mem", "w_in",
              "threshold"):
        x, y = getattr(a, f, None), getattr(b, f, None)
        if (x is None) != (y is None):
            return False
        if x is not None and not np.array_equal(np.asarray(x, dtype=np.float64).ravel(),
                                                np.asarray(y, dtype=np.float64).ravel()):
            return False
    return True


def _source_from_meta(meta: dict | None, name: str, n: int):
    if meta and meta.get("kind") == "poisson" and np.size(meta.get("rate")) in (1, n):
        return PoissonInput(name, n, np.asarray(meta["rate"], dtype=np.float64))
    if meta and meta.get("kind") == "spike_train":
        return SpikeTrain(name, n, np.asarray(meta["times"], dtype=np.float64),
                          np.asarray(meta["indices"], dtype=np.int64))
    return SpikeTrain(name, n, [], np.zeros(0, np.int64))


def _restore_network_meta(net: Network, gmeta: dict) -> None:
    for c in gmeta.get("currents", []):
        net.current(c["target"], c["times"], c["amplitudes"], c.get("indices"))
    for pop in gmeta.get("spike_monitors", []):
        if pop in net.pops:
            net.spike_monitor(pop)
    for m in gmeta.get("state_monitors", []):
        if m["pop"] in net.pops:
            net.state_monitor(m["pop"], m["var"], m.get("indices"), m.get("every", 1))


# -------------------------------------------------------------------------------- writing
def _node_for(pop: Population, p: dict, state: np.ndarray, dt_ms: float, sends: bool):
    """(NIR node without metadata, Affine bias to carry or None) of a neuron population with
    parameter values ``p`` (floats or per-unit arrays, :meth:`Population.param_values`) and
    initial state ``state`` (n_state, n); raises ConfigError where NIR cannot express it.
    A population that never fires (``V_th = +inf``) is a LI/I/CubaLI node only if it
    ``sends`` nothing (their NIR output is the membrane potential, not spikes); otherwise it
    stays a LIF/IF/CubaLIF node with infinite thresholds (no spikes, as in neurosim)."""
    nir = _nir()
    owner = f"Population '{pop.name}'"
    model, n = pop.spec.name, pop.size
    row = {s: state[i] for i, s in enumerate(pop.spec.state_names)}
    if model not in EXPORTABLE:
        why = {"alif_psc_exp": "NIR has no adaptive threshold (adaptation)",
               "izhikevich": "NIR has no Izhikevich (quadratic, recovery variable) neuron"}
        raise bad(owner, "model", model, "has no NIR equivalent: " + why.get(
            model, f"NIR export knows {', '.join(EXPORTABLE)}"))
    if model in ("iaf_psc_delta", "iaf_psc_exp"):
        if np.any(p["t_ref"] > 0):
            raise bad(owner, "t_ref", _compact(p["t_ref"]), "must be 0 for NIR export: NIR "
                      "neurons have no refractory period")

        def full(x):  # one value per unit, as NIR nodes have them
            return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()

        v_leak = full(p["E_L"] + p["I_e"] * p["tau_m"] / p["C_m"])
        if model == "iaf_psc_delta":
            if np.any(p["V_min"] != -np.inf):
                raise bad(owner, "V_min", _compact(p["V_min"]), "must be -inf for NIR export: "
                          "NIR has no lower bound on V")
            return nir.LIF(tau=full(p["tau_m"] / 1000.0), r=full(p["tau_m"] / dt_ms),
                           v_leak=v_leak, v_threshold=full(p["V_th"]),
                           v_reset=full(p["V_reset"])), None
        if np.any(p["tau_syn_in"] != p["tau_syn_ex"]):
            raise bad(owner, "tau_syn_in", _compact(p["tau_syn_in"]), f"must equal tau_syn_ex "
                      f"({_compact(p['tau_syn_ex'])}) for NIR export: a NIR CubaLIF has one "
                      "synaptic time constant")
        return nir.CubaLIF(tau_syn=full(p["tau_syn_ex"] / 1000.0),
                           tau_mem=full(p["tau_m"] / 1000.0),
                           r=full(p["tau_m"] / p["C_m"]), v_leak=v_leak,
                           v_threshold=full(p["V_th"]), v_reset=full(p["V_reset"]),
                           w_in=full(p["tau_syn_ex"] / dt_ms)), None
    bias = row["I_bias"].copy() if np.any(row["I_bias"] != 0) else None
    never = bool(np.all(row["V_th"] == np.inf)) and not sends
    if model == "nir_lif":
        tau = row["tau_m"] / 1000.0
        if not np.all(row["V_th"] == np.inf) and np.all(row["tau_m"] == 0) \
                and np.all(row["R"] == 1) \
                and np.all(row["V_leak"] == 0):
            return nir.Threshold(threshold=row["V_th"].copy()), bias
        if never:
            return nir.LI(tau=tau, r=row["R"].copy(), v_leak=row["V_leak"].copy()), bias
        return nir.LIF(tau=tau, r=row["R"].copy(), v_leak=row["V_leak"].copy(),
                       v_threshold=row["V_th"].copy(), v_reset=row["V_reset"].copy()), bias
    if model == "nir_if":
        r = row["R"] * 1000.0
        if never:
            return nir.I(r=r), bias
        return nir.IF(r=r, v_threshold=row["V_th"].copy(), v_reset=row["V_reset"].copy()), bias
    args = dict(tau_syn=row["tau_syn"] / 1000.0, tau_mem=row["tau_m"] / 1000.0,
                r=row["R"].copy(), v_leak=row["V_leak"].copy(), w_in=row["w_in"].copy())
    if never:
        return nir.CubaLI(**args), bias
    return nir.CubaLIF(**args, v_threshold=row["V_th"].copy(),
                       v_reset=row["V_reset"].copy()), bias


def _encode_init(pop: Population, state: np.ndarray) -> dict:
    """Initial values as given (scalars, arrays); distributions as the values drawn."""
    out = {}
    for k, v in pop.init.items():
        if hasattr(v, "sample"):
            out[k] = state[pop.spec.state_names.index(k)].tolist()
        else:
            a = np.asarray(v, dtype=np.float64)
            out[k] = float(a) if a.ndim == 0 else a.tolist()
    return out


def write(network_or_sim, path=None, dt: float | None = None, *,
          outputs: list[str] | None = None):
    """Export a network (or a compiled simulation, with its current weights) to NIR.

    Parameters
    ----------
    network_or_sim : a :class:`~neurosim.network.Network` or a
        :class:`~neurosim.simulation.Simulation`.
    path : if given, also write the graph there with ``nir.write`` (HDF5, ``.nir``).
    dt : the step in seconds that the graph assumes (delays, and the framework conventions
        ``r = tau_m/dt``, ``w_in = tau_syn/dt`` of ``iaf_psc_*``); stored in the graph's
        metadata. Default: the simulation's step, or ``1e-4`` for a network.
    outputs : populations that get an Output node (default: the monitored populations, or
        else those without outgoing projections).

    Returns
    -------
    nir.NIRGraph

    Raises
    ------
    ConfigError
        For what NIR cannot express (see the module docstring).
    """
    nir = _nir()
    from ..simulation import Simulation

    sim = network_or_sim if isinstance(network_or_sim, Simulation) else None
    net = sim.network if sim is not None else network_or_sim
    if not isinstance(net, Network):
        raise bad("nir.write", "network_or_sim", type(net).__name__,
                  "must be a neurosim Network or Simulation")
    if dt is not None and not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise bad("nir.write", "dt", dt, "must be a finite number > 0 (seconds)")
    if sim is not None:
        if dt is not None and not math.isclose(dt * 1000.0, sim.dt, rel_tol=1e-9):
            raise bad("nir.write", "dt", dt, f"differs from the simulation's step "
                      f"({sim.dt} ms = {sim.dt / 1000.0} s)")
        dt_ms = sim.dt
        dt = dt_ms / 1000.0 if dt is None else float(dt)
    else:
        dt = DEFAULT_DT if dt is None else float(dt)
        dt_ms = dt * 1000.0
    net.validate(dt_ms)
    if net.noises:
        raise bad(f"NoiseCurrent on '{net.noises[0].target}'", "std", net.noises[0].std,
                  "cannot be exported: NIR has no noise source")
    # mirror Simulation: one SeedSequence, (build, init) generators, populations in order
    seed = sim.seed if sim is not None else (
        net.seed if net.seed is not None else int(np.random.SeedSequence().entropy % (1 << 63)))
    rng_build, rng_init = (np.random.default_rng(s) for s in
                           np.random.SeedSequence(seed).spawn(2))
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    biases: dict[str, np.ndarray] = {}
    senders = {p.pre for p in net.projections.values()}
    for name, pop in net.pops.items():
        if isinstance(pop, Population):
            p = pop.param_values(rng_init)  # distributions drawn as Simulation draws them
            state = pop.initial_state(rng_init, p)
            if sim is not None:  # the values now (set_params may have changed them)
                p = {k: sim.param(name, k) for k in p}
            node, bias = _node_for(pop, p, state, dt_ms, name in senders)
            node.metadata = _meta(dict(kind="population", name=name, model=pop.spec.name,
                                       params=p, init=_encode_init(pop, state)))
            if bias is not None:
                biases[name] = bias
        else:
            if isinstance(pop, PoissonInput):
                m = dict(kind="poisson", name=name, rate=_compact(pop.rate))
            else:
                m = dict(kind="spike_train", name=name, times=pop.times, indices=pop.indices)
            node = nir.Input(input_type={"input": np.array([pop.size])}, metadata=_meta(m))
        nodes[name] = node

    def fresh(base: str) -> str:
        name, k = base, 2
        while name in nodes:
            name = f"{base}_{k}"
            k += 1
        return name

    fed: set[str] = set()
    for proj in net.projections.values():
        if getattr(proj, "plasticity", None) is not None:
            raise bad(f"Projection '{proj.name}'", "plasticity", type(proj.plasticity).__name__,
                      "cannot be exported: NIR graphs are static (no learning rules)")
        n_pre, n_post = net.pops[proj.pre].size, net.pops[proj.post].size
        csr = sim.projection(proj.name) if sim is not None else \
            proj.build(n_pre, n_post, rng_build, dt_ms)
        pre, post, w, d = csr.pre(), csr.post, csr.weights(), csr.delays()
        groups = np.unique(d) if d.size else np.array([1])
        for g in groups:
            sel = d == g
            mat = np.zeros((n_post, n_pre))
            np.add.at(mat, (post[sel], pre[sel]), w[sel])
            base = proj.name if groups.size == 1 else f"{proj.name}_d{int(g)}"
            lin = fresh(base)
            meta = _meta(dict(kind="projection", name=proj.name, port=proj.port,
                              rule=_encode_rule(proj.rule), weight=_encode_value(proj.weight),
                              delay=_encode_value(proj.delay)))
            if proj.post in biases and proj.post not in fed:
                nodes[lin] = nir.Affine(weight=mat, bias=biases[proj.post], metadata=meta)
                fed.add(proj.post)
            else:
                nodes[lin] = nir.Linear(weight=mat, metadata=meta)
            edges.append((proj.pre, lin))
            if g > 1:
                dl = fresh(f"{base}_delay")
                nodes[dl] = nir.Delay(delay=np.full(n_post, (int(g) - 1) * dt))
                edges += [(lin, dl), (dl, proj.post)]
            else:
                edges.append((lin, proj.post))
    for name in biases:
        if name not in fed:
            raise bad(f"Population '{name}'", "I_bias", _compact(biases[name]),
                      "cannot be exported: NIR carries a bias only on an Affine node, and "
                      f"'{name}' has no incoming projection")
    if outputs is None:
        outputs = [m.pop for m in net.spike_monitors] + \
            [m.pop for m in net.state_monitors if m.var == "V_m"]
        if not outputs:
            outputs = [p for p, pop in net.pops.items()
                       if isinstance(pop, Population) and p not in senders]
    outputs = list(dict.fromkeys(outputs))
    for pop in outputs:
        if not isinstance(net.pops.get(pop), Population):
            raise bad("nir.write", "outputs", pop, "is not a neuron population of the network")
        out = fresh("output" if len(outputs) == 1 else f"output_{pop}")
        nodes[out] = nir.Output(output_type={"output": np.array([net.pops[pop].size])})
        edges.append((pop, out))
    gmeta = dict(kind="network", version=__version__, seed=net.seed, build_seed=seed,
                 populations=list(net.pops), projections=list(net.projections),
                 currents=[dict(target=c.target, times=c.times, amplitudes=c.amplitudes,
                                indices=c.indices) for c in net.currents],
                 spike_monitors=[m.pop for m in net.spike_monitors],
                 state_monitors=[dict(pop=m.pop, var=m.var, indices=m.indices, every=m.every)
                                 for m in net.state_monitors])
    metadata = {"dt": float(dt), "time_unit": "s", "voltage_unit": "mV",
                "source": f"neurosim {__version__}", **_meta(gmeta)}
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)
    if path is not None:
        nir.write(str(path), graph)
    return graph

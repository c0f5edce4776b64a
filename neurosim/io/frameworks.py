"""Bridges to snnTorch and SpikingJelly, through NIR and their own exporters and importers.

========================  ===============================================================
``from_snntorch(m, x)``   snnTorch model -> ``snntorch.export_to_nir`` -> :func:`nir.read
                          <neurosim.io.nir.read>` (dt = 1e-4 s, which snnTorch's exporter
                          hard-codes; ``V > V_th``)
``to_snntorch(net)``      :func:`~neurosim.io.nir.write` -> ``snntorch.import_from_nir``
``from_spikingjelly``     SpikingJelly model -> its ``export_to_nir(net, x, dt=dt)`` ->
                          ``read(..., threshold=">=")`` (SpikingJelly fires on V >= V_th)
``to_spikingjelly(net)``  ``write`` -> SpikingJelly's ``import_from_nir(graph, dt)``
========================  ===============================================================

Spike-for-spike agreement (``tests/io/test_nir.py``): a framework model that takes input step
``t`` and produces, in layer ``k`` (``k`` synaptic steps from the input), the spikes of step
``t`` corresponds to neurosim spikes in step ``t + k`` (stamp ``t + k + 1``);
:meth:`NIRNetwork.run <neurosim.io.nir.NIRNetwork.run>` undoes the offset.

What the exporters lose, refused here with a :class:`~neurosim.errors.ConfigError` instead of
a silently different network:

- snnTorch ``reset_mechanism="subtract"`` (its default) or ``"none"``: NIR resets to
  ``v_reset`` (snnTorch's importer then builds ``reset_mechanism="zero"``); use ``"zero"``.
- snnTorch ``Synaptic``, ``RLeaky``, ``RSynaptic`` with ``reset_delay=True`` (the default):
  after a spike they also hold the membrane at 0 for the next step (``mem = base - reset *
  base``), which NIR cannot express; build them with ``reset_delay=False`` (what snnTorch's
  importer builds). ``Leaky`` with ``reset_delay=True`` zeroes the membrane at the start of
  the next step and then adds that step's input, which gives the same spikes as NIR's reset
  for thresholds > 0, and is accepted.
- ``inhibition=True``, ``graded_spikes_factor != 1``, ``state_quant``, and spiking modules the
  exporter does not know (it drops them with a printed warning).
- snnTorch's exporter fails its own type check on scalar ``beta``/``threshold`` (0-d NIR
  arrays); :func:`from_snntorch` then exports without that check and lets
  :func:`~neurosim.io.nir.read` broadcast the scalars. snnTorch's importer needs one threshold
  per layer (checked by :func:`to_snntorch`).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..errors import bad
from .nir import DEFAULT_DT, NIRNetwork, read, write


def _snntorch_checks(module) -> None:
    import snntorch as snn

    known = tuple(getattr(snn, n) for n in ("Leaky", "Synaptic", "RLeaky", "RSynaptic")
                  if hasattr(snn, n))
    for name, m in module.named_modules():
        if not isinstance(m, snn.SpikingNeuron):
            continue
        owner = f"snnTorch module '{name or type(m).__name__}' ({type(m).__name__})"
        if not isinstance(m, known):
            raise bad(owner, "type", type(m).__name__, "has no NIR export in snnTorch "
                      "(supported: Leaky, Synaptic, RLeaky, RSynaptic)")
        reset = int(m.reset_mechanism_val)
        if reset != 1:
            raise bad(owner, "reset_mechanism", {0: "subtract", 2: "none"}.get(reset, reset),
                      "cannot be expressed in NIR (NIR resets to v_reset); use "
                      "reset_mechanism='zero'")
        if not isinstance(m, snn.Leaky) and getattr(m, "reset_delay", False):
            raise bad(owner, "reset_delay", True, "also holds the membrane at 0 for the step "
                      "after a spike, which NIR cannot express; use reset_delay=False")
        if m.inhibition:
            raise bad(owner, "inhibition", True, "has no NIR equivalent")
        if float(m.graded_spikes_factor) != 1.0:
            raise bad(owner, "graded_spikes_factor", float(m.graded_spikes_factor),
                      "must be 1 (NIR spikes are 0/1)")
        if m.state_quant:
            raise bad(owner, "state_quant", m.state_quant, "has no NIR equivalent")


def from_snntorch(module, sample_input, **read_options: Any) -> NIRNetwork:
    """Import an snnTorch model (``nn.Linear``, ``nn.Conv2d``, ``nn.AvgPool2d``,
    ``nn.Flatten``, ``Leaky``, ``Synaptic``, ``RLeaky``, ``RSynaptic``) through snnTorch's own
    NIR exporter.

    ``sample_input`` has a batch dimension, ``(1, *input_shape)`` (exported with
    ``ignore_dims=[0]``). The network runs at dt = 0.1 ms (snnTorch's exporter writes
    ``tau = 1e-4 s / (1 - beta)``). ``read_options`` go to :func:`~neurosim.io.nir.read`.
    """
    from snntorch.export_nir import export_to_nir

    _snntorch_checks(module)
    with warnings.catch_warnings():  # nirtorch: extract_nir_graph is deprecated (their call)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            graph = export_to_nir(module, sample_input, ignore_dims=[0])
        except ValueError as e:
            if "type mismatch" not in str(e):
                raise
            graph = _snntorch_graph_untyped(module, sample_input)
    return read(graph, DEFAULT_DT, **read_options)


def _snntorch_graph_untyped(module, sample_input):
    """snnTorch's export without its final type check, which fails on scalar ``beta`` /
    ``threshold`` (0-d NIR arrays); :func:`~neurosim.io.nir.read` gives them the size of the
    layer that feeds them."""
    import nirtorch
    import snntorch as snn
    from snntorch.export_nir import _extract_snntorch_module

    return nirtorch.extract_nir_graph(module, _extract_snntorch_module, sample_input,
                                      model_name="snntorch",
                                      ignore_submodules_of=[snn.RLeaky, snn.RSynaptic],
                                      ignore_dims=[0])


def to_snntorch(network_or_sim, **write_options: Any):
    """Export to NIR and build the snnTorch model with ``snntorch.import_from_nir``.

    The network must run at dt = 0.1 ms (snnTorch's importer assumes 1e-4 s) and use
    ``nir_lif``/``nir_cubalif`` populations with ``V_leak = 0``, one ``V_th`` per population
    and ``R = tau_m/dt`` (``w_in = tau_syn/dt``), i.e. ``V <- beta V + I``. Returns the
    ``torch.fx.GraphModule``; call it once per step with an input of shape (batch, n).
    """
    from snntorch.import_nir import import_from_nir

    graph = write(network_or_sim, **write_options)
    if abs(float(graph.metadata["dt"]) - DEFAULT_DT) > 1e-12:
        raise bad("to_snntorch", "dt", float(graph.metadata["dt"]),
                  "must be 1e-4 s (snnTorch's importer assumes it)")
    for name, node in graph.nodes.items():
        v_th = getattr(node, "v_threshold", None)
        if v_th is not None and v_th.size and not (v_th == v_th.flat[0]).all():
            raise bad(f"Population '{name}'", "V_th", "per-unit values",
                      "must be one value per population for snnTorch's importer")
    return import_from_nir(graph)


def from_spikingjelly(module, example_input, dt: float = DEFAULT_DT,
                      **read_options: Any) -> NIRNetwork:
    """Import a SpikingJelly model (``layer.Linear``, ``Conv1d``, ``Conv2d``, ``AvgPool2d``,
    ``Flatten``, ``neuron.LIFNode``, ``IFNode``, ``CUBALIFNode`` with hard reset) through its
    NIR exporter, with
    SpikingJelly's ``V >= V_th``. ``example_input`` has a batch dimension."""
    from spikingjelly.activation_based.nir_exchange import export_to_nir

    graph = export_to_nir(module, example_input, dt=dt)
    read_options.setdefault("threshold", ">=")
    return read(graph, dt, **read_options)


def to_spikingjelly(network_or_sim, dt: float | None = None, **write_options: Any):
    """Export to NIR and build the SpikingJelly model with its ``import_from_nir``. It needs
    population-wide parameters, ``V_leak = V_reset`` and ``R`` of 1 or ``tau_m/dt``; it fires on
    ``V >= V_th`` where NIR (and ``nir_lif`` by default) says ``V > V_th``. Call the returned
    module as ``out, state = m(x_t, state)``."""
    from spikingjelly.activation_based.nir_exchange import import_from_nir

    graph = write(network_or_sim, dt=dt, **write_options)
    return import_from_nir(graph, dt=float(graph.metadata["dt"]))

"""neurosim.torch: train neurosim's neuron models with surrogate gradients in PyTorch.

The only part of neurosim that imports torch. The models declare their step once, as array
operations next to their Numba kernel (``NeuronSpec.array_step``); this package runs that
step on tensors, so a trained network is the engine's network, step for step.

Public API
----------
``NeuronLayer(model, size, dt, params=None, surrogate="fast_sigmoid", dtype=torch.float32,
*, scale=None, learn=(), detach_reset=False)``
    One population of a trainable model (``iaf_psc_exp``, ``iaf_psc_delta``,
    ``iaf_psc_alpha``, ``alif_psc_exp``); ``initial_state(batch) -> state``,
    ``forward(inp, state=None, i_ext=None) -> (spikes, state)`` for one step, batch-first
    ``(batch, size)`` per port;
    ``model_params()`` (the engine parameters, learned values included).
``SpikingMLP(sizes, model="iaf_psc_exp", dt=1.0, params=None, surrogate="fast_sigmoid",
dtype=torch.float32, *, scale=None, learn=(), detach_reset=False, port=None,
weight_scale=1.0)``
    ``Linear -> NeuronLayer -> ...`` without biases; ``forward(x (T, batch, n_in), state=None)
    -> StackOutput(spikes, v, layers, state)``; ``to_network(inputs=None, ...) ->
    neurosim.Network``; ``SpikingMLP.from_network(net, layers, dt, **kwargs)``.
``StackOutput``
    ``spikes`` and ``v`` of the output layer ``(T, batch, n_out)``, ``layers`` (spikes of
    every layer), ``state`` (final states).
``raster_to_times(x, dt)``, ``engine_raster(sim, pop, n_steps)``
    Between ``(T, n)`` spike rasters and the engine's spike trains / spike monitors.
``spike_function(surrogate, scale)``, ``FastSigmoid``, ``ArcTan``, ``Triangle``,
``SURROGATES``
    Surrogate-gradient spike functions (:mod:`neurosim.torch.surrogate`).
``harness``
    Training loop and loaders (:mod:`neurosim.torch.harness`, imported on use).

Time alignment (details in :mod:`neurosim.torch.layers`): step ``k`` advances ``k dt ->
(k+1) dt``; ``x[k]`` is emitted by the inputs in step ``k`` (engine time ``(k+1) dt``); every
Linear layer is an all-to-all projection with a delay of exactly one step, so layer ``l``'s
spikes of step ``k`` arrive at layer ``l + 1`` in step ``k + 1``, in the stack as in the engine.
"""

from .layers import (
    NeuronLayer,
    SpikingMLP,
    StackOutput,
    engine_raster,
    raster_to_times,
    trainable_spec,
)
from .surrogate import SURROGATES, ArcTan, FastSigmoid, Triangle, spike_function

__all__ = [
    "SURROGATES", "ArcTan", "FastSigmoid", "NeuronLayer", "SpikingMLP", "StackOutput",
    "Triangle", "engine_raster", "raster_to_times", "spike_function", "trainable_spec",
]

"""Triplet STDP in the engine against the slow references of ``stdp_reference.py``.

The network of ``test_stdp_reference.py`` (Poisson sources -> 30 LIF neurons, plastic input
and recurrent projections with heterogeneous delays) runs 10 s with the rules ``triplet`` and
``triplet_nn``; every synapse's final weight is then recomputed from the recorded spike stamps
of its two neurons. The trace-style reference does the engine's arithmetic, so the weights
must be identical; the pair-sum reference agrees to round-off.

The amplitudes are scaled to the network's weights (pA, w_max = 60) so that 10 s move the
weights by several pA; the time constants are the paper's.
"""

from __future__ import annotations

import numpy as np
import pytest
import stdp_reference as ref
from test_stdp_reference import (
    assert_bounds,
    assert_pair_sums,
    assert_traces_identical,
    plastic_net,
    run_case,
)

import neurosim as ns

RULES = [
    # additive, the paper's visual cortex time constants (the defaults)
    ("triplet", dict(A2_plus=0.2, A3_plus=0.15, A2_minus=0.3, A3_minus=0.05, w_max=60.0)),
    # multiplicative, hippocampal-like slow constants (tau_x >> tau_y)
    ("triplet", dict(A2_plus=0.25, A3_plus=0.1, A2_minus=0.3, A3_minus=0.03, mu_plus=1.0,
                     mu_minus=1.0, w_max=60.0, tau_x=946.0, tau_y=27.0)),
    # Gütig-style weight dependence, minimal model (A2_plus = A3_minus = 0)
    ("triplet", dict(A2_plus=0.0, A3_plus=0.3, A2_minus=0.3, A3_minus=0.0, mu_plus=0.4,
                     mu_minus=0.4, w_max=60.0, tau_y=114.0)),
    # nearest spike, the paper's nearest-spike time constants (the defaults of triplet_nn)
    ("triplet_nn", dict(A2_plus=0.3, A3_plus=0.3, A2_minus=0.35, A3_minus=0.1, w_max=60.0)),
]


@pytest.fixture(scope="module", params=range(len(RULES)), ids=[
    "additive", "multiplicative", "guetig-minimal", "nearest"])
def case(request):
    return run_case(RULES, request.param)


@pytest.mark.parametrize("name", ["ff", "rec"])
def test_weights_identical_to_trace_reference(case, name):
    assert_traces_identical(case, name, ref.triplet_traces)


def test_weights_match_pair_sums(case):
    # a third of the synapses: the sums are quadratic in spikes
    assert_pair_sums(case, ref.triplet_pairs, every=3)


def test_bounds_hold(case):
    assert_bounds(case)


def test_without_triplet_terms_it_is_pair_stdp():
    """A3_plus = A3_minus = 0 is the additive pair rule: the weights of ``stdp`` with
    lambda_ = A2_plus / w_max and alpha = A2_minus / A2_plus, up to round-off (the two rules
    scale by w_max in a different order), and the network spikes identically."""
    w_max, a2p, a2m = 60.0, 0.3, 0.36
    a, _ = plastic_net("triplet", dict(A2_plus=a2p, A3_plus=0.0, A2_minus=a2m, A3_minus=0.0,
                                       tau_plus=20.0, tau_minus=20.0, w_max=w_max),
                       duration=2000.0)
    b, _ = plastic_net("stdp", dict(lambda_=a2p / w_max, alpha=a2m / a2p, w_max=w_max),
                       duration=2000.0)
    np.testing.assert_array_equal(a.spike_steps("out")[0], b.spike_steps("out")[0])
    for name in ("ff", "rec"):
        np.testing.assert_allclose(a.weights(name), b.weights(name), rtol=1e-12, atol=1e-12)


def test_parameter_sets_are_valid():
    from neurosim.models.plasticity.triplet import PARAMETER_SETS

    assert "visual_cortex_all_to_all_full" in PARAMETER_SETS
    for name, values in PARAMETER_SETS.items():
        rule = "triplet_nn" if "nearest" in name else "triplet"
        p = ns.Plasticity(rule, **values).params
        assert p["tau_plus"] == 16.8 and p["tau_minus"] == 33.7
    # the defaults are the full visual cortex sets
    assert ns.Plasticity("triplet").params == {
        **ns.Plasticity("triplet").params, **PARAMETER_SETS["visual_cortex_all_to_all_full"]}
    assert ns.Plasticity("triplet_nn").params == {
        **ns.Plasticity("triplet_nn").params, **PARAMETER_SETS["visual_cortex_nearest_full"]}

"""neurosim's Song, Miller & Abbott (2000) experiment against Brian2's STDP example.

The Brian2 side is ``experiments/song2000.py`` (``examples/synapses/STDP.py``; runtime Cython
target, numpy if Cython cannot compile). Two checks:

1. Same inputs, same model: neurosim seed 1 runs 20 s; its 1,000 input spike trains and
   initial weights go to Brian2 in neurosim's discrete-time conventions (variant ``mapped``:
   the presynaptic pathway depresses, then hands the new weight to a buffer that enters ``ge``
   right after the next step's state update, i.e. a one-step delay; ``v >= vt``; v(0) = vr).
   The output spikes must be identical and the final weights agree to round-off: the neuron,
   the synapse and the additive STDP rule are Brian2's example, step for step.
2. Statistics against the example as published (variant ``example``: delay 0, the weight sent
   before the depression of the same spike, ``v > vt``, v(0) = 0 mV), from independent random
   draws: seeds 1-6 of neurosim and 1-3 of Brian2 (the slow side), 100 s. The median of the
   Kolmogorov-Smirnov distances between a neurosim and a Brian2 final weight distribution
   (18 pairs) must be no larger than the largest distance between two Brian2 seeds (3 pairs):
   neurosim is as close to Brian2 as Brian2 is to itself. The median, not the mean: single
   seeds scatter (one of neurosim seeds 1-12 is 0.049 from Brian2, the others 0.025-0.034), so
   a mean over 3 seeds passed or failed by the luck of the seeds (~60 % pass for either of our
   Poisson generators over 40 seeds, whose mean distance to Brian2 is 0.0297 +- 0.0047 against
   0.029 between Brian2 seeds). Measured: Brian2-Brian2 0.028-0.030; neurosim-Brian2 over
   seeds 1-12 mean 0.0306, neurosim-neurosim mean 0.0301. Each distance must also stay below
   the 5 % critical value of the two-sample KS test for 1,000 values, 0.061, and both tools'
   runs must be bimodal and settle at the same rate.

Slow: ~2 minutes with Brian2's Cython target and a warm cache on an idle machine (its first
run compiles for ~1 minute more; with numpy, if Cython cannot compile, ~4 minutes).
"""

from __future__ import annotations

import statistics

import pytest

pytest.importorskip("brian2")
pytestmark = pytest.mark.slow  # (Brian2's pyparsing warnings: filtered in pyproject.toml)

SEEDS = (1, 2, 3)          # Brian2
SEEDS_NS = (1, 2, 3, 4, 5, 6)  # neurosim (cheap)
T = 100.0  # s


@pytest.fixture(scope="module")
def exp(experiment):
    return experiment("song2000")


@pytest.fixture(scope="module")
def target(exp):
    return exp.usable_target("cython")


def test_same_inputs_identical_spikes(exp, target):
    e = exp.exact_check(20.0, target)
    assert e["n_input_spikes"] > 10_000 * e["duration_s"] and e["n_spikes_neurosim"] > 200
    assert e["identical_spikes"], e
    assert e["max_abs_dw_over_wmax"] < 1e-9, e


def test_weight_distribution_as_close_as_brian2_seeds(exp, target):
    ours = [exp.run_neurosim(s, T) for s in SEEDS_NS]
    theirs = [exp.run_brian2(s, T, "example", target) for s in SEEDS]
    ns_b2 = exp.ks_pairs(ours, theirs)
    b2_b2 = exp.ks_pairs(theirs)
    msg = f"KS neurosim-Brian2 {ns_b2}, Brian2-Brian2 {b2_b2}"
    assert statistics.median(ns_b2) <= max(b2_b2), msg
    assert max(ns_b2) < exp.ks_critical(1000), msg
    for r in ours + theirs:  # both tools reproduce the experiment on their own
        assert r["frac_low"] > 0.22 and r["frac_high"] > 0.12, r
        assert 15.0 < r["rate_last20_Hz"] < 30.0, r
    rate = {name: statistics.fmean(r["rate_last20_Hz"] for r in runs)
            for name, runs in (("neurosim", ours), ("brian2", theirs))}
    assert abs(rate["neurosim"] - rate["brian2"]) < 3.0, rate

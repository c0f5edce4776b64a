"""Smoke test of experiments/bench_variants.py: both variants run side by side and the
figures it writes are consistent with each other."""

from __future__ import annotations

import json

import pytest

from neurosim.kernels.clock import COUNTS


@pytest.fixture(scope="module")
def bench(experiment):
    return experiment("bench_variants")


@pytest.mark.parametrize("compare,names", [("threads", ["1 thread", "2 threads"]),
                                           ("ring", ["ring", "jumps"]),
                                           ("per_unit", ["shared", "per unit"]),
                                           ("noise", ["no noise", "noise"])])
def test_bench_variants_writes_consistent_figures(bench, compare, names, tmp_path,
                                                  force_split):
    out = tmp_path / "t.json"
    r = bench.main(["--compare", compare, "--n", "400", "--rounds", "3", "--piece-ms", "20",
                    "--delay", "0.3", "--json", str(out)])
    assert json.loads(out.read_text()) == r
    assert r["variants"] == names
    base, cand = (r["loop_per_bio_s"][n] for n in names)
    assert len(base) == len(cand) == 3 and min(base + cand) > 0
    assert r["speedup_per_round"] == pytest.approx(
        [a / b for a, b in zip(base, cand, strict=True)])
    assert r["speedup_min"] <= r["speedup_median"] <= r["speedup_max"]
    assert r["speedup_best"] == pytest.approx(min(base) / min(cand))
    if compare == "threads":
        assert r["parallel"] == {"1 thread": False, "2 threads": True}  # force_split
        assert r["thread_spread"]["1 thread"] == []
        if COUNTS:  # one figure per call of the two-thread loop, each >= 1
            assert len(r["thread_spread"]["2 threads"]) >= 3
            assert min(r["thread_spread"]["2 threads"]) >= 1.0
    elif compare == "per_unit":  # the same dynamics, six coefficients per unit
        assert r["spikes"]["shared"] == r["spikes"]["per unit"] > 0
        extra = 6 * 8 * 400  # bytes of six float64 rows over the 400 neurons
        assert (r["memory_bytes"]["per unit"]["neurons"]
                == r["memory_bytes"]["shared"]["neurons"] + extra - 6 * 8 * 2)
    elif compare == "noise":  # the same structures; the noise moves some spikes
        assert r["noise_std_pA"] == 1.0 and r["memory_bytes"]["noise"] == \
            r["memory_bytes"]["no noise"]
        assert r["spikes"]["noise"] > 0 and r["spikes"]["no noise"] > 0
    else:  # CUBA's four projections jump (3 steps) in the candidate only, which has no ring
        assert r["jumps"] == {"ring": 0, "jumps": 4}
        assert r["memory_bytes"]["jumps"]["ring"] == 0 < r["memory_bytes"]["ring"]["ring"]

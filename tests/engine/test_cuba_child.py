"""The neurosim child of experiments/bench_cuba.py runs and reports consistent figures (the
driver's peers are exercised by tests/reference/test_peers.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).resolve().parents[2] / "experiments" / "peers" / "cuba_neurosim.py"


@pytest.mark.parametrize("threads", [1, 2])
def test_cuba_child_reports_one_consistent_row(threads):
    out = subprocess.run([sys.executable, str(CHILD), "--n", "600", "--T", "0.05",
                          "--threads", str(threads)], capture_output=True, text=True,
                         check=True, timeout=300)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["tool"] == ("neurosim" if threads == 1 else "neurosim-2t")
    assert row["N"] == 600 and row["T_bio_s"] == 0.05 and row["loop_s"] > 0
    assert row["spikes"] > 0 and row["events"] > row["spikes"]  # every spike has targets
    assert row["synapses"] == pytest.approx(600 * 80, rel=0.1)  # in-degree ~80 (p = 80/N)
    assert row["bytes_per_synapse_data"] > 0
    # 600 neurons are too few to split: two threads run the serial loop, nothing to balance
    assert row["parallel"] is False and row["thread_spread_median"] is None
    assert row["thread_shares"] == [1.0] + [0.0] * (threads - 1) and row["share_moves"] == 0

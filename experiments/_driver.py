"""What the benchmark drivers (``bench_cuba.py``, ``bench_stdp.py``) share: run one peer
script in a fresh process and read its JSON row, and the median of repeated rows.

The peer scripts (``experiments/peers/``) print exactly one JSON object on their last stdout
line; this module runs on the driver's side only (it imports neither neurosim nor a peer).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import time


def run_json_child(cmd: list[str], env: dict, timeout: float | None) -> dict:
    """Run ``cmd`` in its own process group; its last JSON stdout line plus ``wall_s`` (the
    whole process, interpreter start to exit), or ``{"error": ..., "wall_s": ...}`` on a
    non-zero exit, a missing row or a timeout (which kills the group: compilers, Brian2's
    binary)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return {"error": f"timeout after {timeout} s", "wall_s": time.perf_counter() - t}
    wall = time.perf_counter() - t
    row = None
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            try:
                row = json.loads(line)
                break
            except json.JSONDecodeError:
                pass
    if p.returncode != 0 or row is None:
        tail = (err or out).strip().splitlines()[-15:]
        return {"error": f"exit {p.returncode}: " + " | ".join(tail), "wall_s": wall}
    row["wall_s"] = wall
    return row


def median_row(runs: list[dict]) -> dict:
    """Per-key median of the numeric fields of several runs (other fields from the first;
    integers stay integers where every run gave one)."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            vals = [r[k] for r in runs if isinstance(r.get(k), int | float)]
            out[k] = statistics.median(vals)
            if isinstance(v, int) and all(isinstance(x, int) for x in vals):
                out[k] = int(round(out[k]))
    return out

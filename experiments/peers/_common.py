"""Shared pieces of the CUBA peer scripts: parameters, command line, peak RSS, JSON output.

Every peer script (``cuba_neurosim.py``, ``cuba_brian2.py``, ``cuba_nest.py``) runs one
(N, T) case in its own process and prints exactly one JSON object on its last stdout line;
``experiments/bench_cuba.py`` starts them and collects those lines.

The CUBA parameters are written here as plain numbers (not imported from neurosim) so that
the Brian2 and NEST processes never load neurosim or Numba, which would distort their
import time and memory. They are the values of ``neurosim.models.networks.cuba``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

#: process start as seen by the peer (first statement of the script importing this module)
T0 = time.perf_counter()

# --- CUBA (Vogels & Abbott 2005; Brette et al. 2007 benchmark 2), NEST units ---------------
C_M = 250.0            # pF
TAU_M = 20.0           # ms
TAU_SYN_EX = 5.0       # ms
TAU_SYN_IN = 10.0      # ms
T_REF = 5.0            # ms
E_L = -49.0            # mV
V_TH = -50.0           # mV
V_RESET = -60.0        # mV
W_EXC_MV, W_INH_MV = 1.62, -9.0           # Brian2's we, wi (jumps of ge, gi in mV)
W_EXC_PA = W_EXC_MV * C_M / TAU_M         # 20.25 pA
W_INH_PA = W_INH_MV * C_M / TAU_M         # -112.5 pA
DT = 0.1               # ms
K_TOTAL = 80.0         # expected in-degree: p = K_TOTAL / N


def n_exc(n: int) -> int:
    return int(round(0.8 * n))


def p_connect(n: int) -> float:
    return K_TOTAL / n


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--n", type=int, default=4000, help="number of neurons")
    ap.add_argument("--T", type=float, default=1.0, help="biological time, seconds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--delay", type=float, default=0.1, help="synaptic delay, ms")
    ap.add_argument("--record", choices=("memory", "none", "file"), default="memory",
                    help="spikes: kept in memory (default), not recorded, or written to --out")
    ap.add_argument("--out", default=None, help="result file for --record file")
    return ap


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size (MiB) so far of this process (or of its waited-for children)."""
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def current_rss_mb() -> float:
    """Resident set size (MiB) now (Linux ``/proc/self/status``; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def out_degree_events(degree, ids) -> int:
    """Synaptic events: the sum over spikes of the out-degree of the spiking neuron."""
    import numpy as np

    degree = np.asarray(degree, dtype=np.int64)
    return int(degree[np.asarray(ids, dtype=np.int64)].sum()) if len(ids) else 0


def emit(row: dict) -> None:
    """Print the result row as one JSON line (the last line of stdout)."""
    row.setdefault("process_s", time.perf_counter() - T0)
    sys.stdout.flush()
    print(json.dumps(row), flush=True)

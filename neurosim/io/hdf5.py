"""Results as HDF5 (SONATA-style spike groups).

Layout (``format_version`` 1)::

    /                      attrs: format="neurosim-recording", format_version, neurosim version,
                                  dt (ms), seed, t_stop (ms), complete (bool)
    /spikes/<population>/  timestamps (float64, ms), node_ids (uint32);
                           attrs: units="ms", sorting="by_time", n_neurons
    /state/<pop>/<var>     times (float64, ms), values (float64, n_times x n_recorded),
                           attrs: recorded_ids

The file is written to a temporary name and moved into place, so an existing result is never
replaced by half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from .. import __version__
from ..errors import bad

FORMAT = "neurosim-recording"
FORMAT_VERSION = 1


def save(sim, path, overwrite: bool = False, extra: dict | None = None) -> Path:
    """Write every monitor of ``sim`` to ``path``; refuse to clobber unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise bad("save", "path", str(path), "exists (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(format=FORMAT, format_version=FORMAT_VERSION,
                           neurosim_version=__version__, dt=sim.dt, seed=sim.seed,
                           t_stop=sim.t, complete=True)
            for key, val in (extra or {}).items():
                f.attrs[key] = val
            for pop in sim._spike_mons:
                t, i = sim.spikes(pop)
                g = f.create_group(f"spikes/{pop}")
                g.attrs.update(units="ms", sorting="by_time", n_neurons=sim.network.pops[pop].size)
                g.create_dataset("timestamps", data=t, compression="gzip", shuffle=True)
                g.create_dataset("node_ids", data=i.astype(np.uint32), compression="gzip",
                                 shuffle=True)
            for (pop, var), m in sim._state_mons.items():
                t, v = sim.state(pop, var)
                g = f.create_group(f"state/{pop}/{var}")
                g.attrs["recorded_ids"] = m["idx"]
                g.create_dataset("times", data=t)
                g.create_dataset("values", data=v, compression="gzip")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_spikes(path, pop: str) -> tuple[np.ndarray, np.ndarray]:
    """(times in ms, node ids) of population ``pop`` in a result file."""
    with h5py.File(path, "r") as f:
        g = f[f"spikes/{pop}"]
        return g["timestamps"][()], g["node_ids"][()].astype(np.int64)

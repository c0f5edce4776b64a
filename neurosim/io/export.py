"""Export recorded spikes to the formats of the wider field (optional extra ``io``).

- NWB (``pynwb``): one row per unit in the ``units`` table, spike times in seconds, with
  ``population`` and ``node_id`` columns; readable by DANDI tools and spikeinterface.
- NIR recorded data (``nir``): a ``NIRGraphData`` with one ``NIRNodeData`` per population,
  whose ``"spikes"`` observable is an ``EventData`` (times in seconds, NIR's convention).
"""

from __future__ import annotations

import datetime as _dt
import uuid
from pathlib import Path

import numpy as np

from ..errors import bad


def _by_unit(t_ms: np.ndarray, ids: np.ndarray, size: int):
    """Spike times (s) of each unit 0..size-1, in time order."""
    order = np.lexsort((t_ms, ids))
    bounds = np.searchsorted(ids[order], np.arange(size + 1))
    t_s = t_ms[order] / 1000.0
    return [t_s[bounds[u]:bounds[u + 1]] for u in range(size)]


def to_nwb(res, path, overwrite: bool = False) -> Path:
    """Write the spikes of a :class:`~neurosim.io.hdf5.Results` to an NWB file."""
    from pynwb import NWBHDF5IO, NWBFile

    path = Path(path)
    if path.exists() and not overwrite:
        raise bad("to_nwb", "path", str(path), "exists (pass overwrite=True)")
    start = _dt.datetime.fromisoformat(res.meta.get("created", "1970-01-01T00:00:00+00:00"))
    nwb = NWBFile(session_description=f"neurosim simulation: {res.meta.get('command', '')}",
                  identifier=str(uuid.uuid4()), session_start_time=start,
                  source_script="neurosim " + str(res.meta.get("neurosim_version")),
                  source_script_file_name="neurosim",  # NWB requires it with source_script
                  notes=f"dt = {res.dt} ms, seed = {res.meta.get('seed')}, status = "
                        f"{res.status}")
    nwb.add_unit_column("population", "neurosim population of the unit")
    nwb.add_unit_column("node_id", "index of the unit in its population")
    for pop in res.populations:
        t, i = res.spikes(pop)
        size = res.network["populations"][pop]["size"]
        for node, times in enumerate(_by_unit(t, i, size)):
            nwb.add_unit(spike_times=times, population=pop, node_id=node)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def to_nir_data(res):
    """A ``nir.NIRGraphData``: per population, ``{"spikes": EventData}`` in seconds."""
    from nir.data_ir import EventData, NIRGraphData, NIRNodeData

    nodes = {}
    for pop in res.populations:
        t, i = res.spikes(pop)
        size = res.network["populations"][pop]["size"]
        nodes[pop] = NIRNodeData({"spikes": EventData(
            idx=i[None, :].astype(np.int64), time=(t / 1000.0)[None, :], n_neurons=size,
            t_max=res.t_flushed / 1000.0)})
    return NIRGraphData(nodes)

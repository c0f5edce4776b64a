"""Recording to HDF5: one versioned schema, streamed while the run goes, readable after a crash.

Layout (``format_version`` 4)::

    /                          attrs: format = "neurosim-recording", format_version,
                                      neurosim_version, numpy_version, numba_version, h5py_version,
                                      dt (ms), seed, time_unit = "ms", command, created,
                                      network (JSON: every population, parameter with its unit,
                                      projection, stimulus and monitor); at the end also
                                      finished (ISO time) and t_stop (ms)
    /parameters/<pop>/<name>   float64 (n_units,): a parameter given per unit (arrays,
                               distributions as drawn), its values when the recording
                               started; attrs unit (population-wide values are in
                               ``network``)
    /status                    int8 scalar: 0 running (a reader of a killed run sees this),
                               1 complete, 2 interrupted (the run raised)
    /t_flushed                 float64 scalar: biological time (ms) up to which every
                               recorded quantity is in the file
    /spikes/<pop>/time_steps   int64 (n_spikes,): stamp k + 1 of the step k of each spike;
                               time = time_steps * dt (ms)
    /spikes/<pop>/node_ids     uint32 (n_spikes,); attrs n_neurons, sorting = "by_time"
    /state/<pop>/<var>/values  float64 (n_samples, n_recorded); attrs unit
    /state/<pop>/<var>/time_steps   int64 (n_samples,)
    /state/<pop>/<var>/recorded_ids int64 (n_recorded,)
    /weights/<proj>/values     float64 (n_samples, n_recorded): a weight monitor's samples;
                               /weights/<proj>/time_steps int64 (n_samples,) (sample at stamp
                               T: every plasticity event of spikes up to T applied);
                               /weights/<proj>/{synapse_ids, pre, post} (n_recorded,): CSR
                               index (order sorted by (pre, post)), source and target
    /arrays/<name>             user-supplied arrays (written when the recording closes)

Streaming: growing datasets are chunked (64 Ki elements for spike columns) and compressed
(gzip + shuffle). Monitors hand their data over once per run chunk; the recorder buffers it
and writes whole chunks only (small appends into compressed datasets bloat files several
times over). Every ``flush_every`` ms of biological time it also writes the partial chunks,
updates ``/t_flushed`` and flushes the file. The file is in HDF5's single-writer /
multiple-reader (SWMR) mode during the run, so a reader can follow a live run and a run killed
with SIGKILL leaves a file that opens and holds everything up to the last flush, with
``/status`` = 0.

Writing never clobbers: an existing file is refused unless ``overwrite=True``; then the new
recording goes to ``<path>.partial`` and replaces the old file only when it closes, so a full
disk or a crash leaves the earlier file intact. A failed write (disk full) raises
:class:`RecordingError` at once and stops the recording (a ``.partial`` file is removed); the
simulation itself can go on. Known limitation: HDF5 cannot close a file whose metadata it
could not write, and its library teardown may then crash the process at exit; the command
line therefore ends such a run with ``os._exit(2)`` after printing the error.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from pathlib import Path

import h5py
import numpy as np

from .. import __version__
from ..errors import bad

FORMAT = "neurosim-recording"
FORMAT_VERSION = 4  # 4: /parameters
STATUS = {0: "running", 1: "complete", 2: "interrupted"}
SPIKE_CHUNK = 1 << 16


class RecordingError(OSError):
    """The result file could not be written (disk full, unwritable path, ...)."""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class _Series:
    """A dataset that grows along axis 0, written in whole chunks.

    Rows are buffered; a full buffer (one chunk of rows) is written at ``base``, the
    chunk-aligned offset of the buffer in the dataset. ``flush`` also writes a partial buffer,
    but keeps it, so the next write rewrites that one chunk instead of starting a new,
    misaligned one.
    """

    def __init__(self, group, name, dtype, row_shape=(), rows_per_chunk=SPIKE_CHUNK,
                 compression=4):
        self.ds = group.create_dataset(
            name, shape=(0, *row_shape), maxshape=(None, *row_shape), dtype=dtype,
            chunks=(rows_per_chunk, *row_shape),
            compression="gzip" if compression else None,
            compression_opts=compression or None, shuffle=bool(compression))
        self.buf = np.empty((rows_per_chunk, *row_shape), dtype)
        self.fill = 0
        self.base = 0

    def append(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        while len(x):
            take = min(len(x), len(self.buf) - self.fill)
            self.buf[self.fill:self.fill + take] = x[:take]
            self.fill += take
            x = x[take:]
            if self.fill == len(self.buf):
                self._write()
                self.base += self.fill
                self.fill = 0

    def flush(self) -> None:
        if self.fill:
            self._write()

    def _write(self) -> None:
        end = self.base + self.fill
        if self.ds.shape[0] != end:
            self.ds.resize(end, axis=0)
        self.ds[self.base:end] = self.buf[:self.fill]

    def read(self) -> np.ndarray:
        """Everything appended so far (file part and buffer)."""
        return np.concatenate([self.ds[:self.base], self.buf[:self.fill]])


class Recorder:
    """Streams the monitors of a :class:`~neurosim.simulation.Simulation` into one HDF5 file.

    Made by :meth:`Simulation.record`; use it as a context manager, or call :meth:`close`.
    The recording is *complete* once it closes normally.

    Parameters
    ----------
    path : the result file (``.h5``).
    overwrite : replace an existing file (at close; until then it is left intact).
    flush_every : ms of biological time between flushes to disk (partial chunks, SWMR flush).
    compression : gzip level 0-9 (0: none).
    command : the command line to store (default: ``sys.argv``).

    Every monitor of the network is recorded: spikes, state variables and weights
    (``Network.weight_monitor``).
    """

    def __init__(self, sim, path, overwrite: bool = False, flush_every: float = 1000.0,
                 compression: int = 4, command=None):
        self.sim = sim
        self.path = Path(path)
        if not (np.isfinite(flush_every) and flush_every > 0):
            raise bad("Recorder", "flush_every", flush_every, "must be > 0 (ms)")
        if not (isinstance(compression, int) and 0 <= compression <= 9):
            raise bad("Recorder", "compression", compression, "must be an integer 0-9")
        if self.path.is_dir():
            raise bad("Recorder", "path", str(self.path), "is a directory")
        if self.path.exists() and not overwrite:
            raise bad("Recorder", "path", str(self.path),
                      "exists; pass overwrite=True (--overwrite) to replace it")
        self._target = self.path
        self._file_path = (self.path.with_name(self.path.name + ".partial")
                           if self.path.exists() else self.path)
        self.flush_every_steps = max(1, int(round(flush_every / sim.dt)))
        self._next_flush = sim.k + self.flush_every_steps
        self._arrays: dict[str, np.ndarray] = {}
        self.closed = False
        try:
            self._create(compression, command)
        except OSError as e:
            self._cleanup_partial()
            raise RecordingError(f"Recorder: cannot create '{self._file_path}': {e}") from e

    # ------------------------------------------------------------------------------ layout
    def _create(self, compression, command):
        import numba

        sim = self.sim
        self._file_path.parent.mkdir(parents=True, exist_ok=True)
        f = self.f = h5py.File(self._file_path, "w", libver="latest")
        f.attrs.update(
            format=FORMAT, format_version=FORMAT_VERSION, neurosim_version=__version__,
            numpy_version=np.__version__, numba_version=numba.__version__,
            h5py_version=h5py.__version__, dt=sim.dt, seed=sim.seed, time_unit="ms",
            t_start=sim.t, created=_now(),
            command=" ".join(map(str, sys.argv if command is None else command)),
            network=json.dumps(sim.network.describe()))
        for name, cp in sim._pops.items():
            for k, v in (cp.values.items() if cp.is_neuron else ()):
                if isinstance(v, np.ndarray):
                    d = f.create_dataset(f"parameters/{name}/{k}", data=v, compression="gzip")
                    d.attrs["unit"] = cp.pop.spec.param(k).unit
        self._status = f.create_dataset("status", data=np.int8(0))
        self._t_flushed = f.create_dataset("t_flushed", data=np.float64(sim.t))
        self._spikes = {}
        for pop in sim._spike_mons:
            g = f.create_group(f"spikes/{pop}")
            g.attrs.update(n_neurons=sim.network.pops[pop].size, sorting="by_time")
            self._spikes[pop] = (_Series(g, "time_steps", np.int64, compression=compression),
                                 _Series(g, "node_ids", np.uint32, compression=compression))
        self._state = {}
        for (pop, var), m in sim._state_mons.items():
            g = f.create_group(f"state/{pop}/{var}")
            n = m["idx"].size
            rows = max(1, min(4096, (1 << 17) // max(n, 1)))
            g.attrs["unit"] = next(s.unit for s in sim.network.pops[pop].spec.state
                                   if s.name == var)
            g.create_dataset("recorded_ids", data=m["idx"])
            self._state[(pop, var)] = (
                _Series(g, "time_steps", np.int64, rows_per_chunk=rows, compression=compression),
                _Series(g, "values", np.float64, (n,), rows, compression))
        self._wseries = {}
        for name, m in sim._weight_mons.items():
            idx = m["idx"]
            pre, post = sim.synapses(name)
            g = f.create_group(f"weights/{name}")
            g.create_dataset("synapse_ids", data=idx, compression="gzip")
            g.create_dataset("pre", data=pre[idx].astype(np.uint32), compression="gzip")
            g.create_dataset("post", data=post[idx].astype(np.uint32), compression="gzip")
            rows = max(1, min(4096, (1 << 17) // max(idx.size, 1)))
            self._wseries[name] = (
                _Series(g, "time_steps", np.int64, rows_per_chunk=rows, compression=compression),
                _Series(g, "values", np.float64, (idx.size,), rows, compression))
        f.swmr_mode = True  # from here on, no new objects; readers may follow
        f.flush()

    # ---------------------------------------------------------------------- data from runs
    def write_spikes(self, pop: str, stamps: np.ndarray, ids: np.ndarray) -> None:
        t, i = self._spikes[pop]
        self._guard(t.append, stamps)
        self._guard(i.append, ids.astype(np.uint32))

    def write_state(self, pop: str, var: str, stamps: np.ndarray, values: np.ndarray) -> None:
        t, v = self._state[(pop, var)]
        self._guard(t.append, stamps)
        self._guard(v.append, values)

    def write_weights(self, proj: str, stamps: np.ndarray, values: np.ndarray) -> None:
        t, v = self._wseries[proj]
        self._guard(t.append, stamps)
        self._guard(v.append, values)

    def after_chunk(self) -> None:
        """Called by the simulation after every run chunk: timed flushes."""
        if self.sim.k >= self._next_flush:
            self.flush()
            while self._next_flush <= self.sim.k:
                self._next_flush += self.flush_every_steps

    def flush(self) -> None:
        """Write partial chunks, record how far the file is complete, flush to disk."""
        series = [s for pair in (*self._spikes.values(), *self._state.values(),
                                 *self._wseries.values()) for s in pair]
        for s in series:
            self._guard(s.flush)
        self._guard(self.f.flush)  # the data first ...
        self._t_flushed[()] = self.sim.t
        self._guard(self.f.flush)  # ... then the claim that it is there

    def _guard(self, fn, *args):
        if self.closed:
            raise RecordingError(f"Recorder: '{self._file_path}' is closed")
        try:
            fn(*args)
            return
        except (OSError, RuntimeError) as e:  # h5py reports failed flushes as RuntimeError
            why = str(e).splitlines()[0]
        # outside the handler, so that h5py's exception and its frames (which hold dataset
        # handles) are gone before the file is closed
        self._fail()
        raise RecordingError(f"Recorder: writing '{self._file_path}' failed: {why}"
                             + (f"; '{self._target}' was left as it was"
                                if self._file_path != self._target else ""))

    def _fail(self):
        """After a failed write (disk full, ...): stop writing, never touch the file again
        except to drop a ``.partial`` one; the simulation keeps running without recorder."""
        self.closed = True
        # drop every dataset handle before the file: HDF5 crashes at exit when handles into a
        # file whose writes failed are released after it
        for pair in (*self._spikes.values(), *self._state.values(), *self._wseries.values()):
            for series in pair:
                series.ds = None
        self._status = self._t_flushed = None
        try:
            self.f.close()
        except Exception:  # noqa: BLE001 - the file is already broken; closing is best effort
            pass
        self._cleanup_partial()
        if getattr(self.sim, "_recorder", None) is self:
            self.sim._recorder = None

    def add_array(self, name: str, data) -> None:
        """Store a user array as ``/arrays/<name>`` when the recording closes."""
        if not (isinstance(name, str) and name.isidentifier()):
            raise bad("Recorder.add_array", "name", name, "must be an identifier")
        self._arrays[name] = np.asarray(data)

    # ----------------------------------------------------------------------- reading back
    def spike_steps(self, pop):
        t, i = self._spikes[pop]
        return t.read(), i.read().astype(np.int32)

    def state_steps(self, pop, var):
        t, v = self._state[(pop, var)]
        return t.read(), v.read()

    def weight_steps(self, proj):
        t, v = self._wseries[proj]
        return t.read(), v.read()

    # ----------------------------------------------------------------------------- closing
    def close(self, status: str = "complete") -> Path:
        """Flush everything, mark the file ``status`` and move it into place."""
        if self.closed:
            return self._target
        code = {v: k for k, v in STATUS.items()}[status]
        self.flush()
        self._guard(self._finish, code)
        self.closed = True
        if self._file_path != self._target:
            os.replace(self._file_path, self._target)
        if getattr(self.sim, "_recorder", None) is self:
            self.sim._recording_closed(self._target)
        return self._target

    def _finish(self, code):
        self._status[()] = code
        self.f.close()
        with h5py.File(self._file_path, "r+") as f:
            f.attrs.update(finished=_now(), t_stop=self.sim.t)
            for name, data in self._arrays.items():
                f.create_dataset(f"arrays/{name}", data=data)

    def _cleanup_partial(self):
        if self._file_path != self._target and self._file_path.exists():
            self._file_path.unlink()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close("complete" if exc_type is None else "interrupted")
        return False


# ------------------------------------------------------------------------------- reading
class Results:
    """A result file, read lazily: nothing but the metadata is loaded until asked for.

    Attributes
    ----------
    meta : the root attributes (dt, seed, versions, command, ...).
    network : the network description (a dict).
    status : "complete", "running" (a killed or still running run) or "interrupted".
    complete : status == "complete".
    t_flushed : ms of biological time the file holds completely.
    """

    def __init__(self, path):
        self.path = Path(path)
        with self._open() as f:
            if f.attrs.get("format") != FORMAT:
                raise bad("load", "path", str(path), "is not a neurosim recording")
            self.meta = {k: (v.item() if isinstance(v, np.generic) else v)
                         for k, v in f.attrs.items() if k != "network"}
            self.network = json.loads(f.attrs["network"])
            self.status = STATUS[int(f["status"][()])]
            self.t_flushed = float(f["t_flushed"][()])
            self.populations = sorted(f["spikes"]) if "spikes" in f else []
            self.state_vars = ([(p, v) for p in f["state"] for v in f["state"][p]]
                               if "state" in f else [])
            self.projections = sorted(f["weights"]) if "weights" in f else []
            self.arrays = sorted(f["arrays"]) if "arrays" in f else []
            self.per_unit = ([(p, k) for p in f["parameters"] for k in f["parameters"][p]]
                             if "parameters" in f else [])
        self.dt = float(self.meta["dt"])
        self.complete = self.status == "complete"

    def _open(self):
        try:
            return h5py.File(self.path, "r", swmr=True)
        except OSError:
            return h5py.File(self.path, "r")

    def _get(self, *keys):
        with self._open() as f:
            return tuple(f[k][()] for k in keys)

    def spike_steps(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """(stamps, node ids) of population ``pop``."""
        self._check(pop, self.populations, "population")
        t, i = self._get(f"spikes/{pop}/time_steps", f"spikes/{pop}/node_ids")
        n = min(len(t), len(i))  # a live file may have one column a flush ahead
        return t[:n], i[:n].astype(np.int64)

    def spikes(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """(times in ms, node ids) of population ``pop``."""
        t, i = self.spike_steps(pop)
        return t * self.dt, i

    def state(self, pop: str, var: str) -> tuple[np.ndarray, np.ndarray]:
        """(times in ms, values (n_samples, n_recorded)) of a state monitor."""
        self._check((pop, var), self.state_vars, "state monitor")
        base = f"state/{pop}/{var}"
        t, v = self._get(f"{base}/time_steps", f"{base}/values")
        n = min(len(t), len(v))
        return t[:n] * self.dt, v[:n]

    def recorded_ids(self, pop: str, var: str) -> np.ndarray:
        self._check((pop, var), self.state_vars, "state monitor")
        return self._get(f"state/{pop}/{var}/recorded_ids")[0]

    def weights(self, proj: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sample times in ms, values (n_samples, n_recorded), pre, post) of a weight
        monitor; ``pre``/``post`` are the recorded synapses' source and target units."""
        self._check(proj, self.projections, "projection")
        base = f"weights/{proj}"
        t, v, pre, post = self._get(f"{base}/time_steps", f"{base}/values", f"{base}/pre",
                                    f"{base}/post")
        n = min(len(t), len(v))
        return t[:n] * self.dt, v[:n], pre.astype(np.int64), post.astype(np.int64)

    def param(self, pop: str, name: str):
        """Parameter ``name`` of neuron population ``pop`` when the recording started: a
        float, or its values per unit (float64 array; a distribution as drawn)."""
        if (pop, name) in self.per_unit:
            return self._get(f"parameters/{pop}/{name}")[0]
        pops = self.network.get("populations", {})
        params = pops.get(pop, {}).get("params", {})
        self._check(name, list(params), f"parameter of population '{pop}'")
        return float(params[name]["value"])

    def array(self, name: str) -> np.ndarray:
        self._check(name, self.arrays, "array")
        return self._get(f"arrays/{name}")[0]

    def _check(self, key, known, what):
        if key not in known:
            raise bad(f"Results '{self.path.name}'", what, key,
                      f"is not in the file (available: {known})")

    def summary(self) -> str:
        """A few lines for people: what ran, how long, what was recorded."""
        net = self.network
        lines = [f"{self.path}: neurosim {self.meta.get('neurosim_version')} recording, "
                 f"format {self.meta.get('format_version')}",
                 f"  status: {self.status}; {self.t_flushed:g} ms recorded at dt = {self.dt} ms;"
                 f" seed {self.meta.get('seed')}",
                 f"  command: {self.meta.get('command', '')}"]
        for name, p in net.get("populations", {}).items():
            varied = sorted(k for q, k in self.per_unit if q == name)
            lines.append(f"  population {name}: {p.get('model', p.get('kind'))} x {p['size']}"
                         + (f" (per unit: {', '.join(varied)})" if varied else ""))
        for name, p in net.get("projections", {}).items():
            lines.append(f"  projection {name}: {p['pre']} -> {p['post']}.{p['port']} "
                         f"({p['rule']['type']})")
        for pop in self.populations:
            t, _ = self.spike_steps(pop)
            size = net["populations"][pop]["size"]
            rate = len(t) / size / (self.t_flushed / 1000) if self.t_flushed else 0.0
            lines.append(f"  spikes {pop}: {len(t):,} ({rate:.2f} Hz per unit)")
        for pop, var in self.state_vars:
            t, _ = self.state(pop, var)
            lines.append(f"  state {pop}.{var}: {len(t)} samples x "
                         f"{len(self.recorded_ids(pop, var))} units")
        lines += [f"  weights {p}" for p in self.projections]
        lines += [f"  array {a}" for a in self.arrays]
        return "\n".join(lines)


def load(path) -> Results:
    """Open a neurosim result file (see :class:`Results`)."""
    if not Path(path).is_file():
        raise bad("load", "path", str(path), "is not a file")
    return Results(path)


def save(sim, path, overwrite: bool = False) -> Path:
    """Write the in-memory monitor data of a finished run to ``path`` in one go.

    For long runs prefer streaming: ``with sim.record(path): sim.run(T)``.
    """
    rec = Recorder(sim, path, overwrite=overwrite)
    for pop in sim._spike_mons:
        rec.write_spikes(pop, *sim.spike_steps(pop))
    for pop, var in sim._state_mons:
        t, v = sim.state(pop, var)
        rec.write_state(pop, var, np.rint(t / sim.dt).astype(np.int64), v)
    for proj in sim._weight_mons:
        t, v = sim.weights_recorded(proj)
        rec.write_weights(proj, np.rint(t / sim.dt).astype(np.int64), v)
    return rec.close()

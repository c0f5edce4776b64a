"""Recording to HDF5: bit-exact round trips, crash safety, never clobbering."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import neurosim as ns
from neurosim.io.hdf5 import RecordingError, load, save


def _net(seed=4, n=300):
    net = ns.Network(seed=seed)
    net.population("exc", "iaf_psc_exp", n, V_m=ns.Uniform(-70, -55), tau_m=15.0)
    net.population("inh", "izhikevich", n // 4, I_e=4.0)
    net.poisson("noise", 100, rate=30.0)
    net.connect("noise", "exc", ns.fixed_prob(0.2), weight=ns.Normal(250.0, 20.0), delay=1.0)
    net.connect("exc", "inh", ns.fixed_indegree(10), weight=2.0, delay=ns.Uniform(0.5, 3.0))
    net.connect("inh", "exc", ns.fixed_prob(0.1), weight=-40.0, delay=0.8, port="inh")
    net.spike_monitor("exc")
    net.spike_monitor("inh")
    net.spike_monitor("noise")
    net.state_monitor("exc", "V_m", indices=[0, 5, 7], every=3)
    net.state_monitor("inh", "U_m", every=10)
    return net


def _assert_same(sim, res):
    for pop in ("exc", "inh", "noise"):
        a, b = sim.spike_steps(pop), res.spike_steps(pop)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    for pop, var in (("exc", "V_m"), ("inh", "U_m")):
        a, b = sim.state(pop, var), res.state(pop, var)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])  # bit for bit


@pytest.mark.parametrize("flush_every,chunk", [(7.3, 2.0), (100.0, 100.0), (1e6, 33.0)])
def test_streamed_file_equals_memory_bit_for_bit(tmp_path, flush_every, chunk):
    ref = _net().compile(dt=0.1).run(600.0, chunk=chunk)
    sim = _net().compile(dt=0.1)
    with sim.record(tmp_path / "r.h5", flush_every=flush_every) as rec:
        sim.run(250.0, chunk=chunk)
        sim.run(350.0, chunk=chunk)
        assert rec.path.exists()
    res = load(tmp_path / "r.h5")
    assert res.complete and res.status == "complete" and res.t_flushed == 600.0
    assert sum(len(res.spike_steps(p)[0]) for p in ("exc", "inh")) > 500
    _assert_same(ref, res)
    _assert_same(ref, sim)  # the simulation reads streamed data back from the file
    np.testing.assert_array_equal(res.recorded_ids("exc", "V_m"), [0, 5, 7])


def test_save_after_the_run_equals_streaming(tmp_path):
    sim = _net().compile(dt=0.1).run(300.0)
    save(sim, tmp_path / "s.h5")
    _assert_same(sim, load(tmp_path / "s.h5"))


def test_metadata_network_weights_arrays(tmp_path):
    net = _net()
    net.weight_monitor("exc_to_inh", every=100.0)
    sim = net.compile(dt=0.1)
    with sim.record(tmp_path / "m.h5", command=["neurosim", "run", "x"]) as rec:
        sim.run(250.0)
        rec.add_array("labels", np.arange(5))
    res = load(tmp_path / "m.h5")
    assert res.meta["dt"] == 0.1 and res.meta["seed"] == 4
    assert res.meta["command"] == "neurosim run x" and res.meta["format_version"] == 4
    assert res.meta["neurosim_version"] == ns.__version__ and res.meta["t_stop"] == 250.0
    exc = res.network["populations"]["exc"]
    assert exc["model"] == "iaf_psc_exp" and exc["params"]["tau_m"] == {"value": 15.0,
                                                                         "unit": "ms"}
    assert res.network["projections"]["inh_to_exc"]["port"] == "inh"
    assert res.network["projections"]["noise_to_exc"]["weight"]["distribution"] == "Normal"
    t, w, pre, post = res.weights("exc_to_inh")
    np.testing.assert_array_equal(t, [100.0, 200.0])
    csr = sim.projection("exc_to_inh")
    np.testing.assert_array_equal(w, [csr.weights()] * 2)
    np.testing.assert_array_equal(pre, csr.pre())
    np.testing.assert_array_equal(post, csr.post)
    np.testing.assert_array_equal(res.array("labels"), np.arange(5))
    assert "exc" in res.summary() and "complete" in res.summary()


def test_never_clobbers(tmp_path):
    path = tmp_path / "r.h5"
    sim = _net().compile(dt=0.1)
    with sim.record(path):
        sim.run(50.0)
    before = path.read_bytes()
    with pytest.raises(ns.ConfigError, match="exists"):
        _net().compile(dt=0.1).record(path)
    sim2 = _net(seed=9).compile(dt=0.1)
    rec = sim2.record(path, overwrite=True)
    sim2.run(80.0)
    assert path.read_bytes() == before  # the old file stays until the new one is complete
    rec.close()
    assert load(path).t_flushed == 80.0 and not (tmp_path / "r.h5.partial").exists()


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecordingError, match="cannot create"):
        _net().compile(dt=0.1).record(blocker / "r.h5")
    with pytest.raises(ns.ConfigError, match="directory"):
        _net().compile(dt=0.1).record(tmp_path)


def test_exception_marks_file_interrupted(tmp_path):
    sim = _net().compile(dt=0.1)
    with pytest.raises(RuntimeError), sim.record(tmp_path / "i.h5"):
        sim.run(40.0)
        raise RuntimeError("boom")
    res = load(tmp_path / "i.h5")
    assert res.status == "interrupted" and res.t_flushed == 40.0


LONG_RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from io_nets import killable
    sim = killable().compile(dt=0.1)
    with sim.record({path!r}, flush_every=50.0):
        sim.run(1_000_000.0, chunk=10.0)
""")


def test_sigkill_leaves_a_readable_file_with_every_flushed_spike(tmp_path):
    """Kill -9 a long run mid-way: the file opens, says it is incomplete, and holds every
    spike up to its last flush, equal to an uninterrupted run up to that time."""
    path = tmp_path / "killed.h5"
    code = LONG_RUN.format(tests=os.path.dirname(__file__), path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        flushed = 0.0
        while time.time() < deadline and flushed < 300.0:
            time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            if path.exists():
                try:
                    with h5py.File(path, "r", swmr=True) as f:
                        flushed = float(f["t_flushed"][()])
                except OSError:
                    pass  # still being created
        assert flushed >= 300.0, "the run never flushed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    res = load(path)
    assert res.status == "running" and not res.complete
    assert res.t_flushed >= 300.0
    sys.path.insert(0, os.path.dirname(__file__))
    from io_nets import killable

    ref = killable().compile(dt=0.1).run(res.t_flushed + 200.0)
    k_end = round(res.t_flushed / 0.1)
    for pop in ("a", "src"):
        t, i = ref.spike_steps(pop)
        keep = t <= k_end
        got_t, got_i = res.spike_steps(pop)
        assert got_t.size > 100
        # everything up to the last flush is there (and possibly more, never less)
        np.testing.assert_array_equal(got_t[:keep.sum()], t[keep])
        np.testing.assert_array_equal(got_i[:keep.sum()], i[keep])


FULL_DISK = textwrap.dedent("""
    import os, resource, signal, sys
    sys.path.insert(0, {tests!r})
    from io_nets import killable
    from neurosim.io.hdf5 import RecordingError
    sim = killable().compile(dt=0.1)
    # a "disk" that is full after 64 KiB: writes beyond fail with EFBIG instead of killing us
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
    try:
        with sim.record({path!r}, overwrite=True, flush_every=20.0):
            sim.run(5000.0)
    except RecordingError as e:
        print("RecordingError:", e, flush=True)
        os._exit(3)  # HDF5 itself may crash at exit on a file it could not write (see Recorder)
    os._exit(0)
""")


def test_full_disk_is_a_clear_error_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "old.h5"
    sim = _net().compile(dt=0.1)
    with sim.record(path):
        sim.run(20.0)
    before = path.read_bytes()
    code = FULL_DISK.format(tests=os.path.dirname(__file__), path=str(path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, (r.stdout, r.stderr[-2000:])
    assert "RecordingError: Recorder:" in r.stdout and "old.h5.partial" in r.stdout
    assert path.read_bytes() == before  # the earlier result is untouched
    assert load(path).complete

"""Export of recorded spikes to NWB and to NIR's recorded-data format, read back by those
libraries themselves."""

import warnings

import numpy as np
import pytest

import neurosim as ns
from neurosim.io.export import to_nir_data, to_nwb
from neurosim.io.hdf5 import load


@pytest.fixture
def result(tmp_path):
    net = ns.Network(seed=2)
    net.poisson("p", 30, rate=50.0)
    net.population("a", "iaf_psc_delta", 20)
    net.connect("p", "a", ns.fixed_prob(0.5), weight=6.0)
    net.spike_monitor("a")
    net.spike_monitor("p")
    sim = net.compile(dt=0.1)
    with sim.record(tmp_path / "r.h5"):
        sim.run(300.0)
    return load(tmp_path / "r.h5")


def test_nwb_units_table(result, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    with warnings.catch_warnings(record=True) as caught:  # a complete file: hdmf has no
        warnings.simplefilter("always")                    # "missing required value"
        path = to_nwb(result, tmp_path / "r.nwb")
    assert not [w for w in caught if "missing required" in str(w.message)], caught
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        units = nwb.units.to_dataframe()
        assert nwb.source_script_file_name == "neurosim"
    assert len(units) == 50
    for pop in ("a", "p"):
        t, i = result.spikes(pop)
        rows = units[units.population == pop]
        for _, row in rows.iterrows():
            want = np.sort(t[i == row.node_id]) / 1000.0
            np.testing.assert_array_equal(row.spike_times, want)
    with pytest.raises(ns.ConfigError, match="exists"):
        to_nwb(result, path)


def test_nir_event_data_round_trip(result, tmp_path):
    nir = pytest.importorskip("nir")
    data = to_nir_data(result)
    nir.write_data(str(tmp_path / "r_data.h5"), data)
    back = nir.read_data(str(tmp_path / "r_data.h5"))
    for pop in ("a", "p"):
        ev = back.nodes[pop].observables["spikes"]
        t, i = result.spikes(pop)
        np.testing.assert_array_equal(ev.idx[0], i)
        np.testing.assert_allclose(ev.time[0], t / 1000.0, rtol=0, atol=1e-12)
        assert ev.n_neurons == result.network["populations"][pop]["size"]
        assert ev.t_max == pytest.approx(0.3)

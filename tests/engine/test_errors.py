"""Bad input raises ConfigError naming the object, the parameter and the value."""

import numpy as np
import pytest

import neurosim as ns
from neurosim import ConfigError


def _two_pops(**kw):
    net = ns.Network(seed=0)
    net.population("a", "iaf_psc_exp", 10)
    net.population("b", "iaf_psc_exp", 10, **kw)
    return net


@pytest.mark.parametrize("build,words", [
    (lambda: ns.Network().population("a", "iaf_psc_exp", 10, tau_m=-5.0),
     ["Population 'a'", "tau_m", "-5.0"]),
    (lambda: ns.Network().population("a", "iaf_psc_exp", 10, C_m=float("nan")),
     ["Population 'a'", "C_m", "nan"]),
    (lambda: ns.Network().population("a", "iaf_psc_exp", 0), ["Population 'a'", "size", "0"]),
    (lambda: ns.Network().population("a", "iaf_psc_exp", 2.5), ["size", "2.5"]),
    (lambda: ns.Network().population("a", "no_such_model", 3), ["model", "no_such_model"]),
    (lambda: ns.Network().population("a", "iaf_psc_exp", 3, tau=1.0), ["'a'", "tau", "1.0"]),
    (lambda: ns.Network().population("a b", "iaf_psc_exp", 3), ["name", "a b"]),
    (lambda: ns.Network().poisson("p", 3, rate=-1.0), ["PoissonInput 'p'", "rate", "-1.0"]),
    (lambda: ns.Network().spike_train("s", 2, times=[1.0], indices=[2]),
     ["SpikeTrain 's'", "indices"]),
    (lambda: ns.Network(seed=-1), ["Network", "seed", "-1"]),
    (lambda: ns.fixed_prob(1.5), ["fixed_prob", "p", "1.5"]),
])
def test_construction_errors(build, words):
    with pytest.raises(ConfigError) as e:
        build()
    for w in words:
        assert w in str(e.value)


def _compile_error(net, dt=0.1):
    with pytest.raises(ConfigError) as e:
        net.compile(dt=dt)
    return str(e.value)


def test_unknown_population_in_projection():
    net = _two_pops()
    net.connect("a", "c", ns.all_to_all(), weight=1.0)
    msg = _compile_error(net)
    assert "Projection 'a_to_c'" in msg and "post" in msg and "'c'" in msg


def test_delay_below_dt():
    net = _two_pops()
    net.connect("a", "b", ns.all_to_all(), weight=1.0, delay=0.04)
    msg = _compile_error(net)
    assert "Projection 'a_to_b'" in msg and "delay" in msg and "0.04" in msg and "dt" in msg


def test_nan_weight():
    net = _two_pops()
    net.connect("a", "b", ns.one_to_one(), weight=np.r_[np.ones(9), np.nan])
    msg = _compile_error(net)
    assert "Projection 'a_to_b'" in msg and "weight" in msg and "nan" in msg


def test_weight_array_of_wrong_length():
    net = _two_pops()
    net.connect("a", "b", ns.one_to_one(), weight=np.ones(3))
    msg = _compile_error(net)
    assert "weight" in msg and "(3,)" in msg and "10" in msg


def test_unknown_port():
    net = _two_pops()
    net.connect("a", "b", ns.all_to_all(), weight=1.0, port="gaba")
    msg = _compile_error(net)
    assert "port" in msg and "gaba" in msg and "exc, inh" in msg


def test_source_as_target():
    net = _two_pops()
    net.poisson("p", 3, 10.0)
    net.connect("a", "p", ns.all_to_all(), weight=1.0)
    assert "'p'" in _compile_error(net) and "post" in _compile_error(net)


def test_bad_dt_and_duration():
    net = _two_pops()
    assert "dt" in _compile_error(net, dt=0.0)
    assert "dt" in _compile_error(net, dt=float("nan"))
    sim = net.compile(dt=0.1)
    with pytest.raises(ConfigError, match="duration"):
        sim.run(1.05)
    with pytest.raises(ConfigError, match="duration"):
        sim.run(-1.0)


def test_derived_nan_and_monitor_errors():
    net = _two_pops()
    net.state_monitor("a", "V_x")
    assert "V_x" in _compile_error(net)
    net = _two_pops()
    net.spike_monitor("zz")
    assert "zz" in _compile_error(net)
    with pytest.raises(ConfigError, match="every"):
        _two_pops().state_monitor("a", "V_m", every=0)


def test_poisson_rate_too_high_for_dt():
    net = ns.Network()
    net.poisson("p", 2, rate=20000.0)
    assert "rate" in _compile_error(net, dt=0.1)


def test_spike_train_before_first_step():
    net = ns.Network()
    net.spike_train("s", 1, times=[0.0], indices=[0])
    msg = _compile_error(net)
    assert "SpikeTrain 's'" in msg and "times" in msg and "0.0" in msg


def test_set_params_validates():
    sim = _two_pops().compile(dt=0.1)
    with pytest.raises(ConfigError, match="tau_m"):
        sim.set_params("a", tau_m=0.0)
    with pytest.raises(ConfigError, match="nope"):
        sim.set_params("a", nope=1.0)


def test_duplicate_names():
    net = _two_pops()
    with pytest.raises(ConfigError, match="'a'"):
        net.population("a", "iaf_psc_delta", 3)


def test_registry_rejects_duplicate_model():
    spec = ns.get_model("iaf_psc_exp")
    import dataclasses

    clone = dataclasses.replace(spec)
    with pytest.raises(ValueError, match="already registered"):
        ns.register(clone)

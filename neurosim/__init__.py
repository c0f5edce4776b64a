"""neurosim: a Numba-accelerated, event-driven simulator for spiking and Hebbian networks.

Quick start::

    import neurosim as ns
    net = ns.Network(seed=1)
    exc = net.population("exc", "iaf_psc_exp", 100, I_e=400.0)
    net.spike_monitor("exc")
    sim = net.compile(dt=0.1)
    sim.run(100.0)
    t, i = sim.spikes("exc")
"""

__version__ = "0.1.0"

from . import io  # noqa: E402
from .connect import (  # noqa: E402
    all_to_all,
    arrays,
    fixed_indegree,
    fixed_outdegree,
    fixed_prob,
    one_to_one,
)
from .distributions import LogNormal, Normal, Uniform  # noqa: E402
from .errors import ConfigError  # noqa: E402
from .network import Network  # noqa: E402
from .plasticity import Plasticity  # noqa: E402
from .registry import get as get_model  # noqa: E402
from .registry import names as model_names  # noqa: E402
from .registry import register  # noqa: E402
from .simulation import Simulation  # noqa: E402

__all__ = [
    "ConfigError", "LogNormal", "io", "Network", "Normal", "Plasticity", "Simulation", "Uniform",
    "all_to_all",
    "arrays", "fixed_indegree", "fixed_outdegree", "fixed_prob", "get_model", "model_names",
    "one_to_one", "register",
]

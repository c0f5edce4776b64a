"""Shared fixtures."""

import numba
import pytest

# Start Numba's OpenMP threading layer before any test module imports NEST: NEST's wheel
# bundles its own libgomp, and starting Numba's layer *after* NEST is loaded makes a later
# nest.ResetKernel() crash (see tests/reference/test_peers.py). Collection imports the test
# modules, so this must happen here, at conftest import.
numba.get_num_threads()


@pytest.fixture
def force_split(monkeypatch):
    """Split even tiny populations between threads, so that small test networks exercise
    the threaded loop."""
    import neurosim.simulation as simulation

    monkeypatch.setattr(simulation, "MIN_UNITS_PER_THREAD", 8)
    monkeypatch.setattr(simulation, "MIN_UNITS_PER_CHUNK", 1)

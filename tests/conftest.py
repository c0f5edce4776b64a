"""Shared fixtures."""

import importlib.util
from pathlib import Path

import numba
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

# Start Numba's OpenMP threading layer before any test module imports NEST: NEST's wheel
# bundles its own libgomp, and starting Numba's layer *after* NEST is loaded makes a later
# nest.ResetKernel() crash (see tests/reference/test_peers.py). Collection imports the test
# modules, so this must happen here, at conftest import.
numba.get_num_threads()


@pytest.fixture(scope="session")
def experiment():
    """``experiment("song2000")``: the script experiments/song2000.py imported as a module
    (once per session), to call its functions."""
    loaded = {}

    def load(name: str):
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(f"experiment_{name}",
                                                          EXPERIMENTS / f"{name}.py")
            loaded[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded[name])
        return loaded[name]

    return load


@pytest.fixture
def force_split(monkeypatch):
    """Split even tiny populations between threads, so that small test networks exercise
    the threaded loop."""
    import neurosim.simulation as simulation

    monkeypatch.setattr(simulation, "MIN_UNITS_PER_THREAD", 8)
    monkeypatch.setattr(simulation, "MIN_UNITS_PER_CHUNK", 1)

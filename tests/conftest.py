"""Shared fixtures."""

import pytest


@pytest.fixture
def force_split(monkeypatch):
    """Split even tiny populations and projections between threads, so that small test
    networks exercise the threaded loop."""
    import neurosim.simulation as simulation

    monkeypatch.setattr(simulation, "MIN_UNITS_PER_THREAD", 8)
    monkeypatch.setattr(simulation, "MIN_SYNAPSES_PER_THREAD", 1)

"""Threads in one parallel region per call (neurosim.kernels.team): the barrier orders every
step, the handshake fails safely when the iterations do not run at once, and the threaded loop
gives the same numbers with one region per call, one region per step and one thread."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from numba import njit, prange
from test_balance import DT, network, results, same

import neurosim.simulation as simulation
from neurosim.kernels import team
from neurosim.kernels.team import atomic_add, atomic_load, barrier, compare_swap, join

two_threads = pytest.mark.skipif(numba.get_num_threads() < 2, reason="needs two Numba threads")


@njit(parallel=True)
def exchange(n_steps, n_threads, seen, sync):
    """Thread t writes its step number, passes a barrier, reads every other thread's number
    (which must be this step's), passes another barrier; counts the wrong reads."""
    joined = np.zeros(n_threads, np.int64)
    for t in prange(n_threads):
        if join(sync, n_threads):
            joined[t] = 1
            generation = 0
            for s in range(n_steps):
                seen[t, 0] = s
                generation = barrier(sync, n_threads, generation)
                for u in range(n_threads):
                    if seen[u, 0] != s:
                        seen[t, 1] += 1
                generation = barrier(sync, n_threads, generation)
    return joined


@two_threads
def test_barrier_orders_every_step():
    sync = np.zeros(team.SIZE, np.int64)
    seen = np.zeros((2, 8), np.int64)  # a cache line per thread
    joined = exchange(20_000, 2, seen, sync)
    assert joined.tolist() == [1, 1] and sync[team.STATE] == team.GO
    assert seen[:, 1].tolist() == [0, 0]  # no thread ever saw another one a step behind
    assert sync[team.GENERATION] == 40_000 and sync[team.COUNT] == 0


def test_handshake_fails_when_the_iterations_share_a_thread():
    old = numba.get_num_threads()
    numba.set_num_threads(1)  # both iterations run one after the other on one thread
    try:
        sync = np.zeros(team.SIZE, np.int64)
        joined = exchange(10, 2, np.zeros((2, 8), np.int64), sync)
    finally:
        numba.set_num_threads(old)
    assert joined.tolist() == [0, 0]  # neither waited at a barrier (it would never return)
    assert sync[team.STATE] == team.FAILED and sync[team.ARRIVED] == 2


def test_atomics():
    @njit
    def run(a):
        return atomic_add(a, 1, 5), atomic_load(a, 1), compare_swap(a, 2, 0, 7), \
            compare_swap(a, 2, 0, 9), a[2]

    a = np.zeros(3, np.int64)
    a[1] = 2
    assert run(a) == (2, 7, 0, 7, 7)


@pytest.mark.parametrize("small_buffer", [False, True])
def test_one_region_per_call_gives_the_same_numbers(force_split, monkeypatch, small_buffer):
    if small_buffer:  # spike monitors fill up: calls stop early (cap = 4 x population)
        monkeypatch.setattr(simulation, "_SPIKE_BUF", 1)
    ref = network().compile(DT, threads=1)
    ref.run(100.0, chunk=30.0)
    for persistent in (True, False):
        sim = network().compile(DT, threads=2)
        sim.persistent = persistent
        sim.run(60.0, chunk=30.0)
        sim.run(40.0, chunk=7.3)
        same(results(ref), results(sim))
        stats = sim.thread_stats
        assert stats["handshakes_failed"] == 0 and stats["persistent"] == persistent
    assert "join(team, n_threads)" in sim.source and "def by_steps" in sim.source


def test_failed_handshake_falls_back_to_a_region_per_step(force_split):
    ref = network().compile(DT, threads=1)
    ref.run(50.0)
    sim = network().compile(DT, threads=2)
    sim.run(20.0)
    old = numba.get_num_threads()
    numba.set_num_threads(1)  # a team smaller than the ranges, unknown to the simulation
    try:
        sim._team[team.MODE] = 1
        sim._run_all(sim.k + 100, 100, None)  # one call
    finally:
        numba.set_num_threads(old)
    assert sim.thread_stats["handshakes_failed"] == 1 and not sim.persistent
    sim.run(20.0)  # per step from now on
    assert sim._team[team.MODE] == 0
    same(results(ref), results(sim))


_RAISING_MODEL = '''
import dataclasses

from numba import njit

import neurosim as ns
from neurosim.models.neurons.lif import update_psc_delta


@njit(cache=True)
def update(lo, hi, state, coef, inp, i_ext, spiked):
    """iaf_psc_delta, whose unit 7 divides by zero when it fires."""
    update_psc_delta(lo, hi, state, coef, inp, i_ext, spiked)
    for i in range(lo, hi):
        if i == 7:
            state[0, i] = state[0, i] / (0.0 if spiked[i] else 1.0)


SPEC = dataclasses.replace(ns.get_model("iaf_psc_delta"), name="raising_delta", update=update)
'''

_RUN = '''
import neurosim as ns
import neurosim.simulation as simulation
from raising_model import SPEC

simulation.MIN_UNITS_PER_THREAD, simulation.MIN_UNITS_PER_CHUNK = 8, 1
for threads in (1, 2):
    net = ns.Network(seed=1)
    net.population("a", SPEC, 40, I_e=500.0)
    net.spike_monitor("a")
    sim = net.compile(0.1, threads=threads)
    try:
        sim.run(50.0)
        print(threads, "no error")
    except Exception as e:
        print(threads, type(e).__name__, e)
'''


def test_an_exception_in_a_thread_stops_the_run_with_an_error(tmp_path):
    """Numba drops an exception raised in a thread of a parallel region and leaves the
    thread's work: the other threads must not wait for it at the next barrier (a hang), and
    the run must not go on as if nothing happened."""
    (tmp_path / "raising_model.py").write_text(_RAISING_MODEL)
    (tmp_path / "run.py").write_text(_RUN)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    one, two = out.stdout.strip().splitlines()
    assert one.startswith("1 ZeroDivisionError")  # serial: Numba raises it
    assert two.startswith("2 RuntimeError Simulation.run: the work of thread 0 in step ")
    assert "threads=1" in two

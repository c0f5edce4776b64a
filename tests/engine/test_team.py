"""Threads that run every step of a call together (neurosim.kernels.team): the barrier orders
every step, an exception in any thread stops all of them and reaches the caller, and the
threaded loop gives the numbers of one thread."""

import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from test_balance import DT, network, results, same

import neurosim.simulation as simulation
from neurosim.kernels import team
from neurosim.kernels.team import ERROR, atomic_add, atomic_load, atomic_store, barrier, run_threads


@njit(nogil=True)
def exchange(t, k0, n_steps, n_threads, seen, sync):
    """Thread t writes its step number, passes a barrier, reads every other thread's number
    (which must be this step's), passes another barrier; counts the wrong reads. Thread 1
    divides by zero at step ``k0`` when k0 > 0."""
    generation = 0
    for s in range(n_steps):
        seen[t, 0] = s
        if t == 1 and s == k0 > 0:
            seen[t, 2] = 1 // (s - k0)
        generation = barrier(sync, n_threads, generation)
        if atomic_load(sync, ERROR) != 0:
            break
        for u in range(n_threads):
            if seen[u, 0] != s:
                seen[t, 1] += 1
        generation = barrier(sync, n_threads, generation)
        seen[t, 3] = s + 1  # steps completed


@njit(nogil=True)
def nothing_left(k0, done, n_threads, seen, sync):
    seen[0, 4] = done


@pytest.mark.parametrize("n_threads", [2, 3])
def test_barrier_orders_every_step(n_threads):
    t = np.zeros(team.SIZE, np.int64)
    seen = np.zeros((n_threads, 8), np.int64)  # a cache line per thread
    done = run_threads(exchange, nothing_left, 0, 20_000, n_threads, (seen, t))
    assert done == 20_000 and seen[0, 4] == 20_000  # complete() ran after the threads
    assert seen[:, 1].tolist() == [0] * n_threads  # no thread saw another one a step behind
    assert seen[:, 3].tolist() == [20_000] * n_threads
    assert t[team.GENERATION] == 40_000 and t[team.COUNT] == 0


def test_an_exception_in_one_thread_stops_all_and_is_raised():
    t = np.zeros(team.SIZE, np.int64)
    seen = np.zeros((2, 8), np.int64)
    with pytest.raises(ZeroDivisionError):
        run_threads(exchange, nothing_left, 500, 20_000, 2, (seen, t))
    assert t[team.ERROR] == 2  # 1 + the thread
    assert seen[:, 3].tolist() == [500, 500]  # thread 0 left at the barrier of step 500
    assert seen[0, 4] == 0  # nothing completed


def test_atomics():
    @njit
    def run(a):
        old = atomic_add(a, 1, 5)
        atomic_store(a, 2, 7)
        return old, atomic_load(a, 1), a[2]

    a = np.zeros(3, np.int64)
    a[1] = 2
    assert run(a) == (2, 7, 7)


@pytest.mark.parametrize("small_buffer", [False, True])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_threads_give_the_numbers_of_one(force_split, monkeypatch, small_buffer, n_threads):
    if small_buffer:  # spike monitors fill up: calls stop early (cap = 4 x population)
        monkeypatch.setattr(simulation, "_SPIKE_BUF", 1)
    ref = network().compile(DT, threads=1)
    ref.run(100.0, chunk=30.0)
    sim = network().compile(DT, threads=n_threads)
    assert sim.structure.parallel and "def thread_steps" in sim.source
    sim.run(60.0, chunk=30.0)
    sim.run(40.0, chunk=7.3)
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
        print(threads, type(e).__name__, sim.t)
'''


def test_a_kernel_exception_in_a_thread_reaches_the_caller(tmp_path):
    """A model kernel that divides by zero raises the same ZeroDivisionError with one thread
    and with two, and the run stops (in a subprocess with a timeout: a regression to a
    thread waiting for ever at a barrier fails instead of blocking the suite)."""
    (tmp_path / "raising_model.py").write_text(_RAISING_MODEL)
    (tmp_path / "run.py").write_text(_RUN)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    one, two = out.stdout.strip().splitlines()
    assert one.split()[:2] == ["1", "ZeroDivisionError"]
    assert two.split()[:2] == ["2", "ZeroDivisionError"]
    assert 0.0 <= float(two.split()[2]) < 50.0  # the run stopped


def test_a_thread_that_cannot_start_releases_the_others(monkeypatch):
    import threading

    started = []
    real_start = threading.Thread.start

    def start(self):
        if started:  # the second worker fails to start
            raise RuntimeError("can't start new thread")
        started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    t = np.zeros(team.SIZE, np.int64)
    seen = np.zeros((3, 8), np.int64)
    with pytest.raises(RuntimeError, match="can't start"):
        run_threads(exchange, nothing_left, 0, 1_000, 3, (seen, t))
    assert not started[0].is_alive()  # worker 1 left its barrier
    assert seen[1, 3] == 0 and seen[0, 3] == 0  # no step was completed

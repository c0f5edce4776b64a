"""Every model kernel accepts ``i_ext=None`` (no current stimulus) and, where the model declares
``jumps``, ``inp=None`` (no ring): the same numbers, bit for bit, as a zero current and a zero
ring slot."""

import numpy as np
import pytest

from neurosim import registry
from neurosim.population import Population

N, STEPS, DT = 64, 200, 0.1


def setup(name):
    pop = Population("p", name, N)
    state = pop.initial_state(np.random.default_rng(0))
    coef = np.array(pop.spec.coefficients("p", pop.params, DT))
    return pop.spec, state, coef


def drive(spec, seed=1):
    """Ring slots with sparse random non-negative weights (pA, mV or nS) for each step."""
    rng = np.random.default_rng(seed)
    w = np.abs(rng.normal(0.0, 200.0, (STEPS, len(spec.ports), N)))
    return np.where(rng.random(w.shape) < 0.2, w, 0.0)


def run(spec, state, coef, inputs, ring, i_ext):
    """STEPS kernel calls; ``ring`` False: the inputs are added to the jump rows afterwards."""
    spikes = np.zeros((STEPS, N), np.uint8)
    rows = [spec.state_names.index(x) for x in spec.jumps]
    for k in range(STEPS):
        if ring:
            spec.update(0, N, state, coef, inputs[k].copy(), i_ext, spikes[k])
        else:
            spec.update(0, N, state, coef, None, i_ext, spikes[k])
            for port, row in enumerate(rows):
                state[row] += inputs[k, port]
    return state, spikes


@pytest.mark.parametrize("name", registry.names())
def test_no_current_is_a_zero_current(name):
    spec, state, coef = setup(name)
    inputs = drive(spec)
    a = run(spec, state.copy(), coef, inputs, True, np.zeros(N))
    b = run(spec, state.copy(), coef, inputs, True, None)
    assert not np.array_equal(a[0], state)  # the state moved
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", [n for n in registry.names() if registry.get(n).jumps])
def test_no_ring_then_jumps_is_the_ring(name):
    spec, state, coef = setup(name)
    inputs = drive(spec)
    a = run(spec, state.copy(), coef, inputs, True, np.zeros(N))
    b = run(spec, state.copy(), coef, inputs, False, None)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[1].any()  # some unit fired

"""The CUBA benchmark network (Vogels & Abbott 2005; Brette et al. 2007, benchmark 2).

N leaky integrate-and-fire neurons, 80 % excitatory and 20 % inhibitory, current-based
exponential synapses, random Bernoulli connectivity with p = 80 / N (so ~64 excitatory and
~16 inhibitory inputs per neuron at every N; p = 0.02 at N = 4000), autapses allowed, as in
Brian2's ``examples/CUBA.py``. Brian2 writes it in voltage units::

    dv/dt  = (ge + gi - (v - El)) / taum,   dge/dt = -ge / taue,   dgi/dt = -gi / taui
    taum = 20 ms, taue = 5 ms, taui = 10 ms, Vt = -50 mV, Vr = -60 mV, El = -49 mV,
    refractory 5 ms, we = 1.62 mV, wi = -9 mV, v(0) ~ U(Vr, Vt).

neurosim runs it as ``iaf_psc_exp`` in NEST units with C_m = 250 pF, so a jump of w mV in ge
is a current jump of ``w * C_m / taum`` pA: 20.25 pA (excitatory) and -112.5 pA (inhibitory).
Every synapse has a delay of one step (0.1 ms at the default dt), as in the NEST version.
"""

from __future__ import annotations

from neurosim import ConfigError, Network, Uniform, fixed_prob

C_M = 250.0
TAU_M = 20.0
W_EXC_MV, W_INH_MV = 1.62, -9.0

NEURON = dict(C_m=C_M, tau_m=TAU_M, tau_syn_ex=5.0, tau_syn_in=10.0, t_ref=5.0,
              E_L=-49.0, V_th=-50.0, V_reset=-60.0)

#: the experiment protocol of ``neurosim run`` (see neurosim.cli): defaults of build()
PARAMS = dict(n=4000, in_degree=80.0, delay=0.1)
DURATION = 1000.0


def build(n: int = 4000, seed: int | None = 1, in_degree: float = 80.0,
          delay: float = 0.1, record: bool = True) -> Network:
    """The CUBA network of ``n`` neurons (populations ``exc`` and ``inh``), Bernoulli
    connectivity with p = in_degree / n."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"cuba: parameter 'n' = {n!r} must be an integer >= 2")
    if not 0 < in_degree <= n:
        raise ConfigError(f"cuba: parameter 'in_degree' = {in_degree!r} must be in (0, n]")
    p = in_degree / n
    n_exc = int(round(0.8 * n))
    net = Network(seed=seed)
    v0 = Uniform(NEURON["V_reset"], NEURON["V_th"])
    net.population("exc", "iaf_psc_exp", n_exc, V_m=v0, **NEURON)
    net.population("inh", "iaf_psc_exp", n - n_exc, V_m=v0, **NEURON)
    w_exc = W_EXC_MV * C_M / TAU_M
    w_inh = W_INH_MV * C_M / TAU_M
    for pre, w, port in (("exc", w_exc, "exc"), ("inh", w_inh, "inh")):
        for post in ("exc", "inh"):
            net.connect(pre, post, fixed_prob(p, autapses=True), weight=w, delay=delay,
                        port=port)
    if record:
        net.spike_monitor("exc")
        net.spike_monitor("inh")
    return net

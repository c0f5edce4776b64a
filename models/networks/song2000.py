"""Song, Miller & Abbott (2000): competitive Hebbian learning through additive STDP.

1,000 independent Poisson inputs (15 Hz) drive one integrate-and-fire neuron through plastic
excitatory synapses with additive, hard-bounded pair STDP (all-to-all pairing), slightly
stronger depression than potentiation. The synapses compete for control of the output's
timing: the final weights pile up at 0 and at the upper bound (a bimodal distribution) and the
output rate falls from ~50 Hz to a stable ~20-25 Hz.

The set-up is Brian2's ``examples/synapses/STDP.py`` ("adapted from Song, Miller and Abbott
(2000) and Song and Abbott (2001)")::

    dv/dt = (ge (Ee - vr) + El - v) / taum,   dge/dt = -ge / taue
    taum = 10 ms, taue = 5 ms, Ee = 0 mV, vt = -54 mV, vr = -60 mV, El = -74 mV, no refractory
    on_pre:  ge += w;  Apre += dApre;  w = clip(w + Apost, 0, gmax)
    on_post: Apost += dApost;  w = clip(w + Apre, 0, gmax)
    gmax = 0.01, dApre = 0.01 gmax, dApost = -1.05 dApre, taupre = taupost = 20 ms,
    w(0) = rand() gmax, N = 1000 inputs at F = 15 Hz, 100 s

Its synaptic drive ``ge (Ee - vr)`` is fixed at the reset potential, so the synapse is
current-based: this is ``iaf_psc_exp`` (exact integration) with ``tau_m = 10 ms``,
``tau_syn_ex = 5 ms``, ``E_L = -74 mV``, ``V_th = -54 mV``, ``V_reset = -60 mV``,
``t_ref = 0`` and a current jump of ``w (Ee - vr) C_m / taum`` pA per unit of ``ge``
(``C_m = 250 pF``: 1500 pA per unit, so ``gmax = 0.01`` is 15 pA). The STDP rule is
``Plasticity("stdp")`` (NEST's parametrisation, additive for ``mu_plus = mu_minus = 0``) with
``lambda_ = dApre / gmax = 0.01``, ``alpha = |dApost| / dApre = 1.05``, ``w_max = gmax`` in
pA, ``tau_plus = tau_minus = 20 ms``.

Timing against Brian2 (dt = 0.1 ms; neurosim's spike of step s has stamp s + 1, Brian2's the
time s dt):

* STDP pairs the spike times in both (Brian2's example has no delay, so its ``on_pre`` runs in
  the step of the presynaptic spike; neurosim pairs the spike stamps whatever the delay), and
  a pre and a post spike in the same step potentiate in both (pre pathway first).
* Transmission: neurosim's minimum delay is one step, so an input spike of step s moves V from
  step s + 2; in the example (delay 0) from step s + 1, i.e. 0.1 ms earlier.
* neurosim sends the weight after the depression of the same presynaptic spike; the example
  sends it before (``ge += w`` is the first statement), i.e. at most ``1.05 dApre`` (0.0105
  gmax) more per spike.
* Threshold ``V >= V_th`` here, ``v > vt`` in Brian2 (equal in practice: V never lands on the
  threshold exactly). V starts at V_reset here; the example leaves v at 0 mV, so its neuron
  fires in the first step and is reset to vr.

Brian2 reproduces neurosim's spikes exactly once it takes these conventions (the input given
through a one-step buffer after the depression, ``v >= vt``, v(0) = vr, the same input spikes
and initial weights): ``experiments/song2000.py`` and ``tests/reference/test_song2000_brian2.py``.
"""

from __future__ import annotations

from neurosim import ConfigError, Network, Plasticity, Uniform, all_to_all

C_M = 250.0  # pF: any value; the weights scale with it
TAU_M = 10.0  # ms
E_EX = 0.0  # mV: Brian2's Ee, only through the drive Ee - vr
NEURON = dict(C_m=C_M, tau_m=TAU_M, tau_syn_ex=5.0, tau_syn_in=5.0, t_ref=0.0,
              E_L=-74.0, V_th=-54.0, V_reset=-60.0)
#: pA of current jump per unit of Brian2's dimensionless conductance ge
PA_PER_G = (E_EX - NEURON["V_reset"]) * C_M / TAU_M

#: the experiment protocol of ``neurosim run`` (see neurosim.cli): defaults of build()
PARAMS = dict(n_inputs=1000, rate=15.0, g_max=0.01, lambda_=0.01, alpha=1.05, tau_plus=20.0,
              tau_minus=20.0, delay=0.1, weight_every=1000.0, record_inputs=False)
DURATION = 100_000.0  # ms


def w_max_pA(g_max: float = PARAMS["g_max"]) -> float:
    """The upper weight bound in pA for Brian2's ``gmax`` (dimensionless)."""
    return g_max * PA_PER_G


def build(seed: int | None = 1, n_inputs: int = 1000, rate: float = 15.0, g_max: float = 0.01,
          lambda_: float = 0.01, alpha: float = 1.05, tau_plus: float = 20.0,
          tau_minus: float = 20.0, delay: float = 0.1, weight_every: float = 1000.0,
          record_inputs: bool = False, record: bool = True) -> Network:
    """Poisson population ``inp`` (``n_inputs`` at ``rate`` Hz) onto one ``iaf_psc_exp``
    neuron ``out`` through the plastic projection ``inp_to_out`` (synapse k from input k),
    initial weights uniform in [0, w_max]. With ``record``: spikes of ``out`` (and of ``inp``
    with ``record_inputs``) and every weight each ``weight_every`` ms."""
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
        raise ConfigError(f"song2000: parameter 'n_inputs' = {n_inputs!r} must be an integer "
                          ">= 1")
    if not g_max > 0:
        raise ConfigError(f"song2000: parameter 'g_max' = {g_max!r} must be > 0")
    w_max = w_max_pA(g_max)
    net = Network(seed=seed)
    net.poisson("inp", n_inputs, rate)
    net.population("out", "iaf_psc_exp", 1, V_m=NEURON["V_reset"], **NEURON)
    stdp = Plasticity("stdp", lambda_=lambda_, alpha=alpha, mu_plus=0.0, mu_minus=0.0,
                      w_max=w_max, tau_plus=tau_plus, tau_minus=tau_minus)
    net.connect("inp", "out", all_to_all(), weight=Uniform(0.0, w_max), delay=delay,
                port="exc", name="inp_to_out", plasticity=stdp)
    if record:
        net.spike_monitor("out")
        if record_inputs:
            net.spike_monitor("inp")
        net.weight_monitor("inp_to_out", every=weight_every)
    return net

"""Shared pieces of the plastic-network peer scripts (``stdp_*.py``): the network's parameters,
the command line and the summaries every tool reports the same way.

The network (the same in neurosim, Brian2 and NEST; ``experiments/bench_stdp.py`` runs it):

* ``N`` ``iaf_psc_exp`` neurons (NEST semantics: exact integration, current jumps in pA),
  80 % excitatory (E), 20 % inhibitory (I); C_m 250 pF, tau_m 20 ms, tau_syn 5 ms (both
  ports), t_ref 2 ms, E_L = V_reset = -65 mV, V_th = -50 mV, I_e = 150 pA, V(0) ~ U(-65, -50).
* Bernoulli connectivity with p = K / N, K = 200 (so ~160 E and ~40 I inputs per neuron at
  every N; at N = 10,000 that is p = 0.02 and 1.28 M E->E synapses), no autapses; every
  synapse has the delay 1.5 ms.
* E->E synapses are plastic (``--plastic``): pair STDP, all-to-all, additive (NEST's
  ``stdp_synapse`` with mu_plus = mu_minus = 0): tau_plus = tau_minus = 20 ms,
  lambda = 0.01, alpha = 1.05, Wmax = 40 pA, initial weight 20 pA. Otherwise (``--static``)
  they are static synapses of 20 pA. E->I: 20 pA, I->E and I->I: -120 pA (g = 6), static.
* External drive: one independent Poisson train of 500 Hz per neuron, 20 pA per spike (on the
  excitatory port), on top of I_e.

Rates come out at ~8 Hz (E and I) in an asynchronous irregular state; with these STDP
parameters the E->E weights drift little in 10 s (alpha slightly > 1 balances the causal
potentiation), so the rate at the end is that at the start.

Like ``_common`` these are plain numbers, so that the Brian2 and NEST processes never load
neurosim or Numba.
"""

from __future__ import annotations

import argparse

import numpy as np

# --- neurons (NEST units: pF, ms, mV, pA) -----------------------------------------------
C_M = 250.0
TAU_M = 20.0
TAU_SYN = 5.0
T_REF = 2.0
E_L = -65.0
V_RESET = -65.0
V_TH = -50.0
I_E = 150.0
NEURON = dict(C_m=C_M, tau_m=TAU_M, tau_syn_ex=TAU_SYN, tau_syn_in=TAU_SYN, t_ref=T_REF,
              E_L=E_L, V_reset=V_RESET, V_th=V_TH, I_e=I_E)

# --- connectivity and weights -----------------------------------------------------------
K_TOTAL = 200.0        # expected in-degree (E + I inputs): p = K_TOTAL / N
FRAC_EXC = 0.8
J_EXC = 20.0           # pA
G = 6.0
J_INH = -G * J_EXC     # -120 pA
DELAY = 1.5            # ms, every synapse
NU_EXT = 500.0         # Hz, one Poisson train per neuron
J_EXT = 20.0           # pA
DT = 0.1               # ms

# --- STDP (NEST stdp_synapse names) -----------------------------------------------------
TAU_PLUS = 20.0
TAU_MINUS = 20.0
LAMBDA = 0.01
ALPHA = 1.05
MU_PLUS = 0.0
MU_MINUS = 0.0
W_MAX = 2.0 * J_EXC    # 40 pA
STDP = dict(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, lambda_=LAMBDA, alpha=ALPHA,
            mu_plus=MU_PLUS, mu_minus=MU_MINUS, w_max=W_MAX)


def n_exc(n: int) -> int:
    return int(round(FRAC_EXC * n))


def p_connect(n: int) -> float:
    return K_TOTAL / n


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--n", type=int, default=10000, help="number of neurons")
    ap.add_argument("--T", type=float, default=10.0, help="biological time, seconds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--plastic", dest="plastic", action="store_true", default=True,
                   help="E->E synapses learn (STDP; default)")
    g.add_argument("--static", dest="plastic", action="store_false",
                   help="E->E synapses are static (the same network without plasticity)")
    return ap


def windows(T_s: float) -> tuple[float, float]:
    """(start window, end window) for the rates, ms: the first and the last second (or the
    first and last quarter of shorter runs)."""
    w = min(1000.0, 250.0 * T_s)
    return w, w


def rate_summary(t_ms, ids_exc_mask, n_e: int, n_i: int, T_s: float) -> dict:
    """Mean rates (Hz) of E and I over the whole run, its first and its last window.

    ``t_ms``: spike times from the start of the measured run (0 < t <= T); ``ids_exc_mask``:
    True for spikes of excitatory neurons."""
    t = np.asarray(t_ms, dtype=np.float64)
    exc = np.asarray(ids_exc_mask, dtype=bool)
    T = T_s * 1000.0
    w0, w1 = windows(T_s)
    out = {}
    for name, sel, n in (("E", exc, n_e), ("I", ~exc, n_i)):
        ts = t[sel]
        out[f"rate_{name}_Hz"] = ts.size / n / T_s
        out[f"rate_{name}_start_Hz"] = np.count_nonzero(ts <= w0) / n / (w0 / 1000.0)
        out[f"rate_{name}_end_Hz"] = np.count_nonzero(ts > T - w1) / n / (w1 / 1000.0)
    # population synchrony: Fano factor of the E spike count in 1 ms bins (1: Poisson)
    c = np.histogram(t[exc], bins=np.arange(0.0, T + 1e-9, 1.0))[0]
    out["sync_fano_E"] = float(c.var() / c.mean()) if c.mean() > 0 else None
    return out


def weight_summary(w) -> dict:
    """Final E->E weights: mean, std, min, max and the fractions at the bounds."""
    w = np.asarray(w, dtype=np.float64)
    if w.size == 0:
        return {}
    return dict(w_mean=float(w.mean()), w_std=float(w.std()), w_min=float(w.min()),
                w_max_seen=float(w.max()),
                w_frac_zero=float(np.mean(w <= 0.0)),
                w_frac_wmax=float(np.mean(w >= W_MAX * (1 - 1e-12))))


def describe() -> dict:
    """The parameters, for the JSON output."""
    return dict(neuron=dict(model="iaf_psc_exp", **NEURON), K_total=K_TOTAL,
                frac_exc=FRAC_EXC, J_exc_pA=J_EXC, J_inh_pA=J_INH, g=G, delay_ms=DELAY,
                nu_ext_Hz=NU_EXT, J_ext_pA=J_EXT, dt_ms=DT,
                stdp=dict(rule="additive pair STDP, all-to-all (NEST stdp_synapse, mu = 0)",
                          tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, **{"lambda": LAMBDA},
                          alpha=ALPHA, mu_plus=MU_PLUS, mu_minus=MU_MINUS, Wmax=W_MAX,
                          w_init=J_EXC),
                connectivity="pairwise Bernoulli p = K/N, no autapses")

"""Slow, obvious re-implementations of the spike-timing rules, for the tests.

Each function takes the spike stamps of one synapse's two neurons (the engine's integer time
steps: a spike in step s has stamp s + 1) and replays them in time order, a presynaptic spike
before a postsynaptic one with the same stamp. Two styles:

* ``*_traces``: the rule written as the papers write it, with traces that decay by
  ``exp(-(t - t_last) dt / tau)`` and jump at spikes; same arithmetic as the engine, so the
  weights must be identical to the last bit;
* ``*_pairs``: the weight change of every spike computed from an explicit sum over all earlier
  spikes of the other neuron (all-to-all) or only the latest one (nearest spike); equal to the
  engine up to float64 round-off of those sums.
"""

from __future__ import annotations

import math


def events(pre, post):
    """(stamp, side) in replay order: by stamp, "pre" before "post" at equal stamps."""
    ev = [(int(t), 0) for t in pre] + [(int(t), 1) for t in post]
    return [(t, "pre" if s == 0 else "post") for t, s in sorted(ev)]


def power(x, mu):
    return 1.0 if mu == 0.0 else (x if mu == 1.0 else x ** mu)


def potentiate(w, p, x):
    wn = w / p["w_max"] + p["lambda_"] * power(1.0 - w / p["w_max"], p["mu_plus"]) * x
    return wn * p["w_max"] if wn < 1.0 else p["w_max"]


def depress(w, p, y):
    wn = w / p["w_max"] - (p["alpha"] * p["lambda_"]) * power(w / p["w_max"], p["mu_minus"]) * y
    return wn * p["w_max"] if wn > 0.0 else 0.0


class Trace:
    """A trace as the engine keeps it: value after the last jump and its stamp."""

    def __init__(self, tau, dt, keep):
        self.rate, self.keep, self.value, self.last = dt / tau, keep, 0.0, 0

    def at(self, t):
        return self.value * math.exp(-(t - self.last) * self.rate)

    def jump(self, t, inc=1.0):
        self.value = self.keep * self.at(t) + inc
        self.last = t


def stdp_traces(w, pre, post, p, dt, nearest=False):
    """Pair STDP (``stdp`` / ``stdp_nn``) on one synapse, trace style."""
    keep = 0.0 if nearest else 1.0
    x, y = Trace(p["tau_plus"], dt, keep), Trace(p["tau_minus"], dt, keep)
    for t, side in events(pre, post):
        if side == "pre":
            w = depress(w, p, y.at(t))
            x.jump(t)
        else:
            w = potentiate(w, p, x.at(t))
            y.jump(t)
    return w


def stdp_pairs(w, pre, post, p, dt, nearest=False):
    """Pair STDP on one synapse from explicit pair sums: at a post spike the sum over earlier
    pre spikes of exp(-(t_post - t_pre)/tau_plus) (nearest: the latest one only), at a pre
    spike the same over earlier post spikes with tau_minus."""
    seen = {"pre": [], "post": []}
    for t, side in events(pre, post):
        other = seen["post" if side == "pre" else "pre"]
        tau = p["tau_minus"] if side == "pre" else p["tau_plus"]
        partners = other[-1:] if nearest else other
        k = sum(math.exp(-(t - s) * dt / tau) for s in partners)
        w = depress(w, p, k) if side == "pre" else potentiate(w, p, k)
        seen[side].append(t)
    return w


def triplet_up(w, p, dw):
    """Potentiation of the triplet rule by ``dw`` (soft factor (1 - w/w_max)^mu_plus), clipped
    at w_max."""
    wn = w + power(1.0 - w / p["w_max"], p["mu_plus"]) * dw
    return wn if wn < p["w_max"] else p["w_max"]


def triplet_down(w, p, dw):
    """Depression of the triplet rule by ``dw`` (soft factor (w/w_max)^mu_minus), clipped at 0."""
    wn = w - power(w / p["w_max"], p["mu_minus"]) * dw
    return wn if wn > 0.0 else 0.0


def triplet_traces(w, pre, post, p, dt, nearest=False):
    """Triplet STDP (``triplet`` / ``triplet_nn``) on one synapse, trace style: r1, r2 of the
    source, o1, o2 of the target; each spike reads the traces before its own jump."""
    keep = 0.0 if nearest else 1.0
    r1, r2 = Trace(p["tau_plus"], dt, keep), Trace(p["tau_x"], dt, keep)
    o1, o2 = Trace(p["tau_minus"], dt, keep), Trace(p["tau_y"], dt, keep)
    for t, side in events(pre, post):
        if side == "pre":
            w = triplet_down(w, p, o1.at(t) * (p["A2_minus"] + p["A3_minus"] * r2.at(t)))
            r1.jump(t)
            r2.jump(t)
        else:
            w = triplet_up(w, p, r1.at(t) * (p["A2_plus"] + p["A3_plus"] * o2.at(t)))
            o1.jump(t)
            o2.jump(t)
    return w


def triplet_pairs(w, pre, post, p, dt, nearest=False):
    """Triplet STDP on one synapse from explicit sums over earlier spikes (nearest: the latest
    one only): at a post spike r1 = sum over earlier pre spikes of exp(-(t - s)/tau_plus) and
    o2 = the same over earlier post spikes with tau_y; at a pre spike o1 over earlier post
    spikes (tau_minus) and r2 over earlier pre spikes (tau_x)."""
    seen = {"pre": [], "post": []}

    def k(side, t, tau):
        partners = seen[side][-1:] if nearest else seen[side]
        return sum(math.exp(-(t - s) * dt / tau) for s in partners)

    for t, side in events(pre, post):
        if side == "pre":
            dw = k("post", t, p["tau_minus"]) * (p["A2_minus"]
                                                 + p["A3_minus"] * k("pre", t, p["tau_x"]))
            w = triplet_down(w, p, dw)
        else:
            dw = k("pre", t, p["tau_plus"]) * (p["A2_plus"]
                                               + p["A3_plus"] * k("post", t, p["tau_y"]))
            w = triplet_up(w, p, dw)
        seen[side].append(t)
    return w

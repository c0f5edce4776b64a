"""Slow, obvious re-implementation of the engine's rate-based rules (``hebb``, ``oja``,
``bcm`` and user rules of ``models/plasticity/hebbian.py``), for the tests.

It replays recorded spike stamps (a spike in step s has stamp s + 1) in plain Python:

* every neuron keeps a rate estimate as the engine keeps a trace: its value just after the
  last jump and the stamp of that jump, read at stamp t as
  ``value * exp(-(t - last) * dt / tau)`` and jumping to ``x(t) + 1`` at each spike; the rate
  in Hz is ``1000 / tau`` times that;
* at every stamp ``T`` that is a multiple of the update period ``every`` (in steps), after the
  jumps of all spikes stamped ``<= T``: BCM moves each target's threshold
  ``theta += a (y^2 / y0 - theta)`` with ``a = 1 - exp(-1/tau_theta)``; then every synapse
  gets ``w = clip(w + eta * f(x, y, w))`` with x, y the rates of its source and target at T.

Same arithmetic as the engine, so the weights must be identical to the last bit.
"""

from __future__ import annotations

import math


class RateTrace:
    """An exponentially filtered spike train, kept as the engine keeps it."""

    def __init__(self, tau, dt):
        self.rate, self.scale, self.value, self.last = dt / tau, 1000.0 / tau, 0.0, 0

    def at(self, t):
        return self.value * math.exp(-(t - self.last) * self.rate)

    def jump(self, t):
        self.value = self.at(t) + 1.0
        self.last = t

    def hz(self, t):
        return self.scale * self.at(t)


def f_hebb(x, y, w):
    return x * y


def f_oja(x, y, w):
    return y * (x - y * w)


def f_bcm(x, y, w, theta):
    return x * y * (y - theta)


def clip(w, lo, hi):
    return lo if w < lo else (hi if w > hi else w)


def replay(rule, p, w0, src, tgt, pre_spikes, post_spikes, dt, every, n_steps, f=None):
    """Final weights (list, one per synapse) and BCM thresholds (list per target, or None).

    Parameters
    ----------
    rule : "hebb", "oja", "bcm" or "custom" (then ``f(x, y, w)`` is the rule function).
    p : every parameter of the rule (``Plasticity(...).params``).
    w0, src, tgt : initial weight, source and target of each synapse.
    pre_spikes, post_spikes : (stamps, units) of the recorded spikes of the two populations.
    dt : ms; every : the update period in steps; n_steps : steps simulated.
    """
    n_pre = max(max(src, default=-1), max(pre_spikes[1], default=-1)) + 1
    n_post = max(max(tgt, default=-1), max(post_spikes[1], default=-1)) + 1
    pre = [RateTrace(p["tau_pre"], dt) for _ in range(n_pre)]
    post = [RateTrace(p["tau_post"], dt) for _ in range(n_post)]
    events = sorted([(int(t), 0, int(i)) for t, i in zip(*pre_spikes, strict=True)]
                    + [(int(t), 1, int(i)) for t, i in zip(*post_spikes, strict=True)])
    theta = [p["theta0"]] * n_post if rule == "bcm" else None
    a = -math.expm1(-1.0 / p["tau_theta"]) if rule == "bcm" else None
    fn = {"hebb": f_hebb, "oja": f_oja, "custom": f}.get(rule)
    w = [float(v) for v in w0]
    e = 0
    for T in range(every, n_steps + 1, every):
        while e < len(events) and events[e][0] <= T:
            t, side, i = events[e]
            (pre if side == 0 else post)[i].jump(t)
            e += 1
        y = [tr.hz(T) for tr in post]
        if rule == "bcm":
            theta = [th + a * (yq * yq / p["y0"] - th) for th, yq in zip(theta, y, strict=True)]
        for k in range(len(w)):
            x, yk = pre[src[k]].hz(T), y[tgt[k]]
            dw = f_bcm(x, yk, w[k], theta[tgt[k]]) if rule == "bcm" else fn(x, yk, w[k])
            w[k] = clip(w[k] + p["eta"] * dw, p["w_min"], p["w_max"])
    return w, theta

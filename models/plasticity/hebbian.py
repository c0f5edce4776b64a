r"""Rate-based Hebbian rules (plain Hebb, Oja, BCM) and user rules: one set of equations for
spiking networks and for dense layers of rate units.

Each rule is a scalar function of a presynaptic rate :math:`x`, a postsynaptic rate :math:`y`
(both Hz) and the weight :math:`w` (a plain number: the weight in the projection's unit,
e.g. pA for ``iaf_psc_exp``), applied as one discrete update

.. math::

    w \leftarrow \operatorname{clip}\big(w + \eta\, f(x, y, w),\; w_{min},\; w_{max}\big)

with the rules

.. math::

    f_{hebb} = x\,y \qquad f_{oja} = y\,(x - y\,w) \qquad f_{bcm} = x\,y\,(y - \theta)

(Hebb 1949; Oja 1982, J. Math. Biol. 15:267; Bienenstock, Cooper & Munro 1982, J. Neurosci.
2:32). BCM's threshold :math:`\theta` (Hz) slides with the mean squared output, one value per
target unit:

.. math::

    \tau_\theta \frac{d\theta}{dn} = \frac{y^2}{y_0} - \theta
    \quad\Longrightarrow\quad
    \theta \leftarrow \theta + \big(1 - e^{-1/\tau_\theta}\big)\Big(\frac{y^2}{y_0} - \theta\Big)

per update :math:`n` (the exact solution over one update with :math:`y` held). This is the
form of Dayan & Abbott (2001, *Theoretical Neuroscience*, ch. 8.2, "the BCM rule":
:math:`\tau_\theta\, d\theta/dt = v^2 - \theta`) and of Intrator & Cooper (1992, Neural
Networks 5:3, :math:`\theta = E[c^2]`), with a reference rate :math:`y_0` that keeps
:math:`\theta` a rate in Hz (:math:`y_0` = 1 Hz is their form numerically). For a linear unit
:math:`y = w \cdot x` shown patterns :math:`x^k` with probabilities :math:`p_k`, the stable
fixed points are selective: :math:`y = y_0 / p_k` for one pattern and 0 for the others, with
:math:`\theta = E[y^2]/y_0 = y_0/p_k` (for :math:`\tau_\theta \gg` 1 update; two patterns
shown in alternation give exactly :math:`y = y_0 (2 - a)`, :math:`a = 1 - e^{-1/\tau_\theta}`).

Units
-----
Time enters through the *number of updates* only: ``eta`` is the learning rate per update and
BCM's ``tau_theta`` is counted in updates, in both uses below. (A rule's coefficients are
derived from its parameters and dt only; the update period is not available to them.) To
convert from a continuous-time rule :math:`dw/dt = \eta_c f` updated every :math:`T` seconds,
use ``eta = eta_c * T`` and ``tau_theta = tau_theta_c / T``. Units of ``eta``:
weight / Hz\ :sup:`2` (hebb, oja: Oja's rule treats :math:`w` as a number, so that
:math:`y w` is a rate) and weight / Hz\ :sup:`3` (bcm).

In the engine (spiking networks)
--------------------------------
``Plasticity("oja", every=1.0, eta=1e-5, tau_pre=100.0, tau_post=100.0)``: each neuron keeps
a rate estimate, its spike train filtered exponentially,

.. math::

    x(t) = \frac{1000}{\tau} \sum_{t_k \le t} e^{-(t - t_k)/\tau} \quad \text{(Hz, } \tau
    \text{ in ms)},

so that a Poisson train of rate :math:`r` has :math:`E[x] = r`. (The engine's trace jumps by
1 at each spike; the factor :math:`1000/\tau` is applied when the rule reads it.) Every
``every`` ms (default one step), at stamp :math:`T` (a multiple of the period in steps), with
the traces read at :math:`T` *including* the spikes stamped :math:`T`, BCM first updates
:math:`\theta` of every target from its :math:`y`, then every synapse is updated once with
:math:`x` = its source's trace and :math:`y` = its target's trace. The learning speed in
biological time is therefore ``eta`` / ``every``: halving ``every`` doubles it.

In a layer of rate units (batch updates)
----------------------------------------
:func:`hebb_update`, :func:`oja_update`, :func:`bcm_update` update ``W`` (n_post, n_pre) in
place from a batch ``X`` (batch, n_pre), ``Y`` (batch, n_post) (e.g. ``Y = X @ W.T`` for
linear units): one update whose change is the batch mean of the per-sample changes at the
current ``W`` (and, for BCM, the threshold first moves with the batch mean of :math:`y^2`),

.. math::

    W_{qi} \leftarrow \operatorname{clip}\Big(W_{qi} + \eta\, \frac{1}{B} \sum_b
    f(X_{bi}, Y_{bq}, W_{qi}),\; w_{min},\; w_{max}\Big).

A batch of one sample is exactly the engine's update. They run in Numba, over the rows of
``W`` in parallel when the layer is large enough to pay for the threads.

User rules
----------
:func:`custom_rule` turns an ``@njit`` function ``f(x, y, w) -> float`` defined at the top
level of an importable module into a registered rate rule (the same update, parameters
``eta, tau_pre, tau_post, w_min, w_max``) and a batch layer function.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import math
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from neurosim.errors import bad
from neurosim.registry import register
from neurosim.spec import Param, PlasticitySpec, StateVar, Trace

# ------------------------------------------------------------------- scalar rule functions


@njit(inline="always")
def clip(w, lo, hi):
    """w limited to [lo, hi] (bounds may be -inf / inf)."""
    if w < lo:
        return lo
    if w > hi:
        return hi
    return w


@njit(inline="always")
def hebb(x, y, w):
    """Plain Hebb: f = x y (Hz^2)."""
    return x * y


@njit(inline="always")
def oja(x, y, w):
    """Oja: f = y (x - y w) (Hz^2 with w a number)."""
    return y * (x - y * w)


@njit(inline="always")
def bcm(x, y, w, theta):
    """BCM: f = x y (y - theta) (Hz^3)."""
    return x * y * (y - theta)


@njit(inline="always")
def bcm_theta(theta, y2, y0, a):
    """BCM threshold after one update: theta + a (y2 / y0 - theta), a = 1 - exp(-1/tau_theta),
    y2 the (mean) squared output rate."""
    return theta + a * (y2 / y0 - theta)


# ------------------------------------------------------------------------ engine hooks
# coef: 0 eta, 1 1000/tau_pre, 2 1000/tau_post, 3 w_min, 4 w_max (, 5 y0, 6 a_theta)


@njit
def hebb_on_step(k, w, syn, c, x, y, post_state, q):
    w[k] = clip(w[k] + c[0] * hebb(c[1] * x, c[2] * y, w[k]), c[3], c[4])


@njit
def oja_on_step(k, w, syn, c, x, y, post_state, q):
    w[k] = clip(w[k] + c[0] * oja(c[1] * x, c[2] * y, w[k]), c[3], c[4])


@njit
def bcm_on_post_update(q, post_state, c, y):
    yr = c[2] * y
    post_state[0, q] = bcm_theta(post_state[0, q], yr * yr, c[5], c[6])


@njit
def bcm_on_step(k, w, syn, c, x, y, post_state, q):
    w[k] = clip(w[k] + c[0] * bcm(c[1] * x, c[2] * y, w[k], post_state[0, q]), c[3], c[4])


# ---------------------------------------------------------------------------- specs


def _check_bounds(owner, p):
    if not p["w_min"] <= p["w_max"]:
        raise bad(owner, "w_max", p["w_max"], f"must be >= w_min = {p['w_min']!r}")


def _derive_for(name):
    def derive(p, dt):
        _check_bounds(f"Plasticity '{name}'", p)
        return (p["eta"], 1000.0 / p["tau_pre"], 1000.0 / p["tau_post"], p["w_min"],
                p["w_max"])
    return derive


def _derive_bcm(p, dt):
    return _derive_for("bcm")(p, dt) + (p["y0"], -math.expm1(-1.0 / p["tau_theta"]))


def _common(eta, eta_unit, tau=100.0):
    return (
        Param("eta", eta, eta_unit, "learning rate per update", "finite"),
        Param("tau_pre", tau, "ms", "time constant of the presynaptic rate estimate x",
              "positive"),
        Param("tau_post", tau, "ms", "time constant of the postsynaptic rate estimate y",
              "positive"),
        Param("w_min", -math.inf, "weight", "lower bound of the weight", "any"),
        Param("w_max", math.inf, "weight", "upper bound of the weight", "any"),
    )


_COEF = ("eta", "rate_pre", "rate_post", "w_min", "w_max")
_X = Trace("x", "tau_pre", "presynaptic spike count filtered with tau_pre (rate x = "
           "1000/tau_pre * trace, Hz)")
_Y = Trace("y", "tau_post", "postsynaptic spike count filtered with tau_post (rate y = "
           "1000/tau_post * trace, Hz)")


def _rate_spec(name, params, on_step, doc, **kw):
    return register(PlasticitySpec(
        name=name, kind="rate", params=params, coef_names=kw.pop("coef_names", _COEF),
        derive=kw.pop("derive", _derive_for(name)), pre_traces=(_X,), post_traces=(_Y,),
        on_step=on_step, doc=doc, **kw))


_COMMON_DOC = """
x, y: rates (Hz) of the synapse's source and target, their spike trains filtered
exponentially with tau_pre, tau_post (x = 1000/tau * sum_k exp(-(t - t_k)/tau)), read every
`every` ms (default: every step) including the spikes of that step. w: the weight as a number
(in the projection's unit). eta is per update (learning speed in time: eta / every); the same
equations update dense layers of rate units (hebb_update, oja_update, bcm_update in
neurosim.models.plasticity.hebbian, batch mean of the per-sample changes)."""

hebb_rule = _rate_spec(
    "hebb", _common(1e-6, "weight/Hz^2"), hebb_on_step,
    "Plain Hebb (Hebb 1949), every update:\n\n    w <- clip(w + eta x y, w_min, w_max)\n"
    + _COMMON_DOC)
oja_rule = _rate_spec(
    "oja", _common(1e-5, "weight/Hz^2"), oja_on_step,
    "Oja (1982, J. Math. Biol. 15:267), every update:\n\n"
    "    w <- clip(w + eta y (x - y w), w_min, w_max)\n\nFor a linear unit y = w . x the "
    "weight vector converges to the unit-norm first\nprincipal component of the inputs.\n"
    + _COMMON_DOC)
bcm_rule = _rate_spec(
    "bcm", _common(1e-7, "weight/Hz^3") + (
        Param("y0", 10.0, "Hz", "reference rate: theta relaxes to y^2 / y0", "positive"),
        Param("tau_theta", 100.0, "updates", "time constant of the sliding threshold, in "
              "updates", "positive"),
        Param("theta0", 10.0, "Hz", "initial threshold", "finite"),
    ), bcm_on_step,
    "BCM (Bienenstock, Cooper & Munro 1982; sliding threshold as in Dayan & Abbott 2001,\n"
    "ch. 8.2, tau_theta dtheta/dt = y^2/y0 - theta), every update, first the threshold of\n"
    "each target, then each synapse:\n\n"
    "    theta <- theta + (1 - exp(-1/tau_theta)) (y^2/y0 - theta)\n"
    "    w <- clip(w + eta x y (y - theta), w_min, w_max)\n" + _COMMON_DOC,
    coef_names=_COEF + ("y0", "a_theta"), derive=_derive_bcm,
    post_state=(StateVar("theta", "theta0", "Hz", "sliding threshold"),),
    on_post_update=bcm_on_post_update)


# ------------------------------------------------------------------ batch layer updates
HEBB, OJA, BCM = 0, 1, 2

#: below this many (batch x n_post x n_pre) terms a layer update runs on one thread: one
#: thread does ~5e9 terms/s (the inner loop vectorizes), so 2^20 terms take ~200 us, well
#: above the cost of starting a parallel region (~10 us, far more on a loaded machine)
PARALLEL_MIN_WORK = 1 << 20


@njit(inline="always")
def _layer_row(q, rule, W, X, Y, theta, eta, w_min, w_max, y0, a):
    """Row q of W (and theta[q] for BCM): one batch-mean update."""
    nb, n_pre = X.shape
    th = 0.0
    if rule == BCM:
        s = 0.0
        for b in range(nb):
            s += Y[b, q] * Y[b, q]
        th = bcm_theta(theta[q], s / nb, y0, a)
        theta[q] = th
    acc = np.zeros(n_pre)
    for b in range(nb):
        y = Y[b, q]
        if rule == HEBB:
            for i in range(n_pre):
                acc[i] += hebb(X[b, i], y, W[q, i])
        elif rule == OJA:
            for i in range(n_pre):
                acc[i] += oja(X[b, i], y, W[q, i])
        else:
            for i in range(n_pre):
                acc[i] += bcm(X[b, i], y, W[q, i], th)
    for i in range(n_pre):
        W[q, i] = clip(W[q, i] + eta * (acc[i] / nb), w_min, w_max)


@njit(cache=True, nogil=True)
def _layer_serial(rule, W, X, Y, theta, eta, w_min, w_max, y0, a):
    for q in range(W.shape[0]):
        _layer_row(q, rule, W, X, Y, theta, eta, w_min, w_max, y0, a)


@njit(cache=True, nogil=True, parallel=True)
def _layer_parallel(rule, W, X, Y, theta, eta, w_min, w_max, y0, a):
    for q in prange(W.shape[0]):
        _layer_row(q, rule, W, X, Y, theta, eta, w_min, w_max, y0, a)


def _parallel(W, X) -> bool:
    return (W.shape[0] > 1 and numba.get_num_threads() > 1
            and X.shape[0] * W.size >= PARALLEL_MIN_WORK)


def _arrays(owner, W, X, Y):
    """W (checked, updated in place) and contiguous float64 X, Y of matching shapes."""
    if not (isinstance(W, np.ndarray) and W.dtype == np.float64 and W.ndim == 2
            and W.flags.c_contiguous and W.flags.writeable):
        raise bad(owner, "W", getattr(W, "shape", type(W).__name__),
                  "must be a writable C-contiguous float64 array (n_post, n_pre)")
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if X.ndim == 1:
        X = X[None]
    if Y.ndim == 1:
        Y = Y[None]
    n_post, n_pre = W.shape
    if X.ndim != 2 or X.shape[1] != n_pre:
        raise bad(owner, "X", X.shape, f"must have shape (batch, n_pre = {n_pre})")
    if Y.shape != (X.shape[0], n_post):
        raise bad(owner, "Y", Y.shape, f"must have shape (batch = {X.shape[0]}, "
                  f"n_post = {n_post})")
    if X.shape[0] == 0:
        raise bad(owner, "X", X.shape, "must hold at least one sample")
    return W, X, Y


def _layer(rule, spec, owner, W, X, Y, theta, **params):
    p = spec.validate_params(owner, params)
    _check_bounds(owner, p)
    W, X, Y = _arrays(owner, W, X, Y)
    a = -math.expm1(-1.0 / p["tau_theta"]) if rule == BCM else 0.0
    y0 = p["y0"] if rule == BCM else 1.0
    kernel = _layer_parallel if _parallel(W, X) else _layer_serial
    kernel(rule, W, X, Y, theta, p["eta"], p["w_min"], p["w_max"], y0, a)
    return W


_NO_THETA = np.zeros(0)


def hebb_update(W, X, Y, eta, w_min=-math.inf, w_max=math.inf):
    """One plain-Hebb update of a layer, in place: W += eta * mean_b(x y), clipped.

    Parameters
    ----------
    W : float64 (n_post, n_pre), C-contiguous: the weights, updated in place.
    X : (batch, n_pre) or (n_pre,): presynaptic rates.
    Y : (batch, n_post) or (n_post,): postsynaptic rates.
    eta : learning rate per update (weight / rate^2).
    w_min, w_max : bounds of the weights.

    Returns
    -------
    W
    """
    return _layer(HEBB, hebb_rule, "hebb_update", W, X, Y, _NO_THETA, eta=eta, w_min=w_min,
                  w_max=w_max)


def oja_update(W, X, Y, eta, w_min=-math.inf, w_max=math.inf):
    """One Oja update of a layer, in place: W += eta * mean_b(y (x - y w)), clipped.

    Parameters as :func:`hebb_update`. For a linear unit ``Y = X @ W.T`` and small ``eta``,
    the row of W converges to the unit-norm first principal component of zero-mean ``X``.
    """
    return _layer(OJA, oja_rule, "oja_update", W, X, Y, _NO_THETA, eta=eta, w_min=w_min,
                  w_max=w_max)


def bcm_update(W, X, Y, theta, eta, tau_theta=100.0, y0=10.0, w_min=-math.inf,
               w_max=math.inf):
    """One BCM update of a layer, in place: first the thresholds, then the weights.

    ``theta[q] += (1 - exp(-1/tau_theta)) (mean_b(Y[:, q]^2) / y0 - theta[q])``, then
    ``W += eta * mean_b(x y (y - theta))`` with the new theta, clipped.

    Parameters
    ----------
    theta : float64 (n_post,): the thresholds (rate units), updated in place.
    tau_theta : time constant of the thresholds, in updates.
    y0 : reference rate of the thresholds.
    Other parameters as :func:`hebb_update`.

    Returns
    -------
    W
    """
    if not (isinstance(theta, np.ndarray) and theta.dtype == np.float64
            and theta.shape == (np.shape(W)[0],) and theta.flags.writeable):
        raise bad("bcm_update", "theta", getattr(theta, "shape", type(theta).__name__),
                  "must be a writable float64 array (n_post,)")
    return _layer(BCM, bcm_rule, "bcm_update", W, X, Y, theta, eta=eta, tau_theta=tau_theta,
                  y0=y0, w_min=w_min, w_max=w_max)


# ------------------------------------------------------------------------- user rules

_CUSTOM_SOURCE = '''"""Generated by neurosim.models.plasticity.hebbian.custom_rule: the rate rule
{name!r} from {module}.{fn}. Do not edit. Sources: {digest}"""

import numpy as np
from numba import njit, prange

from neurosim.models.plasticity.hebbian import clip
from {module} import {fn} as f


@njit
def on_step(k, w, syn, c, x, y, post_state, q):
    w[k] = clip(w[k] + c[0] * f(c[1] * x, c[2] * y, w[k]), c[3], c[4])


@njit(inline="always")
def _row(q, W, X, Y, eta, w_min, w_max):
    nb, n_pre = X.shape
    acc = np.zeros(n_pre)
    for b in range(nb):
        y = Y[b, q]
        for i in range(n_pre):
            acc[i] += f(X[b, i], y, W[q, i])
    for i in range(n_pre):
        W[q, i] = clip(W[q, i] + eta * (acc[i] / nb), w_min, w_max)


@njit(cache=True, nogil=True)
def layer_serial(W, X, Y, eta, w_min, w_max):
    for q in range(W.shape[0]):
        _row(q, W, X, Y, eta, w_min, w_max)


@njit(cache=True, nogil=True, parallel=True)
def layer_parallel(W, X, Y, eta, w_min, w_max):
    for q in prange(W.shape[0]):
        _row(q, W, X, Y, eta, w_min, w_max)
'''


class CustomRule(NamedTuple):
    """What :func:`custom_rule` returns.

    ``spec``: the registered rate rule (``Plasticity(spec.name, ...)`` or
    ``Plasticity(spec, ...)``); ``update(W, X, Y, eta, w_min=-inf, w_max=inf)``: its batch
    layer update (in place, as :func:`hebb_update`); ``module``: the generated module that
    holds the hooks.
    """

    spec: PlasticitySpec
    update: object
    module: object


_CUSTOM: dict[str, tuple[object, CustomRule]] = {}


def _source_digest(f) -> str:
    """A hash of the sources the generated module depends on: the user's module (or
    function) and this file, so that cached compiled loops follow edits to either."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    try:
        path = inspect.getsourcefile(f.py_func)
        h.update(Path(path).read_bytes() if path and os.path.exists(path)
                 else inspect.getsource(f.py_func).encode())
    except (OSError, TypeError):
        raise bad("custom_rule", "f", f, "has no source code that can be found "
                  "(define it in a file or a notebook cell)") from None
    return h.hexdigest()[:20]


def custom_rule(name: str, f, doc: str = "", eta: float = 1e-6, tau: float = 100.0,
                register_rule: bool = True) -> CustomRule:
    r"""A rate rule from a user function ``f(x, y, w) -> dw / eta``.

    The rule updates each synapse every period with
    ``w <- clip(w + eta * f(x, y, w), w_min, w_max)`` (x, y rates in Hz, as for the built-in
    rules: see the module docstring) and has the parameters ``eta`` (default ``eta``),
    ``tau_pre``, ``tau_post`` (ms, default ``tau``), ``w_min``, ``w_max``.

    Parameters
    ----------
    name : the rule's registry name (must be new).
    f : an ``@njit`` function of three floats returning a float, defined at the **top level
        of an importable module** (a module file, a test module, ``__main__`` of a script or
        a notebook): the engine's compiled loop imports the rule's hooks by module and name,
        so closures, lambdas and functions created at run time are refused.
    doc : the rule's description.
    eta, tau : defaults of the learning rate and of the rate time constants.
    register_rule : register the rule under ``name`` (so ``Plasticity(name)`` finds it).

    Returns
    -------
    CustomRule (spec, update, module)

    Notes
    -----
    The hooks live in a small module generated in neurosim's cache folder (``rule_<name>_
    <hash>.py``, imported as ``neurosim_rule_<name>_<hash>``) that imports ``f`` from its
    module; the hash covers the source file of ``f``'s module, so editing it gives a new
    module and new compiled loops. Helpers that ``f`` calls in *other* modules are not
    covered: after editing those, clear the cache folder. Calling ``custom_rule`` again with
    the same name and the same ``f`` returns the first result. The module of ``f`` must be
    importable under its ``__module__`` name in every process that runs the rule (it is, if
    that process defines the rule).
    """
    from neurosim import codegen, registry

    owner = "custom_rule"
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise bad(owner, "name", name, "must be an identifier (letters, digits, _)")
    if name in _CUSTOM:
        if _CUSTOM[name][0] is not f:
            raise bad(owner, "name", name, "is already a custom rule with another function")
        result = _CUSTOM[name][1]
        if register_rule:
            register(result.spec)  # again, if it was taken out of the registry
        return result
    if name in registry.rule_names():
        raise bad(owner, "name", name, "is already a registered plasticity rule")
    py = getattr(f, "py_func", None)
    if py is None or not callable(f):
        raise bad(owner, "f", f, "must be an @njit function f(x, y, w) -> float")
    mod, fn = py.__module__, py.__name__
    if getattr(sys.modules.get(mod), fn, None) is not f:
        raise bad(owner, "f", f, f"must be defined at the top level of an importable module "
                  f"(found no {fn!r} in module {mod!r})")
    try:
        out = f(2.0, 3.0, 0.5)
        ok = isinstance(out, float)
    except Exception as e:  # noqa: BLE001 - a typing error of the user's function
        raise bad(owner, "f", f, f"does not compile for f(x, y, w) of floats: {e}") from None
    if not ok:
        raise bad(owner, "f", f, f"must return a float (returned {type(out).__name__})")

    digest = _source_digest(f)
    text = _CUSTOM_SOURCE.format(name=name, module=mod, fn=fn, digest=digest)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    modname = f"neurosim_rule_{name}_{key}"
    path = codegen.cache_dir() / f"{modname}.py"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)  # atomic: concurrent processes never see half a file
    if modname in sys.modules:
        gen = sys.modules[modname]
    else:
        spec_ = importlib.util.spec_from_file_location(modname, path)
        gen = importlib.util.module_from_spec(spec_)
        sys.modules[modname] = gen
        spec_.loader.exec_module(gen)

    spec = PlasticitySpec(
        name=name, kind="rate", params=_common(eta, "weight / unit of f", tau),
        coef_names=_COEF, derive=_derive_for(name), pre_traces=(_X,), post_traces=(_Y,),
        on_step=gen.on_step,
        doc=doc or f"User rate rule: w <- clip(w + eta {mod}.{fn}(x, y, w), w_min, w_max).")

    def update(W, X, Y, eta, w_min=-math.inf, w_max=math.inf):
        """One batch update of a layer with the user rule (in place; see hebb_update)."""
        lname = f"{name}.update"
        p = spec.validate_params(lname, dict(eta=eta, w_min=w_min, w_max=w_max))
        _check_bounds(lname, p)
        W, X, Y = _arrays(lname, W, X, Y)
        kernel = gen.layer_parallel if _parallel(W, X) else gen.layer_serial
        kernel(W, X, Y, p["eta"], p["w_min"], p["w_max"])
        return W

    if register_rule:
        register(spec)
    result = CustomRule(spec, update, gen)
    _CUSTOM[name] = (f, result)
    return result

"""Generate, cache and load the compiled time loop of one network structure.

Python must not run once per time step, and a Numba function that takes other jitted
functions as arguments is not cacheable. So for each network *structure* (which model each
population runs, which projections, monitors and current stimuli exist, serial or threaded)
this module writes a short Python module whose ``@njit(cache=True)`` function ``run_chunk``
(threaded: ``thread_steps``, one per thread, started by a Python ``run_chunk``) calls the
model kernels by name, stores it under a cache folder keyed by a hash of that
structure and of the kernels' source, and imports it. Values (sizes, weights, parameters)
are arguments, so changing them never recompiles. Print ``Simulation.source`` to read the
loop of a compiled network.

Cache folder: ``$NEUROSIM_CACHE_DIR``, else ``~/.cache/neurosim``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .kernels import coefs, engine, plasticity, prefetch, team


def cache_dir() -> Path:
    d = Path(os.environ.get("NEUROSIM_CACHE_DIR") or Path.home() / ".cache" / "neurosim")
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass
class Structure:
    """What the generated loop depends on; nothing here changes with parameter values."""

    parallel: bool
    #: (kind, kernel module, kernel name) per population; kind "neurons" or "source"
    pops: list[tuple[str, str, str]] = field(default_factory=list)
    #: (pre index, post index, port index, rule index or -1) per projection
    projs: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: (kind, module, hook names (on_pre, on_post, on_step, on_post_update, on_sync; "" if
    #: absent))
    #: per distinct plasticity rule
    rules: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    #: projection index per weight monitor
    weight_mons: list[int] = field(default_factory=list)
    #: population index per current stimulus
    currents: list[int] = field(default_factory=list)
    #: (projection index, state row of its targets, delay in steps) per projection
    #: delivered as jumps
    jumps: list[tuple[int, int, int]] = field(default_factory=list)
    #: steps for which spike lists are kept (buffer ``step % depth``): 3, or one more than
    #: the longest jump delay
    depth: int = 3
    #: neuron populations whose kernel gets no ring (``inp=None``): all inputs are jumps
    ringless: list[int] = field(default_factory=list)
    #: population index per spike monitor
    spike_mons: list[int] = field(default_factory=list)
    #: (population index, state row) per state monitor
    state_mons: list[tuple[int, int]] = field(default_factory=list)

    def key(self) -> str:
        sources = {inspect.getsourcefile(m) for m in (engine, plasticity, prefetch, coefs, team)}
        for kind, mod, _ in self.pops:
            if kind == "neurons":
                sources.add(inspect.getsourcefile(sys.modules[mod]))
        for _, mod, _ in self.rules:
            sources.add(inspect.getsourcefile(sys.modules[mod]))
        # built-in model files import helpers from their neighbours (alif <- lif, triplet <-
        # stdp), which get compiled into this loop too: hash the whole folder of each
        models = Path(importlib.util.find_spec("neurosim.models").submodule_search_locations[0])
        for path in list(sources):
            if Path(path).resolve().is_relative_to(models.resolve()):
                sources.update(str(p) for p in Path(path).parent.glob("*.py"))
        h = hashlib.sha256(repr((__version__, self.__dict__)).encode())
        for path in sorted(sources):
            h.update(Path(path).read_bytes())
        return h.hexdigest()[:20]


def arg_names(st: Structure) -> list[str]:
    """The argument list of ``run_chunk`` after ``(k0, n_steps, n_threads)``, in order."""
    args = []
    for p, (kind, _, _) in enumerate(st.pops):
        if kind == "neurons":
            args += [f"p{p}_{x}" for x in ("state", "coef", "ring", "iext", "spiked", "spk",
                                           "chunks", "cnt")]
        else:
            args += [f"p{p}_{x}" for x in ("ptr", "spk", "lo", "cnt")]
    for j, (_, _, _, r) in enumerate(st.projs):
        args += [f"j{j}_{x}" for x in ("bounds", "post", "w", "d")]
        if r >= 0:
            args += [f"j{j}_pl", f"j{j}_every"]
    for c in range(len(st.currents)):
        args += [f"c{c}_{x}" for x in ("steps", "delta", "idx", "pos")]
    for m in range(len(st.spike_mons)):
        args += [f"m{m}_{x}" for x in ("t", "i", "fill")]
    for r in range(len(st.state_mons)):
        args += [f"r{r}_{x}" for x in ("idx", "buf", "fill", "every")]
    for r in range(len(st.weight_mons)):
        args += [f"u{r}_{x}" for x in ("idx", "cols", "bounds", "buf", "fill", "every")]
    if st.parallel:
        args += ["busy", "team"]
    return args


def _buf(st: Structure, step: str) -> str:
    """The spike-list buffer of ``step``: lists are kept for ``st.depth`` steps."""
    return f"({step}) % {st.depth}"


def _segments(st: Structure, p: int, buf: str) -> str:
    """Arguments (spikes, segment starts, segment counts) of population p's spikes in buffer
    ``buf`` (step modulo ``st.depth``)."""
    if st.pops[p][0] == "neurons":
        return f"p{p}_spk[{buf}], p{p}_chunks, p{p}_cnt[{buf}]"
    return f"p{p}_spk, p{p}_lo[{buf}], p{p}_cnt[{buf}]"


def _kind(st: Structure, j: int) -> str:
    r = st.projs[j][3]
    return "static" if r < 0 else st.rules[r][0]


def _deliveries(st: Structure, step: str) -> list[str]:
    """Thread t delivers the spikes of ``step`` into its own targets; plastic projections run
    their presynaptic hooks on the way."""
    out = []
    buf = _buf(st, step)
    jumps = {j for j, _, _ in st.jumps}
    for j, (pre, post, port, r) in enumerate(st.projs):
        if j in jumps:
            continue
        ring = f"p{post}_ring, {port}, ({step}) % p{post}_ring.shape[0]"
        out.append(f"if t < j{j}_bounds.shape[1] - 1:")
        if _kind(st, j) == "spike":
            out.append(f"    deliver_r{r}({_segments(st, pre, buf)}, j{j}_bounds, t, j{j}_post, "
                       f"j{j}_w, j{j}_d, {ring}, ({step}) + 1, j{j}_pl)")
        else:
            out.append(f"    deliver({_segments(st, pre, buf)}, j{j}_bounds, t, j{j}_post, "
                       f"j{j}_w, j{j}_d, {ring})")
    return out


def _jumps(st: Structure, step: str) -> list[str]:
    """Thread t adds the weights of the spikes that reach their targets in ``step`` (emitted
    ``delay`` steps earlier) straight into the state row of its own targets (projections
    delivered as jumps, after the targets' update)."""
    out = []
    for j, row, d in st.jumps:
        pre, post = st.projs[j][:2]
        out += [f"if t < j{j}_bounds.shape[1] - 1:",
                f"    add_weights({_segments(st, pre, _buf(st, f'{step} - {d}'))}, "
                f"j{j}_bounds, t, j{j}_post, j{j}_w, p{post}_state[{row}])"]
    return out


def _prefetches(st: Structure, p: int, spikes: str) -> list[str]:
    """Prefetch, one step before their delivery, the target lists of population p's spikes
    in every projection from p: the new spikes of step k (``spikes``: the arguments spikes,
    first, count) for the ring and one-step jumps; for a jump of d > 1 steps (only neurons
    jump: thread t, unit range ``lo``..) those of step ``k + 1 - d``."""
    delay = {j: d for j, _, d in st.jumps}
    out = []
    for j, (pre, *_) in enumerate(st.projs):
        if pre != p:
            continue
        d = delay.get(j, 1)
        due = spikes
        if d > 1:
            buf = _buf(st, f"k + 1 - {d}")
            due = f"p{p}_spk[{buf}], lo, p{p}_cnt[{buf}, t]"
        out.append(f"prefetch_rows({due}, j{j}_bounds, j{j}_post)")
    return out


def _post_hooks(st: Structure, step: str) -> list[str]:
    """Thread t runs the postsynaptic hooks of its own targets that fired in ``step``."""
    out = []
    for j, (_, post, _, r) in enumerate(st.projs):
        if _kind(st, j) == "spike":
            out += [f"if t < p{post}_cnt.shape[1]:",
                    f"    post_r{r}({_segments(st, post, _buf(st, step))}, t, j{j}_w, "
                    f"({step}) + 1, j{j}_pl)"]
    return out


def _serial_traces(st: Structure, step: str) -> list[str]:
    """After the parallel region: the presynaptic traces of ``step``'s spikes jump (and the
    postsynaptic ones of rate rules, which then update every ``every`` steps)."""
    out = []
    buf = _buf(st, step)
    for j, (pre, post, _, r) in enumerate(st.projs):
        if r < 0:
            continue
        stamp = f"({step}) + 1"
        out.append(f"jump_traces({_segments(st, pre, buf)}, j{j}_pl.pre_tr, j{j}_pl.pre_last, "
                   f"{stamp}, j{j}_pl.pre_tab, j{j}_pl.pre_par)")
        if _kind(st, j) == "rate":
            out += [f"jump_traces({_segments(st, post, buf)}, j{j}_pl.post_tr, "
                    f"j{j}_pl.post_last, {stamp}, j{j}_pl.post_tab, j{j}_pl.post_par)",
                    f"if ({stamp}) % j{j}_every == 0:",
                    f"    periodic_r{r}(j{j}_bounds, j{j}_post, j{j}_w, {stamp}, j{j}_pl)"]
    return out


def _samples(st: Structure, stamp: str) -> tuple[list[str], list[str]]:
    """Weight monitors due at ``stamp``: (in the region: thread t copies the weights of its
    own targets' synapses; after it: the row is complete)."""
    inside, after = [], []
    for r, j in enumerate(st.weight_mons):
        inside += [f"if ({stamp}) % u{r}_every == 0 and t < u{r}_bounds.size - 1:",
                   f"    record_weights(j{j}_w, u{r}_idx, u{r}_cols, u{r}_bounds, t, u{r}_buf, "
                   f"u{r}_fill)"]
        after += [f"if ({stamp}) % u{r}_every == 0:", f"    u{r}_fill[0] += 1"]
    return inside, after


def _region(loop: str, parts: list[list[str]]) -> list[str]:
    body = [x for part in parts for x in part]
    return [f"for t in {loop}(n_threads):"] + ["    " + x for x in body] if body else []


_DRIVERS = {
    "spike": '''

@njit(cache=True, nogil=True)
def deliver_r{r}(spk, seg_lo, seg_cnt, bounds, col, post, w, delay, ring, port, slot, stamp, pl):
    """Presynaptic spikes at ``stamp``: {on_pre} on each synapse of the own target range, then
    the updated weight goes into ring slot (slot + delay) mod L."""
    L = ring.shape[0]
    syn, coef = pl.syn, pl.coef  # fields read once: inside the loops they are not hoisted
    xt, xl, xtab, xpar = pl.pre_tr, pl.pre_last, pl.pre_tab, pl.pre_par
    yt, yl, ytab, ypar = pl.post_tr, pl.post_last, pl.post_tab, pl.post_par
    for c in range(seg_cnt.size):
        for j in range(seg_lo[c], seg_lo[c] + seg_cnt[c]):
            i = spk[j]
            r1 = trace_at(xt, 0, i, xl, stamp, xtab, xpar)
            r2 = trace_at(xt, 1, i, xl, stamp, xtab, xpar)
            for k in range(bounds[i, col], bounds[i, col + 1]):
                q = post[k]
                o1 = trace_at(yt, 0, q, yl, stamp, ytab, ypar)
                o2 = trace_at(yt, 1, q, yl, stamp, ytab, ypar)
                {on_pre}(k, w, syn, coef, r1, r2, o1, o2, stamp)
                s = slot + (delay[0] if delay.size == 1 else delay[k])
                if s >= L:
                    s -= L
                ring[s, port, q] += w[k]


@njit(cache=True, nogil=True)
def post_r{r}(spk, seg_lo, seg_cnt, col, w, stamp, pl):
    """Postsynaptic spikes of segment ``col`` at ``stamp``: {on_post} on each synapse onto
    them, then their traces jump."""
    syn, coef = pl.syn, pl.coef  # fields read once: inside the loops they are not hoisted
    xt, xl, xtab, xpar = pl.pre_tr, pl.pre_last, pl.pre_tab, pl.pre_par
    yt, yl, ytab, ypar = pl.post_tr, pl.post_last, pl.post_tab, pl.post_par
    col_ptr, col_syn, col_pre = pl.col_ptr, pl.col_syn, pl.col_pre
    for j in range(seg_lo[col], seg_lo[col] + seg_cnt[col]):
        q = spk[j]
        o1 = trace_at(yt, 0, q, yl, stamp, ytab, ypar)
        o2 = trace_at(yt, 1, q, yl, stamp, ytab, ypar)
        hi = col_ptr[q + 1]
        for x in range(col_ptr[q], hi):
            if x + PREFETCH < hi:  # the weights of one target lie scattered: fetch ahead
                prefetch(w, col_syn[x + PREFETCH])
            i = col_pre[x]
            r1 = trace_at(xt, 0, i, xl, stamp, xtab, xpar)
            r2 = trace_at(xt, 1, i, xl, stamp, xtab, xpar)
            {on_post}(col_syn[x], w, syn, coef, r1, r2, o1, o2, stamp)
        trace_jump(yt, yl, q, stamp, ytab, ypar)
''',
    "rate": '''

@njit(cache=True, nogil=True)
def periodic_r{r}(bounds, post, w, stamp, pl):
    """Every ``every`` steps: {on_post_update} on each target, then {on_step} on each
    synapse, with the rate traces x (source) and y (target) at ``stamp``."""
    syn, coef, post_state = pl.syn, pl.coef, pl.post_state
    n_post = pl.post_tr.shape[1]
    y = np.empty(n_post)
    for q in range(n_post):
        y[q] = trace_at(pl.post_tr, 0, q, pl.post_last, stamp, pl.post_tab, pl.post_par)
        {on_post_update}(q, post_state, coef, y[q])
    last = bounds.shape[1] - 1
    xt, xl, xtab, xpar = pl.pre_tr, pl.pre_last, pl.pre_tab, pl.pre_par
    for i in range(bounds.shape[0]):
        x = trace_at(xt, 0, i, xl, stamp, xtab, xpar)
        for k in range(bounds[i, 0], bounds[i, last]):
            {on_step}(k, w, syn, coef, x, y[post[k]], post_state, post[k])
''',
}


_SYNC = '''

@njit(cache=True, nogil=True)
def sync_r{r}(w, stamp, pl):
    """Bring every synapse up to ``stamp`` ({on_sync}), e.g. before the modulator changes."""
    for k in range(w.size):
        {on_sync}(k, w, pl.syn, pl.coef, stamp)
'''


def source(st: Structure, key: str) -> str:
    """The text of the generated module (see the step order in simulation.py).

    Thread t owns unit range t of every population and the same target range of every
    projection (the ranges move between calls, see :mod:`neurosim.balance`; the loop counts
    each thread's ticks in ``busy``). In step k, after thread 0's serial part (monitor
    checks, current changes, source events) each thread runs the postsynaptic hooks of its
    own targets that fired in step k - 2, delivers the spikes of step k - 1 into its own
    targets (presynaptic hooks on the way), then integrates its own units for step k; all of
    that touches only its own range, so the threads meet only at its end (a barrier, see
    :func:`_threaded`). The presynaptic traces of step k - 1's spikes then jump (thread 0:
    several threads read them). Spike lists are kept for ``st.depth`` steps
    (buffer ``step % depth``, at least 3). When a call returns, every hook and ring delivery
    of its steps has run; jumps still due are made by the next call from the kept lists.
    """
    loop = "range"  # threads run thread_steps (below); a loop over them is serial
    neurons = [p for p, (kind, _, _) in enumerate(st.pops) if kind == "neurons"]
    lines = [
        f'"""Generated by neurosim {__version__} (structure {key}). Do not edit."""',
        "import numpy as np  # noqa: F401",
        "from numba import njit  # noqa: F401",
        "from neurosim.kernels.engine import (add_weights, apply_currents, compact, deliver,",
        "                                     prefetch_rows, record_spikes, record_state,",
        "                                     record_weights)",
        "from neurosim.kernels.clock import cycles  # noqa: F401",
        "from neurosim.kernels.plasticity import jump_traces, trace_at, trace_jump  # noqa: F401",
        "from neurosim.kernels.prefetch import prefetch  # noqa: F401",
        "from neurosim.kernels.team import (atomic_load, atomic_store, barrier,  # noqa: F401",
        "                                   run_threads)",
        "PREFETCH = 16  # synapses ahead on the postsynaptic walk",
    ]
    lines += [f"from {mod} import {fn} as update_p{p}"
              for p, (kind, mod, fn) in enumerate(st.pops) if kind == "neurons"]
    hook_names = ("on_pre", "on_post", "on_step", "on_post_update", "on_sync")
    if any(kind == "rate" and not hooks[3] for kind, _, hooks in st.rules):
        lines += ["", "", "@njit", "def _no_hook(q, post_state, coef, y):", "    pass"]
    for r, (kind, mod, hooks) in enumerate(st.rules):
        fill = {"r": r}
        for role, fn in zip(hook_names, hooks, strict=True):
            if fn:
                lines.append(f"from {mod} import {fn} as {role}_r{r}")
            fill[role] = f"{role}_r{r}" if fn else "_no_hook"
        lines += _DRIVERS[kind].format(**fill).split("\n")
        if hooks[4]:
            lines += _SYNC.format(**fill).split("\n")

    def finish(last: str, done: str) -> list[str]:
        """Complete the steps up to ``last`` (``done`` steps were run in this call): what
        the next two steps' regions would have done for them."""
        late = _post_hooks(st, f"{last} - 1") + _samples(st, last)[0]
        late = [f"if {done} >= 2:"] + ["    " + x for x in late] if late else []
        out = _region(loop, [late, _deliveries(st, last)])
        after = _samples(st, last)[1]
        out += [f"if {done} >= 2:"] + ["    " + x for x in after] if after else []
        out += _serial_traces(st, last)
        out += _region(loop, [_post_hooks(st, last), _samples(st, f"{last} + 1")[0]])
        out += _samples(st, f"{last} + 1")[1]
        return out

    args = ", ".join(arg_names(st))
    checks = []  # per step: the test that a spike monitor could overflow
    for m, p in enumerate(st.spike_mons):
        size = (f"p{p}_spiked.size" if st.pops[p][0] == "neurons"
                else f"(p{p}_ptr[s + 1] - p{p}_ptr[s])")
        checks.append(f"if m{m}_fill[0] + {size} > m{m}_t.size:  # monitor buffer full: stop here")
    before = ["# 1. current stimuli change"]
    before += [f"apply_currents(k, c{c}_steps, c{c}_delta, c{c}_idx, c{c}_pos, p{p}_iext)"
               for c, p in enumerate(st.currents)]
    before.append("# sources publish their step-k events")
    for p, (kind, _, _) in enumerate(st.pops):
        if kind == "source":
            before += [f"p{p}_lo[b, 0] = p{p}_ptr[s]",
                       f"p{p}_cnt[b, 0] = p{p}_ptr[s + 1] - p{p}_ptr[s]"]
            before += _prefetches(st, p, f"p{p}_spk, p{p}_lo[b, 0], p{p}_cnt[b, 0]")
    rings = [f"inp{p} = p{p}_ring[k % p{p}_ring.shape[0]]" for p in neurons
             if p not in st.ringless]
    region = []
    post = _post_hooks(st, "k - 2") + _samples(st, "k - 1")[0]
    if post:
        region.append("# 2a. postsynaptic hooks of the own targets that fired in step k - 2;")
        region.append("# then every event of stamp <= k - 1 is in: weight monitors sample")
        region += ["if s >= 2:"] + ["    " + x for x in post]
    deliveries = _deliveries(st, "k - 1")
    if deliveries:
        region.append("# 2. deliver step k - 1's spikes into slots k - 1 + delay (own targets)")
        region += ["if s > 0:"] + ["    " + x for x in deliveries]
    if neurons:
        region.append("# 3. integrate own units one step (reads and clears ring slot k)")
    for p in neurons:
        region += [
            f"if t < p{p}_cnt.shape[1]:",
            f"    lo, hi = p{p}_chunks[t], p{p}_chunks[t + 1]",
            f"    update_p{p}(lo, hi, p{p}_state, p{p}_coef, "
            f"{'None' if p in st.ringless else f'inp{p}'}, "
            f"{f'p{p}_iext' if p in st.currents else 'None'}, p{p}_spiked)",
            f"    p{p}_cnt[b, t] = compact(p{p}_spiked, lo, hi, p{p}_spk[b])",
        ]
        region += ["    " + x for x in _prefetches(st, p, f"p{p}_spk[b], lo, p{p}_cnt[b, t]")]
    jumps = _jumps(st, "k")
    if jumps:
        region.append("# 3b. the weights of the spikes due in step k jump into the own targets'"
                      " state")
        region += jumps
    if st.parallel:  # each thread's ticks for its share (Simulation rebalances the shares)
        region = ["tick = cycles()"] + region + ["busy[t] += cycles() - tick"]
    after = _samples(st, "k - 1")[1]
    after = ["if s >= 2:"] + ["    " + x for x in after] if after else []
    traces = _serial_traces(st, "k - 1")
    if traces:
        after.append("# 3c. presynaptic traces of step k - 1's spikes jump")
        after.append("if s > 0:")
        after += ["    " + x for x in traces]
    after.append("# 4. monitors record the state after the step (time stamp k + 1)")
    for m, p in enumerate(st.spike_mons):
        after.append(f"record_spikes({_segments(st, p, 'b')}, k + 1, m{m}_t, m{m}_i, m{m}_fill)")
    for r, (p, row) in enumerate(st.state_mons):
        after += [f"if (k + 1) % r{r}_every == 0:",
                  f"    record_state(p{p}_state[{row}], r{r}_idx, r{r}_buf, r{r}_fill)"]

    if not st.parallel:  # one loop, everything inline (the fastest form for one thread)
        lines += [
            "",
            "",
            "@njit(cache=True, nogil=True)",
            f"def run_chunk(k0, n_steps, n_threads, {args}):",
            "    k = k0",
            "    for s in range(n_steps):",
            "        k = k0 + s",
            f"        b = k % {st.depth}",
        ]
        body = []
        for check in checks:
            body.append(check)
            done = finish("k - 1", "s")
            body += ["    if s > 0:"] + ["        " + x for x in done] if done else []
            body += ["    return s"]
        body += before + rings + _region(loop, [region]) + after
        lines += ["        " + x for x in body]
        done = finish("k - 1", "n_steps")
        if done:
            lines += ["    k = k0 + n_steps", "    if n_steps > 0:"]
            lines += ["        " + x for x in done]
        lines += ["    return n_steps", ""]
        return "\n".join(lines)
    return "\n".join(lines + _threaded(st, args, checks, before, rings, region, after,
                                        finish("k - 1", "done")))


def _threaded(st: Structure, args: str, checks, before, rings, region, after,
              done: list[str]) -> list[str]:
    """The functions of a threaded loop: ``thread_steps`` runs thread t's part of every step
    of a call (thread 0 first: monitor checks, current changes, source events; then each
    thread its deliveries, units and jumps; then thread 0: recording, trace jumps), with a
    barrier after each of the first two parts (kernels/team.py); ``run_chunk`` (Python) runs
    it on one thread per range (:func:`neurosim.kernels.team.run_threads`), then
    ``complete`` finishes what the last steps left."""
    def code(part: list[str]) -> bool:
        return any(not x.lstrip().startswith("#") for x in part)

    stop = f"atomic_store(team, {team.STOP}, s)"
    start = [x for c in checks for x in (c, "    " + stop)]
    if code(before):
        start += [f"if atomic_load(team, {team.STOP}) != s:"] + ["    " + x for x in before]
    step = ["k = k0 + s", f"b = k % {st.depth}"]
    step += ["if t == 0:"] + ["    " + x for x in start] if start else []
    step += [
        "generation = barrier(team, n_threads, generation)",
        f"if atomic_load(team, {team.STOP}) == s or atomic_load(team, {team.ERROR}) != 0:",
        "    break",
    ] + rings + region + [
        "generation = barrier(team, n_threads, generation)",
        f"if atomic_load(team, {team.ERROR}) != 0:",
        "    break",
    ]
    step += ["if t == 0:"] + ["    " + x for x in after] if code(after) else []
    finish = ["k = k0 + done", "if done > 0:"] + ["    " + x for x in done] if code(done) else []
    return [
        "",
        "",
        "@njit(cache=True, nogil=True)",
        f"def thread_steps(t, k0, n_steps, n_threads, {args}):",
        '    """Thread t\'s part of every step of the call, barriers between the parts."""',
        "    generation = 0",
        "    for s in range(n_steps):",
    ] + ["        " + x for x in step] + [
        "",
        "",
        "@njit(cache=True, nogil=True)",
        f"def complete(k0, done, n_threads, {args}):",
        '    """What the next steps would have done for the last ones of a call of ``done``',
        '    steps from k0 (after the threads\' call)."""',
    ] + ["    " + x for x in finish] + [
        "    return",
        "",
        "",
        "def run_chunk(k0, n_steps, n_threads, *args):",
        '    """Run up to n_steps steps from k0 on n_threads threads (Python: starts them)."""',
        "    return run_threads(thread_steps, complete, k0, n_steps, n_threads, args)",
        "",
    ]


_LOADED: dict[str, object] = {}


def load_module(st: Structure):
    """The generated module of this structure (``run_chunk``, the rule drivers and
    ``__source__``), written to the cache folder and imported once per process."""
    key = st.key()
    if key in _LOADED:
        return _LOADED[key]
    text = source(st, key)
    path = cache_dir() / f"loop_{key}.py"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)  # atomic: concurrent processes never see half a file
    name = f"neurosim_loop_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    mod.__source__ = text
    _LOADED[key] = mod
    return mod


def load(st: Structure):
    """The compiled ``run_chunk`` of this structure and its source text."""
    mod = load_module(st)
    return mod.run_chunk, mod.__source__

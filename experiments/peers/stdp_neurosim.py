"""One run of the plastic network (see ``_stdp.py``) in neurosim; prints one JSON line.

    python experiments/peers/stdp_neurosim.py --n 10000 --T 10 [--static] [--threads 2]

E->E: ``ns.Plasticity("stdp", ...)`` (the weights are per synapse); ``--static``: one shared
weight. External drive: ``net.poisson`` (one 500 Hz train per neuron, ``one_to_one``).

Phases as in ``cuba_neurosim.py``: ``import_s``; a small copy (N = 1000) is built and run first
to load Numba and the kernels (baseline for ``bytes_per_synapse``); ``build_s`` = network
description + ``Simulation.build_time``; ``jit_s`` = tiny copy + loop load + the 0.1 ms warm-up
``sim.run``; ``loop_s`` = ``sim.run(T)`` afterwards (it includes drawing the Poisson input in
Python once per 100 ms chunk). ``--force-split`` lowers neurosim's threshold for splitting a
population between threads (``MIN_UNITS_PER_THREAD``, 8192 neurons per thread), which keeps a
10,000-neuron network on its serial loop; the flag only shows what two threads would give.
"""

from __future__ import annotations

import time

import _common as c
import _stdp as s


def build(ns, n: int, plastic: bool, seed: int, record: bool = True):
    ne, p = s.n_exc(n), s.p_connect(n)
    net = ns.Network(seed=seed)
    v0 = ns.Uniform(s.V_RESET, s.V_TH)
    net.population("E", "iaf_psc_exp", ne, V_m=v0, **s.NEURON)
    net.population("I", "iaf_psc_exp", n - ne, V_m=v0, **s.NEURON)
    pl = ns.Plasticity("stdp", **s.STDP) if plastic else None
    d = s.DELAY
    net.connect("E", "E", ns.fixed_prob(p), s.J_EXC, d, "exc", name="EE", plasticity=pl)
    net.connect("E", "I", ns.fixed_prob(p), s.J_EXC, d, "exc", name="EI")
    net.connect("I", "E", ns.fixed_prob(p), s.J_INH, d, "inh", name="IE")
    net.connect("I", "I", ns.fixed_prob(p), s.J_INH, d, "inh", name="II")
    net.poisson("xE", ne, s.NU_EXT)
    net.poisson("xI", n - ne, s.NU_EXT)
    net.connect("xE", "E", ns.one_to_one(), s.J_EXT, d, "exc", name="xE")
    net.connect("xI", "I", ns.one_to_one(), s.J_EXT, d, "exc", name="xI")
    if record:
        net.spike_monitor("E")
        net.spike_monitor("I")
    return net


def main(argv=None) -> None:
    ap = s.parser(__doc__.splitlines()[0])
    ap.add_argument("--force-split", action="store_true",
                    help="split populations between threads even below 8192 neurons/thread")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    import numpy as np

    import neurosim as ns

    import_s = time.perf_counter() - t
    if args.force_split:
        import neurosim.simulation as nsim

        nsim.MIN_UNITS_PER_THREAD = 1024
    t = time.perf_counter()
    build(ns, 1000, args.plastic, args.seed).compile(dt=s.DT, threads=args.threads).run(s.DT)
    tiny_s = time.perf_counter() - t
    base_mb = c.rss_mb()

    t = time.perf_counter()
    net = build(ns, args.n, args.plastic, args.seed)
    spec_s = time.perf_counter() - t
    sim = net.compile(dt=s.DT, threads=args.threads)
    build_s = spec_s + sim.build_time
    t = time.perf_counter()
    sim.run(s.DT)
    warmup_s = time.perf_counter() - t
    net_mb = c.rss_mb()
    k_warm = sim.k
    w_init = float(np.mean(sim.weights("EE")))

    t = time.perf_counter()
    sim.run(args.T * 1000.0)
    loop_s = time.perf_counter() - t
    peak_mb = c.rss_mb()

    ne, ni = s.n_exc(args.n), args.n - s.n_exc(args.n)
    out_deg = {pre: sum(np.diff(sim.projection(f"{pre}{post}").indptr) for post in "EI")
               for pre in "EI"}
    ee = sim.projection("EE")
    in_deg_ee = np.bincount(ee.post, minlength=ne)
    times, is_exc = [], []
    spikes = events = plastic_updates = 0
    for pop in "EI":
        stamps, ids = sim.spike_steps(pop)
        sel = stamps > k_warm
        stamps, ids = stamps[sel], ids[sel]
        spikes += int(ids.size)
        events += c.out_degree_events(out_deg[pop], ids)
        times.append((stamps - k_warm) * s.DT)
        is_exc.append(np.full(ids.size, pop == "E"))
        if pop == "E" and args.plastic:  # pre hooks + post hooks on E->E
            plastic_updates = (c.out_degree_events(np.diff(ee.indptr), ids)
                               + c.out_degree_events(in_deg_ee, ids))
    row = dict(
        tool="neurosim" if args.threads == 1 else f"neurosim-{args.threads}t",
        mode="plastic" if args.plastic else "static", N=args.n, T_bio_s=args.T,
        threads=args.threads,
        parallel=bool(sim.structure.parallel), force_split=bool(args.force_split),
        import_s=import_s, build_s=build_s, load_s=sim.load_time, warmup_s=warmup_s,
        jit_s=tiny_s + sim.load_time + warmup_s, loop_s=loop_s,
        spikes=spikes, events=events, events_exact=True, plastic_updates=plastic_updates,
        synapses=sim.n_synapses() - args.n,  # without the one-to-one Poisson synapses
        plastic_synapses=ee.nnz if args.plastic else 0, ee_synapses=ee.nnz,
        base_rss_mb=base_mb, peak_rss_mb=peak_mb,
        bytes_per_synapse=(net_mb - base_mb) * 2**20 / sim.n_synapses(),
        memory_bytes=sim.memory_bytes(), w_init=w_init,
    )
    row.update(s.rate_summary(np.concatenate(times), np.concatenate(is_exc), ne, ni, args.T))
    if args.plastic:
        row.update(s.weight_summary(sim.weights("EE")))
    c.emit(row)


if __name__ == "__main__":
    main()

"""One CUBA run in neurosim, in this process; prints one JSON line of phase timers.

    python experiments/peers/cuba_neurosim.py --n 4000 --T 1 --threads 1

Phases: ``import_s`` (import neurosim and its CUBA model), ``build_s`` (``cuba.build`` plus
``Simulation.build_time``: connectivity, state, monitors), ``load_s`` (import of the
generated loop module), ``jit_s`` (a tiny CUBA copy compiled and run first, plus the 0.1 ms
warm-up ``sim.run``: JIT compilation or Numba cache load), ``loop_s`` (``sim.run(T)``
afterwards). Spikes, rate and synaptic events count only the ``T`` loop.

``bytes_per_synapse``: peak RSS after building the network and its first step, minus the RSS
after the tiny copy has loaded Numba and the kernels, per synapse (recorded spikes excluded;
they are in ``peak_rss_mb``). Caches: ``NUMBA_CACHE_DIR`` and ``NEUROSIM_CACHE_DIR`` (the
driver points them at empty folders for a cold run). ``parallel`` tells whether the compiled
loop is the threaded one: with ``--threads 2`` neurosim still runs serially when no
population or projection is big enough to split.
"""

from __future__ import annotations

import time

import _common as c


def main(argv=None) -> None:
    args = c.parser(__doc__.splitlines()[0]).parse_args(argv)
    t = time.perf_counter()
    import numpy as np

    from neurosim.models.networks import cuba

    import_s = time.perf_counter() - t
    # load Numba and the kernels on a tiny copy first, so that the baseline below holds them
    # and bytes_per_synapse measures the network, not the JIT
    t = time.perf_counter()
    cuba.build(100, seed=args.seed, delay=args.delay).compile(dt=c.DT).run(c.DT)
    tiny_s = time.perf_counter() - t
    base_mb = c.rss_mb()

    t = time.perf_counter()
    net = cuba.build(args.n, seed=args.seed, delay=args.delay, record=args.record != "none")
    spec_s = time.perf_counter() - t
    sim = net.compile(dt=c.DT, threads=args.threads)
    build_s = spec_s + sim.build_time
    load_s = sim.load_time

    t = time.perf_counter()
    sim.run(c.DT)
    warmup_s = time.perf_counter() - t
    net_mb = c.rss_mb()  # peak so far: network built, loop loaded, nothing recorded yet
    k_warm = sim.k
    t = time.perf_counter()
    if args.record == "file":  # streamed to HDF5; the time includes closing the file
        with sim.record(args.out, overwrite=True):
            sim.run(args.T * 1000.0)
    else:
        sim.run(args.T * 1000.0)
    loop_s = time.perf_counter() - t
    peak_mb = c.rss_mb()

    pops = ("exc", "inh")
    degree = {pre: sum(np.diff(sim.projection(f"{pre}_to_{post}").indptr) for post in pops)
              for pre in pops}
    spikes = events = 0
    for pop in pops if args.record != "none" else ():
        stamps, ids = sim.spike_steps(pop)
        ids = ids[stamps > k_warm]
        spikes += int(ids.size)
        events += c.out_degree_events(degree[pop], ids)
    nsyn = sim.n_synapses()
    mem = sim.memory_bytes()
    # threaded: how far apart the two threads' speeds were (per call, fastest / slowest) and
    # where the moving ranges ended (neurosim.balance)
    stats = sim.thread_stats
    threads_info = dict(thread_spread_median=float(np.median(stats["spread"]))
                        if stats["spread"] else None,
                        thread_shares=stats["shares"], share_moves=stats["moves"])
    c.emit(dict(
        tool="neurosim" if args.threads == 1 else f"neurosim-{args.threads}t",
        N=args.n, T_bio_s=args.T, threads=args.threads, delay_ms=args.delay,
        # False when neurosim judged the network too small to split between threads
        parallel=bool(getattr(getattr(sim, "structure", None), "parallel", args.threads > 1)),
        import_s=import_s, build_s=build_s, load_s=load_s, warmup_s=warmup_s,
        jit_s=tiny_s + load_s + warmup_s, loop_s=loop_s,
        spikes=spikes, events=events, events_exact=True, synapses=nsyn,
        base_rss_mb=base_mb, peak_rss_mb=peak_mb,
        bytes_per_synapse=(net_mb - base_mb) * 2**20 / nsyn,
        bytes_per_synapse_data=sum(mem.values()) / nsyn,
        memory_bytes=mem,
        connect_rule="bernoulli p=80/N, autapses",
        **threads_info,
    ))


if __name__ == "__main__":
    main()

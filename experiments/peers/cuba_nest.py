"""One CUBA run in NEST 3; prints one JSON line of phase timers.

    python experiments/peers/cuba_nest.py --n 4000 --T 1 --threads 1 --rule auto

``iaf_psc_exp`` with the CUBA parameters (C_m 250 pF, tau_m 20 ms, tau_syn 5/10 ms, t_ref
5 ms, E_L -49, V_th -50, V_reset -60 mV), V_m ~ U(-60, -50) mV, resolution 0.1 ms,
static synapses of 20.25 pA / -112.5 pA with delay ``--delay`` (0.1 ms), one
``spike_recorder`` on all neurons.

Connectivity (``--rule``): ``bernoulli`` = ``pairwise_bernoulli`` with p = 80/N (autapses
allowed), the same random graph family as Brian2 and neurosim; ``indegree`` =
``fixed_indegree`` with K = 0.8*80 excitatory and 0.2*80 inhibitory inputs per neuron
(autapses and multapses allowed): the same mean degree, without the in-degree variance;
``auto`` (default) = ``bernoulli`` up to N = 16000 and ``indegree`` above, because NEST's
``pairwise_bernoulli`` draws N^2 numbers and takes minutes to connect at N = 64000.

Phases: ``import_s`` (``import nest``), ``build_s`` (Create + Connect + ``nest.Prepare``;
``prepare_s`` alone is reported too), ``loop_s`` (``nest.Run(T)`` after Prepare).
NEST has no disk cache, so a cold run equals a warm one.
Memory: connecting N neurons to the one ``spike_recorder`` costs ~32 KiB per neuron in NEST
3.10 (about 0.5 GB at N = 16000; measured as ``recorder_mb``, the RSS step of that Connect),
so ``bytes_per_synapse_ex_recorder`` is reported beside ``bytes_per_synapse``.
Synaptic events = spikes x mean out-degree (``events_exact`` false; ``--exact-events`` reads
every connection's source after the peak-memory reading instead).
"""

from __future__ import annotations

import os
import time

import _common as c


def main(argv=None) -> None:
    ap = c.parser(__doc__.splitlines()[0])
    ap.add_argument("--rule", choices=("auto", "bernoulli", "indegree"), default="auto")
    ap.add_argument("--exact-events", action="store_true")
    args = ap.parse_args(argv)
    rule = args.rule
    if rule == "auto":
        rule = "bernoulli" if args.n <= 16000 else "indegree"

    os.environ.setdefault("PYNEST_QUIET", "1")
    t = time.perf_counter()
    import nest
    import numpy as np

    import_s = time.perf_counter() - t
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # NEST < 3.10
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": c.DT, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    base_mb = c.rss_mb()

    n, ne = args.n, c.n_exc(args.n)
    p = c.p_connect(n)
    t = time.perf_counter()
    pop = nest.Create("iaf_psc_exp", n, params=dict(
        C_m=c.C_M, tau_m=c.TAU_M, tau_syn_ex=c.TAU_SYN_EX, tau_syn_in=c.TAU_SYN_IN,
        t_ref=c.T_REF, E_L=c.E_L, V_th=c.V_TH, V_reset=c.V_RESET, I_e=0.0))
    pop.V_m = nest.random.uniform(c.V_RESET, c.V_TH)
    exc, inh = pop[:ne], pop[ne:]
    for src, w, frac in ((exc, c.W_EXC_PA, 0.8), (inh, c.W_INH_PA, 0.2)):
        if rule == "bernoulli":
            conn = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
        else:
            conn = {"rule": "fixed_indegree", "indegree": int(round(frac * c.K_TOTAL)),
                    "allow_autapses": True, "allow_multapses": True}
        nest.Connect(src, pop, conn,
                     {"synapse_model": "static_synapse", "weight": w, "delay": args.delay})
    rss_before_rec = c.current_rss_mb()
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    recorder_mb = c.current_rss_mb() - rss_before_rec
    connect_s = time.perf_counter() - t
    t = time.perf_counter()
    nest.Prepare()
    prepare_s = time.perf_counter() - t

    t = time.perf_counter()
    nest.Run(args.T * 1000.0)
    loop_s = time.perf_counter() - t
    nest.Cleanup()
    peak_mb = c.rss_mb()

    nsyn = int(nest.GetKernelStatus("num_connections")) - n  # minus the recorder's
    spikes = int(rec.n_events)
    if args.exact_events:
        ev = rec.get("events")
        src = np.asarray(nest.GetConnections(source=pop, target=pop).get("source"))
        degree = np.bincount(src - pop[0].global_id, minlength=n)
        events = c.out_degree_events(degree, np.asarray(ev["senders"]) - pop[0].global_id)
    else:
        events = int(round(spikes * nsyn / n))
    c.emit(dict(
        tool="nest" if args.threads == 1 else f"nest-{args.threads}t",
        N=n, T_bio_s=args.T, threads=args.threads, delay_ms=args.delay,
        import_s=import_s, connect_s=connect_s, prepare_s=prepare_s,
        build_s=connect_s + prepare_s, loop_s=loop_s,
        spikes=spikes, events=events, events_exact=bool(args.exact_events), synapses=nsyn,
        base_rss_mb=base_mb, peak_rss_mb=peak_mb,
        bytes_per_synapse=(peak_mb - base_mb) * 2**20 / nsyn,
        recorder_mb=recorder_mb,
        bytes_per_synapse_ex_recorder=(peak_mb - base_mb - recorder_mb) * 2**20 / nsyn,
        connect_rule=("pairwise_bernoulli p=80/N, autapses" if rule == "bernoulli" else
                      "fixed_indegree 64+16, autapses, multapses"),
        nest_version=getattr(nest, "__version__", "?"),
    ))


if __name__ == "__main__":
    main()

"""One run of the plastic network (see ``_stdp.py``) in NEST 3; prints one JSON line.

    python experiments/peers/stdp_nest.py --n 10000 --T 10 --threads 1 [--static]

``iaf_psc_exp`` with the parameters of ``_stdp.py`` (``tau_minus`` = 20 ms on the neurons:
NEST keeps the postsynaptic STDP time constant there), V_m ~ U(-65, -50) mV, resolution
0.1 ms. Connectivity ``pairwise_bernoulli`` with p = K/N (no autapses), delay 1.5 ms. E->E:
a copy of ``stdp_synapse`` with tau_plus 20 ms, lambda 0.01, alpha 1.05, mu_plus = mu_minus = 0,
Wmax 40 pA, initial weight 20 pA (``--static``: ``static_synapse``, 20 pA); the other
projections ``static_synapse``. External drive: one ``poisson_generator`` (500 Hz) connected
to every neuron (each target draws its own train), 20 pA. One ``spike_recorder`` on all
neurons.

NEST's pairing differs from neurosim's and Brian2's by the delay: ``stdp_synapse`` treats the
whole delay as dendritic, so it pairs a presynaptic spike at t_pre with postsynaptic spikes at
t_post + 1.5 ms; neurosim (and the Brian2 script's default) pair t_pre with t_post.

Phases as in ``cuba_nest.py``: ``build_s`` = Create + Connect + ``nest.Prepare``; ``loop_s`` =
``nest.Run(T)``. The final weights are read with ``GetConnections`` after the peak-memory
reading. Synaptic events = spikes x mean out-degree of their population (``events_exact``
false).
"""

from __future__ import annotations

import os
import time

import _common as c
import _stdp as s


def main(argv=None) -> None:
    args = s.parser(__doc__.splitlines()[0]).parse_args(argv)
    os.environ.setdefault("PYNEST_QUIET", "1")
    tic = time.perf_counter()
    import nest
    import numpy as np

    import_s = time.perf_counter() - tic
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # NEST < 3.10
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": s.DT, "local_num_threads": args.threads,
                          "rng_seed": args.seed})
    base_mb = c.rss_mb()

    n, ne = args.n, s.n_exc(args.n)
    p = s.p_connect(n)
    tic = time.perf_counter()
    pop = nest.Create("iaf_psc_exp", n, params=dict(**s.NEURON, tau_minus=s.TAU_MINUS))
    pop.V_m = nest.random.uniform(s.V_RESET, s.V_TH)
    E, I = pop[:ne], pop[ne:]
    if args.plastic:
        nest.CopyModel("stdp_synapse", "stdp_ee", {
            "tau_plus": s.TAU_PLUS, "lambda": s.LAMBDA, "alpha": s.ALPHA,
            "mu_plus": s.MU_PLUS, "mu_minus": s.MU_MINUS, "Wmax": s.W_MAX})
        ee_model = "stdp_ee"
    else:
        ee_model = "static_synapse"

    def bern():
        return {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": False}

    nest.Connect(E, E, bern(), {"synapse_model": ee_model, "weight": s.J_EXC,
                                    "delay": s.DELAY})
    nest.Connect(E, I, bern(), {"synapse_model": "static_synapse", "weight": s.J_EXC,
                                    "delay": s.DELAY})
    for post in (E, I):
        nest.Connect(I, post, bern(), {"synapse_model": "static_synapse",
                                              "weight": s.J_INH, "delay": s.DELAY})
    pg = nest.Create("poisson_generator", params={"rate": s.NU_EXT})
    nest.Connect(pg, pop, "all_to_all", {"weight": s.J_EXT, "delay": s.DELAY})
    rss_before_rec = c.current_rss_mb()
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    recorder_mb = c.current_rss_mb() - rss_before_rec
    connect_s = time.perf_counter() - tic
    tic = time.perf_counter()
    nest.Prepare()
    prepare_s = time.perf_counter() - tic

    tic = time.perf_counter()
    nest.Run(args.T * 1000.0)
    loop_s = time.perf_counter() - tic
    nest.Cleanup()
    peak_mb = c.rss_mb()

    ev = rec.get("events")
    senders = np.asarray(ev["senders"]) - pop[0].global_id
    t_ms = np.asarray(ev["times"], dtype=np.float64)
    n_syn = {}
    for a, an in ((E, "E"), (I, "I")):
        for b, bn in ((E, "E"), (I, "I")):
            n_syn[an + bn] = len(nest.GetConnections(a, b))
    deg_e = (n_syn["EE"] + n_syn["EI"]) / ne
    deg_i = (n_syn["IE"] + n_syn["II"]) / (n - ne)
    spikes_e = int(np.count_nonzero(senders < ne))
    spikes_i = int(senders.size - spikes_e)
    nsyn = int(sum(n_syn.values()))
    row = dict(
        tool="nest" if args.threads == 1 else f"nest-{args.threads}t",
        mode="plastic" if args.plastic else "static", N=n, T_bio_s=args.T,
        threads=args.threads, import_s=import_s, connect_s=connect_s, prepare_s=prepare_s,
        build_s=connect_s + prepare_s, loop_s=loop_s,
        spikes=int(senders.size), events=int(round(spikes_e * deg_e + spikes_i * deg_i)),
        events_exact=False,
        plastic_updates=int(round(spikes_e * n_syn["EE"] / ne * 2)) if args.plastic else 0,
        synapses=nsyn, plastic_synapses=n_syn["EE"] if args.plastic else 0,
        ee_synapses=n_syn["EE"], base_rss_mb=base_mb, peak_rss_mb=peak_mb,
        bytes_per_synapse=(peak_mb - base_mb) * 2**20 / nsyn, recorder_mb=recorder_mb,
        bytes_per_synapse_ex_recorder=(peak_mb - base_mb - recorder_mb) * 2**20 / nsyn,
        w_init=s.J_EXC, nest_version=getattr(nest, "__version__", "?"),
    )
    row.update(s.rate_summary(t_ms, senders < ne, ne, n - ne, args.T))
    if args.plastic:
        row.update(s.weight_summary(nest.GetConnections(E, E).get("weight")))
    c.emit(row)


if __name__ == "__main__":
    main()

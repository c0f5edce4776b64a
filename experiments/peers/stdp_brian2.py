"""One run of the plastic network (see ``_stdp.py``) in Brian2; prints one JSON line.

    python experiments/peers/stdp_brian2.py --mode cpp --n 10000 --T 10 --build-dir D
    python experiments/peers/stdp_brian2.py --mode cpp ... --compile-only   # warm the build
    python experiments/peers/stdp_brian2.py --mode cython --n 2500 --T 1 [--static]

Neurons: one NeuronGroup (E = first 80 %, I = the rest as subgroups) with the linear
equations of ``iaf_psc_exp`` in current units, ``method='exact'``::

    dv/dt = -(v - E_L)/tau_m + (Iex + Iin + I_e)/C_m : volt (unless refractory)
    dIex/dt = -Iex/tau_syn : amp        dIin/dt = -Iin/tau_syn : amp

threshold ``v >= V_th``, reset ``v = V_reset``, refractory 2 ms; synapses add their weight
(pA) to ``Iex``/``Iin`` 1.5 ms after the spike. Four Synapses objects (EE, EI, IE, II),
``connect(p=K/N)`` (``condition='i != j'`` on EE and II: no autapses). External drive:
``PoissonInput(P, 'Iex', N=1, rate=500 Hz, weight=20 pA)`` (one Bernoulli draw per neuron and
step, neurosim's ``poisson`` semantics). A SpikeMonitor records every neuron.

Plastic E->E (the standard Brian2 STDP idiom, per-synapse event-driven traces)::

    w : amp
    dApre/dt = -Apre/tau_plus : 1 (event-driven)
    dApost/dt = -Apost/tau_minus : 1 (event-driven)
    on_pre:  w = clip(w - alpha*lambda*Wmax*Apost, 0, Wmax);  Apre += 1   (depression first)
    on_post: w = clip(w + lambda*Wmax*Apre, 0, Wmax);         Apost += 1

``--pairing spike`` (default) pairs the two neurons' spike times, as neurosim does: the
plasticity code runs in its own ``pre`` pathway without delay and a second pathway
(``transmit``, 1.5 ms) adds ``w`` to the target, i.e. the weight at arrival. ``--pairing
arrival``: one pathway with the delay (Brian2's usual single-pathway form; its pairing uses the
arrival time of the presynaptic spike, t_post - t_pre - 1.5 ms). In one time step Brian2 runs
the ``pre`` pathways before ``post`` (so a pair with t_post = t_pre potentiates, as in
neurosim). ``--static``: E->E is ``on_pre='Iex_post += J_exc'`` like the other projections.

Phases are those of ``cuba_brian2.py``: C++ standalone: ``python_build_s`` (Python
description), ``codegen_s`` + ``make_s`` (project writing and compilation), ``binary_s``
(running the binary), ``loop_s`` (its own run-loop timer, ``device._last_run_time``),
``build_s`` = ``python_build_s`` + ``binary_s`` - ``loop_s`` (the binary creates the synapses).
``peak_rss_mb``: this Python process's peak + the binary's peak (``/usr/bin/time``).
``--compile-only`` writes and compiles the project without running it (the driver's warm-up).
"""

from __future__ import annotations

import os
import shutil
import time

import _common as c
import _stdp as s


def main(argv=None) -> None:
    ap = s.parser(__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("cpp", "cython"), default="cpp")
    ap.add_argument("--build-dir", default=None, help="C++ project folder (cpp mode)")
    ap.add_argument("--cache-dir", default=None, help="Cython cache folder (cython mode)")
    ap.add_argument("--pairing", choices=("spike", "arrival"), default="spike")
    ap.add_argument("--compile-only", action="store_true",
                    help="cpp: write and compile the project, do not run it")
    args = ap.parse_args(argv)

    tic = time.perf_counter()
    import brian2 as b2
    import numpy as np

    import_s = time.perf_counter() - tic
    b2.prefs.logging.console_log_level = "WARNING"
    rss_file = None
    build_dir = os.path.abspath(args.build_dir or "brian2_stdp_cpp")
    if args.mode == "cpp":
        b2.set_device("cpp_standalone", directory=build_dir,
                      build_on_run=not args.compile_only, with_output=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = args.threads if args.threads > 1 else 0
        b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
        time_bin = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time")
                                            else None)
        if time_bin:
            rss_file = os.path.join(build_dir, "binary_rss.txt")
            os.makedirs(build_dir, exist_ok=True)
            b2.prefs.devices.cpp_standalone.run_cmd_unix = [time_bin, "-f", "%M", "-o",
                                                           rss_file, "./main"]
    else:
        b2.prefs.codegen.target = "cython"
        if args.cache_dir:
            b2.prefs.codegen.runtime.cython.cache_dir = os.path.abspath(args.cache_dir)
    b2.seed(args.seed)
    base_mb = c.rss_mb()

    ms, mV, pA, pF, Hz = b2.ms, b2.mV, b2.pA, b2.pF, b2.Hz
    n, ne = args.n, s.n_exc(args.n)
    p = s.p_connect(n)
    ns = dict(taum=s.TAU_M * ms, taus=s.TAU_SYN * ms, Cm=s.C_M * pF, El=s.E_L * mV,
              Vr=s.V_RESET * mV, Vth=s.V_TH * mV, Ie=s.I_E * pA,
              Je=s.J_EXC * pA, Ji=s.J_INH * pA,
              taup=s.TAU_PLUS * ms, taumin=s.TAU_MINUS * ms, lam=s.LAMBDA,
              alam=s.ALPHA * s.LAMBDA, wmax=s.W_MAX * pA)
    eqs = """
    dv/dt = -(v - El) / taum + (Iex + Iin + Ie) / Cm : volt (unless refractory)
    dIex/dt = -Iex / taus : amp
    dIin/dt = -Iin / taus : amp
    """
    b2.defaultclock.dt = s.DT * ms
    delay = s.DELAY * ms
    tic = time.perf_counter()
    P = b2.NeuronGroup(n, eqs, threshold="v >= Vth", reset="v = Vr",
                       refractory=s.T_REF * ms, method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vth - Vr)"
    E, I = P[:ne], P[ne:]
    if args.plastic:
        model = """
        w : amp
        dApre/dt = -Apre / taup : 1 (event-driven)
        dApost/dt = -Apost / taumin : 1 (event-driven)
        """
        depress = "w = clip(w - alam * wmax * Apost, 0 * pA, wmax)\nApre += 1"
        on_post = "w = clip(w + lam * wmax * Apre, 0 * pA, wmax)\nApost += 1"
        if args.pairing == "spike":
            on_pre = {"pre": depress, "transmit": "Iex_post += w"}
            delays = {"pre": 0 * ms, "transmit": delay}
        else:
            on_pre = depress.replace("\n", "\nIex_post += w\n")
            delays = delay
        EE = b2.Synapses(E, E, model=model, on_pre=on_pre, on_post=on_post, delay=delays,
                         namespace=ns, name="EE")
        EE.connect(condition="i != j", p=p)
        EE.w = "Je"
    else:
        EE = b2.Synapses(E, E, on_pre="Iex_post += Je", delay=delay, namespace=ns, name="EE")
        EE.connect(condition="i != j", p=p)
    EI = b2.Synapses(E, I, on_pre="Iex_post += Je", delay=delay, namespace=ns, name="EI")
    EI.connect(p=p)
    IE = b2.Synapses(I, E, on_pre="Iin_post += Ji", delay=delay, namespace=ns, name="IE")
    IE.connect(p=p)
    II = b2.Synapses(I, I, on_pre="Iin_post += Ji", delay=delay, namespace=ns, name="II")
    II.connect(condition="i != j", p=p)
    X = b2.PoissonInput(P, "Iex", N=1, rate=s.NU_EXT * Hz, weight=s.J_EXT * pA)
    M = b2.SpikeMonitor(P)
    net = b2.Network(P, EE, EI, IE, II, X, M)
    python_build_s = time.perf_counter() - tic

    tic = time.perf_counter()
    net.run(args.T * b2.second)
    if args.compile_only:
        b2.device.build(directory=build_dir, compile=True, run=False, with_output=False)
        c.emit(dict(tool=f"brian2-{args.mode}", compile_only=True,
                    codegen_make_s=time.perf_counter() - tic))
        return
    run_call_s = time.perf_counter() - tic
    loop_s = float(b2.device._last_run_time)
    py_peak_mb = c.rss_mb()

    row = dict(tool=f"brian2-{args.mode}", mode="plastic" if args.plastic else "static",
               N=n, T_bio_s=args.T, threads=args.threads, pairing=args.pairing,
               import_s=import_s, python_build_s=python_build_s, run_call_s=run_call_s,
               loop_s=loop_s, base_rss_mb=base_mb)
    if args.mode == "cpp":
        timers = b2.device.timers
        make_s = float(timers["compile"].get("make") or 0.0)
        binary_s = float(timers["run_binary"])
        binary_mb = None
        if rss_file and os.path.exists(rss_file):
            with open(rss_file) as f:
                binary_mb = float(f.read().split()[-1]) / 1024.0
        if binary_mb is None:
            binary_mb = c.rss_mb(c.resource.RUSAGE_CHILDREN)
        row.update(build_s=python_build_s + binary_s - loop_s, make_s=make_s,
                   binary_s=binary_s, codegen_s=run_call_s - make_s - binary_s,
                   python_rss_mb=py_peak_mb, binary_rss_mb=binary_mb,
                   peak_rss_mb=py_peak_mb + binary_mb)
    else:
        row.update(build_s=python_build_s, codegen_s=run_call_s - loop_s,
                   peak_rss_mb=py_peak_mb)

    pre = {name: np.asarray(S.i[:]) for name, S in
           (("EE", EE), ("EI", EI), ("IE", IE), ("II", II))}
    deg_e = np.bincount(pre["EE"], minlength=ne) + np.bincount(pre["EI"], minlength=ne)
    deg_i = np.bincount(pre["IE"], minlength=n - ne) + np.bincount(pre["II"], minlength=n - ne)
    degree = np.concatenate([deg_e, deg_i])
    ids = np.asarray(M.i[:])
    t_ms = np.asarray(M.t[:] / ms) + s.DT  # Brian2's t is the step start: + dt = NEST's stamp
    nsyn = int(sum(a.size for a in pre.values()))
    n_ee = int(pre["EE"].size)
    plastic_updates = 0
    if args.plastic:
        exc_ids = ids[ids < ne]
        plastic_updates = (c.out_degree_events(np.bincount(pre["EE"], minlength=ne), exc_ids)
                           + c.out_degree_events(np.bincount(np.asarray(EE.j[:]),
                                                             minlength=ne), exc_ids))
    row.update(spikes=int(ids.size), events=c.out_degree_events(degree, ids),
               events_exact=True, plastic_updates=plastic_updates, synapses=nsyn,
               plastic_synapses=n_ee if args.plastic else 0, ee_synapses=n_ee,
               w_init=s.J_EXC)
    if args.mode == "cpp":
        row["bytes_per_synapse"] = row["binary_rss_mb"] * 2**20 / nsyn
    else:
        row["bytes_per_synapse"] = (py_peak_mb - base_mb) * 2**20 / nsyn
    row.update(s.rate_summary(t_ms, ids < ne, ne, n - ne, args.T))
    if args.plastic:
        row.update(s.weight_summary(np.asarray(EE.w[:] / pA)))
    c.emit(row)


if __name__ == "__main__":
    main()

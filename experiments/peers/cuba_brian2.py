"""One CUBA run in Brian2 (runtime Cython or C++ standalone); prints one JSON line.

    python experiments/peers/cuba_brian2.py --mode cython --n 4000 --T 1 [--cache-dir D]
    python experiments/peers/cuba_brian2.py --mode cpp --n 4000 --T 1 --build-dir D

The model is Brian2's ``examples/CUBA.py`` with N neurons and p = 80/N: ``method='exact'``,
two Synapses objects (excitatory and inhibitory subgroup onto the whole group, ``p`` without
condition, so autapses are allowed), one homogeneous delay (``--delay``, default 0.1 ms: a
spike in step k acts on v from step k+2 on, the ordering of NEST and neurosim; Brian2's
example uses no delay) and a SpikeMonitor on all neurons.

Phases, runtime Cython (``--mode cython``):
  ``build_s``  groups, initial values and ``Synapses.connect`` (which generates and compiles,
               or loads from the Cython cache, the synapse-creation code);
  ``loop_s``   ``device._last_run_time``: Brian2's own timer around the time-step loop of
               ``Network.run``; code generation/compilation in ``before_run`` is excluded and
               reported as ``codegen_s`` (= run() call minus loop).
C++ standalone (``--mode cpp``):
  ``python_build_s`` building the Python-side description (milliseconds);
  ``codegen_s``  writing the C++ project; ``make_s``: compiling it (``make``);
  ``binary_s``   running the binary; ``loop_s`` its run loop (``device._last_run_time``, read
                 from ``last_run_info.txt``); ``build_s`` = ``python_build_s`` + ``binary_s`` -
                 ``loop_s`` (in standalone mode the binary creates the synapses itself; this
                 also holds process start and writing the results to disk).
Memory: ``peak_rss_mb`` is this Python process's peak; for cpp the binary's peak
(``binary_rss_mb``, via ``/usr/bin/time -f %M`` when present) is added, since both processes
live at once. ``bytes_per_synapse``: (peak - baseline before building) / synapses for
cython; binary peak / synapses for cpp (no baseline subtracted: a few MB).
Cold caches: ``--cache-dir`` (Cython) or ``--build-dir`` (C++) pointing at an empty folder.
"""

from __future__ import annotations

import os
import shutil
import time

import _common as c


def main(argv=None) -> None:
    ap = c.parser(__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("cython", "cpp"), default="cython")
    ap.add_argument("--cache-dir", default=None, help="Cython cache folder (cython mode)")
    ap.add_argument("--build-dir", default=None, help="C++ project folder (cpp mode)")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    import brian2 as b2
    import numpy as np

    import_s = time.perf_counter() - t
    b2.prefs.logging.console_log_level = "WARNING"
    rss_file = None
    if args.mode == "cpp":
        build_dir = os.path.abspath(args.build_dir or "brian2_cuba_cpp")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True,
                      with_output=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = args.threads if args.threads > 1 else 0
        # Brian2's default is a bare '-j' (unbounded parallel compile jobs)
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

    ms, mV = b2.ms, b2.mV
    n, ne = args.n, c.n_exc(args.n)
    p = c.p_connect(n)
    ns = dict(taum=c.TAU_M * ms, taue=c.TAU_SYN_EX * ms, taui=c.TAU_SYN_IN * ms,
              Vt=c.V_TH * mV, Vr=c.V_RESET * mV, El=c.E_L * mV,
              we=c.W_EXC_MV * mV, wi=c.W_INH_MV * mV)
    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    b2.defaultclock.dt = c.DT * ms
    t = time.perf_counter()
    P = b2.NeuronGroup(n, eqs, threshold="v > Vt", reset="v = Vr",
                       refractory=c.T_REF * ms, method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    delay = args.delay * ms
    Ce = b2.Synapses(P[:ne], P, on_pre="ge += we", delay=delay, namespace=ns)
    Ce.connect(p=p)
    Ci = b2.Synapses(P[ne:], P, on_pre="gi += wi", delay=delay, namespace=ns)
    Ci.connect(p=p)
    objs = [P, Ce, Ci]
    if args.record != "none":
        M = b2.SpikeMonitor(P)
        objs.append(M)
    net = b2.Network(*objs)
    python_build_s = time.perf_counter() - t

    t = time.perf_counter()
    net.run(args.T * b2.second)
    run_call_s = time.perf_counter() - t
    loop_s = float(b2.device._last_run_time)
    py_peak_mb = c.rss_mb()

    row = dict(tool=f"brian2-{args.mode}", N=n, T_bio_s=args.T, threads=args.threads,
               delay_ms=args.delay, import_s=import_s, python_build_s=python_build_s,
               run_call_s=run_call_s, loop_s=loop_s, base_rss_mb=base_mb,
               connect_rule="bernoulli p=80/N, autapses")
    if args.mode == "cpp":
        timers = b2.device.timers
        make_s = float(timers["compile"].get("make") or 0.0)
        binary_s = float(timers["run_binary"])
        binary_mb = None
        if rss_file and os.path.exists(rss_file):
            with open(rss_file) as f:
                binary_mb = float(f.read().split()[-1]) / 1024.0
        if binary_mb is None:
            binary_mb = c.rss_mb(c.resource.RUSAGE_CHILDREN)  # max over make/gcc/binary
        row.update(build_s=python_build_s + binary_s - loop_s, make_s=make_s,
                   binary_s=binary_s, codegen_s=run_call_s - make_s - binary_s,
                   python_rss_mb=py_peak_mb, binary_rss_mb=binary_mb,
                   peak_rss_mb=py_peak_mb + binary_mb)
    else:
        row.update(build_s=python_build_s, codegen_s=run_call_s - loop_s,
                   peak_rss_mb=py_peak_mb)

    pre_e, pre_i = np.asarray(Ce.i[:]), np.asarray(Ci.i[:])
    nsyn = int(pre_e.size + pre_i.size)
    degree = np.concatenate([np.bincount(pre_e, minlength=ne),
                             np.bincount(pre_i, minlength=n - ne)])
    ids = np.asarray(M.i[:]) if args.record != "none" else np.empty(0, np.int64)
    if args.record == "file":  # Brian2 has no file writer: users save the monitor with numpy
        t = time.perf_counter()
        np.savez_compressed(args.out, i=ids.astype(np.int32), t=np.asarray(M.t[:] / b2.ms))
        row.update(save_s=time.perf_counter() - t)
    row.update(spikes=int(ids.size), events=c.out_degree_events(degree, ids),
               events_exact=True, synapses=nsyn)
    if args.mode == "cpp":
        row["bytes_per_synapse"] = row["binary_rss_mb"] * 2**20 / nsyn
    else:
        row["bytes_per_synapse"] = (py_peak_mb - base_mb) * 2**20 / nsyn
    c.emit(row)


if __name__ == "__main__":
    main()

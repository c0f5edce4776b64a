"""Benchmark the CUBA network in neurosim, Brian2 (Cython, C++ standalone) and NEST.

    python experiments/bench_cuba.py                        # everything (takes hours)
    python experiments/bench_cuba.py --quick --repeats 1    # N = 4000, T = 1 s, all tools
    python experiments/bench_cuba.py --tools neurosim,nest --sizes 4000,16000 \\
        --durations 1 --repeats 3 --json results/bench_cuba.json
    python experiments/bench_cuba.py --max-nest-n 16000     # skip NEST at N = 64000

The network is CUBA (Vogels & Abbott 2005; Brette et al. 2007; Brian2's examples/CUBA.py):
N iaf_psc_exp neurons (80 % exc.), Bernoulli connectivity p = 80/N (in-degree ~64 exc +
~16 inh at every N), 20.25 pA / -112.5 pA current jumps, 0.1 ms delay, all spikes recorded.
Defaults: N = 4000, 16000, 64000 and T = 1 s, 10 s of biological time.

Every (tool, N, T) run is a separate process: one of the scripts in ``experiments/peers/``,
which prints one JSON line of phase timers. Per (tool, N, T) this driver does one cold run
(only at the shortest T; empty caches in a temporary folder, see below), then one unrecorded
warm-up run that fills the warm caches in ``--workdir`` (default ~/.cache/neurosim_bench;
neurosim and NEST: once per tool; Brian2 Cython: once per (tool, N); Brian2 C++: once per
(tool, N, T), since its generated code holds N and T), then ``--repeats`` warm runs; the
row holds their medians. Progress goes to stderr, the tables to stdout.

Tools: ``neurosim`` (1 thread), ``neurosim-2t`` (2 threads; neurosim falls back to its
serial loop when no population or projection is big enough to split, reported as
``parallel`` = false), ``brian2-cython`` (runtime Cython target), ``brian2-cpp``
(cpp_standalone, no OpenMP), ``nest`` (``--nest-threads``, default 1).

Columns (keys of each JSON row):
  tool, N, T_bio_s     the case;
  build_s              network construction: neurosim ``cuba.build`` + ``Simulation.build_time``;
                       Brian2 Cython: groups + ``Synapses.connect`` (this includes generating /
                       loading the connect code); Brian2 C++: Python description + the binary's
                       time outside its run loop (it builds the synapses); NEST: Create +
                       Connect + Prepare;
  wall_warm_s          whole process wall time (interpreter start to exit, as seen by this
                       driver), warm caches, median of the repeats;
  wall_cold_s          the same with empty caches (only at the shortest T): neurosim with fresh
                       NUMBA_CACHE_DIR and NEUROSIM_CACHE_DIR; Brian2 Cython with a fresh
                       ``prefs.codegen.runtime.cython.cache_dir``; Brian2 C++ with a fresh
                       project folder; NEST has no cache, so cold = warm;
  loop_s               the simulation loop only: neurosim ``sim.run(T)`` after a 0.1 ms warm-up
                       ``sim.run`` (JIT/cache load); Brian2 ``device._last_run_time`` (Brian2's
                       timer around its time-step loop; in Cython mode code generation happens
                       before it, in ``before_run``; in C++ mode it is the binary's own timer);
                       NEST ``nest.Run(T)`` after ``nest.Prepare()``;
  loop_per_bio_s       loop_s / T (seconds of wall per second of biology);
  events_per_s         synaptic events / loop_s; events = sum over spikes of the source's out-
                       degree (exact for neurosim and Brian2; NEST: spikes x mean out-degree);
  spikes, rate_Hz      spikes in the loop and the mean rate;
  peak_rss_mb          peak resident memory of the tool's process (Brian2 C++: Python process +
                       the binary, which are alive together);
  bytes_per_synapse    (peak RSS - RSS before building the network) / synapses (Brian2 C++: the
                       binary's peak / synapses); bytes_per_synapse_slope: the slope of peak RSS
                       against synapse count across the sizes run (baseline-free);
  bytes_per_synapse_data  neurosim only: sum(sim.memory_bytes()) / synapses;
                       (NEST's RSS includes ~32 KiB per neuron for the connections to the
                       spike_recorder: ``recorder_mb`` and ``bytes_per_synapse_ex_recorder``)
and extras: synapses, events, events_exact, import_s, jit_s/codegen_s/make_s/prepare_s, the
per-repeat walls and loops, connect_rule, cold_detail (phase timers of the cold run).

Afterwards a ratio table gives peer / neurosim for loop time, whole-process wall time (warm
and cold) and peak RSS (> 1: neurosim is faster / smaller), and a warning is printed where a
tool's rate differs from neurosim's by more than 25 % (a sign of a mis-mapped network).
NEST at N = 64000 uses ``fixed_indegree`` (64 + 16) instead of ``pairwise_bernoulli``
unless ``--nest-rule bernoulli`` (pairwise_bernoulli needs ~3 minutes to connect there);
the rule used is printed and stored in ``connect_rule``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "peers"
sys.path.insert(0, str(PEERS.parent))  # experiments/, for _driver
from _driver import median_row, run_json_child  # noqa: E402

TOOLS = ("neurosim", "neurosim-2t", "brian2-cython", "brian2-cpp", "nest")
BASE = "neurosim"
SIZES = (4000, 16000, 64000)
DURATIONS = (1.0, 10.0)

LOOP_DEF = {
    "neurosim": "sim.run(T) after sim.run(0.1 ms)",
    "brian2-cython": "device._last_run_time (excludes before_run codegen)",
    "brian2-cpp": "device._last_run_time (binary's run-loop timer)",
    "nest": "nest.Run(T) after nest.Prepare()",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ one run
def command(tool: str, n: int, T: float, args, cache: Path) -> tuple[list[str], dict]:
    """Command line and environment of one child run whose caches live under ``cache``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYNEST_QUIET="1")
    common = ["--n", str(n), "--T", f"{T:g}", "--seed", str(args.seed)]
    if tool.startswith("neurosim"):
        threads = 2 if tool == "neurosim-2t" else 1
        env.update(NUMBA_CACHE_DIR=str(cache / "numba"),
                   NEUROSIM_CACHE_DIR=str(cache / "neurosim"),
                   OMP_NUM_THREADS=str(threads))
        cmd = ["cuba_neurosim.py", *common, "--threads", str(threads)]
    elif tool == "brian2-cython":
        env.update(OMP_NUM_THREADS="1")
        cmd = ["cuba_brian2.py", *common, "--mode", "cython",
               "--cache-dir", str(cache / "brian2_cython")]
    elif tool == "brian2-cpp":
        env.update(OMP_NUM_THREADS="1")
        cmd = ["cuba_brian2.py", *common, "--mode", "cpp",
               "--build-dir", str(cache / "brian2_cpp" / f"N{n}_T{T:g}")]
    elif tool == "nest":
        env.update(OMP_NUM_THREADS=str(args.nest_threads))
        cmd = ["cuba_nest.py", *common, "--threads", str(args.nest_threads),
               "--rule", args.nest_rule]
    else:
        raise ValueError(f"unknown tool {tool!r}")
    return [sys.executable, str(PEERS / cmd[0]), *cmd[1:]], env


def run_child(tool: str, n: int, T: float, args, cache: Path) -> dict:
    """Run one case in a fresh process; its JSON row plus ``wall_s`` (or ``error``)."""
    cmd, env = command(tool, n, T, args, cache)
    return run_json_child(cmd, env, args.timeout)


def warm_key(tool: str, n: int, T: float):
    if tool == "brian2-cpp":
        return (tool, n, T)
    if tool == "brian2-cython":
        return (tool, n)
    return (tool,)


# ------------------------------------------------------------------------------ rows
def make_row(tool: str, n: int, T: float, warm: list[dict], cold: dict | None) -> dict:
    m = median_row(warm)
    loop = m["loop_s"]
    row = dict(
        tool=tool, N=n, T_bio_s=T,
        build_s=m["build_s"], wall_warm_s=m["wall_s"],
        wall_cold_s=None, loop_s=loop, loop_per_bio_s=loop / T,
        events_per_s=m["events"] / loop if loop > 0 else None,
        spikes=m["spikes"], rate_Hz=m["spikes"] / n / T,
        peak_rss_mb=m["peak_rss_mb"], bytes_per_synapse=m["bytes_per_synapse"],
        bytes_per_synapse_data=m.get("bytes_per_synapse_data"),
        synapses=m["synapses"], events=m["events"], events_exact=m["events_exact"],
        threads=m.get("threads"), delay_ms=m.get("delay_ms"),
        connect_rule=m.get("connect_rule"),
        loop_def=LOOP_DEF.get(tool.removesuffix("-2t"), ""),
        repeats=len(warm),
        wall_warm_runs=[r["wall_s"] for r in warm],
        loop_runs=[r["loop_s"] for r in warm],
    )
    skip = set(row) | {"tool", "wall_s", "process_s", "memory_bytes"}
    for k, v in m.items():  # tool-specific phase timers and memory readings
        if k not in skip:
            row[k] = v
    if "memory_bytes" in m:
        row["memory_bytes"] = m["memory_bytes"]
    if tool == "nest":
        row["wall_cold_s"] = row["wall_warm_s"] if cold is None else cold["wall_s"]
        row["cold_is_warm"] = True
    elif cold is not None:
        row["wall_cold_s"] = cold["wall_s"]
        row["cold_detail"] = {k: v for k, v in cold.items()
                              if k.endswith("_s") and k != "T_bio_s" and isinstance(v, int | float)}
    return row


def add_slopes(rows: list[dict]) -> None:
    """bytes_per_synapse_slope: d(peak RSS)/d(synapses) per tool and T, over the sizes."""
    groups: dict = {}
    for r in rows:
        if "error" not in r:
            groups.setdefault((r["tool"], r["T_bio_s"]), []).append(r)
    for rs in groups.values():
        if len({r["N"] for r in rs}) < 2:
            continue
        xs = [r["synapses"] for r in rs]
        ys = [r["peak_rss_mb"] * 2**20 for r in rs]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den
        for r in rs:
            r["bytes_per_synapse_slope"] = slope


# ------------------------------------------------------------------------------ tables
def fmt(v, spec: str) -> str:
    if v is None:
        return format("-", spec.split(".")[0])
    return format(v, spec)


def print_tables(rows: list[dict]) -> None:
    # (key, header, width, format)
    cols = [("tool", "tool", -13, "s"), ("N", "N", 6, "d"), ("T_bio_s", "T[s]", 5, "g"),
            ("build_s", "build", 7, ".2f"), ("wall_warm_s", "wall", 7, ".2f"),
            ("wall_cold_s", "cold", 7, ".2f"), ("loop_s", "loop", 8, ".3f"),
            ("loop_per_bio_s", "loop/T", 7, ".3f"), ("events_per_s", "Mev/s", 7, ".1f"),
            ("spikes", "spikes", 9, "d"), ("rate_Hz", "rate", 6, ".2f"),
            ("peak_rss_mb", "RSS MB", 7, ".0f"), ("bytes_per_synapse", "B/syn", 7, ".1f"),
            ("bytes_per_synapse_data", "B/syn*", 6, ".1f")]

    def cell(text, width):
        return f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"

    head = " ".join(cell(h, w) for _, h, w, _ in cols)
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:<13} {r['N']:>6} {r['T_bio_s']:>5g}  ERROR {r['error'][:200]}")
            continue
        cells = []
        for k, _, w, f in cols:
            v = r.get(k)
            if k == "events_per_s" and v is not None:
                v = v / 1e6
            cells.append(cell("-" if v is None else format(v, f), w))
        print(" ".join(cells))
    print("wall = whole process (warm caches); cold = whole process, empty caches (shortest T"
          " only);\nloop = simulation loop; Mev/s = 1e6 synaptic events per s of loop;\n"
          "B/syn = (peak RSS - pre-build RSS) / synapse; B/syn* = neurosim data structures /"
          " synapse")
    for r in rows:
        if r.get("recorder_mb") is not None:
            print(f"  {r['tool']} N={r['N']} T={r['T_bio_s']:g}: the spike_recorder connection "
                  f"alone takes {r['recorder_mb']:.0f} MB; without it "
                  f"{r['bytes_per_synapse_ex_recorder']:.1f} B/syn")
    slopes = {r["tool"]: r["bytes_per_synapse_slope"] for r in rows
              if r.get("bytes_per_synapse_slope") is not None}
    if slopes:
        print("peak-RSS slope across sizes (bytes / synapse): " +
              ", ".join(f"{t} {v:.1f}" for t, v in slopes.items()))

    print("\nRatios peer / neurosim (> 1: neurosim faster / smaller)")
    print(f"{'peer':<13} {'N':>6} {'T[s]':>5} {'loop':>8} {'wall':>8} {'cold':>8} "
          f"{'RSS':>7}")
    base = {(r["N"], r["T_bio_s"]): r for r in rows if r["tool"] == BASE and "error" not in r}
    for r in rows:
        b = base.get((r["N"], r["T_bio_s"]))
        if b is None or r["tool"] == BASE or "error" in r:
            continue

        def ratio(k, r=r, b=b):
            return r[k] / b[k] if r.get(k) and b.get(k) else None

        print(f"{r['tool']:<13} {r['N']:>6} {r['T_bio_s']:>5g} {fmt(ratio('loop_s'), '>8.2f')} "
              f"{fmt(ratio('wall_warm_s'), '>8.2f')} {fmt(ratio('wall_cold_s'), '>8.2f')} "
              f"{fmt(ratio('peak_rss_mb'), '>7.2f')}")

    for r in rows:
        if r.get("threads", 1) > 1 and r.get("parallel") is False:
            print(f"note: {r['tool']} N={r['N']}: neurosim ran its serial loop (network too "
                  "small to split between threads)")
    notes = sorted({f"{r['tool']} N={r['N']}: {r['connect_rule']}" for r in rows
                    if r.get("connect_rule") and r["tool"].startswith("nest")})
    print("\nNEST connectivity: " + ("; ".join(notes) if notes else "-"))
    print("delay: " + ", ".join(sorted({f"{r['delay_ms']:g} ms" for r in rows
                                        if r.get("delay_ms") is not None})))
    # sanity: the same network should fire at about the same rate in every tool
    for r in rows:
        b = base.get((r["N"], r["T_bio_s"]))
        if b is None or "error" in r or r is b or not b["rate_Hz"]:
            continue
        dev = r["rate_Hz"] / b["rate_Hz"] - 1
        if abs(dev) > 0.25:
            print(f"WARNING: {r['tool']} N={r['N']} T={r['T_bio_s']:g}: rate {r['rate_Hz']:.2f}"
                  f" Hz vs neurosim {b['rate_Hz']:.2f} Hz ({dev:+.0%}): check the mapping")


# ------------------------------------------------------------------------------ main
def parse_list(text: str, kind):
    return [kind(x) for x in text.split(",") if x.strip()]


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma list out of {', '.join(TOOLS)}")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma list of N")
    ap.add_argument("--durations", default=",".join(f"{d:g}" for d in DURATIONS),
                    help="comma list of biological durations T, seconds")
    ap.add_argument("--quick", action="store_true", help="only N = 4000, T = 1 s")
    ap.add_argument("--repeats", type=int, default=3, help="warm runs per case (median)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache runs")
    ap.add_argument("--max-nest-n", type=int, default=None, help="skip NEST above this N")
    ap.add_argument("--nest-threads", type=int, default=1)
    ap.add_argument("--nest-rule", choices=("auto", "bernoulli", "indegree"), default="auto",
                    help="auto: pairwise_bernoulli up to N = 16000, fixed_indegree above")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=None, help="seconds per child run")
    ap.add_argument("--workdir", default=str(Path.home() / ".cache" / "neurosim_bench"),
                    help="warm caches (Numba, neurosim, Cython, C++ projects) live here")
    ap.add_argument("--json", default=None, help="write the rows to this JSON file")
    ap.add_argument("--report", nargs="+", default=None, metavar="JSON",
                    help="run nothing: merge these JSON files (later rows replace earlier "
                         "ones of the same tool, N, T), print the tables, write --json")
    args = ap.parse_args(argv)
    if args.report:
        merged = {}
        for path in args.report:
            for row in json.loads(Path(path).read_text()):
                merged[(row["tool"], row["N"], row["T_bio_s"])] = row
        rows = sorted(merged.values(), key=lambda r: (TOOLS.index(r["tool"]), r["N"],
                                                      r["T_bio_s"]))
        add_slopes(rows)
        print_tables(rows)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        return rows

    tools = parse_list(args.tools, str)
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        ap.error(f"unknown tools {bad}; choose from {', '.join(TOOLS)}")
    sizes = sorted(parse_list(args.sizes, int))
    durations = sorted(parse_list(args.durations, float))
    if args.quick:
        sizes, durations = [4000], [1.0]
    work = Path(args.workdir).expanduser()
    warm_cache = work / "warm"
    warm_cache.mkdir(parents=True, exist_ok=True)
    log(f"bench_cuba: tools {', '.join(tools)}; N {sizes}; T {durations} s; "
        f"{args.repeats} warm repeats; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")

    rows, warmed = [], set()
    for tool in tools:
        for n in sizes:
            if tool == "nest" and args.max_nest_n is not None and n > args.max_nest_n:
                log(f"  skip nest N={n} (--max-nest-n {args.max_nest_n})")
                continue
            for T in durations:
                tag = f"{tool} N={n} T={T:g}s"
                cold = None
                if T == durations[0] and tool != "nest" and not args.no_cold:
                    tmp = Path(tempfile.mkdtemp(prefix=f"cold_{tool}_", dir=work))
                    try:
                        cold = run_child(tool, n, T, args, tmp)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
                    log(f"  {tag} cold: {cold['wall_s']:.2f} s"
                        + (f"  ERROR {cold['error']}" if "error" in cold else ""))
                    if "error" in cold:
                        cold = None
                key = warm_key(tool, n, T)
                if key not in warmed:
                    r = run_child(tool, n, T, args, warm_cache)
                    log(f"  {tag} warm-up: {r['wall_s']:.2f} s"
                        + (f"  ERROR {r['error']}" if "error" in r else ""))
                    warmed.add(key)
                warm, err = [], None
                for i in range(args.repeats):
                    r = run_child(tool, n, T, args, warm_cache)
                    if "error" in r:
                        err = r["error"]
                        log(f"  {tag} run {i + 1}: ERROR {err}")
                        break
                    warm.append(r)
                    log(f"  {tag} run {i + 1}: wall {r['wall_s']:.2f} s, loop {r['loop_s']:.3f}"
                        f" s, {r['spikes']} spikes")
                if warm:
                    rows.append(make_row(tool, n, T, warm, cold))
                else:
                    rows.append(dict(tool=tool, N=n, T_bio_s=T, error=err or "no runs"))
    add_slopes(rows)
    print_tables(rows)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
        log(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()

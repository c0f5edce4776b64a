"""Benchmark a recurrent network with STDP in neurosim, Brian2 (C++ standalone) and NEST.

    python experiments/bench_stdp.py --json experiments/results/bench_stdp.json  # N = 10^4, 10 s
    python experiments/bench_stdp.py --quick                 # N = 2500, T = 1 s, all tools
    python experiments/bench_stdp.py --tools neurosim,brian2-cpp --modes plastic --T 2
    python experiments/bench_stdp.py --report experiments/results/bench_stdp_2026-11-22.json

The network (``experiments/peers/_stdp.py``, the same in every tool): 10,000 ``iaf_psc_exp``
neurons (8,000 E, 2,000 I), Bernoulli p = 200/N without autapses (~1.28 M E->E synapses at
N = 10,000, 2.0 M in all), delay 1.5 ms, dt = 0.1 ms, one 500 Hz Poisson train per neuron plus
a constant current; E->E synapses learn by additive pair STDP (NEST's ``stdp_synapse`` with
mu_plus = mu_minus = 0: tau_plus = tau_minus = 20 ms, lambda = 0.01, alpha = 1.05, Wmax =
40 pA, initial 20 pA); the rest is static. Mode ``plastic`` runs it as is, mode ``static``
the same network with static E->E synapses (the difference is the cost of plasticity). It
fires at ~8 Hz, asynchronously, from the first second to the last.

Every (tool, mode) run is a separate process (``experiments/peers/stdp_<tool>.py``, one JSON
line of phase timers). Per (tool, mode) the driver first fills the warm caches in
``--workdir`` without timing (neurosim: a 0.1 s run, which compiles or loads the Numba loop;
Brian2: ``--compile-only``, which writes and compiles the C++ project of this N and T; NEST:
nothing), then makes ``--repeats`` timed runs (median). Progress goes to stderr, tables to
stdout.

Tools: ``neurosim`` (1 thread), ``neurosim-2t`` (2 threads: at N = 10,000 neurosim keeps its
serial loop, below 8,192 neurons per thread; reported as ``parallel`` = false),
``neurosim-2t-split`` (2 threads with that threshold lowered by the peer script, to show what
two threads give; not in the default list), ``brian2-cpp`` (cpp_standalone, no OpenMP; the
STDP code in a pathway without delay, so that it pairs spike times as neurosim does, and a
second pathway transmitting the weight after 1.5 ms), ``brian2-cpp-arrival`` (mode plastic
only: Brian2's usual single pathway with the delay, pairing the arrival time of the
presynaptic spike; one walk over the synapses instead of two), ``brian2-cython`` (runtime
Cython; not in the default list), ``nest`` (``--nest-threads``, default 1).

Columns (keys of each row in the JSON's ``rows``):
  build_s          network construction: neurosim network description + ``Simulation``
                   build; Brian2 C++ the Python description + the binary's time outside its
                   run loop (it creates the synapses); NEST Create + Connect + Prepare;
  loop_s           the simulation loop: neurosim ``sim.run(T)`` (after a 0.1 ms warm-up run;
                   it includes drawing the Poisson input, in Numba); Brian2 the binary's own
                   timer around its time-step loop; NEST ``nest.Run(T)``;
  loop_per_bio_s   loop_s / T;   wall_s: the whole process (interpreter start to exit), warm
                   caches;
  events_per_s     (recurrent synaptic events + external Poisson events) / loop_s; recurrent
                   events = sum over spikes of the source's out-degree (exact for neurosim and
                   Brian2, spikes x mean out-degree for NEST); external = N x 500 Hz x T
                   (expected value, the same for every tool);
  plastic_synapses E->E synapses that learn (0 in mode static); plastic_updates: STDP updates
                   in the loop (E spikes x out-degree + E spikes x in-degree within E->E);
  rate_{E,I}_{start,end}_Hz  mean rate in the first / last second (first / last quarter of
                   runs shorter than 4 s); sync_fano_E: Fano factor of the E spike count in
                   1 ms bins (1 = independent Poisson);
  w_mean, w_std, w_frac_zero, w_frac_wmax  the E->E weights at the end (initial 20 pA);
  peak_rss_mb      peak resident memory (Brian2 C++: Python process + binary; NEST: includes
                   ``recorder_mb`` for the spike_recorder's connections).

Afterwards: a ratio table peer / neurosim (> 1: neurosim is faster / smaller) for each mode,
the cost of plasticity per tool (loop plastic / loop static, and the extra loop time per
STDP update), and a warning where a tool's rate differs from neurosim's by more than 20 %
or the rate at the end differs from that at the start by more than 30 % (a drifting network
is no benchmark).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "peers"
sys.path.insert(0, str(PEERS.parent))  # experiments/, for _driver
from _driver import median_row, run_json_child  # noqa: E402

sys.path.insert(0, str(PEERS))
import _stdp  # noqa: E402

TOOLS = ("neurosim", "neurosim-2t", "neurosim-2t-split", "brian2-cpp", "brian2-cpp-arrival",
         "brian2-cython", "nest")
DEFAULT_TOOLS = ("neurosim", "neurosim-2t", "brian2-cpp", "brian2-cpp-arrival", "nest")
#: tools whose static network is another tool's (run in mode plastic only)
PLASTIC_ONLY = ("brian2-cpp-arrival",)
MODES = ("plastic", "static")
BASE = "neurosim"

LOOP_DEF = {
    "neurosim": "sim.run(T) after sim.run(0.1 ms); includes drawing the Poisson input",
    "brian2-cpp": "device._last_run_time (the binary's run-loop timer)",
    "brian2-cython": "device._last_run_time (excludes before_run codegen)",
    "nest": "nest.Run(T) after nest.Prepare()",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ one run
def command(tool: str, mode: str, n: int, T: float, args, *, warm: bool = False):
    """Command line and environment of one child run (``warm``: the cache-filling one)."""
    cache = Path(args.workdir).expanduser()
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYNEST_QUIET="1", OMP_NUM_THREADS="1")
    common = ["--n", str(n), "--T", f"{T:g}", "--seed", str(args.seed), f"--{mode}"]
    if tool.startswith("neurosim"):
        threads = 1 if tool == "neurosim" else 2
        env.update(NUMBA_CACHE_DIR=str(cache / "numba"),
                   NEUROSIM_CACHE_DIR=str(cache / "neurosim"), OMP_NUM_THREADS=str(threads))
        cmd = ["stdp_neurosim.py", *common, "--threads", str(threads)]
        if tool.endswith("-split"):
            cmd.append("--force-split")
        if warm:
            cmd[cmd.index("--T") + 1] = "0.1"
    elif tool.startswith("brian2"):
        kind = tool.split("-")[1]
        pairing = "arrival" if tool.endswith("-arrival") else "spike"
        cmd = ["stdp_brian2.py", *common, "--mode", kind, "--pairing", pairing]
        if kind == "cpp":
            cmd += ["--build-dir", str(cache / "brian2_cpp" / f"{mode}_N{n}_T{T:g}_{pairing}")]
            if warm:
                cmd.append("--compile-only")
        else:
            cmd += ["--cache-dir", str(cache / "brian2_cython")]
            if warm:
                cmd[cmd.index("--T") + 1] = "0.1"
    elif tool == "nest":
        env.update(OMP_NUM_THREADS=str(args.nest_threads))
        cmd = ["stdp_nest.py", *common, "--threads", str(args.nest_threads)]
    else:
        raise ValueError(f"unknown tool {tool!r}")
    return [sys.executable, str(PEERS / cmd[0]), *cmd[1:]], env


def make_row(tool: str, runs: list[dict], loads: list[float]) -> dict:
    m = median_row(runs)
    n, T, loop = m["N"], m["T_bio_s"], m["loop_s"]
    ext = n * _stdp.NU_EXT * T
    row = dict(tool=tool, mode=m["mode"], N=n, T_bio_s=T, threads=m.get("threads"),
               build_s=m["build_s"], loop_s=loop, loop_per_bio_s=loop / T,
               wall_s=m["wall_s"], events=m["events"], ext_events=ext,
               events_per_s=(m["events"] + ext) / loop if loop > 0 else None,
               plastic_synapses=m["plastic_synapses"], synapses=m["synapses"],
               plastic_updates=m["plastic_updates"],
               plastic_updates_per_s=m["plastic_updates"] / loop if loop > 0 else None,
               spikes=m["spikes"], peak_rss_mb=m["peak_rss_mb"],
               loop_def=next((v for k, v in LOOP_DEF.items() if tool.startswith(k)), ""),
               repeats=len(runs),
               wall_runs=[r["wall_s"] for r in runs], loop_runs=[r["loop_s"] for r in runs],
               load_before_runs=loads)
    skip = set(row) | {"tool", "process_s", "wall_s"}
    for k, v in m.items():
        if k not in skip:
            row[k] = v
    return row


# ------------------------------------------------------------------------------ tables
def fmt(v, spec: str) -> str:
    if v is None:
        return "-"
    return format(v, spec)


def print_tables(rows: list[dict], meta: dict | None = None) -> None:
    cols = [("tool", "tool", -18, "s"), ("mode", "mode", -7, "s"), ("N", "N", 6, "d"),
            ("T_bio_s", "T[s]", 5, "g"), ("build_s", "build", 6, ".2f"),
            ("loop_s", "loop", 8, ".2f"), ("loop_per_bio_s", "loop/T", 7, ".3f"),
            ("wall_s", "wall", 7, ".1f"), ("events_per_s", "Mev/s", 6, ".1f"),
            ("plastic_synapses", "plastic", 8, "d"), ("rate_E_start_Hz", "E0 Hz", 6, ".2f"),
            ("rate_E_end_Hz", "E1 Hz", 6, ".2f"), ("rate_I_start_Hz", "I0 Hz", 6, ".2f"),
            ("rate_I_end_Hz", "I1 Hz", 6, ".2f"), ("w_mean", "w_mean", 7, ".3f"),
            ("w_std", "w_std", 6, ".3f"), ("peak_rss_mb", "RSS MB", 7, ".0f")]

    def cell(text, width):
        return f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"

    head = " ".join(cell(h, w) for _, h, w, _ in cols)
    print()
    if meta:
        print(f"load average at start {meta.get('load_at_start')}, at end "
              f"{meta.get('load_at_end')}; {meta.get('cpus')} CPUs")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:<18} {r['mode']:<7} ERROR {r['error'][:300]}")
            continue
        cells = []
        for k, _, w, f in cols:
            v = r.get(k)
            if k == "events_per_s" and v is not None:
                v = v / 1e6
            cells.append(cell(fmt(v, f), w))
        print(" ".join(cells))
    print("loop = simulation loop; wall = whole process (warm caches); Mev/s = 1e6 synaptic "
          "events (recurrent + external)\nper s of loop; E0/E1, I0/I1 = rates in the first / "
          "last second; w = final E->E weights (pA; initial 20)")
    for r in rows:
        if r.get("threads", 1) > 1 and r.get("parallel") is False:
            print(f"note: {r['tool']} ({r['mode']}): neurosim ran its serial loop (fewer than "
                  "8,192 neurons per thread)")
        if r.get("recorder_mb"):
            print(f"note: {r['tool']} ({r['mode']}): the spike_recorder's connections take "
                  f"{r['recorder_mb']:.0f} MB of its RSS")

    ok = [r for r in rows if "error" not in r]
    base = {(r["mode"], r["N"], r["T_bio_s"]): r for r in ok if r["tool"] == BASE}
    print("\nRatios peer / neurosim (> 1: neurosim faster / smaller)")
    print(f"{'peer':<18} {'mode':<7} {'loop':>7} {'wall':>7} {'build':>7} {'RSS':>6}")
    for r in ok:
        b = base.get((r["mode"], r["N"], r["T_bio_s"]))
        if b is None or r["tool"] == BASE:
            continue

        def ratio(k, r=r, b=b):
            return r[k] / b[k] if r.get(k) and b.get(k) else None

        print(f"{r['tool']:<18} {r['mode']:<7} {fmt(ratio('loop_s'), '>7.2f')} "
              f"{fmt(ratio('wall_s'), '>7.2f')} {fmt(ratio('build_s'), '>7.2f')} "
              f"{fmt(ratio('peak_rss_mb'), '>6.2f')}")

    print("\nCost of plasticity (same tool, plastic vs static E->E)")
    print(f"{'tool':<18} {'loop plastic/static':>20} {'extra loop s/bio-s':>19} "
          f"{'ns per STDP update':>19}")
    by = {(r["tool"], r["mode"]): r for r in ok}
    for tool in dict.fromkeys(r["tool"] for r in ok):
        p, s = by.get((tool, "plastic")), by.get((tool, "static"))
        if not (p and s):
            continue
        extra = p["loop_per_bio_s"] - s["loop_per_bio_s"]
        per = (p["loop_s"] - s["loop_s"]) / p["plastic_updates"] * 1e9 \
            if p.get("plastic_updates") else None
        print(f"{tool:<18} {p['loop_s'] / s['loop_s']:>20.2f} {extra:>19.3f} "
              f"{fmt(per, '>19.1f')}")

    for mode in MODES:
        b = next((r for r in ok if r["tool"] == BASE and r["mode"] == mode), None)
        peers = [r for r in ok if r["mode"] == mode and not r["tool"].startswith("neurosim")]
        if b and peers:
            fast = min(peers, key=lambda r: r["loop_s"])
            print(f"\n{mode}: neurosim loop {b['loop_per_bio_s']:.3f} s per bio-second; fastest"
                  f" peer {fast['tool']} {fast['loop_per_bio_s']:.3f}: neurosim is "
                  f"{fast['loop_s'] / b['loop_s']:.2f}x its speed"
                  + (" (target >= 2x)" if mode == "plastic" else ""))

    for r in ok:  # sanity: the same network, a steady state
        b = base.get((r["mode"], r["N"], r["T_bio_s"]))
        for pop in "EI":
            r0, r1 = r.get(f"rate_{pop}_start_Hz"), r.get(f"rate_{pop}_end_Hz")
            if r0 and r1 and abs(r1 / r0 - 1) > 0.3:
                print(f"WARNING: {r['tool']} ({r['mode']}): {pop} rate {r0:.2f} Hz at the "
                      f"start, {r1:.2f} Hz at the end: not a steady state")
        if b is not None and r is not b and b.get("rate_E_Hz"):
            dev = r["rate_E_Hz"] / b["rate_E_Hz"] - 1
            if abs(dev) > 0.2:
                print(f"WARNING: {r['tool']} ({r['mode']}): E rate {r['rate_E_Hz']:.2f} Hz vs "
                      f"neurosim {b['rate_E_Hz']:.2f} Hz ({dev:+.0%}): check the mapping")
        if r.get("rate_E_Hz") is not None and not 1.0 <= r["rate_E_Hz"] <= 30.0:
            print(f"WARNING: {r['tool']} ({r['mode']}): E rate {r['rate_E_Hz']:.2f} Hz is "
                  "outside 1-30 Hz")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("neurosim", "numba", "numpy", "brian2"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001 - a missing peer is reported, not fatal
            out[mod] = None
    try:  # NEST prints a banner and starts a kernel on import: ask pip instead
        from importlib.metadata import version

        out["nest-simulator"] = version("nest-simulator")
    except Exception:  # noqa: BLE001
        out["nest-simulator"] = None
    return out


# ------------------------------------------------------------------------------ main
def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                    help=f"comma list out of {', '.join(TOOLS)}")
    ap.add_argument("--modes", default=",".join(MODES), help="plastic,static")
    ap.add_argument("--n", type=int, default=10000, help="number of neurons")
    ap.add_argument("--T", type=float, default=10.0, help="biological time, seconds")
    ap.add_argument("--quick", action="store_true", help="N = 2500, T = 1 s")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per case (median)")
    ap.add_argument("--nest-threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per child run")
    ap.add_argument("--workdir", default=str(Path.home() / ".cache" / "neurosim_bench" /
                                             "stdp"),
                    help="warm caches (Numba, neurosim, Brian2 C++ projects) live here")
    ap.add_argument("--json", default=None, help="write {meta, rows} to this JSON file")
    ap.add_argument("--report", nargs="+", default=None, metavar="JSON",
                    help="run nothing: print the tables of these JSON files (later rows "
                         "replace earlier ones of the same tool, mode, N, T), write --json")
    args = ap.parse_args(argv)
    if args.report:
        merged, meta = {}, None
        for path in args.report:
            data = json.loads(Path(path).read_text())
            rows = data["rows"] if isinstance(data, dict) else data
            meta = data.get("meta") if isinstance(data, dict) else meta
            for row in rows:
                merged[(row["tool"], row["mode"], row["N"], row["T_bio_s"])] = row
        rows = list(merged.values())
        print_tables(rows, meta)
        if args.json:
            Path(args.json).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1) + "\n")
        return rows

    tools = [t for t in args.tools.split(",") if t]
    modes = [m for m in args.modes.split(",") if m]
    bad = [t for t in tools if t not in TOOLS] + [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown tools/modes {bad}; tools: {', '.join(TOOLS)}; modes: plastic, static")
    n, T = (2500, 1.0) if args.quick else (args.n, args.T)
    Path(args.workdir).expanduser().mkdir(parents=True, exist_ok=True)
    meta = dict(benchmark="bench_stdp", date=datetime.date.today().isoformat(),
                command=" ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
                N=n, T_bio_s=T, tools=tools, modes=modes, repeats=args.repeats,
                cpus=os.cpu_count(), machine=platform.machine(),
                load_at_start=[round(x, 2) for x in os.getloadavg()],
                versions=versions(), network=_stdp.describe(),
                nest_threads=args.nest_threads)
    log(f"bench_stdp: tools {', '.join(tools)}; modes {', '.join(modes)}; N {n}; T {T:g} s; "
        f"{args.repeats} timed runs; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")

    rows = []
    for tool in tools:
        for mode in modes:
            if tool in PLASTIC_ONLY and mode != "plastic":
                continue
            tag = f"{tool} {mode} N={n} T={T:g}s"
            if tool != "nest":
                cmd, env = command(tool, mode, n, T, args, warm=True)
                r = run_json_child(cmd, env, args.timeout)
                log(f"  {tag} warm-up: {r['wall_s']:.1f} s"
                    + (f"  ERROR {r['error']}" if "error" in r else ""))
            runs, loads, err = [], [], None
            for i in range(args.repeats):
                loads.append(round(os.getloadavg()[0], 2))
                cmd, env = command(tool, mode, n, T, args)
                r = run_json_child(cmd, env, args.timeout)
                if "error" in r:
                    err = r["error"]
                    log(f"  {tag} run {i + 1}: ERROR {err}")
                    break
                runs.append(r)
                log(f"  {tag} run {i + 1}: wall {r['wall_s']:.1f} s, loop {r['loop_s']:.2f} s, "
                    f"E {r['rate_E_start_Hz']:.2f} -> {r['rate_E_end_Hz']:.2f} Hz"
                    + (f", w {r['w_mean']:.3f}" if r.get("w_mean") is not None else "")
                    + f" (load {loads[-1]:.2f})")
            rows.append(make_row(tool, runs, loads) if runs else
                        dict(tool=tool, mode=mode, N=n, T_bio_s=T, error=err or "no runs"))
    meta["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_tables(rows, meta)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1) + "\n")
        log(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()

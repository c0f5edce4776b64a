"""What recording every spike costs: neurosim's streamed HDF5 vs Brian2's SpikeMonitor + numpy.

    python experiments/bench_recording.py                 # CUBA, N = 64000, T = 10 s
    python experiments/bench_recording.py --n 4000 --T 1 --json results/bench_recording.json

For each tool the CUBA network runs three times, each in its own process (after one
unrecorded warm-up): without any spike recording (``none``), with spikes kept in memory
(``memory``), and written to a file (``file``): neurosim streams to HDF5 (gzip + shuffle, whole
chunks, SWMR flushes every second of biological time; the time includes closing the file);
Brian2 (cpp_standalone) records with a SpikeMonitor and saves ``i`` and ``t`` with
``numpy.savez_compressed`` afterwards (Brian2 has no file writer). Columns:

  loop_s        the simulation loop (neurosim: ``sim.run`` incl. writing the file; Brian2: the
                binary's loop timer, plus ``save_s`` for the file)
  cost_%        (time with recording - time without) / time without
  file_MB, B/spike   size of the result file; bytes per recorded spike
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"


def run(script: str, args: list[str], env: dict) -> dict:
    p = subprocess.run([sys.executable, str(PEERS / script), *args], capture_output=True,
                       text=True, env=env, cwd=env["BENCH_CWD"])
    if p.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64000)
    ap.add_argument("--T", type=float, default=10.0, help="biological time, s")
    ap.add_argument("--tools", default="neurosim,brian2-cpp")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_recording_"))
    env = dict(os.environ, BENCH_CWD=str(work))
    rows = []
    for tool in args.tools.split(","):
        script = "cuba_neurosim.py" if tool == "neurosim" else "cuba_brian2.py"
        extra = [] if tool == "neurosim" else ["--mode", "cpp", "--build-dir",
                                               str(work / "brian2_cpp")]
        common = ["--n", str(args.n), "--T", f"{args.T:g}", *extra]
        print(f"{tool}: warm-up", file=sys.stderr, flush=True)
        run(script, [*common, "--record", "none"], env)
        for mode in ("none", "memory", "file"):
            out = work / f"{tool}_{mode}.{'h5' if tool == 'neurosim' else 'npz'}"
            r = run(script, [*common, "--record", mode, "--out", str(out)], env)
            loop = r["loop_s"] + r.get("save_s", 0.0)
            size = out.stat().st_size if mode == "file" else None
            row = dict(tool=tool, N=args.n, T_bio_s=args.T, record=mode, loop_s=loop,
                       sim_loop_s=r["loop_s"], save_s=r.get("save_s"), spikes=r["spikes"],
                       file_bytes=size,
                       bytes_per_spike=size / r["spikes"] if size and r["spikes"] else None)
            rows.append(row)
            print(f"  {mode:6s} loop {loop:.2f} s  spikes {r['spikes']:,}"
                  + (f"  file {size / 1e6:.1f} MB" if size else ""), file=sys.stderr, flush=True)
    print(f"\nCUBA N = {args.n:,}, T = {args.T:g} s: cost of recording every spike")
    print(f"{'tool':12s} {'record':7s} {'loop_s':>8s} {'cost_%':>7s} {'file_MB':>8s} "
          f"{'B/spike':>8s} {'spikes':>10s}")
    for tool in args.tools.split(","):
        base = next(r["loop_s"] for r in rows if r["tool"] == tool and r["record"] == "none")
        for r in (r for r in rows if r["tool"] == tool):
            r["cost_pct"] = 100.0 * (r["loop_s"] - base) / base
            mb = f"{r['file_bytes'] / 1e6:.1f}" if r["file_bytes"] else "-"
            bps = f"{r['bytes_per_spike']:.2f}" if r["bytes_per_spike"] else "-"
            print(f"{tool:12s} {r['record']:7s} {r['loop_s']:8.2f} {r['cost_pct']:7.1f} "
                  f"{mb:>8s} {bps:>8s} {r['spikes']:>10,}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()

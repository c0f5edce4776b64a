"""The ``neurosim`` command line: run an experiment, look at a result file, plot it.

    neurosim run cuba --set n=16000 --duration 2000 --seed 3 --out results/cuba.h5
    neurosim run my_network.py --set rate=12.5
    neurosim inspect results/cuba.h5
    neurosim plot results/cuba.h5 -o cuba.png
    neurosim models [iaf_psc_exp]

An *experiment* is a Python module with

    PARAMS = {"n": 4000, "delay": 0.1}   # defaults; their types are what --set accepts
    DURATION = 1000.0                     # ms, the default run length
    def build(seed, **params) -> neurosim.Network

found by name in ``neurosim.models.networks`` (e.g. ``cuba``) or in ``./experiments/<name>.py``,
or given as a path to a ``.py`` file. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time
from pathlib import Path

from .errors import ConfigError
from .units import is_multiple


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


def load_experiment(name: str):
    """The experiment module ``name`` (a built-in network name or a .py path)."""
    path = Path(name)
    if path.suffix == ".py":
        if not path.is_file():
            raise UsageError(f"experiment file {name!r} does not exist")
        spec = importlib.util.spec_from_file_location(f"neurosim_experiment_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception as e:  # a user's file: report, don't trace back
            raise UsageError(f"experiment file {name!r} failed to import: "
                             f"{type(e).__name__}: {e}") from e
    else:
        if not name.isidentifier():
            raise UsageError(f"unknown experiment {name!r}")
        local = Path("experiments") / f"{name}.py"
        try:
            mod = importlib.import_module(f"neurosim.models.networks.{name}")
        except ModuleNotFoundError:
            if local.is_file():  # ./experiments/<name>.py of the current project
                return load_experiment(str(local))
            raise UsageError(f"unknown experiment {name!r} (built in: {', '.join(builtins())};"
                             " experiments/<name>.py here; or a path to a .py file)") from None
    for attr in ("PARAMS", "build"):
        if not hasattr(mod, attr):
            raise UsageError(f"experiment {name!r} defines no {attr}")
    return mod


def builtins() -> list[str]:
    import pkgutil

    import neurosim.models.networks as nets

    return sorted(m.name for m in pkgutil.iter_modules(nets.__path__)
                  if hasattr(importlib.import_module(f"{nets.__name__}.{m.name}"), "PARAMS"))


def parse_sets(sets: list[str], defaults: dict) -> dict:
    """``["n=100", "delay=0.5"]`` -> values typed like the defaults."""
    out = {}
    for item in sets:
        key, eq, text = item.partition("=")
        if not eq:
            raise UsageError(f"--set {item!r}: expected key=value")
        if key not in defaults:
            raise UsageError(f"--set {key}: unknown parameter (known: "
                             f"{', '.join(sorted(defaults))})")
        kind = type(defaults[key])
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value = text.lower() in ("true", "1", "yes")
            else:
                value = kind(text)
        except ValueError:
            raise UsageError(f"--set {key}={text}: expected a value of type "
                             f"{kind.__name__}") from None
        out[key] = value
    return out


class _Progress:
    """A tqdm bar over biological time, with wall time and the ratio of the two."""

    def __init__(self, total_ms: float, enabled: bool):
        self.bar = None
        self.t0 = time.perf_counter()
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=round(total_ms, 6), unit="ms", unit_scale=False,
                            desc="biological time", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{desc}: {n:.0f}/{total:.0f} ms |{bar}| "
                                       "wall {elapsed}{postfix}")
        self.done = 0.0

    def __call__(self, t_ms: float) -> None:
        if self.bar is None:
            return
        self.bar.update(t_ms - self.done)
        self.done = t_ms
        wall = time.perf_counter() - self.t0
        self.bar.set_postfix_str(f"{wall / (t_ms / 1000):.2f} s wall per bio-s")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def cmd_run(args) -> int:
    mod = load_experiment(args.experiment)
    params = {**mod.PARAMS, **parse_sets(args.set or [], mod.PARAMS)}
    duration = args.duration if args.duration is not None else getattr(mod, "DURATION", 1000.0)
    if not (args.dt > 0 and duration > 0 and is_multiple(duration, args.dt)):
        raise UsageError(f"--duration {duration:g}: must be > 0 and a whole number of steps of "
                         f"--dt {args.dt:g} ms")
    out = Path(args.out or f"results/{Path(args.experiment).stem}.h5")
    if out.exists() and not args.overwrite:
        raise UsageError(f"output file {out} exists (use --overwrite to replace it)")
    t0 = time.perf_counter()
    try:
        net = mod.build(seed=args.seed, **params)
    except ConfigError:
        raise
    except Exception as e:
        if args.debug:
            raise
        raise UsageError(f"experiment {args.experiment!r} failed to build: "
                         f"{type(e).__name__}: {e} (--debug shows the traceback)") from e
    sim = net.compile(dt=args.dt, threads=args.threads)
    build_s = time.perf_counter() - t0
    print(f"{args.experiment}: {sum(p.size for p in net.pops.values()):,} units, "
          f"{sim.n_synapses():,} synapses, dt = {args.dt} ms, seed {sim.seed}, "
          f"built in {build_s:.2f} s", file=sys.stderr)
    progress = _Progress(duration, enabled=not args.quiet)
    t1 = time.perf_counter()
    try:
        with sim.record(out, overwrite=args.overwrite, flush_every=args.flush_every,
                        command=["neurosim", *sys.argv[1:]]):
            sim.run(duration, progress=progress)
    finally:
        progress.close()
    wall = time.perf_counter() - t1
    from .io.hdf5 import load

    res = load(out)
    print(res.summary())
    print(f"  run: {wall:.2f} s wall for {duration:g} ms "
          f"({wall / (duration / 1000):.3f} s per biological second)")
    if sim.structure.parallel:  # the ranges move toward the faster thread (neurosim.balance)
        shares = " / ".join(f"{x:.2f}" for x in sim.thread_shares)
        print(f"  threads: {args.threads}, shares of the neurons at the end {shares}")
    elif args.threads > 1:
        print(f"  threads: the network is too small to split; {args.threads} threads ran the "
              "serial loop")
    if not args.no_plot:
        from .plot import plot_results

        png = plot_results(res, out.with_suffix(".png"))
        print(f"  plot: {png}")
    return 0


def cmd_inspect(args) -> int:
    from .io.hdf5 import load

    print(load(args.file).summary())
    return 0


def cmd_plot(args) -> int:
    from .io.hdf5 import load
    from .plot import plot_results

    res = load(args.file)
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".png")
    print(plot_results(res, out))
    return 0


def models_markdown() -> str:
    """docs/models.md: every model's equations and parameter table, from its declaration."""
    from . import registry

    out = ["# Neuron models", "",
           "Generated from the model declarations by `neurosim models --markdown`; do not edit.",
           "", "Every parameter may be given as a number, one value per neuron (an array) or a "
           "distribution (`Uniform`, `Normal`, `LogNormal`, drawn with the network's seed).",
           ""]
    for name in registry.names():
        spec = registry.get(name)
        out += [f"## `{name}`", "", f"Input ports: {', '.join(f'`{p}`' for p in spec.ports)}."
                + (" Trainable (torch step)." if spec.trainable else ""), "",
                "```text", spec.doc.strip(), "```", "", spec.doc_table(), ""]
    out += ["# Plasticity rules", "",
            "Pass as `Network.connect(..., plasticity=neurosim.Plasticity(name, **params))`.", ""]
    seen = set()
    for name in registry.rule_names():
        spec = registry.get_rule(name)
        kind = ("spike-timing rule (hooks on spikes)" if spec.kind == "spike"
                else "rate rule (periodic updates, `every` ms)")
        out += [f"## `{name}`", "", f"A {kind}."]
        if spec.doc in seen:  # several rules of one file share its docstring
            out += ["", "Equations: see the rule declared above in the same file.", ""]
        else:
            out += ["", "```text", spec.doc.strip(), "```", ""]
            seen.add(spec.doc)
        out += [spec.doc_table(), ""]
    return "\n".join(out)


def cmd_models(args) -> int:
    from . import registry

    if args.markdown:
        print(models_markdown())
        return 0
    if args.name:
        spec = (registry.get_rule(args.name) if args.name in registry.rule_names()
                else registry.get(args.name))
        print(spec.doc.strip())
        print()
        print(spec.doc_table())
    else:
        for name in registry.names():
            spec = registry.get(name)
            print(f"{name:16s} ports {', '.join(spec.ports):10s} "
                  f"{len(spec.params)} parameters, state {', '.join(spec.state_names)}")
        for name in registry.rule_names():
            spec = registry.get_rule(name)
            print(f"{name:16s} {spec.kind} plasticity rule, {len(spec.params)} parameters")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="neurosim", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run an experiment and record it to HDF5")
    r.add_argument("experiment", help="built-in network name (e.g. cuba) or a .py file")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter of the experiment (repeatable)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--duration", type=float, default=None, help="ms of biological time")
    r.add_argument("--dt", type=float, default=0.1, help="time step, ms")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--out", default=None, help="result file (default results/<name>.h5)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing result file")
    r.add_argument("--flush-every", type=float, default=1000.0,
                   help="ms of biological time between flushes to disk")
    r.add_argument("--no-plot", action="store_true", help="do not write the raster PNG")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--debug", action="store_true", help="show tracebacks of experiment errors")
    r.set_defaults(fn=cmd_run)
    i = sub.add_parser("inspect", help="summarise a result file")
    i.add_argument("file")
    i.set_defaults(fn=cmd_inspect)
    p = sub.add_parser("plot", help="raster, rates, traces and weights of a result file")
    p.add_argument("file")
    p.add_argument("-o", "--output", default=None, help="PNG path (default: beside the file)")
    p.set_defaults(fn=cmd_plot)
    m = sub.add_parser("models", help="list neuron models, or show one")
    m.add_argument("name", nargs="?")
    m.add_argument("--markdown", action="store_true", help="all models as Markdown (docs)")
    m.set_defaults(fn=cmd_models)
    return ap


def main(argv=None) -> int:
    from .io.hdf5 import RecordingError

    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except RecordingError as e:  # e.g. disk full: report, then skip HDF5's teardown (see hdf5)
        print(f"neurosim {args.command}: error: {e}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(2)
    except (UsageError, ConfigError, KeyError, OSError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"neurosim {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neurosim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

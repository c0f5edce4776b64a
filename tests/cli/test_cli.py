"""The neurosim command line, run as real subprocesses."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neurosim.io.hdf5 import load


def neurosim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "neurosim.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def _one_line_error(r):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "error" in lines[0], r.stderr
    return lines[0]


def test_run_inspect_plot(tmp_path):
    out = tmp_path / "cuba.h5"
    r = neurosim("run", "cuba", "--set", "n=800", "--set", "delay=0.5", "--duration", "200",
                 "--seed", "3", "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "spikes exc" in r.stdout and out.exists() and out.with_suffix(".png").exists()
    res = load(out)
    assert res.complete and res.t_flushed == 200.0 and res.meta["seed"] == 3
    assert res.network["populations"]["exc"]["size"] == 640
    assert res.network["projections"]["exc_to_exc"]["delay_ms"] == 0.5
    assert "neurosim run cuba" in res.meta["command"]
    r = neurosim("inspect", out)
    assert r.returncode == 0 and "status: complete" in r.stdout and "exc" in r.stdout
    png = tmp_path / "fig.png"
    r = neurosim("plot", out, "-o", png)
    assert r.returncode == 0 and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_reports_threads(tmp_path):
    r = neurosim("run", "cuba", "--set", "n=400", "--duration", "20", "--threads", "2",
                 "--out", tmp_path / "small.h5", "--quiet", "--no-plot")
    assert r.returncode == 0, r.stderr
    assert "too small to split; 2 threads ran the serial loop" in r.stdout
    r = neurosim("run", "cuba", "--set", "n=16400", "--duration", "20", "--threads", "2",
                 "--out", tmp_path / "big.h5", "--quiet", "--no-plot")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "threads: 2, shares" in x)
    shares = [float(x) for x in line.split("end ")[1].split(" / ")]
    assert len(shares) == 2 and abs(sum(shares) - 1.0) < 0.02 and min(shares) > 0.1


def test_progress_bar_shows_biological_and_wall_time(tmp_path):
    r = neurosim("run", "cuba", "--set", "n=400", "--duration", "300", "--out",
                 tmp_path / "p.h5", "--no-plot")
    assert r.returncode == 0, r.stderr
    assert "biological time" in r.stderr and "300/300 ms" in r.stderr
    assert "wall per bio-s" in r.stderr


def test_user_experiment_file(tmp_path):
    exp = tmp_path / "my_exp.py"
    exp.write_text(textwrap.dedent("""
        import neurosim as ns
        PARAMS = {"rate": 20.0, "n": 50, "record_v": True}
        DURATION = 100.0
        def build(seed, rate, n, record_v):
            net = ns.Network(seed=seed)
            net.poisson("p", n, rate=rate)
            net.population("a", "iaf_psc_delta", n)
            net.connect("p", "a", ns.one_to_one(), weight=20.0)
            net.spike_monitor("a")
            if record_v:
                net.state_monitor("a", "V_m", indices=[0, 1])
            return net
    """))
    r = neurosim("run", exp, "--set", "rate=50.5", "--set", "record_v=false", "--quiet",
                 cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    res = load(tmp_path / "results" / "my_exp.h5")
    assert res.network["populations"]["p"]["rate_Hz"] == 50.5 and res.state_vars == []
    assert (tmp_path / "results" / "my_exp.png").exists()
    # the same experiment by name, from ./experiments/
    (tmp_path / "experiments").mkdir()
    exp.rename(tmp_path / "experiments" / "my_exp.py")
    r = neurosim("run", "my_exp", "--out", "by_name.h5", "--quiet", "--no-plot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert load(tmp_path / "by_name.h5").state_vars == [("a", "V_m")]


@pytest.mark.parametrize("args,words", [
    (["run", "no_such_experiment"], ["unknown experiment", "no_such_experiment"]),
    (["run", "missing.py"], ["missing.py", "does not exist"]),
    (["run", "cuba", "--set", "bogus=1"], ["bogus", "unknown parameter"]),
    (["run", "cuba", "--set", "n=many"], ["n=many", "int"]),
    (["run", "cuba", "--set", "n"], ["key=value"]),
    (["run", "cuba", "--set", "n=0"], ["cuba", "'n'", "0"]),
    (["run", "cuba", "--set", "delay=0.01"], ["delay", "0.01"]),
    (["run", "cuba", "--duration", "0.05"], ["duration", "0.05"]),
    (["inspect", "nothing.h5"], ["nothing.h5", "not a file"]),
    (["plot", "nothing.h5"], ["nothing.h5"]),
])
def test_errors_are_one_line_exit_2(tmp_path, args, words):
    extra = ["--quiet"] if args[0] == "run" else []
    line = _one_line_error(neurosim(*args, *extra, cwd=tmp_path))
    for w in words:
        assert w in line


def test_refuses_to_overwrite(tmp_path):
    out = tmp_path / "x.h5"
    out.write_bytes(b"precious")
    line = _one_line_error(neurosim("run", "cuba", "--set", "n=100", "--out", out, "--quiet"))
    assert "exists" in line and "--overwrite" in line
    assert out.read_bytes() == b"precious"


def test_inspect_rejects_foreign_hdf5(tmp_path):
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    line = _one_line_error(neurosim("inspect", tmp_path / "other.h5"))
    assert "not a neurosim recording" in line


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "neurosim"
    assert script.exists() and os.access(script, os.X_OK)
    r = subprocess.run([str(script), "models"], capture_output=True, text=True)
    assert r.returncode == 0 and "iaf_psc_exp" in r.stdout and "izhikevich" in r.stdout


def test_models_doc_is_generated_and_current():
    """docs/models.md is what `neurosim models --markdown` prints (regenerate it if not)."""
    from neurosim.cli import models_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    assert doc.read_text() == models_markdown() + "\n", \
        "run: neurosim models --markdown > docs/models.md"

"""Packaging: light imports, the models subpackage, the import guard."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code, cwd=None):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)


def test_import_is_light():
    """`import neurosim` needs only numpy, numba, h5py: no torch, peers or plotting."""
    r = _run("import sys, neurosim; heavy = {'torch', 'brian2', 'nest', 'matplotlib', "
             "'neurosim.models'} & set(sys.modules); print(sorted(heavy))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_models_load_lazily_through_registry():
    r = _run("import neurosim as ns; print(ns.get_model('izhikevich').name, "
             "len(ns.model_names()) >= 4)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["izhikevich", "True"]


def test_top_level_models_import_fails_loudly():
    r = _run("import models", cwd=ROOT)
    assert r.returncode != 0 and "neurosim.models" in r.stderr


def test_wheel_ships_models_under_neurosim(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(r.stderr[-2000:])
    (wheel,) = tmp_path.glob("neurosim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "neurosim/models/neurons/lif.py" in names
    assert "neurosim/kernels/engine.py" in names
    assert "neurosim/torch/layers.py" in names and "neurosim/cli.py" in names
    assert not any(n.startswith(("models/", "tests/", "experiments/")) for n in names)

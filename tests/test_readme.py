"""The README's tour runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    scope: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    sim = scope["sim"]
    assert sim.t == 1500.0
    assert scope["t"].size > 100 and scope["v"].shape == (1000, 3)


def test_readme_recording_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    scope: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    code = next(b for b in blocks if "sim.record(" in b)
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["res"].complete and scope["res"].t_flushed == 11_500.0
    assert scope["t"].size == scope["v"].shape[0] and scope["i"].size > 0


def test_readme_torch_and_nir_example_runs():
    pytest.importorskip("torch")
    pytest.importorskip("nir")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "SpikingMLP" in b)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert tuple(scope["out"].spikes.shape) == (25, 8, 10)
    assert scope["sim"].t == 27.0 and scope["back"].network is not None

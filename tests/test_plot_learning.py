"""Learning figures: Hebbian receptive fields and accuracy against depth."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import neurosim as ns
from neurosim import plot

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(path, min_bytes=5_000):
    """Check ``path`` is a PNG of non-trivial size and content; return (width, height)."""
    import matplotlib.image as mpimg

    raw = path.read_bytes()
    assert raw[:8] == PNG_MAGIC and raw[12:16] == b"IHDR"
    width, height = struct.unpack(">II", raw[16:24])
    assert len(raw) > min_bytes
    px = mpimg.imread(path)
    assert px.shape[:2] == (height, width)
    assert px[..., :3].std() > 0.05  # not a blank canvas
    return width, height


# -- receptive fields ------------------------------------------------------------------------

def test_receptive_fields_dense_grey(tmp_path):
    w = np.random.default_rng(0).normal(size=(100, 784))
    out = plot.plot_receptive_fields(w, tmp_path / "sub" / "rf.png", image_shape=(28, 28), n=20,
                                     cols=4, title="SoftHebb layer 1")
    assert out == tmp_path / "sub" / "rf.png"
    width, height = _png(out)
    assert height > width  # 5 rows of 4
    width, height = _png(plot.plot_receptive_fields(w, tmp_path / "wide.png", (1, 28, 28), 20,
                                                    cols=10))
    assert width > 2 * height  # 2 rows of 10


def test_receptive_fields_conv_rgb_and_inferred_shapes(tmp_path):
    rng = np.random.default_rng(1)
    _png(plot.plot_receptive_fields(rng.normal(size=(96, 3, 5, 5)), tmp_path / "conv.png"))
    _png(plot.plot_receptive_fields(rng.normal(size=(10, 1, 5, 5)), tmp_path / "conv1.png"))
    _png(plot.plot_receptive_fields(rng.random((12, 3 * 32 * 32)), tmp_path / "rgb.png",
                                    order="norm"))  # (3, 32, 32) inferred
    _png(plot.plot_receptive_fields(rng.random((7, 64)), tmp_path / "d8.png"))  # (8, 8)


def test_rf_tiles_layout_and_scaling():
    """Dense rows reshape C order; RGB tiles are HWC, min-max scaled per filter."""
    w = np.zeros((3, 2 * 3))
    w[1, 4] = -2.0  # row 1, pixel (1, 1) of a (2, 3) image
    w[1, 0] = 1.0
    w[2, 5] = 4.0
    idx, tiles, signed = plot._rf_tiles(w, (2, 3), n=10)
    assert idx.tolist() == [0, 1, 2] and tiles.shape == (3, 2, 3) and signed
    assert tiles[1, 1, 1] == -1.0 and tiles[1, 0, 0] == 0.5 and tiles[2, 1, 2] == 1.0
    assert np.all(tiles[0] == 0)  # a zero filter stays 0 (no division by zero)
    idx, _, _ = plot._rf_tiles(w, (1, 2, 3), n=2, order="norm")
    assert idx.tolist() == [2, 1]  # largest L2 norm first
    v = np.zeros((4, 6))
    v[:, 0] = [3.0, 1.1, 0.2, 25.0]  # norms; SoftHebb's learned neurons approach 1
    idx, _, _ = plot._rf_tiles(v, (2, 3), n=3, order="converged")
    assert idx.tolist() == [1, 2, 0]
    conv = np.zeros((2, 3, 4, 5))
    conv[0, 2, 3, 1] = 5.0  # blue at row 3, col 1
    conv[0, 0, 0, 0] = -5.0
    conv[1] = 7.0  # constant filter
    idx, rgb, signed = plot._rf_tiles(conv)
    assert rgb.shape == (2, 4, 5, 3) and not signed
    assert rgb[0, 3, 1].tolist() == [0.5, 0.5, 1.0] and rgb[0, 0, 0].tolist() == [0.0, 0.5, 0.5]
    assert rgb[0].min() == 0.0 and rgb[0].max() == 1.0 and np.all(rgb[1] == 0.5)
    _, grey, signed = plot._rf_tiles(np.abs(conv[:, :1]) + 1.0)
    assert not signed and grey.max() == 1.0


def test_receptive_fields_errors(tmp_path):
    f = tmp_path / "x.png"
    cases = [
        (dict(weights=np.zeros((4, 28, 28))), "parameter 'weights'"),
        (dict(weights=np.zeros(784)), "parameter 'weights'"),
        (dict(weights=np.zeros((4, 784)), image_shape=(28, 27)), "parameter 'image_shape'"),
        (dict(weights=np.zeros((4, 784)), image_shape=(2, 28, 14)), "parameter 'weights'"),
        (dict(weights=np.zeros((4, 100 + 1))), "parameter 'image_shape' = None"),
        (dict(weights=np.zeros((4, 784)), image_shape=28), "parameter 'image_shape'"),
        (dict(weights=np.zeros((4, 3, 5, 5)), image_shape=(5, 4)), "parameter 'image_shape'"),
        (dict(weights=np.zeros((4, 8, 5, 5))), "8 channels"),
        (dict(weights=np.zeros((0, 784))), "no neurons"),
        (dict(weights=np.full((2, 4), np.nan)), "finite"),
        (dict(weights=np.zeros((4, 784)), n=0), "parameter 'n'"),
        (dict(weights=np.zeros((4, 784)), cols=0), "parameter 'cols'"),
        (dict(weights=np.zeros((4, 784)), order="random"), "parameter 'order'"),
    ]
    for kw, what in cases:
        with pytest.raises(ns.ConfigError, match=what) as e:
            plot.plot_receptive_fields(out=f, **kw)
        assert "plot_receptive_fields" in str(e.value)
    assert not f.exists()


# -- accuracy against depth ------------------------------------------------------------------

ROWS = [
    {"method": "SoftHebb", "layers": 1, "accuracy": 96.0, "std": 0.2},
    {"method": "SoftHebb", "layers": 3, "accuracy": 98.6, "std": 0.1},
    {"method": "SoftHebb", "layers": 2, "accuracy": 97.9, "std": 0.15},
    {"method": "Hard WTA", "layers": 1, "accuracy": 95.0},
    {"method": "Hard WTA", "layers": 2, "accuracy": 93.1},
    {"method": "Hard WTA", "layers": 3, "accuracy": 90.4},
    {"method": "Random", "layers": 1, "accuracy": 91.0, "std": 0.5},
    {"method": "Random", "layers": 3, "accuracy": 85.0},
    {"method": "Backprop", "layers": 3, "accuracy": 99.3},
]


def test_accuracy_vs_depth_png(tmp_path):
    out = plot.plot_accuracy_vs_depth(ROWS, tmp_path / "depth.png", title="MNIST")
    assert out == tmp_path / "depth.png"
    _png(out, min_bytes=10_000)
    _png(plot.plot_accuracy_vs_depth(ROWS[-1:], tmp_path / "one.png"))  # a single point


def test_depth_rows_grouping():
    series = plot._depth_rows(ROWS)
    assert list(series) == ["SoftHebb", "Hard WTA", "Random", "Backprop"]  # first appearance
    assert series["SoftHebb"] == [(1, 96.0, 0.2), (2, 97.9, 0.15), (3, 98.6, 0.1)]  # by depth
    assert series["Random"] == [(1, 91.0, 0.5), (3, 85.0, None)]


@pytest.mark.parametrize("rows, what", [
    ([], "parameter 'rows'"),
    ({"method": "x", "layers": 1, "accuracy": 1.0}, "parameter 'rows'"),
    ([{"method": "x", "layers": 1}], r"parameter 'rows\[0\]'.*has no 'accuracy'"),
    ([ROWS[0], 3], r"parameter 'rows\[1\]'"),
    ([{"method": "", "layers": 1, "accuracy": 5.0}], r"rows\[0\]\['method'\]"),
    ([{"method": "a", "layers": 1.5, "accuracy": 5.0}], r"rows\[0\]\['layers'\]"),
    ([{"method": "a", "layers": -1, "accuracy": 5.0}], r"rows\[0\]\['layers'\]"),
    ([{"method": "a", "layers": 1, "accuracy": 101.0}], r"rows\[0\]\['accuracy'\]"),
    ([{"method": "a", "layers": 1, "accuracy": "high"}], r"rows\[0\]\['accuracy'\]"),
    ([{"method": "a", "layers": 1, "accuracy": 50.0, "std": -1}], r"rows\[0\]\['std'\]"),
    ([ROWS[0], dict(ROWS[0])], r"rows\[1\]'.*repeats method 'SoftHebb' at 1 layers"),
])
def test_accuracy_vs_depth_errors(tmp_path, rows, what):
    with pytest.raises(ns.ConfigError, match=what) as e:
        plot.plot_accuracy_vs_depth(rows, tmp_path / "bad.png")
    assert "plot_accuracy_vs_depth" in str(e.value)
    assert not (tmp_path / "bad.png").exists()

"""The loss gallery (docgen/gallery.py): every loss has a picture, the plotted curves are
kloss's own values, and the plotted derivative agrees with an independent NumPy reference."""

import keras
import numpy as np
import pytest

import kloss
from docgen import gallery
from kloss.testing.autodiff import to_numpy
from kloss.testing.registry import REGISTRY

BACKEND = keras.backend.backend()
SPECS = gallery.specs()
ENTRIES = {entry.cls: entry for entry in REGISTRY}


def test_every_loss_class_has_a_spec():
    classes = gallery.loss_classes()
    names = {cls.__name__ for cls in classes}
    # The scan finds the package's losses (not just an empty list), KlossLoss excluded.
    assert {"Huber", "TripletHard", "CTC", "Combined"} <= names
    assert "KlossLoss" not in names
    missing = sorted(names - set(SPECS))
    assert not missing, f"losses without a gallery spec: {missing}"
    for cls in classes:
        assert SPECS[cls.__name__].cls is cls
    assert set(SPECS) <= names, "a spec for something that is not a kloss loss"


def _direct(spec, t, dtype="float32"):
    """The loss called the ordinary way (default reduction) on the inputs at `t`."""
    y_true, y_pred = spec.make(float(t))
    y_true = np.asarray(y_true)
    if not np.issubdtype(y_true.dtype, np.integer):
        y_true = y_true.astype(dtype)
    return float(to_numpy(spec.loss(dtype=dtype)(y_true, np.asarray(y_pred).astype(dtype))))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_plotted_values_are_the_loss(name):
    """The curve (one batched call for per-sample losses) equals the loss called directly on
    single points of the sweep, and is finite on the whole grid."""
    spec = SPECS[name]
    grid = spec.grid
    idx = [7, 50, 93]
    curve = gallery.values(spec, grid)
    assert curve.shape == grid.shape
    assert np.isfinite(curve).all()
    direct = [_direct(spec, grid[i]) for i in idx]
    np.testing.assert_allclose(curve[idx], direct, rtol=1e-5, atol=1e-6)


def _reference_value(spec, t):
    """The float64 NumPy reference's value of the loss (default reduction) at `t`."""
    entry = ENTRIES[spec.cls]
    y_true, y_pred = spec.make(float(t))
    per_sample = np.asarray(entry.reference(y_true, y_pred, **spec.kwargs), np.float64)
    return float(entry.default_reduction(np.asarray(y_true), per_sample, spec.kwargs))


def _reference_derivative(spec, ts):
    h = 1e-5 * (spec.hi - spec.lo)
    return np.array(
        [(_reference_value(spec, t + h) - _reference_value(spec, t - h)) / (2 * h) for t in ts]
    )


# Sweep points away from every kink (margins, mining switches, sort-order changes):
# per-sample and in-batch (looped) losses, several families and input layouts.
DERIVATIVE_POINTS = {
    "Huber": [-2.2, -0.43, 0.61, 1.9],
    "CategoricalCrossentropy": [-4.1, 0.3, 2.7],
    "SparseCategoricalFocalCrossentropy": [-3.3, 0.7, 4.2],
    "KLDivergence": [0.13, 0.5, 0.81],
    "Triplet": [0.3, 1.1, 1.7],
    "TripletHard": [0.4, 1.3, 2.8],
    "NTXent": [0.2, 1.4, 2.9],
    "Dice": [0.1, 0.55, 0.93],
    "Lovasz": [-3.1, 0.4, 2.6],
    "SSIM": [-0.31, 0.12, 0.37],
    "CTC": [-1.3, 0.9, 4.4],
    "Sinkhorn": [1.2, 4.7],
    "GIoU": [-1.7, -0.4, 0.6, 1.8],
}


def test_derivative_points_are_specs_with_references():
    for name in DERIVATIVE_POINTS:
        assert SPECS[name].cls in ENTRIES


@pytest.mark.parametrize("name", sorted(DERIVATIVE_POINTS))
def test_autodiff_derivative_matches_reference(name, autodiff):
    """kloss's autodiff gradient along the sweep (the dashed curve) against a float64
    central difference of the NumPy reference."""
    spec = SPECS[name]
    ts = np.array(DERIVATIVE_POINTS[name])
    got = gallery.autodiff_derivative(spec, ts)
    want = _reference_derivative(spec, ts)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)
    # The curve is not flat there: the comparison says something.
    assert np.max(np.abs(want)) > 1e-2


@pytest.mark.skipif(
    BACKEND != "numpy",
    reason="the gallery uses finite differences only on the numpy backend (no autodiff); "
    "elsewhere it plots the autodiff gradient, tested above",
)
@pytest.mark.parametrize("name", sorted(DERIVATIVE_POINTS))
def test_finite_difference_derivative_matches_reference(name):
    spec = SPECS[name]
    ts = np.array(DERIVATIVE_POINTS[name])
    got = gallery.finite_difference(spec, ts)
    want = _reference_derivative(spec, ts)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * scale)


def test_write_three_losses(tmp_path):
    names = ["TripletHard", "Huber", "Dice"]
    paths = gallery.write(tmp_path, names=names)
    md = tmp_path / "gallery.md"
    assert md in paths
    pngs = {p.name for p in paths if p.suffix == ".png"}
    assert pngs == {f"{n}.png" for n in names}
    for n in names:
        data = (tmp_path / "gallery" / f"{n}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 2000
    text = md.read_text()
    for n in names:
        assert f"](gallery/{n}.png)" in text
    assert "MeanSquaredError" not in text  # only the requested losses
    # Grouped by family in the package's order, each with its API page.
    order = [text.index(f"## {f}\n") for f in ("regression", "mining", "segmentation")]
    assert order == sorted(order)
    for family in ("regression", "mining", "segmentation"):
        assert f"../api/{family}.md" in text
    assert f"**{BACKEND}** backend" in text
    if BACKEND == "numpy":
        assert "finite differences" in text
    else:
        assert f"gradient by {BACKEND} autodiff" in text


def test_write_refuses_a_loss_without_spec(tmp_path, monkeypatch):
    """A new loss class without a spec fails the docs build instead of missing its picture."""
    real = gallery.loss_classes

    class Unplotted(kloss.MeanSquaredError):
        pass

    monkeypatch.setattr(gallery, "loss_classes", lambda: real() + [Unplotted])
    with pytest.raises(RuntimeError, match="Unplotted"):
        gallery.write(tmp_path, names=["Huber"])

"""The migration tables (docgen/migration.py) are data: every row whose source library is
installed is evaluated here, both sides on the same seeded inputs, and its stated relation
asserted; rows checked elsewhere must name tests that exist."""

import importlib.util
import math
import pathlib
import re

import keras
import numpy as np
import pytest

import kloss
from docgen import migration
from tests.helpers import backend, to_numpy

ROOT = pathlib.Path(__file__).resolve().parents[1]
F32 = dict(rtol=1e-5, atol=1e-6)

CHECKED = [r for r in migration.ROWS if r.inputs]
DIFFERENCES = [d for d in migration.KERAS_DIFFERENCES if d.inputs]


def _value(x):
    """Any library's tensor (or a number) as a float64 NumPy array."""
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu().double().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):  # TensorFlow
        x = x.numpy()
    elif type(x).__module__.startswith(("jax", "jaxlib")):
        x = np.asarray(x)
    elif not isinstance(x, (np.ndarray, bool, int, float, np.generic)):
        x = to_numpy(keras.ops.cast(x, "float32"))
    return np.asarray(x, np.float64)


def _skip_unavailable(row):
    for module in row.requires:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    reason = row.skip_backends.get(backend())
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("row", CHECKED, ids=[r.id for r in CHECKED])
def test_row(row):
    _skip_unavailable(row)
    source_ns, kloss_ns = migration.namespaces(row)
    source = _value(eval(row.source, source_ns))
    got = _value(eval(row.kloss, kloss_ns))
    expected = eval(row.relation, {"math": math, **kloss_ns, "source": source})
    tol = dict(row.tol or F32)
    tol.pop("reason", None)
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    np.testing.assert_allclose(got, expected, **tol)
    # Not vacuous: the compared values are not all (near) zero.
    assert np.max(np.abs(got)) > 1e-3, got


def test_relations_are_not_identities():
    """A relation that dropped `source` would pass for any kloss value."""
    for row in CHECKED:
        assert "source" in row.relation, row.id


@pytest.mark.parametrize("diff", DIFFERENCES, ids=[d.id for d in DIFFERENCES])
def test_keras_difference(diff):
    source_ns, kloss_ns = migration.namespaces(diff)
    value = _value(eval(diff.kloss, kloss_ns))
    assert eval(diff.kloss_expect, {"np": np, "value": value}), value
    if backend() not in diff.keras_backends:
        pytest.skip(f"the Keras behaviour is stated for {diff.keras_backends} only")
    with np.errstate(all="ignore"):
        value = _value(eval(diff.keras, source_ns))
    assert eval(diff.keras_expect, {"np": np, "value": value}), value


def _pinned():
    for item in [*migration.ROWS, *migration.KERAS_DIFFERENCES]:
        for ref in item.pinned:
            yield item.id, ref


@pytest.mark.parametrize("owner,ref", list(_pinned()), ids=[r for _, r in _pinned()])
def test_pinned_tests_exist(owner, ref):
    path, name = ref.split("::")
    text = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(rf"^def {re.escape(name)}\(", text, re.M), f"{owner}: {ref} not found"


def test_rows_without_an_installable_library_point_to_tests():
    for row in migration.ROWS:
        if row.kloss == "no counterpart":
            continue
        assert row.inputs or row.pinned, row.id
        if row.section == "tfa" or row.source.startswith(("tfgan.", "torchvision.", "1 - torchv")):
            assert not row.inputs and row.pinned, row.id


def test_ids_are_unique_and_sections_known():
    ids = [r.id for r in migration.ROWS] + [d.id for d in migration.KERAS_DIFFERENCES]
    assert len(ids) == len(set(ids))
    assert {r.section for r in migration.ROWS} <= set(migration.SECTIONS)


def test_every_kloss_name_exists():
    for row in [*migration.ROWS, *migration.KERAS_DIFFERENCES]:
        text = row.kloss if isinstance(row, migration.Row) else row.kloss_text + row.kloss
        for name in re.findall(r"kloss\.(\w+)", text):
            assert hasattr(kloss, name), (row.id, name)


def test_every_loss_with_a_checked_counterpart_is_covered():
    """Each kloss class named in a row's kloss call appears; and these classes, which have
    counterparts in the installed libraries, each have at least one checked row."""
    checked = set()
    for row in CHECKED:
        checked |= set(re.findall(r"kloss\.([A-Z]\w+)", row.kloss))
    expected = {
        "MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh", "Poisson",
        "CosineProximity", "BinaryCrossentropy", "BinaryFocalCrossentropy",
        "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
        "SparseCategoricalCrossentropy", "KLDivergence", "Hinge", "SquaredHinge",
        "CategoricalHinge", "Triplet", "MarginRanking", "TripletHard", "LiftedStructure",
        "MultiSimilarity", "NPairs", "NTXent", "InfoNCE", "SupervisedContrastive", "SigLIP",
        "PixelwiseCrossentropy", "Dice", "Jaccard", "Tversky", "FocalTversky",
        "GeneralizedDice", "CTC", "MinimaxDiscriminator", "LeastSquaresDiscriminator",
        "HingeDiscriminator", "HingeGenerator", "SSIM", "MultiScaleSSIM", "TotalVariation",
    }  # fmt: skip
    assert expected <= checked, expected - checked


def test_write_renders_every_row(tmp_path):
    (path,) = migration.write(tmp_path / "generated")
    assert path.name == "migration.md"
    text = path.read_text(encoding="utf-8")
    for row in migration.ROWS:
        assert row.source.replace("|", "\\|") in text, row.id
        if row.inputs:
            assert f"test_row[{row.id}]" in text
    for title, _ in migration.SECTIONS.values():
        assert f"## {title}" in text
    # Every table row has as many cells as its header.
    width = None
    for line in text.splitlines():
        cells = len(re.split(r"(?<!\\)\|", line)) - 2 if line.startswith("|") else None
        if cells is None:
            width = None
        elif width is None:
            width = cells
        else:
            assert cells == width, line

"""The cross-backend comparison itself: it must flag disagreements and missing cases."""

import numpy as np

from kloss.testing.compare import compare, main


def _write(path, name, **arrays):
    np.savez(path / f"{name}.npz", **arrays)


def test_agreeing_backends_pass(tmp_path):
    _write(tmp_path, "jax", a=np.array([1.0, 2.0]), b=np.array(3.0))
    _write(tmp_path, "torch", a=np.array([1.0, 2.0 + 1e-7]), b=np.array(3.0))
    assert main([str(tmp_path), "--require", "jax,torch"]) == 0


def test_disagreement_and_missing_cases_are_listed(tmp_path):
    _write(tmp_path, "jax", a=np.array([1.0, 2.0]), b=np.array(3.0))
    _write(tmp_path, "torch", a=np.array([1.0, 2.01]))
    _, _, problems = compare(tmp_path, require=("jax", "torch", "tensorflow"))
    text = "\n".join(problems)
    assert "missing results for backend 'tensorflow'" in text
    assert "jax vs torch: a: max abs diff" in text
    assert "jax vs torch: b present in only one" in text
    assert main([str(tmp_path)]) == 1


def test_nan_is_a_disagreement(tmp_path):
    _write(tmp_path, "jax", a=np.array([np.nan]))
    _write(tmp_path, "torch", a=np.array([np.nan]))
    assert main([str(tmp_path)]) == 1


def test_numpy_leg_lacks_gradients_only(tmp_path):
    _write(tmp_path, "jax", **{"x/per_sample": np.ones(2), "x/grad": np.ones(2)})
    _write(tmp_path, "numpy", **{"x/per_sample": np.ones(2)})
    assert main([str(tmp_path)]) == 0

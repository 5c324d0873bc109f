"""Computes the fixed, seeded cross-backend cases in this backend's process and saves them.

`make test` runs this in each backend's pytest process; `tests/compare_backends.py` then
compares every pair of backends and fails listing each disagreement.
"""

import os
import pathlib

import keras
import numpy as np

from tests.helpers import to_numpy, value_and_grad
from tests.registry import cases


def compute_cases():
    """{case_key: float64 array} for every loss, option set and input kind."""
    out = {}
    autodiff = keras.backend.backend() != "numpy"
    for entry, option, cid in cases():
        inputs = [("random", *entry.make_inputs(np.random.default_rng(11), (4, 6), option))]
        inputs += [("random3d", *entry.make_inputs(np.random.default_rng(12), (2, 3, 5), option))]
        inputs += [(f"edge_{n}", t, p) for n, t, p in entry.edges(option)]
        for kind, y_true, y_pred in inputs:
            key = f"{cid}/{kind}"
            out[f"{key}/per_sample"] = to_numpy(
                entry.cls(**option, reduction="none")(y_true, y_pred)
            )
            w = np.linspace(0.0, 2.0, y_pred.shape[0]).astype(np.float32)
            loss = entry.cls(**option, reduction="mean_with_sample_weight")
            out[f"{key}/weighted"] = to_numpy(loss(y_true, y_pred, sample_weight=w))
            if autodiff:
                v, g = value_and_grad(lambda p: entry.cls(**option)(y_true, p), y_pred)
                out[f"{key}/value"] = v
                out[f"{key}/grad"] = g
    return out


def test_dump_cross_backend_cases(tmp_path):
    results = compute_cases()
    assert results and all(np.asarray(v).size for v in results.values())
    target = pathlib.Path(os.environ.get("KLOSS_CASES_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    np.savez(target / f"{keras.backend.backend()}.npz", **results)

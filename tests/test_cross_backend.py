"""Computes the fixed, seeded cross-backend cases in this backend's process and saves them.

`make test` runs this in each backend's pytest process; `kloss.testing.compare` then
compares every pair of backends and fails listing each disagreement.
"""

import os
import pathlib

import keras
import numpy as np

from kloss.testing.cases import compute_cases


def test_dump_cross_backend_cases(tmp_path):
    results = compute_cases()
    assert results and all(np.asarray(v).size for v in results.values())
    target = pathlib.Path(os.environ.get("KLOSS_CASES_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    np.savez(target / f"{keras.backend.backend()}.npz", **results)

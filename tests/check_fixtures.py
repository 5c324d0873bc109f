"""Deliberately broken losses for `tests/test_check.py`: `kloss check` must report each.

Loaded by the check's workers through `KLOSS_CHECK_REGISTRY=tests.check_fixtures:REGISTRY`.
"""

import keras
import numpy as np
from keras import ops

from kloss import KlossLoss
from kloss.testing.entry import Entry
from kloss.testing.references import regression as ref_regression


class Agrees(KlossLoss):
    """A correct loss: mean squared error."""

    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1)


class DriftsOnTorch(KlossLoss):
    """Mean squared error, 1% larger on the torch backend only."""

    def call(self, y_true, y_pred):
        scale = 1.01 if keras.backend.backend() == "torch" else 1.0
        return scale * ops.mean(ops.square(y_pred - y_true), axis=-1)


class NanAtZero(KlossLoss):
    """Mean of log|y_pred - y_true|: -inf at a zero error (every backend agrees on it)."""

    def call(self, y_true, y_pred):
        return ops.mean(ops.log(ops.abs(y_pred - y_true)), axis=-1)


class RaisesOnNumpy(KlossLoss):
    def call(self, y_true, y_pred):
        if keras.backend.backend() == "numpy":
            raise RuntimeError("no numpy support in this fixture")
        return ops.mean(ops.square(y_pred - y_true), axis=-1)


def _edges(option):
    z = np.zeros((2, 3), np.float32)
    return [("zero_error", z, z), ("unit_error", z, z + 1.0)]


REGISTRY = [
    Entry(cls, None, ref_regression.mean_squared_error, edges=_edges)
    for cls in (Agrees, DriftsOnTorch, NanAtZero, RaisesOnNumpy)
]

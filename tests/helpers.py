"""Backend helpers for the tests: conversion, autodiff and masks.

Tests may use each backend's own autodiff and native ops; the library may not.
"""

import keras
import numpy as np

from kloss.testing.autodiff import backend, to_numpy, value_and_grad  # noqa: F401

# float32 rtol 1e-5 (atol 1e-6); float16 1e-2; bfloat16 2e-2 (STYLE.md).
TOL = {
    "float32": dict(rtol=1e-5, atol=1e-6),
    "float16": dict(rtol=1e-2, atol=1e-3),
    "bfloat16": dict(rtol=2e-2, atol=1e-2),
}


def masked(x, keep):
    """`x` with a Keras mask (`keep`, boolean over all but the last axis), set the public way:
    rows that are dropped are zeroed and a `keras.layers.Masking` layer marks them."""
    x = np.where(keep[..., None], x, 0.0).astype(x.dtype)
    out = keras.layers.Masking(mask_value=0.0)(keras.ops.convert_to_tensor(x))
    return out, x

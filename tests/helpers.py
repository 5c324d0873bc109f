"""Backend helpers for the tests: conversion, autodiff and masks.

Tests may use each backend's own autodiff and native ops; the library may not.
"""

import keras
import numpy as np

# float32 rtol 1e-5 (atol 1e-6); float16 1e-2; bfloat16 2e-2 (STYLE.md).
TOL = {
    "float32": dict(rtol=1e-5, atol=1e-6),
    "float16": dict(rtol=1e-2, atol=1e-3),
    "bfloat16": dict(rtol=2e-2, atol=1e-2),
}


def backend():
    return keras.backend.backend()


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x)).astype(np.float64)


def value_and_grad(f, y_pred):
    """(value, gradient) of the scalar `f(y_pred)` with respect to `y_pred`, by the backend's
    own autodiff. `y_pred` is a NumPy array; its dtype is kept."""
    name = backend()
    if name == "jax":
        import jax

        v, g = jax.value_and_grad(f)(keras.ops.convert_to_tensor(y_pred))
        return to_numpy(v), to_numpy(g)
    if name == "tensorflow":
        import tensorflow as tf

        p = tf.constant(y_pred)
        with tf.GradientTape() as tape:
            tape.watch(p)
            v = f(p)
        return to_numpy(v), to_numpy(tape.gradient(v, p))
    if name == "torch":
        import torch

        p = keras.ops.convert_to_tensor(y_pred).detach().requires_grad_(True)
        v = f(p)
        (g,) = torch.autograd.grad(v, p)
        return to_numpy(v.detach()), to_numpy(g)
    raise RuntimeError(f"no autodiff on the {name} backend")


def masked(x, keep):
    """`x` with a Keras mask (`keep`, boolean over all but the last axis), set the public way:
    rows that are dropped are zeroed and a `keras.layers.Masking` layer marks them."""
    x = np.where(keep[..., None], x, 0.0).astype(x.dtype)
    out = keras.layers.Masking(mask_value=0.0)(keras.ops.convert_to_tensor(x))
    return out, x

"""Conversion and autodiff for the test harness (`kloss check` and kloss's own tests).

This is test tooling: it calls each backend's own autodiff (`jax.value_and_grad`,
`tf.GradientTape`, `torch.autograd`), which the losses themselves never do (they use
`keras.ops` only). Keras 3 has no public backend-agnostic gradient API.
"""

import keras
import numpy as np


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

"""Shared machinery of the ranking and metric-learning losses: distances between embeddings,
label masks and masked reductions. `keras.ops` only; everything stays inside `jax.jit` and
`tf.function` with an unknown batch size (no Python branch on tensor values).
"""

import keras
from keras import ops

from kloss._internal import check_option, compute_dtype, float_dtype, static_shape

DISTANCES = ("squared_euclidean", "euclidean", "cosine")


def check_distance(owner, value):
    return check_option(owner, "distance", value, DISTANCES)


def safe_sqrt(x):
    """sqrt(x) for x >= 0 with gradient 0 (not inf) at x == 0: identical embeddings give
    finite gradients."""
    positive = x > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, x, ops.ones_like(x))), 0.0 * x)


def nonzero(x):
    """`x` with 1 where it is 0 (a select: `ops.maximum` returns float32 for float64 inputs
    on torch in Keras 3.15)."""
    return ops.where(x > 0, x, ops.ones_like(x))


def l2_normalize(x, axis=-1):
    """Unit vectors along `axis`; a zero vector stays zero, with a finite gradient.

    Each vector is first scaled by 1 / max|x| (no gradient flows through the scale: the
    direction does not depend on it), so vectors of norm 1e20 or 1e-20 are exact where the
    squared norm would overflow or underflow. A zero vector is divided by 1 (gradient 1,
    where an `eps` of 1e-12 gives 1e12 and overflows float16).
    """
    m = ops.stop_gradient(ops.max(ops.abs(x), axis=axis, keepdims=True))
    x = x * (1.0 / nonzero(m))
    return x / ops.sqrt(nonzero(ops.sum(ops.square(x), axis=axis, keepdims=True)))


def gram(a, b):
    """(B, B) dot products of the rows of `a` and `b`; `einsum`, as `ops.matmul` returns
    float32 for float64 inputs on torch in Keras 3.15."""
    return ops.einsum("id,jd->ij", a, b)


def vector_distance(a, b, distance, axis=-1):
    """Distance between matching rows of `a` and `b` (computed from the difference, exact
    for nearby points)."""
    if distance == "cosine":
        return 1.0 - ops.sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis=axis)
    squared = ops.sum(ops.square(a - b), axis=axis)
    return squared if distance == "squared_euclidean" else safe_sqrt(squared)


def pairwise_distance(x, distance):
    """(B, B) distances between the rows of `x` (B, D), exactly 0 on the diagonal.

    Squared Euclidean from the Gram matrix, `|a|^2 - 2 a.b + |b|^2`, clamped at 0 (as
    tensorflow-addons and pytorch-metric-learning); Euclidean is its guarded square root;
    cosine is `1 - cos`.
    """
    if distance == "cosine":
        u = l2_normalize(x)
        d = 1.0 - gram(u, u)
    else:
        sq = ops.sum(ops.square(x), axis=1)
        d = ops.expand_dims(sq, 1) - 2.0 * gram(x, x) + ops.expand_dims(sq, 0)
        d = ops.where(d > 0, d, ops.zeros_like(d))
    d = ops.where(eye_mask(x), ops.zeros_like(d), d)
    if distance == "euclidean":
        d = safe_sqrt(d)
    return d


def eye_mask(x):
    """(B, B) boolean identity for the rows of `x`, with a dynamic batch size."""
    idx = ops.arange(ops.shape(x)[0])
    return ops.equal(ops.expand_dims(idx, 1), ops.expand_dims(idx, 0))


def label_masks(labels, x):
    """(positives, negatives): (B, B) booleans, same label and not the same row, and
    different label."""
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    return ops.logical_and(same, ops.logical_not(eye_mask(x))), ops.logical_not(same)


def labels_and_embeddings(owner, y_true, y_pred):
    """(labels (B,), embeddings (B, D) in the compute dtype, output dtype), checked."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    x = ops.cast(y_pred, compute_dtype(out_dtype))
    labels = ops.convert_to_tensor(y_true)
    ls, ps = static_shape(labels), static_shape(x)
    if len(ps) != 2:
        raise ValueError(
            f"{owner}: `y_pred` must be 2-D embeddings (B, D). Received: "
            f"y_true.shape={ls}, y_pred.shape={ps}."
        )
    dtype = keras.backend.standardize_dtype(labels.dtype)
    if "int" not in dtype:
        raise TypeError(
            f"{owner}: `y_true` must hold integer class labels. Received: y_true.dtype={dtype}. "
            "Cast the labels, e.g. `y.astype('int32')`."
        )
    if len(ls) == 2 and ls[1] == 1:
        labels = ops.squeeze(labels, 1)  # (B, 1) labels from a data pipeline
        ls = ls[:1]
    if len(ls) != 1 or (ls[0] is not None and ps[0] is not None and ls[0] != ps[0]):
        raise ValueError(
            f"{owner}: `y_true` must be 1-D integer labels, one per row of `y_pred`. "
            f"Received: y_true.shape={static_shape(y_true)}, y_pred.shape={ps}."
        )
    return labels, x, out_dtype

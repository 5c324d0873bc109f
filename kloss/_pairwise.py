"""Shared machinery of the ranking and metric-learning losses: distances between embeddings,
label masks and masked reductions. `keras.ops` only; everything stays inside `jax.jit` and
`tf.function` with an unknown batch size (no Python branch on tensor values).
"""

from keras import ops

from kloss._internal import check_option

DISTANCES = ("squared_euclidean", "euclidean", "cosine")


def check_distance(owner, value):
    return check_option(owner, "distance", value, DISTANCES)


def safe_sqrt(x):
    """sqrt(x) for x >= 0 with gradient 0 (not inf) at x == 0: identical embeddings give
    finite gradients."""
    positive = x > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, x, ops.ones_like(x))), 0.0 * x)


def l2_normalize(x, axis=-1, eps=1e-12):
    """x / max(||x||, eps): a zero vector stays zero, with a finite gradient."""
    norm = safe_sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x / ops.maximum(norm, eps)


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
        d = 1.0 - ops.matmul(u, ops.transpose(u))
    else:
        sq = ops.sum(ops.square(x), axis=1)
        gram = ops.matmul(x, ops.transpose(x))
        d = ops.expand_dims(sq, 1) - 2.0 * gram + ops.expand_dims(sq, 0)
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


def masked_max(x, mask, axis, empty=0.0):
    """max of `x` over `mask` along `axis`; `empty` where the mask selects nothing."""
    low = ops.min(x, axis=axis, keepdims=True)
    out = ops.max(ops.where(mask, x, low), axis=axis)
    return ops.where(ops.any(mask, axis=axis), out, empty + 0.0 * out)


def masked_min(x, mask, axis, empty=0.0):
    """min of `x` over `mask` along `axis`; `empty` where the mask selects nothing."""
    high = ops.max(x, axis=axis, keepdims=True)
    out = ops.min(ops.where(mask, x, high), axis=axis)
    return ops.where(ops.any(mask, axis=axis), out, empty + 0.0 * out)

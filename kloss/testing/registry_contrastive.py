"""Registry entries of the losses in `kloss/contrastive.py` (see `tests/entry.py`)."""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import contrastive as ref


def _views(rng, shape, option):
    """Zero labels (ignored) and two correlated views (B, 2, D) of B random samples."""
    B, D = shape[0], shape[-1]
    u = rng.normal(size=(B, D))
    v = u + rng.normal(scale=0.7, size=(B, D))
    return np.zeros((B,), np.float32), np.stack([u, v], axis=1).astype(np.float32)


def supcon_labels(rng, B):
    """B labels where positives exist for B >= 2 and, for B >= 3, one singleton class."""
    if B < 3:
        return np.zeros((B,), np.int32)
    classes = max((B - 1) // 2, 1)
    labels = np.append(np.arange(B - 1) % classes, classes)
    return rng.permutation(labels).astype(np.int32)


def _labelled(rng, shape, option):
    B, D = shape[0], shape[-1]
    labels = supcon_labels(rng, B)
    centers = rng.normal(size=(B, D))
    z = centers[labels] + rng.normal(scale=0.8, size=(B, D))
    return labels, z.astype(np.float32)


# Embeddings of norm 1e-20 are tested in test_contrastive.py (scale invariance): their
# gradients are ~1e20, where the cross-backend atol of 1e-6 does not scale.


def edges_views(option):
    rng = np.random.default_rng(5)
    u = rng.normal(size=(4, 5)).astype(np.float32)
    w = rng.normal(size=(4, 5)).astype(np.float32)
    zeros4 = np.zeros((4,), np.float32)

    def pair(a, b):
        return np.stack([a, b], axis=1).astype(np.float32)

    one_zero = pair(u, w)
    one_zero[0, 1] = 0.0
    return [
        ("identical", zeros4, pair(np.tile(u[:1], (4, 1)), np.tile(u[:1], (4, 1)))),
        ("zero_vectors", zeros4, np.zeros((4, 2, 5), np.float32)),
        ("one_zero_view", zeros4, one_zero),
        ("aligned_views", zeros4, pair(u, u)),
        ("opposite_views", zeros4, pair(u, -u)),
        ("one_hot_views", zeros4, pair(np.eye(4, 5) * 3.0, np.eye(4, 5))),
        ("norm_1e20", zeros4, pair(u * 1e19, w * 1e19)),
        ("single_sample", zeros4[:1], pair(u[:1], w[:1])),
        ("two_samples", zeros4[:2], pair(u[:2], w[:2])),
    ]


def edges_labelled(option):
    rng = np.random.default_rng(6)
    z = rng.normal(size=(4, 5)).astype(np.float32)
    pairs = np.array([0, 0, 1, 1], np.int32)
    clustered = np.repeat(z[:2], 2, axis=0)  # positives identical, classes distinct
    return [
        ("identical", pairs, np.tile(z[:1], (4, 1))),
        ("zero_vectors", pairs, np.zeros((4, 5), np.float32)),
        ("one_zero_vector", pairs, np.concatenate([np.zeros((1, 5), np.float32), z[1:]])),
        ("no_positive_pair", np.arange(4, dtype=np.int32), z),
        ("singleton_classes", np.array([0, 0, 1, 2], np.int32), z),
        ("single_class", np.zeros((4,), np.int32), z),
        ("positives_identical", pairs, clustered),
        ("one_hot", pairs, np.eye(4, 5, dtype=np.float32) * 2.0),
        ("norm_1e20", pairs, z * 1e19),
        ("single_sample", pairs[:1], z[:1]),
        ("two_samples_one_class", pairs[:2], z[:2]),
    ]


def _two_views(option, dim):
    return (2, dim)


ENTRIES = [
    Entry(
        kloss.NTXent,
        kloss.ntxent,
        ref.ntxent,
        options=[{}, {"temperature": 0.5}, {"temperature": 0.05}],
        make_inputs=_views,
        edges=edges_views,
        elementwise=False,
        batch_defined=True,
        model_shape=_two_views,
    ),
    Entry(
        kloss.InfoNCE,
        kloss.info_nce,
        ref.info_nce,
        options=[{}, {"symmetric": True}, {"temperature": 0.05, "symmetric": True}],
        make_inputs=_views,
        edges=edges_views,
        elementwise=False,
        batch_defined=True,
        model_shape=_two_views,
    ),
    Entry(
        kloss.SupervisedContrastive,
        kloss.supervised_contrastive,
        ref.supervised_contrastive,
        options=[{}, {"temperature": 0.5}, {"temperature": 0.05}],
        make_inputs=_labelled,
        edges=edges_labelled,
        elementwise=False,
        batch_defined=True,
        int_labels=True,
    ),
    Entry(
        kloss.SigLIP,
        kloss.siglip,
        ref.siglip,
        options=[{}, {"temperature": 1.0, "bias": 0.0}, {"temperature": 5.0, "bias": -2.5}],
        make_inputs=_views,
        edges=edges_views,
        elementwise=False,
        batch_defined=True,
        model_shape=_two_views,
    ),
]

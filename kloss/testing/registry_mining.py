"""Registry entries of the losses in `kloss/mining.py` (see `tests/entry.py`)."""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import mining as ref


def _labelled_embeddings(rng, shape, option):
    """Integer labels with B // 2 classes (positives exist from B = 4; B = 2 is one class)
    and float32 embeddings (B, D)."""
    b, dim = shape[0], shape[-1]
    labels = rng.permutation(np.arange(b) % max(b // 2, 1)).astype(np.int32)
    return labels, rng.normal(size=(b, dim)).astype(np.float32)


def _edges(option):
    rng = np.random.default_rng(3)
    x4 = rng.normal(size=(4, 3)).astype(np.float32)
    # Exactly representable values: the Gram-matrix distances are exact in float32.
    same = np.tile(np.array([[0.5, -0.25, 1.0]], np.float32), (4, 1))
    # Axis-aligned vectors: exact distances of every kind (cosine ones are 0, 1 or 2), many
    # equal, so mined candidates tie exactly on every backend (the lowest index wins).
    axes = np.array(
        [[2, 0, 0], [-1, 0, 0], [0, 3, 0], [0, 0, 0.5], [0, -4, 0], [0, 0, -2]], np.float32
    )
    # Norm 1e3, integer coordinates (exact): far apart clusters (no violation), and hard
    # violations with no gradient component cancelling to ~0 in float32 (off-axis negative).
    far = np.array([[1000, 0], [1000, 2], [-1000, 0], [-1000, 3]], np.float32)
    far_hard = np.array([[1000, 0], [-1000, 0], [300, 400]], np.float32)
    edges = [
        ("identical_embeddings", np.array([0, 0, 1, 1], np.int32), same),
        ("zero_embeddings", np.array([0, 1, 0, 1], np.int32), np.zeros((4, 3), np.float32)),
        ("no_positive_pair", np.array([0, 1, 2, 3], np.int32), x4),
        ("one_class", np.array([5, 5, 5, 5], np.int32), x4),
        ("singleton_classes", np.array([0, 0, 1, 2], np.int32), x4),
        ("two_rows", np.array([1, 1], np.int32), x4[:2]),
        ("axis_ties", np.array([0, 0, 1, 1, 2, 2], np.int32), axes),
        ("far_clusters", np.array([0, 0, 1, 1], np.int32), far),
        ("far_hard_violation", np.array([0, 0, 1], np.int32), far_hard),
    ]
    if option.get("distance") != "cosine":
        # Integer points: exact (squared) Euclidean distances with many ties. Their cosine
        # ties are inexact, so each backend's rounding would mine a different candidate.
        grid = np.array([[1, 1], [2, 1], [1, 2], [2, 2], [3, 1], [1, 3]], np.float32)
        edges.append(("grid_ties", np.array([0, 0, 1, 1, 2, 2], np.int32), grid))
    return edges


def _entry(cls, fn, reference, options):
    return Entry(
        cls,
        fn,
        reference,
        options=options,
        make_inputs=_labelled_embeddings,
        edges=_edges,
        elementwise=False,
        int_labels=True,
        batch_defined=True,
    )


ENTRIES = [
    _entry(
        kloss.TripletSemiHard,
        kloss.triplet_semi_hard,
        ref.triplet_semi_hard,
        [{}, {"margin": 0.5, "distance": "euclidean"}, {"margin": 0.2, "distance": "cosine"}],
    ),
    _entry(
        kloss.TripletHard,
        kloss.triplet_hard,
        ref.triplet_hard,
        [
            {},
            {"soft": True},
            {"margin": 0.5, "distance": "euclidean"},
            {"margin": 0.3, "soft": False, "distance": "cosine"},
        ],
    ),
    _entry(
        kloss.LiftedStructure, kloss.lifted_structure, ref.lifted_structure, [{}, {"margin": 2.0}]
    ),
    _entry(
        kloss.MultiSimilarity,
        kloss.multi_similarity,
        ref.multi_similarity,
        [{}, {"alpha": 1.0, "beta": 10.0, "base": 0.3}],
    ),
    _entry(kloss.NPairs, kloss.npairs, ref.npairs, [{}]),
]

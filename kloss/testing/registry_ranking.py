"""Registry entries of the losses in `kloss/ranking.py` (see `tests/entry.py`).

- `Contrastive` is an elementwise loss of pair distances (like `MeanSquaredError`): it gets
  every check of the matrix, the 1-D/3-D reshapes, masks and per-element weights included.
- `Triplet` (`(B, 3, D)` triplets) and `MarginRanking` (`(B, 2)` score pairs) have a fixed
  input layout that the matrix's 1-D/3-D reshapes do not fit: they are `batch_defined`, so
  their inputs come from `make_inputs` reading only B and D, with `model_shape` giving the
  model's output layout.
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import ranking as ref

# --------------------------------------------------------------------------- contrastive


def _contrastive_pair(rng, shape, option):
    m = option.get("margin", 1.0)
    y_true = rng.integers(0, 2, size=shape).astype(np.float32)
    # Distances on both sides of the margin, so both hinge branches are exercised.
    y_pred = rng.uniform(0.0, 2.0 * m, size=shape).astype(np.float32)
    return y_true, y_pred


def _edges_contrastive(option):
    m = option.get("margin", 1.0)
    y = np.array([[1.0, 0.0, 1.0, 0.0]] * 2, np.float32)
    z = np.zeros_like(y)
    return [
        ("zero_distance", y, z),
        ("distance_equals_margin", y, z + np.float32(m)),
        ("large_distance", y, z + 1e3),
        ("soft_labels", np.array([[0.25, 0.5, 0.75, 1.0]] * 2, np.float32), z + 0.5),
    ]


# --------------------------------------------------------------------------- triplet


def _triplets(rng, shape, option):
    B, D = shape[0], shape[-1]
    y_pred = rng.normal(size=(B, 3, D)).astype(np.float32)
    return np.zeros((B,), np.float32), y_pred


def _kink_triplet(option, D=4):
    """(a, p, n) with d(a, p) - d(a, n) + margin == 0 exactly in float32 (and d(p, n) >=
    d(a, n), so swapping keeps the kink), or None where the margin does not allow it."""
    m = option.get("margin", 1.0)
    distance = option.get("distance", "squared_euclidean")
    a, p, n = np.zeros((3, D), np.float32)
    if distance == "euclidean":
        p[0], n[0] = 1.0, -(1.0 + m)  # d(a, p) = 1, d(a, n) = 1 + m
    elif distance == "squared_euclidean":
        k = 1.0 + m
        if k != int(k) or k > D:
            return None
        p[0] = 1.0
        n[: int(k)] = -1.0  # d(a, p) = 1, d(a, n) = k = 1 + m
    else:
        if m not in (0.0, 1.0, 2.0):
            return None
        a[0] = p[0] = 1.0  # d(a, p) = 0
        n[0], n[1] = {0.0: (1.0, 0.0), 1.0: (0.0, 1.0), 2.0: (-1.0, 0.0)}[m]  # d(a, n) = m
    return np.stack([a, p, n])


def _edges_triplet(option, D=4):
    rng = np.random.default_rng(3)
    v = rng.normal(size=(2, 1, D)).astype(np.float32)
    w = rng.normal(size=(2, 1, D)).astype(np.float32)
    y = np.zeros((2,), np.float32)
    edges = [
        ("identical", y, np.repeat(v, 3, axis=1)),
        ("all_zero", y, np.zeros((2, 3, D), np.float32)),
        ("anchor_equals_positive", y, np.concatenate([v, v, w], axis=1)),
        ("anchor_equals_negative", y, np.concatenate([v, w, v], axis=1)),
        ("positive_equals_negative", y, np.concatenate([v, w, w], axis=1)),
        ("large", y, 100.0 * rng.normal(size=(2, 3, D)).astype(np.float32)),
    ]
    kink = None if option.get("soft") else _kink_triplet(option, D)
    if kink is not None:
        edges.append(("kink", y, np.stack([kink, kink])))
    return edges


# --------------------------------------------------------------------------- margin ranking


def _score_pairs(rng, shape, option):
    B = shape[0]
    # Labels 1 and -1, and 0 (read as -1) in every check.
    y_true = rng.choice(np.array([1.0, -1.0, 0.0], np.float32), size=(B,))
    return y_true, rng.normal(size=(B, 2)).astype(np.float32)


def _edges_margin_ranking(option):
    m = np.float32(option.get("margin", 0.0))
    y = np.array([1.0, -1.0], np.float32)
    inf = np.float32(np.inf)
    return [
        ("tie", y, np.array([[0.5, 0.5], [-2.0, -2.0]], np.float32)),
        ("kink", y, np.array([[m, 0.0], [0.0, m]], np.float32)),
        ("zero_labels", np.zeros((2,), np.float32), np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)),
        ("large", y, np.array([[-1e4, 1e4], [-1e4, 1e4]], np.float32)),
        ("inf_on_correct_side", y, np.array([[inf, 0.0], [0.0, inf]], np.float32)),
    ]


ENTRIES = [
    Entry(
        kloss.Contrastive,
        kloss.contrastive_loss,
        ref.contrastive,
        options=[{}, {"margin": 0.5}, {"margin": 2.0}],
        make_inputs=_contrastive_pair,
        edges=_edges_contrastive,
        activation="softplus",
    ),
    Entry(
        kloss.Triplet,
        kloss.triplet,
        ref.triplet,
        options=[
            {},
            {"distance": "euclidean"},
            {"distance": "cosine"},
            {"swap": True, "margin": 2.0},
            {"distance": "euclidean", "swap": True, "margin": 0.0},
            {"soft": True},
            {"margin": 0.2, "distance": "cosine", "swap": True, "soft": True},
        ],
        make_inputs=_triplets,
        edges=_edges_triplet,
        elementwise=False,
        batch_defined=True,
        model_shape=lambda option, dim: (3, dim),
    ),
    Entry(
        kloss.MarginRanking,
        kloss.margin_ranking,
        ref.margin_ranking,
        options=[{}, {"margin": 0.5}, {"margin": 2.0}],
        make_inputs=_score_pairs,
        edges=_edges_margin_ranking,
        elementwise=False,
        batch_defined=True,
        model_shape=lambda option, dim: (2,),
    ),
]

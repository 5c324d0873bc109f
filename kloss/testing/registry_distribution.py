"""Registry entries for kloss.distribution (see tests/entry.py).

Both losses reduce the class (last) axis and return `y_pred.shape[:-1]`, like the
categorical cross-entropy: `elementwise=False` (per-element weights raise), and every other
generic check applies (3-D inputs, per-timestep weights, Keras masks, batch == stacked
rows). `Sinkhorn`'s cost matrix fixes the class count to 4, so its inputs have 4 classes
whatever the requested width, and its model outputs 4 probabilities (`model_shape`).
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import distribution as ref

C = 4
_I = np.arange(C)
M_ABS = np.abs(_I[:, None] - _I[None, :]).astype(float).tolist()
M_SQUARE = (np.square(_I[:, None] - _I[None, :]) / 4.0).tolist()
M_RANDOM = np.round(np.random.default_rng(5).uniform(0.0, 2.0, size=(C, C)), 3)
np.fill_diagonal(M_RANDOM, 0.0)
M_RANDOM = M_RANDOM.tolist()


def _histograms(rng, shape, option):
    """One-hot targets in the first half of the rows, soft ones in the rest; predicted
    probabilities (or logits) of the same shape."""
    n = shape[-1]
    labels = rng.integers(0, n, size=shape[:-1])
    y_true = np.eye(n)[labels]
    soft = rng.dirichlet(np.ones(n), size=shape[:-1])
    half = shape[0] // 2
    y_true[half:] = soft[half:]
    if option.get("from_logits"):
        y_pred = rng.normal(scale=2.0, size=shape)
    else:
        p = rng.gamma(1.0, size=shape) + 0.05
        y_pred = p / p.sum(axis=-1, keepdims=True)
    return y_true.astype(np.float32), y_pred.astype(np.float32)


def _sinkhorn_inputs(rng, shape, option):
    return _histograms(rng, tuple(shape[:-1]) + (C,), option)


def _edges(option):
    t = np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]], np.float32)
    onehot = np.eye(C, dtype=np.float32)[[0, 3]]
    if option.get("from_logits"):
        return [
            ("logits_0_uniform_target", np.full_like(t, 0.25), np.zeros_like(t)),
            ("logits_1e4", onehot, np.array([[1e4, 0, 0, -1e4], [-1e4, 0, 0, 1e4]], np.float32)),
            ("logits_-100", onehot, np.array([[0, -100, -100, -100], [0, 0, 0, 0]], np.float32)),
        ]
    return [
        ("equal", t, t.copy()),
        ("equal_one_hot", onehot, onehot.copy()),
        ("one_hot_far", onehot, onehot[::-1].copy()),
        # CDFs equal at k = 0 and k = 1 only: a tie in the middle of the class axis.
        ("cdf_tie", t, np.array([[0.0, 0.5, 0.0, 0.5], [1.0, 0.0, 0.0, 0.0]], np.float32)),
        ("zeros_in_pred", t, np.array([[0.0, 0.0, 1.0, 0.0], [0.5, 0.0, 0.0, 0.5]], np.float32)),
        ("all_zero_pred", t, np.zeros_like(t)),
    ]


def _softmax_or_linear(option):
    return "linear" if option.get("from_logits") else "softmax"


ENTRIES = [
    Entry(
        kloss.EarthMovers,
        kloss.earth_movers,
        ref.earth_movers,
        options=[{}, {"power": 1.0}, {"power": 1.5, "from_logits": True}],
        make_inputs=_histograms,
        edges=_edges,
        elementwise=False,
        activation=_softmax_or_linear,
    ),
    Entry(
        kloss.Sinkhorn,
        kloss.sinkhorn,
        ref.sinkhorn,
        options=[
            # epsilon 0.25, not the default 0.1: with 0.1 (K = -10 |i - j|) the gradient at
            # the "cdf_tie" edge after 100 float32 iterations differs by 1.5e-6 between
            # TensorFlow and JAX/torch (each within 2e-6 of float64 POT), just over the
            # cross-backend atol of 1e-6. test_distribution.py checks the default epsilon
            # against POT on every backend.
            {"cost_matrix": M_ABS, "epsilon": 0.25},
            {"cost_matrix": M_SQUARE, "epsilon": 0.05, "iterations": 50},
            {"cost_matrix": M_RANDOM, "epsilon": 0.2, "iterations": 10, "from_logits": True},
        ],
        make_inputs=_sinkhorn_inputs,
        edges=_edges,
        elementwise=False,
        activation=_softmax_or_linear,
        model_shape=lambda option, dim: (C,),
    ),
]

"""Registry entries for kloss.adversarial (see tests/entry.py)."""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import adversarial as ref


def _discriminator_pair(rng, shape, option):
    """Labels 1 (real) / 0 (generated) and raw discriminator outputs."""
    y_true = rng.integers(0, 2, size=shape).astype(np.float32)
    return y_true, rng.normal(scale=2.0, size=shape).astype(np.float32)


def _generator_pair(rng, shape, option):
    """The generator's labels are ignored: ones, as in a combined model."""
    return np.ones(shape, np.float32), rng.normal(scale=2.0, size=shape).astype(np.float32)


T = np.array([[1.0, 0.0, 1.0, 0.0]] * 2, np.float32)
ONES = np.ones_like(T)
INF = np.float32(np.inf)


def _rows(*values):
    return np.array([values] * 2, np.float32)


def _edges_minimax_discriminator(option):
    edges = [
        ("logits_1e4", T, _rows(-1e4, 1e4, 1e4, -1e4)),  # two wrong, two right
        ("logits_100", T, _rows(100.0, -100.0, -100.0, 100.0)),
        ("zero_logits", T, np.zeros_like(T)),
    ]
    if not option.get("label_smoothing"):
        # With smoothing an infinite logit is infinitely wrong for the smoothed mass.
        edges.append(("inf_on_correct_side", T, _rows(INF, -INF, INF, -INF)))
    return edges


def _edges_minimax_generator(option):
    edges = [
        ("logits_1e4", ONES, _rows(1e4, -1e4, 0.0, 100.0)),
        ("logits_-100", ONES, _rows(-100.0, -100.0, 50.0, 0.0)),
    ]
    if option.get("non_saturating", True):
        edges.append(("inf_fooled", ONES, _rows(INF, INF, 1e4, 0.0)))  # loss 0 there
    else:
        # The saturating loss where the discriminator rejects the samples: 0, gradient 0.
        edges.append(("minus_inf_rejected", ONES, _rows(-INF, -INF, -1e4, 0.0)))
    return edges


def _edges_least_squares(option, generator=False):
    b = option.get("real_target", 1.0)
    a = option.get("fake_target", 0.0)
    c = option.get("target", 1.0)
    t = ONES if generator else T
    exact = _rows(c, c, c, c) if generator else _rows(b, a, b, a)
    return [
        ("on_target", t, exact),
        ("outputs_1e4", t, _rows(1e4, -1e4, -1e4, 1e4)),
        ("zeros", t, np.zeros_like(t)),
    ]


def _edges_linear(option, generator=False):
    t = ONES if generator else T
    return [
        ("scores_1e4", t, _rows(1e4, -1e4, -1e4, 1e4)),
        ("zeros", t, np.zeros_like(t)),
        ("kinks_plus_minus_1", t, _rows(1.0, -1.0, -1.0, 1.0)),
    ]


ENTRIES = [
    Entry(
        kloss.MinimaxDiscriminator,
        kloss.minimax_discriminator,
        ref.minimax_discriminator,
        options=[{}, {"label_smoothing": 0.1}],
        make_inputs=_discriminator_pair,
        edges=_edges_minimax_discriminator,
    ),
    Entry(
        kloss.MinimaxGenerator,
        kloss.minimax_generator,
        ref.minimax_generator,
        options=[{}, {"non_saturating": False}],
        make_inputs=_generator_pair,
        edges=_edges_minimax_generator,
    ),
    Entry(
        kloss.LeastSquaresDiscriminator,
        kloss.least_squares_discriminator,
        ref.least_squares_discriminator,
        options=[{}, {"real_target": 1.0, "fake_target": -1.0}],
        make_inputs=_discriminator_pair,
        edges=_edges_least_squares,
    ),
    Entry(
        kloss.LeastSquaresGenerator,
        kloss.least_squares_generator,
        ref.least_squares_generator,
        options=[{}, {"target": 0.0}],
        make_inputs=_generator_pair,
        edges=lambda option: _edges_least_squares(option, generator=True),
    ),
    Entry(
        kloss.WassersteinCritic,
        kloss.wasserstein_critic,
        ref.wasserstein_critic,
        make_inputs=_discriminator_pair,
        edges=_edges_linear,
    ),
    Entry(
        kloss.WassersteinGenerator,
        kloss.wasserstein_generator,
        ref.wasserstein_generator,
        make_inputs=_generator_pair,
        edges=lambda option: _edges_linear(option, generator=True),
    ),
    Entry(
        kloss.HingeDiscriminator,
        kloss.hinge_discriminator,
        ref.hinge_discriminator,
        make_inputs=_discriminator_pair,
        edges=_edges_linear,
    ),
    Entry(
        kloss.HingeGenerator,
        kloss.hinge_generator,
        ref.hinge_generator,
        make_inputs=_generator_pair,
        edges=lambda option: _edges_linear(option, generator=True),
    ),
]

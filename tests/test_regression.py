"""Regression losses: oracles from trusted libraries, exact relations where conventions
differ, edge cases where Keras goes wrong, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import regression as ref
from kloss.testing.registry import REGISTRY
from tests.helpers import TOL, masked, to_numpy, value_and_grad

# Losses over matching shapes; the shape rules of integer-label and batch-defined losses are
# tested in their families' test modules.
ENTRIES = [pytest.param(e, id=e.name) for e in REGISTRY if not (e.int_labels or e.batch_defined)]


@pytest.fixture
def pair():
    rng = np.random.default_rng(42)
    return (
        rng.normal(size=(6, 7)).astype(np.float32),
        rng.normal(scale=2.0, size=(6, 7)).astype(np.float32),
    )


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _optax():
    return pytest.importorskip("optax"), pytest.importorskip("jax.numpy")


def _kl(loss, *args, **kwargs):
    return to_numpy(loss(*args, **kwargs))


# --------------------------------------------------------------------------- oracles: torch


def test_mse_mae_huber_match_torch(pair):
    torch, F = _torch()
    t, p = (torch.tensor(a) for a in pair)
    np.testing.assert_allclose(
        _kl(kloss.MeanSquaredError(), *pair), F.mse_loss(p, t).item(), **TOL["float32"]
    )
    np.testing.assert_allclose(
        _kl(kloss.MeanAbsoluteError(), *pair), F.l1_loss(p, t).item(), **TOL["float32"]
    )
    for delta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(
            _kl(kloss.Huber(delta=delta), *pair),
            F.huber_loss(p, t, delta=delta).item(),
            **TOL["float32"],
        )
        # Relation: torch's smooth_l1_loss(beta) == huber(delta=beta) / beta.
        np.testing.assert_allclose(
            _kl(kloss.Huber(delta=delta), *pair) / delta,
            F.smooth_l1_loss(p, t, beta=delta).item(),
            **TOL["float32"],
        )


def test_poisson_matches_torch_with_exact_relation():
    torch, F = _torch()
    rng = np.random.default_rng(0)
    t = rng.poisson(3.0, size=(5, 4)).astype(np.float32)
    rate = rng.uniform(0.0, 5.0, size=(5, 4)).astype(np.float32)
    rate[0, 0] = 0.0
    log_rate = rng.normal(size=(5, 4)).astype(np.float32)
    tt = torch.tensor(t)
    # torch defaults to log_input=True; kloss to log_input=False (the Keras convention).
    np.testing.assert_allclose(
        _kl(kloss.Poisson(log_input=True), t, log_rate),
        F.poisson_nll_loss(torch.tensor(log_rate), tt).item(),
        **TOL["float32"],
    )
    np.testing.assert_allclose(
        _kl(kloss.Poisson(epsilon=1e-8), t, rate),
        F.poisson_nll_loss(torch.tensor(rate), tt, log_input=False, eps=1e-8).item(),
        **TOL["float32"],
    )


def test_cosine_proximity_matches_torch(pair):
    torch, F = _torch()
    t, p = (torch.tensor(a) for a in pair)
    np.testing.assert_allclose(
        _kl(kloss.CosineProximity(reduction="none"), *pair),
        -F.cosine_similarity(p, t, dim=-1).numpy(),
        **TOL["float32"],
    )


# --------------------------------------------------------------------------- oracles: optax


def test_huber_log_cosh_cosine_match_optax(pair):
    optax, jnp = _optax()
    t, p = (jnp.asarray(a) for a in pair)
    for delta in (0.5, 1.0, 3.0):
        np.testing.assert_allclose(
            _kl(kloss.Huber(delta=delta, reduction="none"), *pair),
            np.asarray(optax.losses.huber_loss(p, t, delta=delta)).mean(-1),
            **TOL["float32"],
        )
    np.testing.assert_allclose(
        _kl(kloss.LogCosh(reduction="none"), *pair),
        np.asarray(optax.losses.log_cosh(p, t)).mean(-1),
        **TOL["float32"],
    )
    np.testing.assert_allclose(
        _kl(kloss.CosineProximity(reduction="none"), *pair),
        -np.asarray(optax.losses.cosine_similarity(p, t)),
        **TOL["float32"],
    )


def test_mse_is_twice_optax_l2_loss(pair):
    optax, jnp = _optax()
    t, p = (jnp.asarray(a) for a in pair)
    # optax.l2_loss is 0.5 * (p - t)^2: kloss MSE == 2 * mean(l2_loss, axis=-1).
    np.testing.assert_allclose(
        _kl(kloss.MeanSquaredError(reduction="none"), *pair),
        2.0 * np.asarray(optax.losses.l2_loss(p, t)).mean(-1),
        **TOL["float32"],
    )


# --------------------------------------------------------------------------- oracles: Keras


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (kloss.MeanSquaredError(), keras.losses.MeanSquaredError()),
        (kloss.MeanAbsoluteError(), keras.losses.MeanAbsoluteError()),
        (kloss.Huber(delta=0.7), keras.losses.Huber(delta=0.7)),
        (kloss.LogCosh(), keras.losses.LogCosh()),
        (kloss.CosineProximity(), keras.losses.CosineSimilarity()),
    ],
    ids=lambda x: type(x).__name__,
)
def test_matches_keras_on_ordinary_inputs(ours, theirs, pair):
    w = np.linspace(0.0, 2.0, 6).astype(np.float32)
    np.testing.assert_allclose(_kl(ours, *pair), _kl(theirs, *pair), **TOL["float32"])
    np.testing.assert_allclose(
        _kl(ours, *pair, sample_weight=w), _kl(theirs, *pair, sample_weight=w), **TOL["float32"]
    )


def test_poisson_matches_keras():
    rng = np.random.default_rng(5)
    t = rng.poisson(2.0, size=(4, 3)).astype(np.float32)
    p = rng.uniform(0.0, 3.0, size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        _kl(kloss.Poisson(), t, p), _kl(keras.losses.Poisson(), t, p), **TOL["float32"]
    )


# --------------------------------------------------------------------------- pinball (tfa)


def test_pinball_definition_and_tfa_conventions():
    # tensorflow-addons is end-of-life and does not install with TF 2.21: its PinballLoss is
    # max(tau * (y - p), (tau - 1) * (y - p)) averaged over the last axis (tau=0.5 default).
    t = np.array([[1.0, 2.0, 3.0]], np.float32)
    p = np.array([[0.0, 2.0, 5.0]], np.float32)
    np.testing.assert_allclose(
        _kl(kloss.Pinball(quantile=0.1), t, p), (0.1 * 1 + 0.9 * 2) / 3, rtol=1e-6
    )
    # quantile=0.5 is half the MAE.
    np.testing.assert_allclose(
        _kl(kloss.Pinball(), t, p), 0.5 * _kl(kloss.MeanAbsoluteError(), t, p), rtol=1e-6
    )


@pytest.mark.parametrize("quantile", [0.05, 0.5, 0.9])
def test_pinball_matches_sklearn(quantile, pair):
    metrics = pytest.importorskip("sklearn.metrics")
    t, p = pair
    for row in range(t.shape[0]):
        # sklearn's mean_pinball_loss: alpha max(y - p, 0) + (1 - alpha) max(p - y, 0), mean.
        expected = metrics.mean_pinball_loss(t[row], p[row], alpha=quantile)
        got = kloss.pinball(t[row : row + 1], p[row : row + 1], quantile=quantile)
        np.testing.assert_allclose(to_numpy(got), [expected], **TOL["float32"])


def test_pinball_gradient_at_zero_error_is_zero(autodiff):
    # kloss takes the minimum-norm subgradient at e == 0 on every backend (tensorflow-addons
    # gives -quantile): consistent with Pinball(0.5) == MAE / 2, whose gradient there is 0.
    z = np.zeros((1, 4), np.float32)
    e = np.array([[0.5, -0.5, 0.0, 2.0]], np.float32)
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        _, g = value_and_grad(lambda p: kloss.Pinball(quantile=q, reduction="sum")(z, p), z)
        np.testing.assert_array_equal(g, np.zeros_like(z))
        # Away from 0: d/dy_pred is (1 - q) / D above the target and -q / D below it.
        _, g = value_and_grad(lambda p: kloss.Pinball(quantile=q, reduction="sum")(z, p), e)
        np.testing.assert_allclose(g, [[(1 - q) / 4, -q / 4, 0.0, (1 - q) / 4]], rtol=1e-6)


def test_huber_gradient_at_delta_is_delta(autodiff):
    for delta in (0.5, 1.0, 2.0):
        t = np.zeros((1, 2), np.float32)
        p = np.array([[delta, -delta]], np.float32)
        _, g = value_and_grad(lambda x: kloss.Huber(delta=delta, reduction="sum")(t, x), p)
        np.testing.assert_allclose(g, [[delta / 2, -delta / 2]], rtol=1e-6)


# --------------------------------------------------------------------------- where Keras is not


def test_mae_gradient_at_zero_error_is_zero(autodiff):
    y = np.array([[0.0, 1.5, -2.0]], np.float32)
    _, g = value_and_grad(lambda p: kloss.MeanAbsoluteError()(y, p), y.copy())
    np.testing.assert_array_equal(g, np.zeros_like(y))
    _, g = value_and_grad(lambda p: kloss.Huber()(y, p), y.copy())
    np.testing.assert_array_equal(g, np.zeros_like(y))


@pytest.mark.parametrize("scale", [1e20, 1e-20, 1.0])
def test_cosine_exact_at_extreme_norms(scale, autodiff):
    rng = np.random.default_rng(9)
    v = rng.normal(size=(3, 6))
    w = rng.normal(size=(3, 6))
    t = (v * scale).astype(np.float32)
    p = (w * scale).astype(np.float32)
    expected = ref.cosine_proximity(v, w)
    got = _kl(kloss.CosineProximity(reduction="none"), t, p)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # Keras computes squared norms in float32: 1e40 overflows and 1e-40 is clipped, giving 0.
    if scale != 1.0:
        keras_val = _kl(keras.losses.CosineSimilarity(reduction="none"), t, p)
        assert np.abs(keras_val - expected).max() > 0.1
    _, g = value_and_grad(lambda q: kloss.CosineProximity()(t, q), p)
    assert np.all(np.isfinite(g))


def test_cosine_zero_vectors_give_zero_and_finite_gradient(autodiff):
    v = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]], np.float32)
    z = np.zeros_like(v)
    np.testing.assert_array_equal(_kl(kloss.CosineProximity(reduction="none"), v, z), [0, 0])
    np.testing.assert_array_equal(_kl(kloss.CosineProximity(reduction="none"), z, v), [0, 0])
    _, g = value_and_grad(lambda q: kloss.CosineProximity()(v, q), z)
    assert np.all(np.isfinite(g))
    # At y_pred == 0 the gradient points y_pred towards y_true.
    assert np.all(g[1] * v[1] <= 0) and np.any(g[1] != 0)


def test_cosine_other_axis():
    rng = np.random.default_rng(3)
    t = rng.normal(size=(2, 5, 3)).astype(np.float32)
    p = rng.normal(size=(2, 5, 3)).astype(np.float32)
    got = kloss.cosine_proximity(t, p, axis=-2)
    assert tuple(got.shape) == (2, 3)
    np.testing.assert_allclose(to_numpy(got), ref.cosine_proximity(t, p, axis=-2), **TOL["float32"])


def test_sample_weight_not_modified_with_mask():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(2, 3, 4)).astype(np.float32)
    p = rng.normal(size=(2, 3, 4)).astype(np.float32)
    pred, _ = masked(p, np.array([[1, 0, 1], [1, 1, 0]], bool))
    # Keras 3.15 multiplies the mask into a torch sample_weight in place (and fails for a
    # (B, 1) weight against (B, T) losses); kloss hands Keras a fresh tensor.
    for weights in ([[1.0], [2.0]], [[1.0, 2.0, 3.0], [0.5, 1.0, 1.5]]):
        sw = keras.ops.convert_to_tensor(np.array(weights, np.float32))
        before = keras.ops.convert_to_numpy(sw).copy()
        for loss in (kloss.MeanSquaredError(), kloss.CosineProximity()):
            loss(t, pred, sample_weight=sw)
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(sw), before)


def test_labels_without_trailing_axis_are_accepted():
    t = np.array([1.0, 2.0, 3.0], np.float32)
    p = np.array([[1.5], [2.0], [2.0]], np.float32)
    np.testing.assert_allclose(
        _kl(kloss.MeanSquaredError(reduction="none"), t, p), [0.25, 0.0, 1.0]
    )
    np.testing.assert_allclose(
        _kl(kloss.MeanSquaredError(reduction="none"), p, t), [0.25, 0.0, 1.0]
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("entry", ENTRIES)
def test_shape_mismatch_raises_everywhere(entry):
    t = np.ones((5,), np.float32)
    p = np.ones((5, 5), np.float32)
    option = entry.options[0]  # losses whose constructor takes required arguments
    with pytest.raises(ValueError) as err:
        entry.cls(**option)(t, p)
    msg = str(err.value)
    assert msg.startswith(f"{entry.name}: ")
    assert "y_true.shape=(5,)" in msg and "y_pred.shape=(5, 5)" in msg
    with pytest.raises(ValueError, match=r"y_true.shape=\(5, 4\), y_pred.shape=\(5, 3\)"):
        entry.fn(np.ones((5, 4)), np.ones((5, 3)), **option)
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 5\), y_pred.shape=\(5, 5\)"):
        entry.fn(np.ones((2, 5)), np.ones((5, 5)), **option)


def test_cosine_needs_a_feature_axis():
    with pytest.raises(ValueError, match=r"CosineProximity: `y_pred` must have rank >= 2"):
        kloss.CosineProximity()(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"must be a non-batch axis .* axis=3"):
        kloss.cosine_proximity(np.ones((2, 3)), np.ones((2, 3)), axis=3)
    with pytest.raises(ValueError, match=r"must be a non-batch axis .* axis=-2"):
        kloss.cosine_proximity(np.ones((2, 3)), np.ones((2, 3)), axis=-2)


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (
            lambda: kloss.Huber(delta=-1),
            ValueError,
            "Huber: `delta` must be > 0. Received: delta=-1.0.",
        ),
        (
            lambda: kloss.Huber(delta=0),
            ValueError,
            "Huber: `delta` must be > 0. Received: delta=0.0.",
        ),
        (
            lambda: kloss.Huber(delta="1"),
            TypeError,
            "Huber: `delta` must be a number. Received: delta='1'",
        ),
        (lambda: kloss.Huber(delta=float("nan")), ValueError, "Huber: `delta` must"),
        (lambda: kloss.Huber(delta=float("inf")), ValueError, "Huber: `delta` must be finite"),
        (
            lambda: kloss.huber([1.0], [1.0], delta=-2),
            ValueError,
            "huber: `delta` must be > 0. Received: delta=-2.0.",
        ),
        (
            lambda: kloss.Pinball(quantile=1.5),
            ValueError,
            "Pinball: `quantile` must be <= 1.0. Received: quantile=1.5.",
        ),
        (
            lambda: kloss.Pinball(quantile=-0.1),
            ValueError,
            "Pinball: `quantile` must be >= 0.0. Received: quantile=-0.1.",
        ),
        (
            lambda: kloss.Pinball(quantile=True),
            TypeError,
            "Pinball: `quantile` must be a number. Received: quantile=True",
        ),
        (
            lambda: kloss.pinball([1.0], [1.0], quantile=2),
            ValueError,
            "pinball: `quantile` must be <= 1.0",
        ),
        (
            lambda: kloss.Poisson(log_input=1),
            TypeError,
            "Poisson: `log_input` must be True or False. Received: log_input=1",
        ),
        (
            lambda: kloss.Poisson(epsilon=-1e-3),
            ValueError,
            "Poisson: `epsilon` must be >= 0.0. Received: epsilon=-0.001.",
        ),
        (
            lambda: kloss.CosineProximity(axis=0),
            ValueError,
            "CosineProximity: `axis` must not be 0, the batch axis. Received: axis=0.",
        ),
        (
            lambda: kloss.CosineProximity(axis=1.0),
            TypeError,
            "CosineProximity: `axis` must be an int. Received: axis=1.0",
        ),
        (
            lambda: kloss.MeanSquaredError(reduction="mean_over_batch"),
            ValueError,
            "MeanSquaredError: `reduction` must be one of",
        ),
        (lambda: kloss.MeanSquaredError(reduction="summ"), ValueError, 'Did you mean "sum"?'),
    ],
)
def test_argument_errors(make, exc, fragment):
    with pytest.raises(exc) as err:
        make()
    assert fragment in str(err.value)


def test_errors_are_raised_at_construction_for_compile():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Huber: `delta`"):
        model.compile(loss=kloss.Huber(delta=-1.0))

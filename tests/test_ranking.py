"""Ranking losses over explicit pairs and triplets: oracles from trusted libraries (torch,
optax, pytorch-metric-learning), exact relations where conventions differ (tensorflow-addons'
factor 2, torch's eps), hand-computed values, gradients, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import ranking as ref
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]
# torch's reduction for each kloss reduction it has.
TORCH_REDUCTIONS = {"none": "none", "sum": "sum", "sum_over_batch_size": "mean", "mean": "mean"}


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _pml():
    pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning import distances, losses, reducers

    return distances, losses, reducers


def _triplets(seed=0, B=6, D=5, scale=1.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.normal(size=(B, 3, D))).astype(np.float32)


def _zeros(y_pred):
    return np.zeros((y_pred.shape[0],), np.float32)


# --------------------------------------------------------------------------- contrastive


def _tfa_contrastive_loss(y_true, y_pred, margin=1.0):
    """tensorflow-addons' `tfa.losses.contrastive_loss`, re-implemented from its definition
    (tensorflow_addons/losses/contrastive.py; the package is not installable here):
    `y_true * square(y_pred) + (1 - y_true) * square(maximum(margin - y_pred, 0))`, no 1/2."""
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    return y_true * np.square(y_pred) + (1.0 - y_true) * np.square(np.maximum(margin - y_pred, 0.0))


def test_contrastive_hand_values_and_label_convention():
    # y = 1 (similar): d^2 / 2; y = 0 (dissimilar): max(0, m - d)^2 / 2.
    y = np.array([1.0, 1.0, 0.0, 0.0, 0.0], np.float32)
    d = np.array([0.0, 0.5, 0.0, 0.2, 1.5], np.float32)
    got = to_numpy(kloss.contrastive_loss(y, d))
    np.testing.assert_allclose(got, [0.0, 0.125, 0.5, 0.32, 0.0], **F32)
    got = to_numpy(kloss.contrastive_loss(y, d, margin=2.0))
    np.testing.assert_allclose(got, [0.0, 0.125, 2.0, 1.62, 0.125], **F32)


@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("layout", ["B", "B1", "B_and_B1"])
def test_contrastive_is_half_of_tensorflow_addons(margin, layout):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=8).astype(np.float32)
    d = rng.uniform(0.0, 2.0 * margin, size=8).astype(np.float32)
    tfa = _tfa_contrastive_loss(y, d, margin)
    if layout == "B1":
        y, d = y[:, None], d[:, None]
    elif layout == "B_and_B1":
        d = d[:, None]  # (B,) labels against a (B, 1) distance: Keras's usual layout
    got = to_numpy(kloss.contrastive_loss(y, d, margin=margin))
    assert got.shape == (8,)
    np.testing.assert_allclose(2.0 * got, tfa, **F32)
    # tfa's Keras class averages its per-pair values over the batch.
    mean = to_numpy(kloss.Contrastive(margin=margin)(y, d))
    np.testing.assert_allclose(2.0 * mean, tfa.mean(), **F32)


@pytest.mark.parametrize("margin", [0.5, 1.0, 2.5])
def test_contrastive_matches_pytorch_metric_learning(margin):
    """PML's ContrastiveLoss(pos_margin=0, neg_margin=m) gives the unsquared hinges d and
    max(0, m - d) per pair: each kloss pair loss is exactly half their square."""
    torch, _ = _torch()
    distances, losses, reducers = _pml()
    rng = np.random.default_rng(1)
    B, D = 10, 4
    a = rng.normal(size=(B, D))
    b = a + rng.normal(scale=0.6 * margin, size=(B, D))  # distances on both sides of m
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], np.float32)
    d = np.sqrt(((a - b) ** 2).sum(axis=1)).astype(np.float32)
    pml = losses.ContrastiveLoss(
        pos_margin=0.0,
        neg_margin=margin,
        distance=distances.LpDistance(normalize_embeddings=False),
        reducer=reducers.DoNothingReducer(),
    )
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    assert 0 < np.sum(d[neg] < margin) < len(neg)  # both sides of the dissimilar hinge
    pairs = tuple(torch.tensor(i) for i in (pos, pos + B, neg, neg + B))
    out = pml(torch.tensor(np.concatenate([a, b])), None, pairs)
    expected = np.zeros(B)
    expected[pos] = 0.5 * out["pos_loss"]["losses"].numpy() ** 2
    expected[neg] = 0.5 * out["neg_loss"]["losses"].numpy() ** 2
    got = to_numpy(kloss.Contrastive(margin=margin, reduction="none")(y, d))
    np.testing.assert_allclose(got, expected, **F32)


def test_contrastive_gradient_matches_closed_form(autodiff):
    # d/dd: y d for similar pairs, -(1 - y) max(0, m - d) for dissimilar ones; 0 at d = m.
    y = np.array([1.0, 1.0, 0.0, 0.0, 0.0], np.float32)
    d = np.array([0.0, 0.5, 0.0, 0.25, 1.0], np.float32)
    _, g = value_and_grad(lambda p: kloss.Contrastive(reduction="sum")(y, p), d)
    np.testing.assert_allclose(g, [0.0, 0.5, -1.0, -0.75, 0.0], **F32)


# --------------------------------------------------------------------------- triplet


def test_triplet_hand_values():
    a, p, n = [0.0, 0.0], [1.0, 0.0], [0.5, 0.0]
    x = np.array([[a, p, n], [a, [0.0, 1.0], [2.0, 0.0]]], np.float32)
    y = _zeros(x)
    # squared: 1 - 0.25 + 1, 1 - 4 + 1 -> (1.75, 0); euclidean: 1 - 0.5 + 1, 1 - 2 + 1.
    np.testing.assert_allclose(to_numpy(kloss.triplet(y, x)), [1.75, 0.0], **F32)
    got = to_numpy(kloss.triplet(y, x, distance="euclidean"))
    np.testing.assert_allclose(got, [1.5, 0.0], **F32)
    # cosine: a = 0 has cosine 0 with everything: d = 1 - 0 both times, gap 0.
    got = to_numpy(kloss.triplet(y, x, distance="cosine", margin=0.3))
    np.testing.assert_allclose(got, [0.3, 0.3], **F32)
    # soft: log(1 + exp(gap)), gap 0.75 and -3.
    got = to_numpy(kloss.triplet(y, x, soft=True))
    np.testing.assert_allclose(got, np.log1p(np.exp([0.75, -3.0])), **F32)


def test_triplet_swap_uses_the_harder_negative_distance():
    # d(a, p) = 1, d(a, n) = 9, d(p, n) = 4 (squared): swap replaces 9 by 4.
    x = np.array([[[0.0], [1.0], [3.0]]], np.float32)
    y = _zeros(x)
    np.testing.assert_allclose(to_numpy(kloss.triplet(y, x, margin=4.0)), [0.0], **F32)
    got = to_numpy(kloss.triplet(y, x, margin=4.0, swap=True))
    np.testing.assert_allclose(got, [1.0], **F32)
    # When d(a, n) is already the smaller one, swap changes nothing.
    x = np.array([[[1.0], [0.0], [3.0]]], np.float32)  # d(a, n) = 4, d(p, n) = 9
    np.testing.assert_allclose(
        to_numpy(kloss.triplet(y, x, swap=True)), to_numpy(kloss.triplet(y, x)), **F32
    )


def test_triplet_soft_margin_ignores_margin():
    x = _triplets(3)
    y = _zeros(x)
    a = to_numpy(kloss.Triplet(soft=True, margin=0.0, reduction="none")(y, x))
    b = to_numpy(kloss.Triplet(soft=True, margin=5.0, reduction="none")(y, x))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, ref.triplet(y, x, soft=True), **F32)


@pytest.mark.parametrize("reduction", list(TORCH_REDUCTIONS))
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_triplet_matches_torch_triplet_margin_loss(margin, swap, reduction):
    """torch with eps=0 is the Euclidean triplet loss exactly."""
    torch, F = _torch()
    x = _triplets(0)
    a, p, n = (torch.tensor(x[:, i]) for i in range(3))
    expected = F.triplet_margin_loss(
        a, p, n, margin=margin, p=2, eps=0.0, swap=swap, reduction=TORCH_REDUCTIONS[reduction]
    ).numpy()
    loss = kloss.Triplet(margin=margin, distance="euclidean", swap=swap, reduction=reduction)
    np.testing.assert_allclose(to_numpy(loss(_zeros(x), x)), expected, **F32)


def test_triplet_torch_default_eps_is_a_shift_of_positive_and_negative():
    """torch's default eps=1e-6 is added to the difference: ||a - p + eps||. Without swap,
    torch's default on (a, p, n) is kloss on (a, p - eps, n - eps). At a scale of 1e-2 the
    shift is visible (a 4e-4 relative change), so the relation is not vacuous."""
    torch, F = _torch()
    x = _triplets(1, scale=1e-2)
    a, p, n = (torch.tensor(x[:, i]) for i in range(3))
    expected = F.triplet_margin_loss(a, p, n, margin=1e-2, reduction="none").numpy()
    shifted = x.copy()
    shifted[:, 1:] -= np.float32(1e-6)
    loss = kloss.Triplet(margin=1e-2, distance="euclidean", reduction="none")
    tol = dict(rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(to_numpy(loss(_zeros(x), shifted)), expected, **tol)
    assert not np.allclose(to_numpy(loss(_zeros(x), x)), expected, **tol)


def _torch_distance(torch, F, distance):
    return {
        "squared_euclidean": lambda u, v: ((u - v) ** 2).sum(-1),
        "euclidean": lambda u, v: F.pairwise_distance(u, v, eps=0.0),
        "cosine": lambda u, v: 1.0 - F.cosine_similarity(u, v, dim=-1),
    }[distance]


@pytest.mark.parametrize("reduction", list(TORCH_REDUCTIONS))
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
def test_triplet_matches_torch_with_distance_function(distance, swap, reduction):
    torch, F = _torch()
    x = _triplets(2, B=10)
    a, p, n = (torch.tensor(x[:, i]) for i in range(3))
    margin = {"squared_euclidean": 2.0, "euclidean": 0.5, "cosine": 0.2}[distance]
    expected = F.triplet_margin_with_distance_loss(
        a,
        p,
        n,
        distance_function=_torch_distance(torch, F, distance),
        margin=margin,
        swap=swap,
        reduction=TORCH_REDUCTIONS[reduction],
    ).numpy()
    loss = kloss.Triplet(margin=margin, distance=distance, swap=swap, reduction=reduction)
    got = to_numpy(loss(_zeros(x), x))
    if reduction == "none":
        assert 0 < np.sum(got > 0) < len(got)  # both sides of the hinge
    np.testing.assert_allclose(got, expected, **F32)


@pytest.mark.parametrize("margin", [0.5, 1.0, 3.0])
def test_triplet_matches_optax_with_eps_0(margin):
    """optax's triplet_margin_loss is Euclidean with eps inside the square root,
    sqrt(|a - p|^2 + eps): with eps=0 it is kloss's `distance="euclidean"` exactly."""
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    x = _triplets(4)
    expected = np.asarray(
        optax.losses.triplet_margin_loss(
            jnp.asarray(x[:, 0]), jnp.asarray(x[:, 1]), jnp.asarray(x[:, 2]), margin=margin, eps=0.0
        )
    )
    got = kloss.Triplet(margin=margin, distance="euclidean", reduction="none")(_zeros(x), x)
    np.testing.assert_allclose(to_numpy(got), expected, **F32)


def _pml_distance(distances, distance):
    if distance == "cosine":
        return distances.CosineSimilarity()  # margin(ap, an) = an - ap = d_ap - d_an
    power = 2 if distance == "squared_euclidean" else 1
    return distances.LpDistance(normalize_embeddings=False, p=2, power=power)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
def test_triplet_matches_pytorch_metric_learning_on_explicit_triplets(distance, swap, soft):
    """PML's TripletMarginLoss on explicit triplets (indices_tuple over the stacked
    embeddings), per triplet (DoNothingReducer) and averaged (MeanReducer); smooth_loss with
    margin 0 is the soft margin."""
    torch, _ = _torch()
    distances, losses, reducers = _pml()
    x = _triplets(5, B=7)
    B = x.shape[0]
    margin = 0.0 if soft else 0.7
    embeddings = torch.tensor(np.concatenate([x[:, 0], x[:, 1], x[:, 2]]).astype(np.float64))
    idx = torch.arange(B)
    triplets = (idx, idx + B, idx + 2 * B)
    kwargs = dict(
        margin=margin, swap=swap, smooth_loss=soft, distance=_pml_distance(distances, distance)
    )
    per_row = losses.TripletMarginLoss(**kwargs, reducer=reducers.DoNothingReducer())
    mean = losses.TripletMarginLoss(**kwargs, reducer=reducers.MeanReducer())
    expected = per_row(embeddings, None, triplets)["loss"]["losses"].numpy()
    loss = kloss.Triplet(margin=margin, distance=distance, swap=swap, soft=soft)
    np.testing.assert_allclose(
        to_numpy(
            kloss.triplet(_zeros(x), x, margin=margin, distance=distance, swap=swap, soft=soft)
        ),
        expected,
        **F32,
    )
    np.testing.assert_allclose(
        to_numpy(loss(_zeros(x), x)), mean(embeddings, None, triplets).item(), **F32
    )


@pytest.mark.parametrize("swap", [False, True])
def test_triplet_gradient_matches_torch_autograd(swap, autodiff):
    torch, F = _torch()
    x = _triplets(6)
    t = torch.tensor(x, requires_grad=True)
    F.triplet_margin_loss(t[:, 0], t[:, 1], t[:, 2], margin=1.5, eps=0.0, swap=swap).backward()
    loss = kloss.Triplet(margin=1.5, distance="euclidean", swap=swap)
    _, g = value_and_grad(lambda p: loss(_zeros(x), p), x)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
def test_triplet_identical_embeddings_give_zero_gradient(distance, autodiff):
    """a = p = n: the loss is `margin` and the gradient is 0, not NaN (guarded sqrt)."""
    v = np.random.default_rng(7).normal(size=(3, 1, 4)).astype(np.float32)
    for x in (np.repeat(v, 3, axis=1), np.zeros((3, 3, 4), np.float32)):
        loss = kloss.Triplet(margin=0.5, distance=distance, swap=True)
        value, g = value_and_grad(lambda p, loss=loss: loss(_zeros(x), p), x)
        np.testing.assert_allclose(value, 0.5, **F32)
        np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_triplet_under_jit_with_unknown_batch_size(autodiff):
    """The whole loss traces with a symbolic batch size (no Python branch on values)."""
    x = _triplets(8, B=5)
    loss = kloss.Triplet(distance="euclidean", swap=True)
    expected = ref.triplet(None, x, distance="euclidean", swap=True).mean()
    if backend() == "tensorflow":
        import tensorflow as tf

        spec = (tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, 3, None], tf.float32))
        got = tf.function(loss.__call__, input_signature=spec)(_zeros(x), x)
    elif backend() == "jax":
        import jax

        got = jax.jit(loss.__call__)(_zeros(x), x)
    else:
        pytest.skip("symbolic batch sizes: tensorflow and jax")
    np.testing.assert_allclose(to_numpy(got), expected, **F32)


# --------------------------------------------------------------------------- margin ranking


@pytest.mark.parametrize("reduction", list(TORCH_REDUCTIONS))
@pytest.mark.parametrize("margin", [0.0, 0.3, 1.0, 2.5])
def test_margin_ranking_matches_torch(margin, reduction):
    torch, F = _torch()
    rng = np.random.default_rng(0)
    y = rng.choice(np.array([1.0, -1.0], np.float32), size=9)
    x = rng.normal(size=(9, 2)).astype(np.float32)
    x1, x2, ty = torch.tensor(x[:, 0]), torch.tensor(x[:, 1]), torch.tensor(y)
    expected = F.margin_ranking_loss(
        x1, x2, ty, margin=margin, reduction=TORCH_REDUCTIONS[reduction]
    ).numpy()
    for labels in (y, y[:, None]):
        got = kloss.MarginRanking(margin=margin, reduction=reduction)(labels, x)
        np.testing.assert_allclose(to_numpy(got), expected, **F32)
    got = kloss.margin_ranking(y, x, margin=margin)
    np.testing.assert_allclose(
        to_numpy(got),
        F.margin_ranking_loss(x1, x2, ty, margin=margin, reduction="none").numpy(),
        **F32,
    )


def test_margin_ranking_label_zero_reads_as_minus_one():
    torch, F = _torch()
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2]], np.float32)
    zeros = np.zeros((3,), np.float32)
    got = to_numpy(kloss.margin_ranking(zeros, x, margin=0.5))
    np.testing.assert_allclose(got, [1.5, 0.0, 0.5], **F32)  # max(0, (x1 - x2) + m)
    x1, x2 = torch.tensor(x[:, 0]), torch.tensor(x[:, 1])
    as_minus_one = F.margin_ranking_loss(
        x1, x2, torch.tensor(-np.ones(3, np.float32)), margin=0.5, reduction="none"
    )
    np.testing.assert_allclose(got, as_minus_one.numpy(), **F32)
    # torch multiplies by the 0 label as given: every pair costs the margin.
    torch_zero = F.margin_ranking_loss(x1, x2, torch.tensor(zeros), margin=0.5, reduction="none")
    np.testing.assert_allclose(torch_zero.numpy(), [0.5, 0.5, 0.5])
    # {0, 1} labels are {-1, 1} labels.
    y01 = np.array([1.0, 0.0, 1.0], np.float32)
    np.testing.assert_allclose(
        to_numpy(kloss.margin_ranking(y01, x, margin=0.5)),
        to_numpy(kloss.margin_ranking(2 * y01 - 1, x, margin=0.5)),
        **F32,
    )


def test_margin_ranking_gradient_matches_torch_autograd(autodiff):
    torch, F = _torch()
    rng = np.random.default_rng(1)
    y = rng.choice(np.array([1.0, -1.0], np.float32), size=8)
    x = rng.normal(size=(8, 2)).astype(np.float32)
    t = torch.tensor(x, requires_grad=True)
    F.margin_ranking_loss(t[:, 0], t[:, 1], torch.tensor(y), margin=0.4).backward()
    _, g = value_and_grad(lambda p: kloss.MarginRanking(margin=0.4)(y, p), x)
    np.testing.assert_allclose(g, t.grad.numpy(), **F32)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda: kloss.Contrastive(margin=0.0), ValueError, "Contrastive: `margin` must be > 0"),
        (lambda: kloss.Contrastive(margin=-1), ValueError, "Received: margin=-1.0"),
        (lambda: kloss.Contrastive(margin="1"), TypeError, "Contrastive: `margin` must be a"),
        (
            lambda: kloss.contrastive_loss([1.0], [0.5], margin=0),
            ValueError,
            "contrastive_loss: `margin` must be > 0",
        ),
        (lambda: kloss.Triplet(margin=-0.1), ValueError, "Triplet: `margin` must be >= 0"),
        (
            lambda: kloss.Triplet(distance="euclidian"),
            ValueError,
            "Received: distance='euclidian'. Did you mean \"euclidean\"?",
        ),
        (lambda: kloss.Triplet(distance="l2"), ValueError, "Triplet: `distance` must be one of"),
        (lambda: kloss.Triplet(swap=1), TypeError, "Triplet: `swap` must be True or False"),
        (lambda: kloss.Triplet(soft="yes"), TypeError, "Triplet: `soft` must be True or False"),
        (
            lambda: kloss.triplet(np.zeros(1), np.zeros((1, 3, 2)), distance="cos"),
            ValueError,
            "triplet: `distance` must be one of",
        ),
        (lambda: kloss.MarginRanking(margin=-0.5), ValueError, "`margin` must be >= 0"),
        (lambda: kloss.MarginRanking(margin=True), TypeError, "MarginRanking: `margin` must be"),
        (lambda: kloss.Triplet(reduction="avg"), ValueError, "Triplet: `reduction` must be"),
    ],
)
def test_argument_errors_at_construction(make, exc, fragment):
    with pytest.raises(exc) as err:
        make()
    assert fragment in str(err.value)


def test_zero_margins_are_valid_where_meaningful():
    x = _triplets(9)
    got = to_numpy(kloss.Triplet(margin=0.0, reduction="none")(_zeros(x), x))
    np.testing.assert_allclose(got, ref.triplet(None, x, margin=0.0), **F32)
    got = kloss.MarginRanking(margin=0.0, reduction="none")([1.0, -1.0], [[1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_allclose(to_numpy(got), [1.0, 0.0], **F32)


def test_triplet_shape_errors_name_the_shapes():
    with pytest.raises(ValueError) as err:
        kloss.Triplet()(np.zeros(4), np.zeros((4, 5), np.float32))
    msg = str(err.value)
    assert msg.startswith("Triplet: `y_pred` must have shape (B, 3, D)")
    assert "Received: y_pred.shape=(4, 5)" in msg
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4, 2, 5\)"):
        kloss.triplet(np.zeros(4), np.zeros((4, 2, 5), np.float32))
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4, 3, 5, 1\)"):
        kloss.Triplet()(np.zeros(4), np.zeros((4, 3, 5, 1), np.float32))
    with pytest.raises(ValueError) as err:
        kloss.Triplet()(np.zeros(3), np.zeros((4, 3, 5), np.float32))
    msg = str(err.value)
    assert "Triplet: `y_true` is ignored but must have the batch size of `y_pred`" in msg
    assert "y_true.shape=(3,), y_pred.shape=(4, 3, 5)" in msg
    # Anything of batch size B is accepted as y_true.
    for y_true in (np.zeros(4), np.ones((4, 1)), np.zeros((4, 7))):
        assert kloss.Triplet(reduction="none")(y_true, _triplets(0, B=4)).shape == (4,)


def test_margin_ranking_shape_errors_name_the_shapes():
    with pytest.raises(ValueError) as err:
        kloss.MarginRanking()(np.ones(4), np.zeros((4, 3), np.float32))
    msg = str(err.value)
    assert msg.startswith("MarginRanking: `y_pred` must have shape (B, 2)")
    assert "Received: y_pred.shape=(4, 3)" in msg
    with pytest.raises(ValueError, match=r"margin_ranking: `y_pred` must have shape \(B, 2\)"):
        kloss.margin_ranking(np.ones(4), np.zeros((4,), np.float32))
    with pytest.raises(ValueError) as err:
        kloss.MarginRanking()(np.ones((4, 2)), np.zeros((4, 2), np.float32))
    msg = str(err.value)
    assert msg.startswith("MarginRanking: `y_true` must hold one label per pair")
    assert "y_true.shape=(4, 2), y_pred.shape=(4, 2)" in msg
    with pytest.raises(ValueError, match=r"y_true.shape=\(5,\), y_pred.shape=\(4, 2\)"):
        kloss.MarginRanking()(np.ones(5), np.zeros((4, 2), np.float32))


def test_contrastive_shape_errors_name_the_shapes():
    with pytest.raises(ValueError) as err:
        kloss.Contrastive()(np.ones(5), np.zeros((4,), np.float32))
    msg = str(err.value)
    assert msg.startswith("Contrastive: `y_true` and `y_pred` must have the same shape")
    assert "y_true.shape=(5,), y_pred.shape=(4,)" in msg
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 2\), y_pred.shape=\(4, 3\)"):
        kloss.contrastive_loss(np.ones((4, 2)), np.zeros((4, 3), np.float32))


def test_errors_name_no_backend():
    with pytest.raises(ValueError) as err:
        kloss.Triplet()(np.zeros(4), np.zeros((4, 5), np.float32))
    assert backend() not in str(err.value)


# --------------------------------------------------------------------------- Keras use


def test_triplet_trains_a_shared_encoder(autodiff):
    """The documented use: one encoder applied to anchor, positive and negative inputs,
    stacked on axis 1; y_true is zeros."""
    keras.utils.set_random_seed(0)
    encoder = keras.layers.Dense(3)
    inputs = [keras.Input((4,)) for _ in range(3)]
    stacked = keras.layers.Lambda(lambda t: keras.ops.stack(t, axis=1))(
        [encoder(i) for i in inputs]
    )
    model = keras.Model(inputs, stacked)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=kloss.Triplet(distance="euclidean"))
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(16, 4)).astype(np.float32) for _ in range(3)]
    history = model.fit(x, np.zeros((16,), np.float32), batch_size=8, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]

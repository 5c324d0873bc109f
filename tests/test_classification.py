"""Classification losses: oracles from trusted libraries, exact relations where conventions
differ, the edges where Keras goes wrong, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import classification as ref
from tests.helpers import TOL, backend, masked, to_numpy, value_and_grad

F32 = TOL["float32"]


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _optax():
    return pytest.importorskip("optax"), pytest.importorskip("jax.numpy")


def _np(x):
    return to_numpy(x)


@pytest.fixture
def logits():
    rng = np.random.default_rng(5)
    x = rng.normal(scale=2.0, size=(6, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=6).astype(np.int32)
    return x, labels, np.eye(5, dtype=np.float32)[labels]


# --------------------------------------------------------------------------- oracles: torch


def test_binary_crossentropy_matches_torch():
    torch, F = _torch()
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3.0, size=(5, 4)).astype(np.float32)
    t = rng.uniform(size=(5, 4)).astype(np.float32)
    p = rng.uniform(0.01, 0.99, size=(5, 4)).astype(np.float32)
    tt, tx, tp = (torch.tensor(a) for a in (t, x, p))
    for pw in (None, 3.0, [0.5, 1.0, 2.0, 4.0]):
        pw_t = None if pw is None else torch.tensor(pw)
        expected = F.binary_cross_entropy_with_logits(tx, tt, pos_weight=pw_t).item()
        got = _np(kloss.BinaryCrossentropy(from_logits=True, pos_weight=pw)(t, x))
        np.testing.assert_allclose(got, expected, **F32)
    expected = F.binary_cross_entropy(tp, tt).item()
    np.testing.assert_allclose(_np(kloss.BinaryCrossentropy()(t, p)), expected, **F32)


def test_categorical_crossentropy_matches_torch_probability_targets(logits):
    torch, F = _torch()
    x, _, onehot = logits
    soft = np.random.default_rng(1).dirichlet(np.ones(5), size=6).astype(np.float32)
    w = [1.0, 2.0, 0.5, 0.0, 3.0]
    for t in (onehot, soft):
        for ls in (0.0, 0.2):
            expected = F.cross_entropy(
                torch.tensor(x), torch.tensor(t), weight=torch.tensor(w), label_smoothing=ls
            ).item()
            loss = kloss.CategoricalCrossentropy(
                from_logits=True, label_smoothing=ls, class_weights=w
            )
            np.testing.assert_allclose(_np(loss(t, x)), expected, **F32)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"label_smoothing": 0.15},
        {"class_weights": [1.0, 2.0, 0.5, 0.0, 3.0]},
        {"ignore_index": 2},
        {"class_weights": [1.0, 2.0, 0.5, 0.0, 3.0], "ignore_index": -100, "label_smoothing": 0.3},
    ],
    ids=["plain", "smoothing", "weights", "ignore", "all"],
)
def test_sparse_crossentropy_matches_torch_every_reduction(options, reduction):
    torch, F = _torch()
    rng = np.random.default_rng(2)
    x = rng.normal(scale=2.0, size=(2, 5, 3, 4)).astype(np.float32)  # (B, C, H, W)
    labels = rng.integers(0, 5, size=(2, 3, 4)).astype(np.int64)
    labels[0, 0, :2] = options.get("ignore_index", 0)
    kwargs = dict(options)
    weight = kwargs.pop("class_weights", None)
    expected = F.cross_entropy(
        torch.tensor(x),
        torch.tensor(labels),
        weight=None if weight is None else torch.tensor(weight),
        ignore_index=kwargs.get("ignore_index", -100),
        label_smoothing=kwargs.get("label_smoothing", 0.0),
        reduction=reduction,
    ).numpy()
    keras_reduction = {"mean": "sum_over_batch_size"}.get(reduction, reduction)
    # Channels-first with axis=1, and channels-last (the default axis).
    first = kloss.SparseCategoricalCrossentropy(
        from_logits=True, axis=1, reduction=keras_reduction, **options
    )
    np.testing.assert_allclose(_np(first(labels, x)), expected, **F32)
    last = kloss.SparseCategoricalCrossentropy(
        from_logits=True, reduction=keras_reduction, **options
    )
    np.testing.assert_allclose(_np(last(labels, np.moveaxis(x, 1, -1))), expected, **F32)
    if reduction == "none":
        fn = kloss.sparse_categorical_crossentropy(labels, x, from_logits=True, axis=1, **options)
        np.testing.assert_allclose(_np(fn), expected, **F32)


def test_kl_divergence_matches_torch_both_target_forms(logits):
    torch, F = _torch()
    x, _, _ = logits
    t = np.random.default_rng(3).dirichlet(np.ones(5), size=6).astype(np.float32)
    t[0, 1] = 0.0
    log_q = F.log_softmax(torch.tensor(x), dim=-1)
    expected = F.kl_div(log_q, torch.tensor(t), reduction="batchmean").item()
    got = _np(kloss.KLDivergence(from_logits=True)(t, x))
    np.testing.assert_allclose(got, expected, **F32)
    t_safe = np.where(t > 0, t, 1e-30).astype(np.float32)
    log_t = torch.log(torch.tensor(t_safe))
    expected_log = F.kl_div(log_q, log_t, reduction="batchmean", log_target=True).item()
    np.testing.assert_allclose(got, expected_log, rtol=1e-5, atol=1e-5)


def test_sigmoid_focal_matches_torchvision_formula():
    """torchvision.ops.sigmoid_focal_loss, written out in torch ops (torchvision's code)."""
    torch, F = _torch()
    rng = np.random.default_rng(4)
    x = rng.normal(scale=3.0, size=(6, 3)).astype(np.float32)
    t = rng.integers(0, 2, size=(6, 3)).astype(np.float32)
    tx, tt = torch.tensor(x), torch.tensor(t)
    for alpha, gamma in ((0.25, 2.0), (0.75, 1.5), (None, 3.0)):
        p = torch.sigmoid(tx)
        ce = F.binary_cross_entropy_with_logits(tx, tt, reduction="none")
        p_t = p * tt + (1 - p) * (1 - tt)
        loss = ce * (1 - p_t) ** gamma
        if alpha is not None:
            loss = (alpha * tt + (1 - alpha) * (1 - tt)) * loss
        got = kloss.BinaryFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=True)(t, x)
        np.testing.assert_allclose(_np(got), loss.mean().item(), **F32)


def test_categorical_hinge_against_torch_multi_margin_for_two_classes():
    """torch's multi_margin_loss is Weston-Watkins (a mean over wrong classes), not
    Crammer-Singer; for two classes the two agree up to the factor C = 2."""
    torch, F = _torch()
    rng = np.random.default_rng(6)
    s = rng.normal(size=(8, 2)).astype(np.float32)
    labels = rng.integers(0, 2, size=8)
    expected = F.multi_margin_loss(torch.tensor(s), torch.tensor(labels), reduction="none")
    got = kloss.categorical_hinge(np.eye(2, dtype=np.float32)[labels], s)
    np.testing.assert_allclose(_np(got), 2.0 * expected.numpy(), **F32)


# --------------------------------------------------------------------------- oracles: optax


def test_optax_oracles(logits):
    optax, _ = _optax()
    x, labels, onehot = logits
    rng = np.random.default_rng(7)
    tb = rng.integers(0, 2, size=x.shape).astype(np.float32)
    soft = rng.dirichlet(np.ones(5), size=6).astype(np.float32)
    checks = [
        (
            kloss.BinaryCrossentropy(from_logits=True)(tb, x),
            optax.losses.sigmoid_binary_cross_entropy(x, tb).mean(),
        ),
        (
            kloss.CategoricalCrossentropy(from_logits=True)(soft, x),
            optax.losses.softmax_cross_entropy(x, soft).mean(),
        ),
        (
            kloss.SparseCategoricalCrossentropy(from_logits=True)(labels, x),
            optax.losses.softmax_cross_entropy_with_integer_labels(x, labels).mean(),
        ),
        (
            kloss.BinaryFocalCrossentropy(alpha=0.3, gamma=2.0, from_logits=True)(tb, x),
            optax.losses.sigmoid_focal_loss(x, tb, alpha=0.3, gamma=2.0).mean(),
        ),
        (
            kloss.BinaryFocalCrossentropy(alpha=None, gamma=1.5, from_logits=True)(tb, x),
            optax.losses.sigmoid_focal_loss(x, tb, alpha=None, gamma=1.5).mean(),
        ),
        (
            kloss.KLDivergence(from_logits=True)(soft, x),
            optax.losses.kl_divergence(_lsm(x), soft).mean(),
        ),
        (kloss.Hinge()(2 * tb - 1, x), optax.losses.hinge_loss(x, 2 * tb - 1).mean()),
        (kloss.Hinge()(tb, x), optax.losses.hinge_loss(x, 2 * tb - 1).mean()),  # {0, 1} labels
        (
            kloss.CategoricalHinge()(onehot, x),
            optax.losses.multiclass_hinge_loss(x, labels).mean(),
        ),
    ]
    for got, expected in checks:
        np.testing.assert_allclose(_np(got), np.asarray(expected), **F32)


def _lsm(x):
    x = np.asarray(x, np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_categorical_hinge_where_every_wrong_score_is_negative():
    """optax (Crammer-Singer) and kloss agree; Keras 3.15 takes max(0, wrong scores)."""
    optax, _ = _optax()
    s = np.array([[-1.0, 0.5, -2.0], [-0.2, -0.5, -0.9], [0.3, 0.2, 0.1]], np.float32)
    labels = np.array([1, 0, 2])
    t = np.eye(3, dtype=np.float32)[labels]
    got = _np(kloss.categorical_hinge(t, s))
    expected = np.asarray(optax.losses.multiclass_hinge_loss(s, labels))
    np.testing.assert_allclose(got, expected, **F32)
    np.testing.assert_allclose(got, [0.0, 0.7, 1.2], **F32)
    keras_value = _np(keras.losses.categorical_hinge(t, s))
    np.testing.assert_allclose(keras_value, [0.5, 1.2, 1.2], **F32)  # rows 0, 1 differ


# --------------------------------------------------------------------------- Keras relations


def test_keras_relations(logits):
    x, labels, onehot = logits
    rng = np.random.default_rng(8)
    tb = rng.integers(0, 2, size=x.shape).astype(np.float32)
    p = rng.uniform(0.05, 0.95, size=x.shape).astype(np.float32)
    pairs = [
        (kloss.BinaryCrossentropy(from_logits=True), keras.losses.BinaryCrossentropy(True), tb, x),
        (
            kloss.BinaryCrossentropy(label_smoothing=0.2),
            keras.losses.BinaryCrossentropy(label_smoothing=0.2),
            tb,
            p,
        ),
        (
            kloss.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
            keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
            onehot,
            x,
        ),
        (
            kloss.SparseCategoricalCrossentropy(from_logits=True),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            labels,
            x,
        ),
        (kloss.Hinge(), keras.losses.Hinge(), tb, x),
        (kloss.SquaredHinge(), keras.losses.SquaredHinge(), 2 * tb - 1, x),
        # Keras applies alpha only with apply_class_balancing=True.
        (
            kloss.BinaryFocalCrossentropy(alpha=None, gamma=2.0, from_logits=True),
            keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True),
            tb,
            x,
        ),
        (
            kloss.BinaryFocalCrossentropy(alpha=0.4, gamma=2.0, from_logits=True),
            keras.losses.BinaryFocalCrossentropy(
                apply_class_balancing=True, alpha=0.4, gamma=2.0, from_logits=True
            ),
            tb,
            x,
        ),
        # Keras's categorical focal loss applies alpha=0.25 by default.
        (
            kloss.CategoricalFocalCrossentropy(alpha=0.25, from_logits=True),
            keras.losses.CategoricalFocalCrossentropy(from_logits=True),
            onehot,
            x,
        ),
    ]
    for ours, theirs, t, y in pairs:
        np.testing.assert_allclose(_np(ours(t, y)), _np(theirs(t, y)), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- focal == CE


def test_focal_with_gamma_0_and_no_alpha_is_cross_entropy_exactly(logits):
    x, labels, onehot = logits
    tb = (onehot + 0.0).astype(np.float32)
    p = np.exp(_lsm(x)).astype(np.float32)
    for from_logits, y in ((True, x), (False, p)):
        pairs = [
            (
                kloss.binary_focal_crossentropy(
                    tb, y if from_logits else p, alpha=None, gamma=0.0, from_logits=from_logits
                ),
                kloss.binary_crossentropy(tb, y if from_logits else p, from_logits=from_logits),
            ),
            (
                kloss.categorical_focal_crossentropy(onehot, y, gamma=0.0, from_logits=from_logits),
                kloss.categorical_crossentropy(onehot, y, from_logits=from_logits),
            ),
            (
                kloss.sparse_categorical_focal_crossentropy(
                    labels, y, gamma=0.0, from_logits=from_logits, ignore_index=3
                ),
                kloss.sparse_categorical_crossentropy(
                    labels, y, from_logits=from_logits, ignore_index=3
                ),
            ),
        ]
        for a, b in pairs:
            np.testing.assert_array_equal(_np(a), _np(b))
    a = kloss.SparseCategoricalFocalCrossentropy(gamma=0.0, class_weights=[1, 2, 3, 4, 5])
    b = kloss.SparseCategoricalCrossentropy(class_weights=[1, 2, 3, 4, 5])
    np.testing.assert_array_equal(_np(a(labels, p)), _np(b(labels, p)))


# --------------------------------------------------------------------------- edges


def test_bce_infinite_logits_on_the_correct_side_give_zero(autodiff):
    inf = np.float32(np.inf)
    t = np.array([[1.0, 0.0]], np.float32)
    x = np.array([[inf, -inf]], np.float32)
    for loss in (kloss.BinaryCrossentropy(from_logits=True, pos_weight=2.0),
                 kloss.BinaryFocalCrossentropy(from_logits=True)):  # fmt: skip
        v, g = value_and_grad(lambda p, loss=loss: loss(t, p), x)
        assert v == 0.0
        np.testing.assert_array_equal(g, 0.0)
    # The wrong side is infinitely wrong.
    assert _np(kloss.binary_crossentropy(t, -x, from_logits=True))[0] == np.inf


@pytest.mark.parametrize("sparse", [False, True])
def test_masked_vocabulary_minus_inf_logit(sparse, autodiff):
    """A -inf logit of a masked-out class: the loss of the other classes, finite gradient."""
    inf = np.float32(np.inf)
    x = np.array([[1.0, -inf, 0.5, 2.0], [-inf, 0.0, 3.0, -inf]], np.float32)
    labels = np.array([0, 2], np.int32)
    t = labels if sparse else np.eye(4, dtype=np.float32)[labels]
    kept = [x[0, [0, 2, 3]], x[1, [1, 2]]]
    expected = np.mean([-_lsm(kept[0])[0], -_lsm(kept[1])[1]])
    cls = kloss.SparseCategoricalCrossentropy if sparse else kloss.CategoricalCrossentropy
    for loss in (cls(from_logits=True), kloss.CategoricalFocalCrossentropy(from_logits=True,
                                                                           gamma=0.0)):  # fmt: skip
        if sparse and isinstance(loss, kloss.CategoricalFocalCrossentropy):
            loss = kloss.SparseCategoricalFocalCrossentropy(from_logits=True, gamma=0.0)
        v, g = value_and_grad(lambda p, loss=loss: loss(t, p), x)
        np.testing.assert_allclose(v, expected, **F32)
        assert np.all(np.isfinite(g))
        assert g[0, 1] == 0.0 and g[1, 0] == 0.0 and g[1, 3] == 0.0


@pytest.mark.parametrize("scale", [100.0, 1e4])
def test_focal_with_huge_logits_is_exact_with_a_gradient(scale, autodiff):
    """Wrong-side logits of +-100 / +-1e4: the loss is alpha * |logit| (Keras saturates at
    -log(1e-7) = 16.1 with a zero gradient on JAX and torch)."""
    x = np.array([[-scale, scale]], np.float32)
    t = np.array([[1.0, 0.0]], np.float32)
    loss = kloss.BinaryFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True)
    v, g = value_and_grad(lambda p: loss(t, p), x)
    # t=1, x=-s: 0.25 * s; t=0, x=s: 0.75 * s; mean over the 2 outputs.
    np.testing.assert_allclose(v, (0.25 + 0.75) * scale / 2, rtol=1e-6)
    assert np.all(np.abs(g) > 0.1)
    cat = kloss.CategoricalFocalCrossentropy(from_logits=True)
    v, g = value_and_grad(lambda p: cat(np.array([[1.0, 0.0]], np.float32), p), x)
    np.testing.assert_allclose(v, 2 * scale, rtol=1e-6)
    np.testing.assert_allclose(g, [[-1.0, 1.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_probabilities_of_exactly_0_and_1_in_16_bit(dtype, autodiff):
    t = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    p = keras.ops.convert_to_numpy(keras.ops.cast(np.array([[0.0, 1.0, 1.0, 0.0]]), dtype))
    loss = kloss.BinaryCrossentropy(dtype=dtype)
    v, g = value_and_grad(lambda q: keras.ops.cast(loss(t, q), "float32"), p)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    # The clip runs in float32: -log(1e-7) for the two wrong entries, ~0 for the right ones.
    np.testing.assert_allclose(v, ref.binary_crossentropy(t, p).mean(), **TOL[dtype])


def test_hinge_gradient_at_the_kink_is_zero(autodiff):
    t = np.array([[1.0, -1.0, 0.0]], np.float32)
    x = np.array([[1.0, -1.0, -1.0]], np.float32)
    for loss in (kloss.Hinge(), kloss.SquaredHinge()):
        v, g = value_and_grad(lambda p, loss=loss: loss(t, p), x)
        assert v == 0.0
        np.testing.assert_array_equal(g, 0.0)
    s = np.array([[0.0, 1.0, 0.0]], np.float32)  # margin 1 + 0 - 1 == 0, tied wrong scores
    v, g = value_and_grad(lambda p: kloss.CategoricalHinge()(np.eye(3)[[1]], p), s)
    assert v == 0.0
    np.testing.assert_array_equal(g, 0.0)


# --------------------------------------------------------------------------- integer labels


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_integer_labels_stay_integers_in_16_bit(dtype):
    """Label 257 of 300 is class 257 (Keras casts labels to the loss dtype: 256 in bf16)."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3, 300)).astype(np.float32)
    x[:, 257] += 6.0  # class 257 is likely, class 256 is not
    labels = np.array([257, 257, 3], np.int32)
    expected = ref.sparse_categorical_crossentropy(labels, x, from_logits=True)
    ours = kloss.SparseCategoricalCrossentropy(from_logits=True, reduction="none", dtype=dtype)
    np.testing.assert_allclose(_np(ours(labels, x)), expected, **TOL[dtype])
    if dtype == "bfloat16":
        theirs = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="none", dtype=dtype
        )
        # Keras scores class 256 for the first two rows.
        assert np.all(np.abs(_np(theirs(labels, x))[:2] - expected[:2]) > 1.0)


def test_integer_labels_under_mixed_bfloat16(autodiff):
    x = np.random.default_rng(10).normal(size=(16, 8)).astype(np.float32)
    labels = np.full((16,), 257, np.int32)
    labels[::2] = 3
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(300)])
        model.compile(optimizer="sgd", loss=kloss.SparseCategoricalCrossentropy(from_logits=True))
        out = model.predict(x, verbose=0)
        value = model.evaluate(x, labels, verbose=0, batch_size=16)
    finally:
        keras.config.set_dtype_policy("float32")
    expected = ref.sparse_categorical_crossentropy(labels, out.astype(np.float32), from_logits=True)
    np.testing.assert_allclose(value, expected.mean(), **TOL["bfloat16"])


def test_evaluate_gives_the_documented_formula_on_every_backend():
    """A saturated sigmoid output: Keras's TensorFlow backend recovers the logits from the
    producing op, so its evaluate() differs from JAX and torch; kloss clips on all."""
    x = np.array([[1.0], [-1.0]], np.float32)
    y = np.array([[0.0], [1.0]], np.float32)  # both wrong
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[40.0]], np.float32), np.zeros(1, np.float32)])
    p = model.predict(x, verbose=0)
    assert p[0, 0] == 1.0 and p[1, 0] < 1e-15
    model.compile(loss=kloss.BinaryCrossentropy())
    expected = ref.binary_crossentropy(y, p).mean()
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    # The two clip bounds in float32: -log(eps) and -log(1 - (1 - eps)).
    np.testing.assert_allclose(expected, (-np.log(ref.LO) - np.log1p(-ref.HI)) / 2, rtol=1e-6)


# --------------------------------------------------------------------------- reductions


def test_sparse_weighted_mean_with_sample_weight_and_keras_mask():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    labels = rng.integers(0, 5, size=(3, 4)).astype(np.int32)
    labels[0, 1] = -1
    keep = np.array([[1, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 1]], bool)
    pred_masked, x_np = masked(x, keep)
    sw = np.array([1.0, 0.5, 2.0], np.float32)
    cw = [1.0, 2.0, 0.5, 3.0, 1.5]
    options = dict(from_logits=True, class_weights=cw, ignore_index=-1, label_smoothing=0.1)
    per = ref.sparse_categorical_crossentropy(labels, x_np, **options)
    w = ref.sparse_entry_weights(labels, cw, -1)
    s = keep * sw[:, None]
    expected = (s * per).sum() / (s * w).sum()
    for reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        loss = kloss.SparseCategoricalCrossentropy(reduction=reduction, **options)
        np.testing.assert_allclose(
            _np(loss(labels, pred_masked, sample_weight=sw)), expected, **F32
        )
    loss = kloss.SparseCategoricalCrossentropy(reduction="sum", **options)
    np.testing.assert_allclose(
        _np(loss(labels, pred_masked, sample_weight=sw)), (s * per).sum(), **F32
    )


def test_sparse_all_ignored_gives_zero_not_nan(autodiff):
    x = np.random.default_rng(12).normal(size=(2, 3)).astype(np.float32)
    labels = np.array([-100, -100], np.int32)
    loss = kloss.SparseCategoricalCrossentropy(from_logits=True, ignore_index=-100)
    v, g = value_and_grad(lambda p: loss(labels, p), x)
    assert v == 0.0
    np.testing.assert_array_equal(g, 0.0)


SPARSE_LOSSES = (
    kloss.SparseCategoricalCrossentropy,
    kloss.SparseCategoricalFocalCrossentropy,
)


@pytest.mark.parametrize("cls", SPARSE_LOSSES)
@pytest.mark.parametrize("label", [5, -1, 7])
def test_out_of_range_labels_raise_in_eager_mode(cls, label):
    # Unchecked, these differed by backend: TF raised, JAX gave NaN (5) or class 4 (-1),
    # torch and NumPy wrapped -1 to class 4, and torch gave a wrong value for 5.
    x = np.zeros((3, 5), np.float32)
    labels = np.array([0, label, 4], np.int32)
    name = cls.__name__
    with pytest.raises(ValueError) as err:
        cls(from_logits=True)(labels, x)
    assert str(err.value).startswith(
        f"{name}: every entry of `y_true` must be a class index in [0, 5). "
        f"Received: y_true holds {label} (1 such entries)."
    )
    # The function raises too; ignore_index names the value that is allowed outside.
    with pytest.raises(ValueError, match=r"in \[0, 5\) or ignore_index=-100\. Received"):
        kloss.sparse_categorical_crossentropy(labels, x, from_logits=True, ignore_index=-100)
    # With ignore_index equal to that value, the entry is left out: no error, a finite loss.
    got = cls(from_logits=True, ignore_index=label, reduction=None)(labels, x)
    np.testing.assert_array_equal(_np(got)[1], 0.0)
    assert np.all(np.isfinite(_np(got)))


def test_out_of_range_labels_give_nan_under_jit():
    # Where no value is known (jax.jit, tf.function), nothing can raise: the out-of-range
    # entries' loss is NaN and the others are unchanged, on both tracing backends.
    rng = np.random.default_rng(14)
    x = rng.normal(size=(4, 5)).astype(np.float32)
    labels = np.array([0, 5, -1, 3], np.int32)
    good = np.array([0, 0, 0, 3], np.int32)
    name = backend()
    if name == "jax":
        import jax

        def traced(loss):
            return jax.jit(lambda t, p: loss(t, p))
    elif name == "tensorflow":
        import tensorflow as tf

        spec = (tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 5), tf.float32))

        def traced(loss):
            return tf.function(lambda t, p: loss(t, p), input_signature=spec)
    else:
        pytest.skip(
            "jax.jit and tf.function hide the label values; torch and numpy run eagerly "
            "and raise (test_out_of_range_labels_raise_in_eager_mode)"
        )
    for cls in SPARSE_LOSSES:
        loss = cls(from_logits=True, reduction=None)
        got = _np(traced(loss)(labels, x))
        np.testing.assert_array_equal(np.isnan(got), [False, True, True, False])
        np.testing.assert_allclose(got[[0, 3]], _np(loss(good, x))[[0, 3]], **F32)
        assert np.isnan(_np(traced(cls(from_logits=True))(labels, x)))  # the batch mean
        assert np.isfinite(_np(traced(cls(from_logits=True))(good, x)))


def test_keras_out_of_range_labels_differ_across_backends():
    # Keras 3.15 (docs/generated/migration.md): the same input raises on TF and torch, and
    # JAX scores the entry 0, silently.
    x = np.array([[1.0, 2.0, 3.0]] * 3, np.float32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    expected = {
        "tensorflow": {3: "InvalidArgumentError", -1: "InvalidArgumentError"},
        "torch": {3: "IndexError", -1: "IndexError"},
        "jax": {3: 0.0, -1: 0.0},
        "numpy": {3: "IndexError", -1: 0.0},
    }[backend()]
    for label, outcome in expected.items():
        labels = np.array([0, label, 0], np.int32)
        if isinstance(outcome, str):
            with pytest.raises(Exception) as err:
                loss(labels, x)
            assert type(err.value).__name__ == outcome
        else:
            got = _np(loss(labels, x))
            assert got[1] == outcome and got[0] > 2.0


def test_sparse_labels_with_a_size_1_class_axis():
    x = np.random.default_rng(13).normal(size=(4, 3)).astype(np.float32)
    labels = np.array([[0], [2], [1], [1]], np.int64)
    got = kloss.sparse_categorical_crossentropy(labels, x, from_logits=True)
    expected = ref.sparse_categorical_crossentropy(labels[:, 0], x, from_logits=True)
    np.testing.assert_allclose(_np(got), expected, **F32)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (
            lambda: kloss.BinaryCrossentropy(label_smoothing=1.5),
            ValueError,
            "BinaryCrossentropy: `label_smoothing` must be <= 1.0. Received: label_smoothing=1.5.",
        ),
        (
            lambda: kloss.CategoricalCrossentropy(label_smoothing=-0.1),
            ValueError,
            "CategoricalCrossentropy: `label_smoothing` must be >= 0.0",
        ),
        (
            lambda: kloss.BinaryCrossentropy(pos_weight=-1.0),
            ValueError,
            "BinaryCrossentropy: `pos_weight` must be >= 0.0. Received: pos_weight=-1.0.",
        ),
        (
            lambda: kloss.BinaryCrossentropy(pos_weight=[1.0, -2.0]),
            ValueError,
            "BinaryCrossentropy: every entry of `pos_weight` must be finite and >= 0.0. "
            "Received: pos_weight=[1.0, -2.0] (pos_weight[1]=-2.0).",
        ),
        (
            lambda: kloss.BinaryFocalCrossentropy(alpha=-0.25),
            ValueError,
            "BinaryFocalCrossentropy: `alpha` must be >= 0.0. Received: alpha=-0.25.",
        ),
        (
            lambda: kloss.BinaryFocalCrossentropy(alpha=1.5),
            ValueError,
            "BinaryFocalCrossentropy: `alpha` must be <= 1.0",
        ),
        (
            lambda: kloss.CategoricalFocalCrossentropy(gamma=-1),
            ValueError,
            "CategoricalFocalCrossentropy: `gamma` must be >= 0.0. Received: gamma=-1.0.",
        ),
        (
            lambda: kloss.SparseCategoricalFocalCrossentropy(alpha=[0.5, -1]),
            ValueError,
            "SparseCategoricalFocalCrossentropy: every entry of `alpha` must be finite",
        ),
        (
            lambda: kloss.SparseCategoricalCrossentropy(class_weights=[1.0, -1.0]),
            ValueError,
            "SparseCategoricalCrossentropy: every entry of `class_weights` must be finite "
            "and >= 0.0",
        ),
        (
            lambda: kloss.SparseCategoricalCrossentropy(class_weights=[0.0, 0.0]),
            ValueError,
            "`class_weights` needs at least one positive entry",
        ),
        (
            lambda: kloss.CategoricalCrossentropy(class_weights=2.0),
            TypeError,
            "CategoricalCrossentropy: `class_weights` must be a list with one number per class",
        ),
        (
            lambda: kloss.SparseCategoricalCrossentropy(ignore_index=1.0),
            TypeError,
            "SparseCategoricalCrossentropy: `ignore_index` must be an int. Received: "
            "ignore_index=1.0",
        ),
        (
            lambda: kloss.KLDivergence(from_logits="yes"),
            TypeError,
            "KLDivergence: `from_logits` must be True or False. Received: from_logits='yes'",
        ),
        (
            lambda: kloss.CategoricalCrossentropy(axis=0),
            ValueError,
            "CategoricalCrossentropy: `axis` must not be 0, the batch axis.",
        ),
        (
            lambda: kloss.binary_focal_crossentropy([1.0], [0.5], gamma=-2),
            ValueError,
            "binary_focal_crossentropy: `gamma` must be >= 0.0",
        ),
    ],
)
def test_argument_errors_at_construction(make, exc, fragment):
    with pytest.raises(exc) as err:
        make()
    assert fragment in str(err.value)


def test_float_labels_for_a_sparse_loss_raise():
    x = np.zeros((2, 3), np.float32)
    for loss in (kloss.SparseCategoricalCrossentropy(), kloss.SparseCategoricalFocalCrossentropy()):
        with pytest.raises(TypeError, match=r"`y_true` must hold integer class indices\. "
                                            r"Received: y_true.dtype=float32"):  # fmt: skip
            loss(np.array([1.0, 2.0], np.float32), x)
    with pytest.raises(TypeError, match="sparse_categorical_crossentropy: `y_true` must hold"):
        kloss.sparse_categorical_crossentropy(np.array([1.5, 2.0]), x)


def test_shape_errors_name_both_shapes():
    with pytest.raises(ValueError) as err:
        kloss.SparseCategoricalCrossentropy()(np.zeros((4,), np.int32), np.ones((5, 3)))
    msg = str(err.value)
    assert msg.startswith("SparseCategoricalCrossentropy: ")
    assert "y_true.shape=(4,), y_pred.shape=(5, 3)" in msg and "shape (5,)" in msg
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\), y_pred.shape=\(2, 4\)"):
        kloss.CategoricalCrossentropy()(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"KLDivergence: `y_pred` must have rank >= 2"):
        kloss.KLDivergence()(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"y_true.shape=\(2, 3\), y_pred.shape=\(2, 4\)"):
        kloss.BinaryCrossentropy()(np.ones((2, 3)), np.ones((2, 4)))


def test_per_class_list_length_is_checked_at_first_call():
    loss = kloss.SparseCategoricalCrossentropy(class_weights=[1.0, 2.0, 3.0])
    x = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError) as err:
        loss(np.array([0, 1], np.int32), x)
    assert str(err.value).startswith(
        "SparseCategoricalCrossentropy: `class_weights` has 3 entries, but y_pred has 4 "
        "classes along axis 1."
    )
    with pytest.raises(ValueError, match="`pos_weight` has 2 entries, but y_pred has 4"):
        kloss.BinaryCrossentropy(pos_weight=[1.0, 2.0])(np.ones((2, 4)), np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="`alpha` has 2 entries, but y_pred has 4 classes"):
        kloss.CategoricalFocalCrossentropy(alpha=[1.0, 2.0])(np.eye(4)[[0, 1]], x / 4)


def test_backend_name_in_errors_is_never_needed():
    """The same message on every backend: nothing backend-specific leaks into it."""
    with pytest.raises(TypeError) as err:
        kloss.SparseCategoricalCrossentropy()(np.array([0.0]), np.ones((1, 2)))
    assert backend() not in str(err.value)

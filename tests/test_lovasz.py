"""Lovasz losses: segmentation_models_pytorch's LovaszLoss (re-implemented below from its
public code, values and gradients), the paper's identities, the NumPy reference at sizes the
matrix does not reach, compiled calls with an unknown batch size, and every error message."""

import itertools

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import lovasz as ref
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


# --------------------------------------------------------------------------- smp oracle


def smp_lovasz_loss(mode, per_image=False, ignore_index=None, stable=False):
    """segmentation_models_pytorch.losses.LovaszLoss (smp 0.3, `losses/lovasz.py`, from
    Berman's reference code), as a function `(y_pred, y_true) -> scalar` of torch tensors,
    channels first. `stable=True` sorts stably (torch's default sort is not)."""
    torch, F = _torch()

    def mean(values, empty=0):
        values = iter(values)
        try:
            n = 1
            acc = next(values)
        except StopIteration:
            return empty
        for n, v in enumerate(values, 2):  # noqa: B007
            acc += v
        if n == 1:
            return acc
        return acc / n

    def lovasz_grad(gt_sorted, dtype):
        # smp casts with .float(); the scores' dtype here, so a float64 run is exact.
        p = len(gt_sorted)
        gts = gt_sorted.sum()
        intersection = gts - gt_sorted.to(dtype).cumsum(0)
        union = gts + (1 - gt_sorted).to(dtype).cumsum(0)
        jaccard = 1.0 - intersection / union
        if p > 1:  # cover 1-pixel case
            jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
        return jaccard

    def flatten_binary_scores(scores, labels, ignore=None):
        scores = scores.view(-1)
        labels = labels.view(-1)
        if ignore is None:
            return scores, labels
        valid = labels != ignore
        return scores[valid], labels[valid]

    def lovasz_hinge_flat(logits, labels):
        if len(labels) == 0:
            return logits.sum() * 0.0  # only void pixels, the gradients should be 0
        signs = 2.0 * labels.to(logits.dtype) - 1.0
        errors = 1.0 - logits * signs
        errors_sorted, perm = torch.sort(errors, dim=0, descending=True, stable=stable)
        gt_sorted = labels[perm.data]
        grad = lovasz_grad(gt_sorted, logits.dtype)
        return torch.dot(F.relu(errors_sorted), grad)

    def lovasz_hinge(logits, labels, per_image=True, ignore=None):
        if per_image:
            return mean(
                lovasz_hinge_flat(
                    *flatten_binary_scores(log.unsqueeze(0), lab.unsqueeze(0), ignore)
                )
                for log, lab in zip(logits, labels, strict=True)
            )
        return lovasz_hinge_flat(*flatten_binary_scores(logits, labels, ignore))

    def flatten_probas(probas, labels, ignore=None):
        if probas.dim() == 3:
            B, H, W = probas.size()
            probas = probas.view(B, 1, H, W)
        C = probas.size(1)
        probas = torch.movedim(probas, 1, -1)  # [B, C, Di, Dj, ...] -> [B, Di, Dj, ..., C]
        probas = probas.contiguous().view(-1, C)  # [P, C]
        labels = labels.view(-1)
        if ignore is None:
            return probas, labels
        valid = labels != ignore
        return probas[valid], labels[valid]

    def lovasz_softmax_flat(probas, labels, classes="present"):
        if probas.numel() == 0:
            return probas * 0.0  # only void pixels, the gradients should be 0
        C = probas.size(1)
        losses = []
        for c in range(C):
            fg = (labels == c).type_as(probas)  # foreground for class c
            if classes == "present" and fg.sum() == 0:
                continue
            class_pred = probas[:, 0] if C == 1 else probas[:, c]
            errors = (fg - class_pred).abs()
            errors_sorted, perm = torch.sort(errors, dim=0, descending=True, stable=stable)
            fg_sorted = fg[perm.data]
            losses.append(torch.dot(errors_sorted, lovasz_grad(fg_sorted, probas.dtype)))
        return mean(losses)

    def lovasz_softmax(probas, labels, per_image=False, ignore=None):
        if per_image:
            return mean(
                lovasz_softmax_flat(*flatten_probas(prob.unsqueeze(0), lab.unsqueeze(0), ignore))
                for prob, lab in zip(probas, labels, strict=True)
            )
        return lovasz_softmax_flat(*flatten_probas(probas, labels, ignore))

    def forward(y_pred, y_true):
        if mode in ("binary", "multilabel"):
            return lovasz_hinge(y_pred, y_true, per_image=per_image, ignore=ignore_index)
        return lovasz_softmax(
            y_pred.softmax(dim=1), y_true, per_image=per_image, ignore=ignore_index
        )

    return forward


def _smp_value_and_grad(fn, y_pred, y_true):
    torch, _ = _torch()
    x = torch.tensor(y_pred, dtype=torch.float32, requires_grad=True)  # smp: .float()
    v = fn(x, torch.tensor(y_true))
    if not torch.is_tensor(v):  # smp's mean of nothing: the number 0
        return float(v), np.zeros_like(y_pred, dtype=np.float64)
    (g,) = torch.autograd.grad(v, x, allow_unused=True)
    g = np.zeros_like(y_pred, dtype=np.float64) if g is None else g.numpy()
    return float(v.detach()), g


def _kloss_value_and_grad(loss, y_true, y_pred):
    if backend() == "numpy":
        return float(to_numpy(loss(y_true, y_pred))), None
    return value_and_grad(lambda p: loss(y_true, p), y_pred)


def _check_against(expected, got, grad_tol=1e-5):
    (ev, eg), (gv, gg) = expected, got
    np.testing.assert_allclose(gv, ev, **F32)
    if gg is not None:
        np.testing.assert_allclose(gg, eg, rtol=grad_tol, atol=1e-6)


def _images(seed, B=3, C=5, H=6, W=7, ignore=None, binary=False):
    """Channels-first scores (B, C, H, W) and labels; some classes absent per image. With
    `ignore`, 20% of the pixels are ignored, and for binary labels every pixel of the last
    image (smp's multiclass code fails on such an image with per_image=True: its
    `lovasz_softmax_flat` returns `probas * 0.0`, of shape (0, C), which its `mean` cannot
    add; kloss gives 0 there, test_empty_image_and_ignored_pixels)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(B, C, H, W)).astype(np.float32)
    if binary:
        labels = rng.integers(0, 2, size=(B, C, H, W)).astype(np.int64)
    else:
        labels = np.minimum(rng.geometric(0.4, size=(B, H, W)) - 1, C - 1).astype(np.int64)
    if ignore is not None:
        labels[rng.uniform(size=labels.shape) < 0.2] = ignore
        if binary:
            labels[-1] = ignore  # one image with no valid pixel
    return x, labels


SMP_MULTICLASS = [
    dict(per_image=True),
    dict(per_image=False),
    dict(per_image=True, ignore_index=255),
    dict(per_image=False, ignore_index=255),
    dict(per_image=True, ignore_index=0),  # a real class index: that class is never present
]


@pytest.mark.parametrize("opts", SMP_MULTICLASS, ids=lambda o: str(sorted(o.items())))
def test_multiclass_matches_smp_lovasz_loss(opts):
    x, labels = _images(0, ignore=opts.get("ignore_index"))
    smp = smp_lovasz_loss("multiclass", **opts)
    expected = _smp_value_and_grad(smp, x, labels)
    loss = kloss.Lovasz(data_format="channels_first", **opts)
    _check_against(expected, _kloss_value_and_grad(loss, labels.astype(np.int32), x))
    # channels last: the same value, the gradient transposed
    loss = kloss.Lovasz(data_format="channels_last", **opts)
    v, g = _kloss_value_and_grad(loss, labels.astype(np.int32), np.moveaxis(x, 1, -1).copy())
    _check_against(expected, (v, None if g is None else np.moveaxis(g, -1, 1)))


@pytest.mark.parametrize("per_image", [True, False])
@pytest.mark.parametrize("ignore_index", [None, 255])
def test_binary_matches_smp_lovasz_loss(per_image, ignore_index):
    x, labels = _images(1, C=1, ignore=ignore_index, binary=True)
    smp = smp_lovasz_loss("binary", per_image=per_image, ignore_index=ignore_index)
    expected = _smp_value_and_grad(smp, x, labels)
    loss = kloss.Lovasz(
        mode="binary", per_image=per_image, ignore_index=ignore_index, data_format="channels_first"
    )
    _check_against(expected, _kloss_value_and_grad(loss, labels.astype(np.int32), x))
    # labels without the channel axis
    got = kloss.lovasz_loss(
        labels[:, 0].astype(np.int32),
        x,
        mode="binary",
        per_image=per_image,
        ignore_index=ignore_index,
        data_format="channels_first",
    )
    np.testing.assert_allclose(to_numpy(got).mean(), expected[0], **F32)


@pytest.mark.parametrize("per_image", [True, False])
def test_multilabel_is_the_mean_of_smp_binary_per_channel(per_image):
    """kloss: the mean over channels of each channel's Lovasz-hinge; smp's multilabel mode
    pools the channels into one binary problem (equal for one channel: next test)."""
    x, labels = _images(2, C=4, ignore=255, binary=True)
    smp = smp_lovasz_loss("binary", per_image=per_image, ignore_index=255)
    per_channel = [
        _smp_value_and_grad(smp, x[:, c : c + 1], labels[:, c : c + 1]) for c in range(4)
    ]
    expected_value = np.mean([v for v, _ in per_channel])
    expected_grad = np.concatenate([g for _, g in per_channel], axis=1) / 4
    loss = kloss.Lovasz(
        mode="multilabel", per_image=per_image, ignore_index=255, data_format="channels_first"
    )
    got = _kloss_value_and_grad(loss, labels.astype(np.int32), x)
    _check_against((expected_value, expected_grad), got)
    pooled, _ = _smp_value_and_grad(
        smp_lovasz_loss("multilabel", per_image=per_image, ignore_index=255), x, labels
    )
    assert abs(pooled - got[0]) > 1e-3  # the documented difference is real


def test_multilabel_with_one_channel_equals_smp_multilabel():
    x, labels = _images(3, C=1, binary=True)
    expected = _smp_value_and_grad(smp_lovasz_loss("multilabel", per_image=True), x, labels)
    loss = kloss.Lovasz(mode="multilabel", data_format="channels_first")
    _check_against(expected, _kloss_value_and_grad(loss, labels.astype(np.int32), x))


def test_gradient_at_ties_is_smp_with_a_stable_sort(autodiff):
    """Integer logits: many tied hinge errors. kloss sorts stably (ties by pixel index) on
    every backend; so does smp with stable=True, and the gradients agree exactly."""
    x, labels = _images(4, C=1, binary=True)
    x = np.round(x / 2.0).astype(np.float32)
    smp = smp_lovasz_loss("binary", per_image=True, stable=True)
    expected = _smp_value_and_grad(smp, x, labels)
    loss = kloss.Lovasz(mode="binary", data_format="channels_first")
    _check_against(expected, _kloss_value_and_grad(loss, labels.astype(np.int32), x))
    # multiclass: probabilities of tied logits tie too
    xm, lm = _images(5)
    xm = np.round(xm / 3.0).astype(np.float32)
    expected = _smp_value_and_grad(smp_lovasz_loss("multiclass", True, stable=True), xm, lm)
    loss = kloss.Lovasz(data_format="channels_first")
    _check_against(expected, _kloss_value_and_grad(loss, lm.astype(np.int32), xm))


def test_probabilities_equal_smp_on_their_logarithm():
    """from_logits=False takes probabilities as given; smp always applies a softmax, and
    softmax(log p) == p."""
    x, labels = _images(6, ignore=255)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected, _ = _smp_value_and_grad(
        smp_lovasz_loss("multiclass", per_image=True, ignore_index=255), np.log(p), labels
    )
    loss = kloss.Lovasz(from_logits=False, ignore_index=255, data_format="channels_first")
    np.testing.assert_allclose(to_numpy(loss(labels, p.astype(np.float32))), expected, **F32)


# --------------------------------------------------------------------------- the paper


def _integral_form(errors, fg):
    """The Lovasz extension as an integral over thresholds (Lovasz 1983; Berman et al. eq. 8):
    sum_k (e_(k) - e_(k+1)) * Delta(top k), Delta(M) = |M| / |fg u M|; no lovasz_grad."""
    e = np.sort(errors)[::-1]
    order = np.argsort(-errors, kind="stable")
    total = 0.0
    for k in range(1, len(e) + 1):
        top = np.zeros(len(e), bool)
        top[order[:k]] = True
        union = np.logical_or(top, fg).sum()
        nxt = e[k] if k < len(e) else 0.0
        total += (e[k - 1] - nxt) * (top.sum() / union)
    return total


def test_reference_and_kloss_equal_the_integral_form():
    rng = np.random.default_rng(7)
    for mode in ("binary", "multiclass"):
        for _ in range(4):
            if mode == "binary":
                labels = rng.integers(0, 2, size=(1, 2, 5, 1)).astype(np.int32)
                x = rng.normal(scale=2.0, size=(1, 2, 5, 1)).astype(np.float32)
                errors = np.maximum(1.0 - x.ravel() * (2.0 * labels.ravel() - 1.0), 0.0)
                expected = _integral_form(errors.astype(np.float64), labels.ravel() > 0)
            else:
                labels = rng.integers(0, 3, size=(1, 2, 5)).astype(np.int32)
                x = rng.normal(scale=2.0, size=(1, 2, 5, 3)).astype(np.float32)
                p = np.exp(x.astype(np.float64))
                p = (p / p.sum(-1, keepdims=True)).reshape(-1, 3)
                present = [c for c in range(3) if (labels == c).any()]
                expected = np.mean(
                    [
                        _integral_form(np.abs((labels.ravel() == c) - p[:, c]), labels.ravel() == c)
                        for c in present
                    ]
                )
            np.testing.assert_allclose(ref.lovasz(labels, x, mode=mode), [expected], rtol=1e-12)
            got = to_numpy(kloss.lovasz_loss(labels, x, mode=mode))
            np.testing.assert_allclose(got, [expected], **F32)


def test_hard_predictions_give_the_jaccard_loss():
    """At 0/1 errors the Lovasz extension is the Jaccard loss itself (Berman et al. sec. 3):
    multiclass one-hot probabilities give mean over present classes of 1 - IoU; binary
    logits of +-1 give hinge errors 0 or 2, so 2 (1 - IoU)."""
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 4, size=(3, 5, 6)).astype(np.int32)
    labels[0] = np.minimum(labels[0], 1)  # classes 2 and 3 absent from image 0
    pred = rng.integers(0, 4, size=(3, 5, 6))
    onehot = np.eye(4, dtype=np.float32)[pred]
    got = to_numpy(kloss.lovasz_loss(labels, onehot, from_logits=False))
    expected = [
        np.mean([ref.jaccard_loss(pred[b] == c, labels[b] == c) for c in np.unique(labels[b])])
        for b in range(3)
    ]
    np.testing.assert_allclose(got, expected, **F32)
    fg = rng.integers(0, 2, size=(3, 5, 6, 1)).astype(np.int32)
    fg[2] = 0  # an image without foreground
    predicted = rng.integers(0, 2, size=fg.shape)
    x = (2.0 * predicted - 1.0).astype(np.float32)
    got = to_numpy(kloss.lovasz_loss(fg, x, mode="binary"))
    expected = [2.0 * ref.jaccard_loss(predicted[b] > 0, fg[b] > 0) for b in range(3)]
    np.testing.assert_allclose(got, expected, **F32)


def test_empty_image_and_ignored_pixels():
    """No foreground: the binary loss is the largest hinge error (Berman's lovasz_hinge), a
    multiclass image always has a present class unless every pixel is ignored (then 0)."""
    x = np.random.default_rng(9).normal(size=(2, 3, 4, 1)).astype(np.float32)
    empty = np.zeros((2, 3, 4), np.int32)
    got = to_numpy(kloss.lovasz_loss(empty, x, mode="binary"))
    np.testing.assert_allclose(got, np.maximum(1.0 + x, 0).reshape(2, -1).max(-1), **F32)
    ignored = np.full((2, 3, 4), 255, np.int32)
    xm = np.random.default_rng(9).normal(size=(2, 3, 4, 3)).astype(np.float32)
    for mode, pred in (("binary", x), ("multiclass", xm)):
        got = to_numpy(kloss.lovasz_loss(ignored, pred, mode=mode, ignore_index=255))
        np.testing.assert_array_equal(got, [0.0, 0.0])


def test_ignored_pixels_do_not_matter():
    """Whatever the scores of ignored pixels, and removing them entirely, gives the same."""
    rng = np.random.default_rng(10)
    labels = rng.integers(0, 3, size=(2, 4, 6)).astype(np.int32)
    labels[:, :, :2] = 255
    x = rng.normal(size=(2, 4, 6, 3)).astype(np.float32)
    y = x.copy()
    y[:, :, :2] = rng.normal(scale=1e3, size=(2, 4, 2, 3))
    a = to_numpy(kloss.lovasz_loss(labels, x, ignore_index=255))
    b = to_numpy(kloss.lovasz_loss(labels, y, ignore_index=255))
    c = to_numpy(kloss.lovasz_loss(labels[:, :, 2:], x[:, :, 2:]))
    np.testing.assert_allclose(a, b, **F32)
    np.testing.assert_allclose(a, c, **F32)


# --------------------------------------------------------------------------- batch structure


OPTIONS = [
    {},
    {"mode": "binary", "ignore_index": 255},
    {"mode": "multilabel", "data_format": "channels_first"},
]


def _inputs(option, B=4, seed=11):
    from kloss.testing.registry_lovasz import make_inputs

    return make_inputs(np.random.default_rng(seed), (B, 5), option)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.get("mode", "multiclass"))
def test_per_image_rows_are_independent(option):
    y_true, y_pred = _inputs(option)
    loss = kloss.Lovasz(**option, reduction="none")
    batch = to_numpy(loss(y_true, y_pred))
    rows = np.concatenate([to_numpy(loss(y_true[i : i + 1], y_pred[i : i + 1])) for i in range(4)])
    np.testing.assert_allclose(batch, rows, **F32)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.get("mode", "multiclass"))
def test_whole_batch_is_one_image_of_all_pixels(option):
    """per_image=False == per_image=True on the batch's images side by side (B = 1)."""
    y_true, y_pred = _inputs(option)
    whole = to_numpy(kloss.lovasz_loss(y_true, y_pred, per_image=False, **option))
    assert whole.shape == (4,) and np.all(whole == whole[0])
    axis = 2 if option.get("data_format") != "channels_first" else 3  # a spatial axis

    def side_by_side(a):
        # labels without a channel axis have their spatial axes at 1, 2
        ax = axis if a.ndim == y_pred.ndim else 2
        return np.concatenate(list(a), axis=ax - 1)[None]

    one = to_numpy(kloss.lovasz_loss(side_by_side(y_true), side_by_side(y_pred), **option))
    np.testing.assert_allclose(whole[0], one[0], **F32)
    # Keras's default reduction gives the batch value; sample weights scale the rows.
    w = np.array([0.5, 2.0, 0.0, 1.5], np.float32)
    got = to_numpy(kloss.Lovasz(per_image=False, **option)(y_true, y_pred, sample_weight=w))
    np.testing.assert_allclose(got, whole[0] * w.mean(), **F32)


def test_pixel_order_does_not_matter_even_with_ties():
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 3, size=(2, 4, 5)).astype(np.int32)
    x = np.round(rng.normal(size=(2, 4, 5, 3))).astype(np.float32)  # many ties
    perm = rng.permutation(20)

    def shuffle(a):
        flat = a.reshape(2, 20, *a.shape[3:])
        return flat[:, perm].reshape(a.shape)

    for mode, lab, pred in (
        ("multiclass", labels, x),
        ("binary", labels % 2, x[..., :1]),
        ("multilabel", (x > 0).astype(np.int32), x[..., ::-1].copy()),
    ):
        a = to_numpy(kloss.lovasz_loss(lab, pred, mode=mode))
        b = to_numpy(kloss.lovasz_loss(shuffle(lab), shuffle(pred), mode=mode))
        np.testing.assert_allclose(a, b, **F32)
        np.testing.assert_allclose(a, ref.lovasz(lab, pred, mode=mode), **F32)


# --------------------------------------------------------------------------- numerics


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_large_image_matches_the_reference(dtype):
    """66,000 pixels per image: more than float16 holds as a count, and enough that
    differences of Jaccard values would lose digits in float32 (kloss takes them in closed
    form); 16-bit inputs compute in float32."""
    rng = np.random.default_rng(13)
    labels = rng.integers(0, 3, size=(1, 200, 330)).astype(np.int32)
    x = rng.normal(size=(1, 200, 330, 3)).astype(np.float32)
    x = keras.ops.convert_to_numpy(keras.ops.cast(x, dtype))
    got = kloss.lovasz_loss(labels, x, per_image=False)
    assert keras.backend.standardize_dtype(got.dtype) == dtype
    expected = ref.lovasz(labels, x.astype(np.float32), per_image=False)
    tol = F32 if dtype == "float32" else TOL["float16"]
    np.testing.assert_allclose(to_numpy(got), expected, **tol)
    xb = x[..., :1]
    got = kloss.lovasz_loss(labels % 2, xb, mode="binary")
    np.testing.assert_allclose(
        to_numpy(got), ref.lovasz(labels % 2, xb.astype(np.float32), mode="binary"), **tol
    )


@pytest.mark.parametrize("mode", ["multiclass", "binary", "multilabel"])
def test_extreme_logits_give_finite_values_and_gradients(mode, autodiff):
    rng = np.random.default_rng(14)
    C = 1 if mode == "binary" else 3
    x = (1e4 * np.sign(rng.normal(size=(2, 3, 4, C)))).astype(np.float32)
    if mode == "multiclass":
        labels = rng.integers(0, C, size=(2, 3, 4)).astype(np.int32)
    else:
        labels = rng.integers(0, 2, size=(2, 3, 4, C)).astype(np.int32)
    for from_logits in (True, False):
        pred = x if from_logits else (x > 0).astype(np.float32)
        loss = kloss.Lovasz(mode=mode, from_logits=from_logits)
        v, g = value_and_grad(lambda p, loss=loss: loss(labels, p), pred)
        assert np.isfinite(v) and np.all(np.isfinite(g)), (from_logits, v)
        np.testing.assert_allclose(
            v, ref.lovasz(labels, pred, mode=mode, from_logits=from_logits).mean(), **F32
        )


def test_gradient_at_zero_error_is_zero(autodiff):
    """|fg - p| has gradient 0 where p == fg exactly (jax's abs would give 1 there)."""
    labels = np.array([[[0, 1], [1, 0]]], np.int32)
    p = np.eye(2, dtype=np.float32)[labels]
    p[0, 0, 0] = [0.7, 0.3]
    _, g = value_and_grad(lambda q: kloss.Lovasz(from_logits=False)(labels, q), p)
    assert np.all(g[0, 1] == 0) and np.all(g[0, 0, 1] == 0)
    assert np.any(g[0, 0, 0] != 0)


# --------------------------------------------------------------------------- compiled


def test_compiled_with_unknown_batch_size(autodiff):
    rng = np.random.default_rng(15)
    cases = [
        ({}, rng.integers(0, 4, size=(5, 6, 7)).astype(np.int32), (6, 7, 4)),
        ({"mode": "binary", "ignore_index": 255}, None, (6, 7, 1)),
        ({"mode": "multilabel", "per_image": False, "data_format": "channels_first"}, None, None),
    ]
    for option, labels, pshape in cases:
        if labels is None:
            labels, pred = _inputs(option, B=5, seed=16)
        else:
            pred = rng.normal(size=(5, *pshape)).astype(np.float32)
        loss = kloss.Lovasz(**option)
        eager_v, eager_g = value_and_grad(lambda p, loss=loss: loss(labels, p), pred)
        name = backend()
        if name == "tensorflow":
            import tensorflow as tf

            @tf.function(
                jit_compile=True,
                input_signature=[
                    tf.TensorSpec((None, *labels.shape[1:]), tf.int32),
                    tf.TensorSpec((None, *pred.shape[1:]), tf.float32),
                ],
            )
            def step(t, p, loss=loss):
                with tf.GradientTape() as tape:
                    tape.watch(p)
                    v = loss(t, p)
                return v, tape.gradient(v, p)

            v, g = step(labels, pred)
            v3, _ = step(labels[:3], pred[:3])
        elif name == "jax":
            import jax

            step = jax.jit(jax.value_and_grad(lambda p, t, loss=loss: loss(t, p)))
            v, g = step(pred, labels)
            v3, _ = step(pred[:3], labels[:3])
        else:
            torch, _ = _torch()

            def f(t, p, loss=loss):
                v = loss(t, p)
                (g,) = torch.autograd.grad(v, p)
                return v, g

            step = torch.compile(f, dynamic=True)
            p = torch.tensor(pred, requires_grad=True)
            v, g = step(torch.tensor(labels), p)
            p3 = torch.tensor(pred[:3], requires_grad=True)
            v3, _ = step(torch.tensor(labels[:3]), p3)
            v, g, v3 = v.detach(), g.detach(), v3.detach()
        np.testing.assert_allclose(to_numpy(v), eager_v, **F32)
        np.testing.assert_allclose(to_numpy(g), eager_g, rtol=1e-5, atol=1e-7)
        expected3 = ref.lovasz(labels[:3], pred[:3], **option).mean()
        np.testing.assert_allclose(to_numpy(v3), expected3, **F32)


# --------------------------------------------------------------------------- options, errors


def test_data_format_none_follows_keras_config():
    x, labels = _images(17)
    expected = to_numpy(kloss.lovasz_loss(labels, x, data_format="channels_first"))
    before = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        loss = kloss.Lovasz()  # read at construction
        np.testing.assert_allclose(to_numpy(kloss.lovasz_loss(labels, x)), expected, **F32)
    finally:
        keras.config.set_image_data_format(before)
    assert loss.data_format == "channels_first"
    assert loss.get_config()["data_format"] == "channels_first"
    np.testing.assert_allclose(to_numpy(loss(labels, x)), expected.mean(), **F32)


def test_integer_labels_are_read_before_keras_casts_them():
    """Label 257 in a bfloat16 loss stays 257 (Keras would cast it to 256)."""
    labels = np.array([[[257, 256], [3, 257]]], np.int32)
    x = np.random.default_rng(18).normal(size=(1, 2, 2, 258)).astype(np.float32)
    loss = kloss.Lovasz(dtype="bfloat16", reduction="none")
    got = to_numpy(loss(labels, keras.ops.cast(x, "bfloat16")))
    xb = to_numpy(keras.ops.cast(x, "bfloat16"))
    np.testing.assert_allclose(got, ref.lovasz(labels, xb), **TOL["bfloat16"])


_MAKE = {
    "class": lambda **kw: kloss.Lovasz(**kw),
    "function": lambda **kw: kloss.lovasz_loss(
        np.zeros((1, 2, 2), np.int32), np.zeros((1, 2, 2, 3), np.float32), **kw
    ),
}


@pytest.mark.parametrize("kind", ["class", "function"])
@pytest.mark.parametrize(
    "kwargs,exc,fragment",
    [
        (
            {"mode": "multiclas"},
            ValueError,
            "Received: mode='multiclas'. Did you mean \"multiclass\"",
        ),
        ({"mode": "softmax"}, ValueError, "`mode` must be one of ['binary', 'multiclass'"),
        (
            {"data_format": "channel_first"},
            ValueError,
            "data_format='channel_first'. Did you mean \"channels_first\"",
        ),
        ({"per_image": 1}, TypeError, "`per_image` must be True or False. Received: per_image=1"),
        ({"from_logits": "yes"}, TypeError, "`from_logits` must be True or False"),
        (
            {"ignore_index": 2.5},
            TypeError,
            "`ignore_index` must be an int. Received: ignore_index=2.5",
        ),
    ],
)
def test_argument_errors(kind, kwargs, exc, fragment):
    owner = "Lovasz" if kind == "class" else "lovasz_loss"
    with pytest.raises(exc) as info:
        _MAKE[kind](**kwargs)
    assert str(info.value).startswith(f"{owner}: ")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "kwargs,y_true,y_pred,fragment",
    [
        (
            {},
            np.zeros((2, 3, 5), np.int32),
            np.zeros((2, 3, 4, 5)),
            "y_true.shape=(2, 3, 5), y_pred.shape=(2, 3, 4, 5) (expected y_true.shape=(2, 3, 4))",
        ),
        (
            {"data_format": "channels_first"},
            np.zeros((2, 3, 4), np.int32),
            np.zeros((2, 3, 4, 5)),
            "(expected y_true.shape=(2, 4, 5)). y_true holds one class index per pixel",
        ),
        (
            {"mode": "multilabel"},
            np.zeros((2, 3, 4), np.int32),
            np.zeros((2, 3, 4, 2)),
            "y_true.shape=(2, 3, 4), y_pred.shape=(2, 3, 4, 2)",
        ),
        (
            {"mode": "binary"},
            np.zeros((2, 3, 4), np.int32),
            np.zeros((2, 3, 4, 2)),
            'mode="binary" takes one channel',
        ),
        ({}, np.zeros((2,), np.int32), np.zeros((2, 3)), "`y_pred` must have rank >= 3"),
    ],
)
def test_shape_errors_name_both_shapes(kwargs, y_true, y_pred, fragment):
    for call, owner in ((kloss.Lovasz(**kwargs), "Lovasz"), (kloss.lovasz_loss, "lovasz_loss")):
        kw = {} if owner == "Lovasz" else kwargs
        with pytest.raises(ValueError) as info:
            call(y_true, y_pred.astype(np.float32), **kw)
        assert str(info.value).startswith(f"{owner}: ") and fragment in str(info.value)


def test_float_labels_for_multiclass_raise():
    with pytest.raises(TypeError, match='`y_true` must hold integer class indices for mode="multi'):
        kloss.lovasz_loss(np.zeros((1, 2, 2), np.float32), np.zeros((1, 2, 2, 3), np.float32))
    # binary and multilabel take float {0, 1} masks
    got = kloss.lovasz_loss(
        np.ones((1, 2, 2, 1), np.float32), np.zeros((1, 2, 2, 1), np.float32), mode="binary"
    )
    np.testing.assert_allclose(to_numpy(got), [1.0], **F32)


def test_function_and_class_agree_for_every_option():
    for values in itertools.product(["multiclass", "binary", "multilabel"], [True, False]):
        option = dict(zip(("mode", "per_image"), values, strict=True))
        y_true, y_pred = _inputs(option, B=3, seed=19)
        a = to_numpy(kloss.Lovasz(**option, reduction="none")(y_true, y_pred))
        b = to_numpy(kloss.lovasz_loss(y_true, y_pred, **option))
        np.testing.assert_array_equal(a, b)

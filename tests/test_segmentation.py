"""Segmentation losses: MONAI, torch and segmentation_models_pytorch-equivalent oracles, the
exact relations where conventions differ, the semantics of empty masks, soft labels,
ignored pixels and whole-batch statistics, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import segmentation as ref
from tests.helpers import TOL, to_numpy, value_and_grad

F32 = TOL["float32"]
OVERLAP = [kloss.Dice, kloss.Jaccard, kloss.Tversky, kloss.FocalTversky, kloss.GeneralizedDice]


def _torch():
    return pytest.importorskip("torch")


def _monai():
    pytest.importorskip("monai")
    import monai.losses

    return monai.losses


def _np(x):
    return to_numpy(x)


def _cf(x):
    """channels last (B, ..., C) -> channels first (B, C, ...)."""
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def _images(seed, shape=(3, 6, 5), C=3, mode="multiclass", logits=True, ignore=None):
    """(labels, y_pred) channels last: class indices for multiclass, else {0, 1} masks."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=shape + (C,)).astype(np.float32)
    if not logits:
        x = (
            (np.exp(x) / np.exp(x).sum(-1, keepdims=True))
            if mode == "multiclass"
            else 1 / (1 + np.exp(-x))
        )
        x = x.astype(np.float32)
    if mode == "multiclass":
        y = rng.integers(0, C, size=shape)
        y[0] = np.minimum(y[0], C - 2)  # image 0 lacks the last class
        if ignore is not None:
            y.reshape(-1)[::4] = ignore
        return y.astype(np.int32), x
    y = rng.integers(0, 2, size=shape + (C,)).astype(np.float32)
    y[0, ..., -1] = 0.0
    if ignore is not None:
        y.reshape(-1)[1::5] = ignore
    return y, x


def _monai_per_image(out, per_image):
    """MONAI's reduction="none" output (B, C, 1, 1) or (C, 1, 1) -> the class mean per row."""
    out = out.detach().numpy().astype(np.float64)
    if per_image:
        return out.reshape(out.shape[0], -1).mean(-1)
    return np.array([out.mean()])


def _check_against_monai(got, expected, per_image, batch):
    got = _np(got)
    assert got.shape == (batch,)
    if not per_image:
        np.testing.assert_allclose(got, np.full(batch, expected[0]), **F32)
    else:
        np.testing.assert_allclose(got, expected, **F32)


# --------------------------------------------------------------------------- MONAI oracles

MONAI_CASES = [
    dict(mode="multiclass", labels="index"),
    dict(mode="multiclass", labels="index", per_image=False, include_background=False),
    dict(mode="multiclass", labels="onehot", logits=False),
    dict(mode="multiclass", labels="index", ignore_index=255),
    dict(mode="multiclass", labels="index", ignore_index=1),
    dict(mode="multiclass", labels="onehot", ignore_index=-1),
    dict(mode="multiclass", labels="onehot", ignore_index=2, per_image=False),
    dict(mode="binary", labels="mask", C=1, ignore_index=255),
    dict(mode="multilabel", labels="mask", include_background=False),
    dict(mode="multilabel", labels="soft", per_image=False),
    dict(mode="multiclass", labels="index", volume=True),
]


def _monai_inputs(case, seed=0):
    """kloss inputs (channels last), MONAI inputs (channels first) and the shared options."""
    torch = _torch()
    mode, C = case["mode"], case.get("C", 3)
    shape = (2, 3, 4, 5) if case.get("volume") else (3, 6, 5)
    y, x = _images(seed, shape, C, mode, case.get("logits", True), case.get("ignore_index"))
    if case["labels"] == "onehot":
        y = (y[..., None] == np.arange(C)).astype(np.float32)
    if case["labels"] == "soft":
        y = np.random.default_rng(seed + 1).uniform(size=y.shape).astype(np.float32)
    options = dict(
        mode=mode,
        from_logits=case.get("logits", True),
        per_image=case.get("per_image", True),
        include_background=case.get("include_background", True),
        ignore_index=case.get("ignore_index"),
    )
    y_m = _cf(y[..., None] if y.ndim == x.ndim - 1 else y)
    monai_kw = dict(
        include_background=options["include_background"],
        to_onehot_y=case["labels"] == "index",
        sigmoid=options["from_logits"] and mode != "multiclass",
        softmax=options["from_logits"] and mode == "multiclass",
        batch=not options["per_image"],
        soft_label=True,
        reduction="none",
    )
    return (y, x), (torch.tensor(_cf(x)), torch.tensor(y_m)), options, monai_kw


@pytest.mark.parametrize("case", MONAI_CASES, ids=[str(i) for i in range(len(MONAI_CASES))])
def test_dice_matches_monai(case):
    losses = _monai()
    (y, x), (xm, ym), options, kw = _monai_inputs(case)
    expected = _monai_per_image(
        losses.DiceLoss(ignore_index=options["ignore_index"], **kw)(xm, ym), options["per_image"]
    )
    got = kloss.Dice(**options, reduction="none")(y, x)
    _check_against_monai(got, expected, options["per_image"], x.shape[0])
    # Channels first gives the same values.
    y_cf = y if y.ndim == x.ndim - 1 else _cf(y)
    got_cf = kloss.dice(y_cf, _cf(x), data_format="channels_first", **options)
    _check_against_monai(got_cf, expected, options["per_image"], x.shape[0])


@pytest.mark.parametrize("case", MONAI_CASES, ids=[str(i) for i in range(len(MONAI_CASES))])
@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.3, 0.7), (0.9, 0.1)])
def test_tversky_and_focal_tversky_match_monai(case, alpha, beta):
    losses = _monai()
    (y, x), (xm, ym), options, kw = _monai_inputs(case)
    out = losses.TverskyLoss(alpha=alpha, beta=beta, ignore_index=options["ignore_index"], **kw)(
        xm, ym
    )
    expected = _monai_per_image(out, options["per_image"])
    got = kloss.Tversky(alpha=alpha, beta=beta, **options, reduction="none")(y, x)
    _check_against_monai(got, expected, options["per_image"], x.shape[0])
    # Focal Tversky: MONAI's per-class Tversky loss raised to gamma, then the class mean.
    per_class = out.detach().numpy().astype(np.float64)
    for gamma in (0.75, 2.0):
        powered = np.maximum(per_class, 0.0) ** gamma
        expected = powered.reshape(powered.shape[0], -1).mean(-1)
        if not options["per_image"]:
            expected = np.array([powered.mean()])
        loss = kloss.FocalTversky(alpha=alpha, beta=beta, gamma=gamma, **options, reduction="none")
        _check_against_monai(loss(y, x), expected, options["per_image"], len(x))


@pytest.mark.parametrize("case", MONAI_CASES, ids=[str(i) for i in range(len(MONAI_CASES))])
def test_jaccard_matches_monai_with_twice_the_smoothing(case):
    losses = _monai()
    (y, x), (xm, ym), options, kw = _monai_inputs(case)
    for smooth in (1e-5, 0.5):
        monai = losses.DiceLoss(
            jaccard=True,
            smooth_nr=2 * smooth,
            smooth_dr=2 * smooth,
            ignore_index=options["ignore_index"],
            **kw,
        )
        expected = _monai_per_image(monai(xm, ym), options["per_image"])
        got = kloss.Jaccard(smooth=smooth, **options, reduction="none")(y, x)
        _check_against_monai(got, expected, options["per_image"], x.shape[0])


GDL_CASES = [c for c in MONAI_CASES if c.get("ignore_index") is None] + [
    dict(mode="multiclass", labels="index", ignore_index=255),
    dict(mode="multiclass", labels="onehot", ignore_index=-1, per_image=False),
]


@pytest.mark.parametrize("case", GDL_CASES, ids=[str(i) for i in range(len(GDL_CASES))])
def test_generalized_dice_matches_monai(case):
    losses = _monai()
    torch = _torch()
    (y, x), (xm, ym), options, kw = _monai_inputs(case)
    if options["ignore_index"] is not None:
        # MONAI's GeneralizedDiceLoss has no ignore_index: mask its inputs as kloss does.
        C = x.shape[-1]
        if ym.shape[1] == 1:
            mask = (ym != options["ignore_index"]).float()
            ym = (
                torch.nn.functional.one_hot(torch.where(mask > 0, ym, 0).long()[:, 0], C)
                .permute(0, 3, 1, 2)
                .float()
            )
            kw["to_onehot_y"] = False
        else:
            mask = (ym.sum(1, keepdim=True) > 0).float()
        xm = torch.softmax(xm, 1) * mask
        ym = ym * mask
        kw["softmax"] = False
        options_monai = dict(kw)
    else:
        options_monai = dict(kw)
    out = losses.GeneralizedDiceLoss(**options_monai)(xm, ym)
    expected = out.detach().numpy().astype(np.float64).reshape(-1)
    got = kloss.GeneralizedDice(**options, reduction="none")(y, x)
    _check_against_monai(got, expected, options["per_image"], x.shape[0])


def test_generalized_dice_zero_volume_classes_as_monai():
    """A class absent from an image gets the largest weight of its present classes; an image
    with every class absent (background excluded, background only) scores 0 (MONAI)."""
    losses = _monai()
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    y = np.zeros((2, 4, 4), np.int32)
    y[1, :2, :2] = 1  # image 0: background only; image 1: no class 2
    for include_background in (True, False):
        monai = losses.GeneralizedDiceLoss(
            include_background=include_background, to_onehot_y=True, softmax=True,
            soft_label=True, reduction="none",
        )  # fmt: skip
        expected = monai(torch.tensor(_cf(x)), torch.tensor(y[:, None])).numpy().reshape(-1)
        got = _np(kloss.GeneralizedDice(from_logits=True, include_background=include_background)
                  .call(y, x))  # fmt: skip
        np.testing.assert_allclose(got, expected, **F32)
        np.testing.assert_allclose(got, ref.generalized_dice(y, x, from_logits=True,
                                   include_background=include_background), **F32)  # fmt: skip
    # Image 0 without the background has no class at all: 1 - s / s = 0.
    assert got[0] == 0.0


def test_monai_product_form_is_identical_for_hard_labels_only():
    """MONAI's default soft_label=False uses sum(p t): the same for hard labels; for soft
    labels kloss's sum(min(p, t)) is MONAI's soft_label=True (loss(y, y) == 0)."""
    losses = _monai()
    torch = _torch()
    (y, x), (xm, ym), options, kw = _monai_inputs(dict(mode="multilabel", labels="mask"))
    kw["soft_label"] = False
    expected = _monai_per_image(losses.DiceLoss(**kw)(xm, ym), True)
    np.testing.assert_allclose(_np(kloss.dice(y, x, **options)), expected, **F32)
    soft = np.random.default_rng(9).uniform(size=(2, 5, 5, 2)).astype(np.float32)
    product = losses.DiceLoss(reduction="none")(torch.tensor(_cf(soft)), torch.tensor(_cf(soft)))
    assert product.min().item() > 1e-3  # the product form does not vanish at y_pred == y
    np.testing.assert_allclose(_np(kloss.dice(soft, soft, mode="multilabel")), 0.0, atol=1e-6)


@pytest.mark.parametrize("mode", ["binary", "multiclass"])
def test_gradient_for_hard_labels_is_that_of_the_product_form(mode, autodiff):
    """MONAI's soft_label=False (sum(p t)) gradient, also at exact 0 and 1 predictions, where
    |p - t| has its kink."""
    losses = _monai()
    torch = _torch()
    C = 1 if mode == "binary" else 3
    y, _ = _images(13, (2, 4, 5), C, mode)
    t = y if mode == "binary" else (y[..., None] == np.arange(C)).astype(np.float32)
    p = np.random.default_rng(14).uniform(size=t.shape).astype(np.float32)
    p[:, :2] = t[:, :2]  # exact hits on some pixels, 0 and 1 included
    p[:, 3] = 1.0 - t[:, 3]  # exact misses
    xm = torch.tensor(_cf(p), requires_grad=True)
    monai = losses.DiceLoss(smooth_nr=1e-5, smooth_dr=1e-5)(xm, torch.tensor(_cf(t)))
    (g_monai,) = torch.autograd.grad(monai, xm)
    v, g = value_and_grad(lambda q: kloss.Dice(mode=mode)(y, q), p)
    np.testing.assert_allclose(v, monai.item(), **F32)
    np.testing.assert_allclose(g, np.moveaxis(g_monai.numpy(), 1, -1), rtol=1e-5, atol=1e-7)


def test_class_weights_relation_to_monai():
    """MONAI's mean over classes of w_c l_c is sum(w) / C times kloss's weighted mean; with
    include_background=False MONAI takes the weights of the kept classes only."""
    losses = _monai()
    (y, x), (xm, ym), options, kw = _monai_inputs(dict(mode="multiclass", labels="index"))
    w = [0.5, 1.0, 2.5]
    for include_background in (True, False):
        kw["include_background"] = options["include_background"] = include_background
        kept = w if include_background else w[1:]
        monai = losses.DiceLoss(weight=kept, **kw)(xm, ym)
        expected = _monai_per_image(monai, True) * len(kept) / sum(kept)
        got = kloss.Dice(class_weights=w, **options, reduction="none")(y, x)
        np.testing.assert_allclose(_np(got), expected, **F32)


def test_binary_focal_crossentropy_matches_monai_focal_loss():
    losses = _monai()
    torch = _torch()
    rng = np.random.default_rng(4)
    x = rng.normal(scale=2.0, size=(3, 2, 5, 4)).astype(np.float32)
    t = rng.integers(0, 2, size=x.shape).astype(np.float32)
    for alpha, gamma in ((0.25, 2.0), (None, 0.5)):
        monai = losses.FocalLoss(gamma=gamma, alpha=alpha, use_softmax=False, reduction="mean")
        expected = monai(torch.tensor(x), torch.tensor(t)).item()
        got = kloss.BinaryFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=True)(t, x)
        np.testing.assert_allclose(_np(got), expected, **F32)


# --------------------------------------------------------------------------- smp Jaccard


def _smp_jaccard(y, x, smooth=0.0, eps=1e-7, ignore_index=None):
    """segmentation_models_pytorch's JaccardLoss(mode="multiclass", from_logits=True),
    written from its definition: whole-batch sums (dims (0, 2)), and classes absent from
    the batch's labels get loss 0."""
    torch = _torch()
    logits = torch.tensor(_cf(x), dtype=torch.float64)
    B, C = logits.shape[:2]
    p = logits.softmax(dim=1).view(B, C, -1)
    t = torch.tensor(y).long().view(B, -1)
    if ignore_index is not None:
        mask = t != ignore_index
        p = p * mask.unsqueeze(1)
        t = torch.nn.functional.one_hot((t * mask).long(), C) * mask.unsqueeze(-1)
    else:
        t = torch.nn.functional.one_hot(t, C)
    t = t.permute(0, 2, 1).double()
    intersection = (p * t).sum(dim=(0, 2))
    union = (p + t).sum(dim=(0, 2)) - intersection
    score = (intersection + smooth) / (union + smooth).clamp_min(eps)
    loss = 1.0 - score
    loss = loss * (t.sum(dim=(0, 2)) > 0).double()
    return loss.mean().item()


@pytest.mark.parametrize("ignore_index", [None, 255])
def test_jaccard_matches_smp_when_every_class_is_present(ignore_index):
    rng = np.random.default_rng(2)
    x = rng.normal(scale=2.0, size=(3, 6, 5, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=(3, 6, 5)).astype(np.int32)
    if ignore_index is not None:
        y.reshape(-1)[::4] = ignore_index
    for smooth in (1e-5, 1.0):
        loss = kloss.Jaccard(
            from_logits=True, smooth=smooth, per_image=False, ignore_index=ignore_index
        )
        expected = _smp_jaccard(y, x, smooth=smooth, ignore_index=ignore_index)
        np.testing.assert_allclose(_np(loss(y, x)), expected, **F32)


def test_jaccard_differs_from_smp_on_a_class_absent_from_the_batch():
    """smp gives an absent class loss 0, whatever is predicted; kloss penalizes its false
    positives (loss near 1 per such class)."""
    rng = np.random.default_rng(2)
    x = rng.normal(scale=2.0, size=(2, 4, 4, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=(2, 4, 4)).astype(np.int32)  # class 2 absent
    loss = kloss.Jaccard(from_logits=True, per_image=False, reduction="none")
    got = _np(loss(y, x))[0]
    kept = _np(
        kloss.Jaccard(from_logits=True, per_image=False, class_weights=[1.0, 1.0, 0.0])(y, x)
    )
    absent = 3 * got - 2 * kept  # kloss's loss of class 2
    smp = _smp_jaccard(y, x, smooth=1e-5)
    np.testing.assert_allclose(smp, 2 * kept / 3, **F32)  # class 2 counts as 0 in smp's mean
    assert absent > 0.9


# --------------------------------------------------------------------------- torch CE oracle

CE_OPTIONS = [
    {},
    {"label_smoothing": 0.2},
    {"class_weights": [1.0, 2.0, 0.5, 0.0]},
    {"ignore_index": 255},
    {"ignore_index": 1},
    {"class_weights": [1.0, 2.0, 0.5, 3.0], "ignore_index": -100, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("options", CE_OPTIONS, ids=[str(i) for i in range(len(CE_OPTIONS))])
def test_pixelwise_crossentropy_matches_torch(options, data_format):
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.normal(scale=2.0, size=(3, 5, 4, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=(3, 5, 4)).astype(np.int32)
    if options.get("ignore_index") is not None:
        y.reshape(-1)[::3] = options["ignore_index"]
    torch_kw = dict(label_smoothing=options.get("label_smoothing", 0.0))
    if "class_weights" in options:
        torch_kw["weight"] = torch.tensor(options["class_weights"])
    if options.get("ignore_index") is not None:
        torch_kw["ignore_index"] = options["ignore_index"]
    tx, ty = torch.tensor(_cf(x)), torch.tensor(y).long()
    xin = _cf(x) if data_format == "channels_first" else x
    loss = kloss.PixelwiseCrossentropy(from_logits=True, data_format=data_format, **options)
    # The default reduction is torch's default, the weighted mean over valid pixels.
    expected = F.cross_entropy(tx, ty, **torch_kw).item()
    np.testing.assert_allclose(_np(loss(y, xin)), expected, **F32)
    # Per image: torch's reduction="none" summed over the image, over the image's weights.
    per_pixel = F.cross_entropy(tx, ty, reduction="none", **torch_kw).numpy().reshape(3, -1)
    ignore = options.get("ignore_index")
    valid = np.ones(y.shape, bool) if ignore is None else y != ignore
    w = np.ones(y.shape) if "weight" not in torch_kw else np.asarray(options["class_weights"])
    if "weight" in torch_kw:
        w = w[np.where(valid, y, 0)]
    w = (w * valid).reshape(3, -1)
    per_image = per_pixel.sum(-1) / w.sum(-1)
    got = kloss.pixelwise_crossentropy(
        y[..., None] if data_format == "channels_last" else y[:, None],
        xin,
        from_logits=True,
        data_format=data_format,
        **options,
    )
    np.testing.assert_allclose(_np(got), per_image, **F32)
    # A sample weight per image: sum_i s_i L_i / sum_i s_i W_i.
    s = np.array([0.5, 2.0, 1.0], np.float32)
    totals, weights = per_pixel.sum(-1), w.sum(-1)
    expected = (s * totals).sum() / (s * weights).sum()
    if not options.get("class_weights") and options.get("ignore_index") is None:
        expected = (s * per_image).sum() / 3  # Keras's sum_over_batch_size
    np.testing.assert_allclose(_np(loss(y, xin, sample_weight=s)), expected, **F32)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pixelwise_crossentropy_one_hot_matches_torch_probability_targets(data_format):
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    x = rng.normal(scale=2.0, size=(2, 4, 5, 3)).astype(np.float32)
    t = rng.dirichlet(np.ones(3), size=(2, 4, 5)).astype(np.float32)
    w = [1.0, 0.5, 2.0]
    for ls in (0.0, 0.1):
        expected = F.cross_entropy(
            torch.tensor(_cf(x)), torch.tensor(_cf(t)), weight=torch.tensor(w), label_smoothing=ls
        ).item()
        loss = kloss.PixelwiseCrossentropy(
            from_logits=True, class_weights=w, label_smoothing=ls, data_format=data_format
        )
        args = (_cf(t), _cf(x)) if data_format == "channels_first" else (t, x)
        np.testing.assert_allclose(_np(loss(*args)), expected, **F32)


def test_pixelwise_crossentropy_3d_and_probabilities():
    rng = np.random.default_rng(8)
    p = rng.dirichlet(np.ones(3), size=(2, 3, 4, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=(2, 3, 4, 2)).astype(np.int32)
    got = kloss.pixelwise_crossentropy(y, p)
    expected = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0]).reshape(2, -1).mean(-1)
    np.testing.assert_allclose(_np(got), expected, **F32)


# --------------------------------------------------------------------------- semantics


@pytest.mark.parametrize("cls", OVERLAP, ids=lambda c: c.__name__)
def test_perfect_prediction_of_an_empty_mask_is_zero(cls):
    z = np.zeros((2, 8, 8, 1), np.float32)
    np.testing.assert_array_equal(_np(cls(mode="binary", reduction="none")(z, z)), 0.0)
    np.testing.assert_array_equal(_np(cls(mode="binary", per_image=False)(z, z)), 0.0)
    onehot = np.zeros((2, 8, 8, 3), np.float32)
    onehot[..., 0] = 1.0  # background only
    np.testing.assert_allclose(_np(cls(reduction="none")(onehot, onehot)), 0.0, atol=1e-7)


def test_keras_dice_scores_an_empty_mask_predicted_empty_as_worst():
    z = np.zeros((2, 8, 8, 1), np.float32)
    assert float(keras.losses.Dice()(z, z)) == 1.0  # kloss.Dice gives 0 (above)


@pytest.mark.parametrize("cls", OVERLAP[:4], ids=lambda c: c.__name__)
def test_false_positives_on_an_empty_image_are_pushed_down(cls, autodiff):
    t = np.zeros((2, 6, 6, 1), np.float32)
    p = np.full_like(t, 0.4)
    loss = cls(mode="binary")
    v, g = value_and_grad(lambda q: loss(t, q), p)
    assert v > 0.9
    assert np.all(g > 0)  # descending the gradient lowers every false positive


def test_generalized_dice_on_an_image_with_every_class_absent_has_no_gradient(autodiff):
    """MONAI's choice, documented: every weight is 0 there."""
    t = np.zeros((1, 4, 4, 1), np.float32)
    v, g = value_and_grad(lambda q: kloss.GeneralizedDice(mode="binary")(t, q), t + 0.4)
    assert v == 0.0 and np.all(g == 0.0)


@pytest.mark.parametrize("cls", OVERLAP, ids=lambda c: c.__name__)
@pytest.mark.parametrize("mode", ["binary", "multilabel", "multiclass"])
def test_soft_labels_equal_to_the_prediction_give_zero(cls, mode, autodiff):
    rng = np.random.default_rng(1)
    C = 1 if mode == "binary" else 3
    y = rng.uniform(size=(3, 7, 6, C)).astype(np.float32)
    if mode == "multiclass":
        y = y / y.sum(-1, keepdims=True)
    loss = cls(mode=mode, per_image=mode != "multilabel")
    v, g = value_and_grad(lambda q: loss(y, q), y)
    np.testing.assert_allclose(v, 0.0, atol=2e-6)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("cls", OVERLAP, ids=lambda c: c.__name__)
@pytest.mark.parametrize("mode", ["binary", "multiclass"])
def test_ignored_pixels_count_nowhere(cls, mode):
    """Ignoring a column equals removing it from the image."""
    C = 1 if mode == "binary" else 3
    y, x = _images(4, (2, 5, 6), C, mode)
    y_ignored = y.copy()
    y_ignored[:, :, 2] = 255
    x_noise = x.copy()
    x_noise[:, :, 2] = 7.0  # whatever is predicted there
    keep = [0, 1, 3, 4, 5]
    for per_image in (True, False):
        loss = cls(mode=mode, from_logits=True, ignore_index=255, per_image=per_image)
        plain = cls(mode=mode, from_logits=True, per_image=per_image)
        got = _np(loss.call(y_ignored, x_noise))
        expected = _np(plain.call(y[:, :, keep], x[:, :, keep]))
        np.testing.assert_allclose(got, expected, **F32)


@pytest.mark.parametrize("cls", OVERLAP, ids=lambda c: c.__name__)
def test_whole_batch_statistics_are_those_of_one_big_image(cls):
    y, x = _images(5, (3, 4, 5), 3)
    got = _np(cls(from_logits=True, per_image=False, reduction="none")(y, x))
    assert got.shape == (3,)
    tall = _np(cls(from_logits=True, reduction="none")(y.reshape(1, 12, 5), x.reshape(1, 12, 5, 3)))
    np.testing.assert_allclose(got, np.full(3, tall[0]), **F32)
    # The default reduction gives that value; "sum" B times it.
    np.testing.assert_allclose(_np(cls(from_logits=True, per_image=False)(y, x)), tall[0], **F32)


@pytest.mark.parametrize("cls", OVERLAP + [kloss.PixelwiseCrossentropy], ids=lambda c: c.__name__)
def test_per_image_losses_are_independent_per_row(cls):
    y, x = _images(6, (4, 5, 4), 3)
    loss = cls(from_logits=True, reduction="none")
    batch = _np(loss(y, x))
    rows = np.concatenate([_np(loss(y[i : i + 1], x[i : i + 1])) for i in range(4)])
    np.testing.assert_allclose(batch, rows, **F32)


@pytest.mark.parametrize("cls", OVERLAP + [kloss.PixelwiseCrossentropy], ids=lambda c: c.__name__)
def test_float16_256x256_masks_do_not_overflow(cls):
    rng = np.random.default_rng(0)
    if cls is kloss.PixelwiseCrossentropy:
        t = rng.integers(0, 2, size=(2, 256, 256)).astype(np.int32)
        p = rng.uniform(0.05, 0.95, size=(2, 256, 256, 1))
        p = np.concatenate([1 - p, p], -1).astype(np.float16)
        expected = ref.pixelwise_crossentropy(t, p.astype(np.float64))
        kwargs = {}
    else:
        t = (rng.uniform(size=(2, 256, 256, 1)) > 0.3).astype(np.float16)
        p = rng.uniform(size=(2, 256, 256, 1)).astype(np.float16)
        expected = getattr(ref, cls(mode="binary").name)(t, p, mode="binary")
        kwargs = {"mode": "binary"}
    got = cls(**kwargs, reduction="none", dtype="float16")(t, p)
    assert keras.backend.standardize_dtype(got.dtype) == "float16"
    np.testing.assert_allclose(_np(got), expected, **TOL["float16"])
    np.testing.assert_allclose(_np(cls(**kwargs, reduction="none")(t, p)), expected, rtol=1e-4)


@pytest.mark.parametrize("cls", OVERLAP, ids=lambda c: c.__name__)
def test_volumes_match_the_reference(cls):
    y, x = _images(7, (2, 3, 4, 5), 3)
    expected = getattr(ref, cls().name)(y, x, from_logits=True)
    np.testing.assert_allclose(_np(cls(from_logits=True, reduction="none")(y, x)), expected, **F32)


def test_include_background_has_no_effect_in_binary_mode():
    y, x = _images(8, (2, 5, 5), 1, "binary")
    a = kloss.dice(y, x, mode="binary", from_logits=True)
    b = kloss.dice(y, x, mode="binary", from_logits=True, include_background=False)
    np.testing.assert_array_equal(_np(a), _np(b))


def test_binary_labels_without_the_channel_axis():
    y, x = _images(9, (2, 5, 5), 1, "binary")
    for fn in (kloss.dice, kloss.tversky, kloss.generalized_dice):
        a = fn(y, x, mode="binary", from_logits=True)
        b = fn(y[..., 0], x, mode="binary", from_logits=True)
        np.testing.assert_array_equal(_np(a), _np(b))


def test_tversky_special_cases():
    y, x = _images(10, (2, 5, 5), 3)
    t = dict(from_logits=True, smooth=0.0)
    dice = _np(kloss.dice(y, x, **t))
    np.testing.assert_allclose(_np(kloss.tversky(y, x, alpha=0.5, beta=0.5, **t)), dice, **F32)
    jac = _np(kloss.jaccard(y, x, **t))
    np.testing.assert_allclose(_np(kloss.tversky(y, x, alpha=1.0, beta=1.0, **t)), jac, **F32)
    tv = _np(kloss.tversky(y, x, alpha=0.3, beta=0.7, from_logits=True))
    ftv = _np(kloss.focal_tversky(y, x, alpha=0.3, beta=0.7, gamma=1.0, from_logits=True))
    np.testing.assert_allclose(ftv, tv, **F32)


def test_keras_tversky_has_alpha_and_beta_swapped():
    """Keras 3.15 weights false negatives by alpha: keras Tversky(a, b) is kloss Tversky(b, a)
    over the whole batch (Keras adds epsilon to the denominator only)."""
    rng = np.random.default_rng(11)
    t = (rng.uniform(size=(2, 6, 6, 1)) > 0.6).astype(np.float32)
    p = rng.uniform(size=(2, 6, 6, 1)).astype(np.float32)
    a, b = 0.8, 0.2
    keras_value = float(keras.losses.Tversky(alpha=a, beta=b)(t, p))
    opts = dict(mode="binary", per_image=False, smooth=0.0)
    swapped = float(kloss.Tversky(alpha=b, beta=a, **opts)(t, p))
    same = float(kloss.Tversky(alpha=a, beta=b, **opts)(t, p))
    np.testing.assert_allclose(swapped, keras_value, rtol=1e-5)
    assert abs(same - keras_value) > 1e-2
    # kloss: alpha weights false positives (prediction 1, label 0).
    fp_only = np.zeros_like(t)
    fp_only[0, 0, 0, 0] = 1.0
    ones = np.zeros_like(t)
    ones[0, :2, 0, 0] = 1.0
    # One true pixel found, one false positive: TI = 1 / (1 + alpha).
    got = float(kloss.Tversky(alpha=0.25, beta=0.0, smooth=0.0, mode="binary")(fp_only, ones))
    np.testing.assert_allclose(got, 0.5 * (1.0 - 1.0 / 1.25), rtol=1e-6)


def test_focal_tversky_perfect_score_has_zero_gradient(autodiff):
    t = np.zeros((1, 4, 4, 1), np.float32)
    t[0, :2] = 1.0
    v, g = value_and_grad(lambda q: kloss.FocalTversky(mode="binary")(t, q), t.copy())
    assert v == 0.0 and np.all(np.isfinite(g))


def test_integer_labels_under_a_bfloat16_loss():
    """Labels 255 stay 255 (Keras would cast them to the loss dtype)."""
    y, x = _images(12, (2, 4, 4), 3, ignore=255)
    for cls in (kloss.Dice, kloss.PixelwiseCrossentropy):
        got = cls(from_logits=True, ignore_index=255, dtype="bfloat16", reduction="none")(y, x)
        expected = cls(from_logits=True, ignore_index=255, reduction="none")(y, x)
        np.testing.assert_allclose(_np(got), _np(expected), **TOL["bfloat16"])


# --------------------------------------------------------------------------- errors

ERRORS = [
    (lambda: kloss.Dice(mode="multiclas"), ValueError, 'Did you mean "multiclass"'),
    (lambda: kloss.Dice(data_format="channel_first"), ValueError, 'Did you mean "channels_first"'),
    (lambda: kloss.PixelwiseCrossentropy(data_format="NHWC"), ValueError, "`data_format` must be"),
    (lambda: kloss.Jaccard(smooth=-1.0), ValueError, "Jaccard: `smooth` must be >= 0.0"),
    (lambda: kloss.Tversky(alpha=-0.5), ValueError, "Tversky: `alpha` must be >= 0.0"),
    (lambda: kloss.FocalTversky(gamma=0.0), ValueError, "FocalTversky: `gamma` must be > 0.0"),
    (lambda: kloss.GeneralizedDice(per_image=1), TypeError, "`per_image` must be True or False"),
    (lambda: kloss.Dice(ignore_index=2.5), TypeError, "`ignore_index` must be an int"),
    (lambda: kloss.Dice(class_weights=[0.0, 0.0]), ValueError, "needs at least one positive"),
    (
        lambda: kloss.PixelwiseCrossentropy(label_smoothing=2.0),
        ValueError,
        "`label_smoothing` must be <= 1.0",
    ),
    (lambda: kloss.dice([[[0]]], [[[[0.5]]]], mode="x"), ValueError, "dice: `mode` must be"),
]


@pytest.mark.parametrize("make,exc,fragment", ERRORS, ids=[e[2][:30] for e in ERRORS])
def test_argument_errors_at_construction(make, exc, fragment):
    with pytest.raises(exc, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        make()


def test_index_labels_in_binary_mode_name_both_shapes_and_the_fix():
    y = np.zeros((2, 4, 4), np.int32)
    x = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(ValueError) as info:
        kloss.Dice(mode="binary")(y, x)
    message = str(info.value)
    assert message.startswith("Dice: mode='binary' needs `y_pred` with one channel")
    assert "y_true.shape=(2, 4, 4)" in message and "y_pred.shape=(2, 4, 4, 3)" in message
    assert "mode='multiclass'" in message


@pytest.mark.parametrize(
    "y_true,y_pred,kwargs,exc,fragments",
    [
        ((2, 4, 5), (2, 4, 4, 3), {}, ValueError, ["match `y_pred` pixel for pixel", "(2, 4, 5)"]),
        ((2, 4, 4, 2), (2, 4, 4, 3), {}, ValueError, ["y_pred's 3 channels", "(2, 4, 4, 2)"]),
        ((2, 4, 4, 1), (2, 4, 4, 1), {}, ValueError, ["needs `y_pred` with >= 2", "mode='binary'"]),
        (
            (2, 4, 4),
            (2, 4, 4, 3),
            {"mode": "multilabel"},
            ValueError,
            ["y_pred's 3 channels", "pass mode='multiclass'"],
        ),
        ((2, 4), (2, 4), {}, ValueError, ["rank >= 3", "y_pred.shape=(2, 4)"]),
        (
            (2, 3, 4, 4),
            (2, 4, 4, 3),
            {"data_format": "channels_first"},
            ValueError,
            ["check `data_format`", "data_format='channels_first'"],
        ),
        ((2, 4, 4), (2, 4, 4, 3), {"class_weights": [1.0, 2.0]}, ValueError, ["one entry per"]),
    ],
)
def test_shape_errors(y_true, y_pred, kwargs, exc, fragments):
    labels = np.zeros(y_true, np.int32 if len(y_true) == len(y_pred) - 1 else np.float32)
    for cls in (kloss.Dice, kloss.GeneralizedDice):
        with pytest.raises(exc) as info:
            cls(**kwargs)(labels, np.zeros(y_pred, np.float32))
        for fragment in fragments:
            assert fragment in str(info.value), str(info.value)
        assert str(info.value).startswith(cls.__name__ + ":")


def test_float_class_indices_raise_a_type_error():
    y = np.zeros((2, 4, 4), np.float32)
    x = np.zeros((2, 4, 4, 3), np.float32)
    for cls in (kloss.Dice, kloss.PixelwiseCrossentropy):
        with pytest.raises(TypeError, match=f"{cls.__name__}: class-index labels must be integers"):
            cls()(y, x)


def test_pixelwise_out_of_range_labels_raise_unless_ignored():
    # VOC-style void pixels (255) need ignore_index=255; unchecked, the backends disagreed
    # (TF raised, JAX gave NaN, torch gave a finite wrong value).
    y = np.zeros((2, 4, 4), np.int32)
    y[1, 2, 3] = 255
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 3)).astype(np.float32)
    for kwargs in (dict(), dict(class_weights=[1.0, 2.0, 0.5])):
        with pytest.raises(ValueError) as info:
            kloss.PixelwiseCrossentropy(from_logits=True, **kwargs)(y, x)
        assert str(info.value).startswith(
            "PixelwiseCrossentropy: every entry of `y_true` must be a class index in [0, 3). "
            "Received: y_true holds 255 (1 such entries)."
        )
        ignored = kloss.PixelwiseCrossentropy(from_logits=True, ignore_index=255, **kwargs)
        assert np.isfinite(to_numpy(ignored(y, x)))
        # Dice reads an out-of-range index as no class at all (a zero one-hot row), by design.
        assert np.isfinite(to_numpy(kloss.Dice(from_logits=True, **kwargs)(y, x)))


def test_pixelwise_crossentropy_needs_two_channels():
    with pytest.raises(ValueError, match="kloss.BinaryCrossentropy"):
        kloss.PixelwiseCrossentropy()(np.zeros((2, 3, 3), np.int32), np.zeros((2, 3, 3, 1)))


def test_class_weights_without_a_positive_foreground_entry():
    with pytest.raises(ValueError, match="include_background=False"):
        kloss.Dice(class_weights=[1.0, 0.0], include_background=False)(
            np.zeros((1, 2, 2), np.int32), np.zeros((1, 2, 2, 2), np.float32)
        )

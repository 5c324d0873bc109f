"""NumPy float64 references for the segmentation losses, written from the formulas.

Images are moved to channels last, `(B, ..., C)`, and flattened to `(B, N, C)`. The
intersection is `sum(min(p, t))` (the soft-label Dice of Wang et al. 2023; `sum(p t)` for
hard labels). Nothing here imports kloss.
"""

import numpy as np

EPS = 1e-7
LO, HI = float(np.float32(EPS)), float(np.float32(1.0 - EPS))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _channels_last(y_true, y_pred, data_format):
    t = np.asarray(y_true)
    x = np.asarray(y_pred, dtype=np.float64)
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
        if t.ndim == x.ndim:
            t = np.moveaxis(t, 1, -1)
    return t, x


def labels(y_true, y_pred, mode="multiclass", ignore_index=None, data_format="channels_last"):
    """(t, valid, is_index, idx): dense labels (B, N, C), the mask of counted entries
    (B, N, 1) or (B, N, C), whether y_true held class indices, and those indices (B, N)."""
    t, x = _channels_last(y_true, y_pred, data_format)
    B, C = x.shape[0], x.shape[-1]
    if t.ndim == x.ndim - 1:
        t = t[..., None]  # class indices without the channel axis
    t = t.reshape(B, -1, t.shape[-1])
    is_index = mode == "multiclass" and t.shape[-1] == 1
    idx = None
    if is_index:
        idx = t[..., 0].astype(np.int64)
        dense = (idx[..., None] == np.arange(C)).astype(np.float64)
        valid = np.ones((B, dense.shape[1], 1))
        if ignore_index is not None:
            valid = (idx != ignore_index)[..., None].astype(np.float64)
        return dense, valid, True, idx
    t = t.astype(np.float64)
    valid = np.ones_like(t)
    if ignore_index is not None:
        if mode != "multiclass":
            valid = (t != ignore_index).astype(np.float64)
        elif 0 <= ignore_index < C:
            valid = 1.0 - t[..., ignore_index : ignore_index + 1]
        else:
            valid = (t.sum(-1, keepdims=True) > 0).astype(np.float64)
    return t * valid, valid, False, None


def _probs(y_pred, mode, from_logits, data_format):
    x = np.asarray(y_pred, dtype=np.float64)
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    x = x.reshape(x.shape[0], -1, x.shape[-1])
    if not from_logits:
        return x
    return _softmax(x) if mode == "multiclass" else _sigmoid(x)


def overlap_sums(
    y_true,
    y_pred,
    mode="multiclass",
    from_logits=False,
    per_image=True,
    include_background=True,
    ignore_index=None,
    data_format="channels_last",
):
    """(tp, sum_p, sum_t): per-class sums (B, C), or (1, C) over the whole batch."""
    data_format = data_format or "channels_last"
    t, valid, _, _ = labels(y_true, y_pred, mode, ignore_index, data_format)
    p = _probs(y_pred, mode, from_logits, data_format) * valid
    t = t * valid
    if not per_image:
        p = p.reshape(1, -1, p.shape[-1])
        t = t.reshape(1, -1, t.shape[-1])
    tp = np.minimum(p, t).sum(axis=1)
    sp, st = p.sum(axis=1), t.sum(axis=1)
    if not include_background and p.shape[-1] > 1:
        tp, sp, st = tp[:, 1:], sp[:, 1:], st[:, 1:]
    return tp, sp, st


def _score(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)


def _class_mean(per_class, class_weights, include_background, batch):
    if class_weights is None:
        loss = per_class.mean(axis=-1)
    else:
        w = np.asarray(class_weights, np.float64)
        if not include_background and w.size > 1:
            w = w[1:]
        loss = (per_class * w).sum(-1) / w.sum()
    return np.broadcast_to(loss, (batch,)).copy()


def _overlap(kind, y_true, y_pred, mode, from_logits, smooth, per_image, include_background,
             class_weights, ignore_index, data_format, alpha=0.5, beta=0.5, gamma=1.0):  # fmt: skip
    batch = np.shape(y_pred)[0]
    tp, sp, st = overlap_sums(
        y_true, y_pred, mode, from_logits, per_image, include_background, ignore_index,
        data_format,
    )  # fmt: skip
    s = smooth
    fp, fn = sp - tp, st - tp
    if kind == "dice":
        per_class = 1.0 - _score(2 * tp + s, sp + st + s)
    elif kind == "jaccard":
        per_class = 1.0 - _score(tp + s, tp + fp + fn + s)
    elif kind == "tversky":
        per_class = 1.0 - _score(tp + s, tp + alpha * fp + beta * fn + s)
    elif kind == "focal_tversky":
        per_class = np.maximum(1.0 - _score(tp + s, tp + alpha * fp + beta * fn + s), 0) ** gamma
    else:
        w = np.zeros_like(st)
        present = st > 0
        w[present] = 1.0 / st[present] ** 2
        for row in range(w.shape[0]):
            w[row][~present[row]] = w[row].max()
        if class_weights is not None:
            cw = np.asarray(class_weights, np.float64)
            w = w * (cw[1:] if not include_background and cw.size > 1 else cw)
        loss = 1.0 - _score(2 * (w * tp).sum(-1) + s, (w * (sp + st)).sum(-1) + s)
        return np.broadcast_to(loss, (batch,)).copy()
    return _class_mean(per_class, class_weights, include_background, batch)


def _make(kind):
    def reference(
        y_true,
        y_pred,
        mode="multiclass",
        from_logits=False,
        smooth=1e-5,
        per_image=True,
        include_background=True,
        class_weights=None,
        ignore_index=None,
        data_format="channels_last",
        **extra,
    ):
        args = (mode, from_logits, smooth, per_image, include_background, class_weights)
        return _overlap(kind, y_true, y_pred, *args, ignore_index, data_format, **extra)

    reference.__name__ = kind
    return reference


dice = _make("dice")
jaccard = _make("jaccard")
tversky = _make("tversky")
generalized_dice = _make("generalized_dice")


def focal_tversky(y_true, y_pred, gamma=0.75, **kw):
    return _make("focal_tversky")(y_true, y_pred, gamma=gamma, **kw)


# --------------------------------------------------------------------------- cross-entropy


def pixel_terms(
    y_true,
    y_pred,
    from_logits=False,
    class_weights=None,
    ignore_index=None,
    label_smoothing=0.0,
    data_format="channels_last",
):
    """(ce, w): per-pixel weighted cross-entropy and pixel weight, each (B, N)."""
    data_format = data_format or "channels_last"
    t, valid, is_index, idx = labels(y_true, y_pred, "multiclass", ignore_index, data_format)
    x = _probs(y_pred, "multiclass", False, data_format)
    C = x.shape[-1]
    if from_logits:
        logp = _log_softmax(x)
    else:
        logp = np.log(np.clip(x / x.sum(-1, keepdims=True), LO, HI))
    cw = np.ones(C) if class_weights is None else np.asarray(class_weights, np.float64)
    s = label_smoothing
    if is_index:
        ok = valid[..., 0] > 0
        safe = np.where(ok, idx, 0)
        w_y = cw[safe]
        nll = -np.take_along_axis(logp, safe[..., None], -1)[..., 0]
        ce = (1 - s) * w_y * nll - (s / C) * (cw * logp).sum(-1)
        return np.where(ok, ce, 0.0), np.where(ok, w_y, 0.0)
    t = t * (1 - s) + s / C
    ce = -(cw * t * logp).sum(-1)
    return ce * valid[..., 0], valid[..., 0]


def pixelwise_crossentropy(y_true, y_pred, **option):
    ce, w = pixel_terms(y_true, y_pred, **option)
    total, weight = ce.sum(-1), w.sum(-1)
    return np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), 0.0)


def pixelwise_default(y_true, per_image, option):
    """The default reduction, torch's weighted mean over the valid pixels of the batch:
    sum_i W_i l_i / sum_i W_i with W_i the total pixel weight of image i."""
    t = np.asarray(y_true)
    cw, ignore = option.get("class_weights"), option.get("ignore_index")
    if np.issubdtype(t.dtype, np.integer):  # class indices
        idx = t.reshape(t.shape[0], -1).astype(np.int64)
        ok = np.ones(idx.shape, bool) if ignore is None else idx != ignore
        w = ok * (1.0 if cw is None else np.asarray(cw)[np.where(ok, idx, 0)])
    else:  # one-hot: weight 1 per counted pixel
        fake = np.zeros(t.shape)
        _, valid, _, _ = labels(t, fake, "multiclass", ignore, option.get("data_format"))
        w = valid[..., 0]
    weight = w.sum(-1)
    return (per_image * weight).sum() / weight.sum() if weight.sum() else 0.0

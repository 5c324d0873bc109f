"""NumPy float64 references for the Lovasz losses, written from Berman et al. (CVPR 2018) and
their reference code (`lovasz_grad`, `lovasz_hinge_flat`, `lovasz_softmax_flat` with
`classes="present"`, `flatten_*` with `ignore`): an explicit loop per image and per class,
ignored pixels removed before the sort. Nothing here imports kloss.
"""

import numpy as np

EPS = 1e-7
LO, HI = float(np.float32(EPS)), float(np.float32(1.0 - EPS))


def lovasz_grad(gt_sorted):
    """Berman's `lovasz_grad`: the increments of the Jaccard loss along the sorted pixels."""
    gt_sorted = np.asarray(gt_sorted, dtype=np.float64)
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - np.cumsum(gt_sorted)
    union = gts + np.cumsum(1.0 - gt_sorted)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def _sorted_dot(errors, gt):
    # Decreasing errors; ties by index (the value does not depend on the order of ties).
    order = np.argsort(-errors, kind="stable")
    return float(np.dot(errors[order], lovasz_grad(gt[order])))


def lovasz_hinge_flat(logits, labels):
    """Berman's `lovasz_hinge_flat`: logits and {0, 1} labels of the valid pixels."""
    if len(labels) == 0:
        return 0.0  # only void pixels
    signs = 2.0 * labels - 1.0
    errors = 1.0 - logits * signs
    order = np.argsort(-errors, kind="stable")
    return float(np.dot(np.maximum(errors[order], 0.0), lovasz_grad(labels[order])))


def lovasz_softmax_flat(probas, labels):
    """Berman's `lovasz_softmax_flat(classes="present")`: probas (P, C), labels (P,)."""
    if probas.shape[0] == 0:
        return 0.0
    losses = []
    for c in range(probas.shape[1]):
        fg = (labels == c).astype(np.float64)
        if fg.sum() == 0:
            continue  # classes="present"
        errors = np.abs(fg - probas[:, c])
        losses.append(_sorted_dot(errors, fg))
    return float(np.mean(losses)) if losses else 0.0  # Berman's mean(empty=0)


def _softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _channels_last(y_true, y_pred, mode, data_format):
    """(labels, scores) with the channel axis last; labels (B, *spatial) for multiclass and
    binary, (B, *spatial, C) for multilabel."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    if data_format == "channels_first":
        y_pred = np.moveaxis(y_pred, 1, -1)
        if y_true.ndim == y_pred.ndim:
            y_true = np.moveaxis(y_true, 1, -1)
    if mode in ("multiclass", "binary") and y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0]
    if mode == "binary":
        y_pred = y_pred[..., 0]
    return y_true, y_pred


def lovasz(
    y_true,
    y_pred,
    mode="multiclass",
    per_image=True,
    ignore_index=None,
    from_logits=True,
    data_format=None,
):
    """One value per image (B,): Berman's losses per image, or over the batch on every row."""
    data_format = data_format or "channels_last"
    labels, scores = _channels_last(y_true, y_pred, mode, data_format)
    B = scores.shape[0]
    if mode == "multiclass":
        probas = _softmax(scores, -1) if from_logits else scores
        C = probas.shape[-1]
        images = [(probas[b].reshape(-1, C), labels[b].reshape(-1)) for b in range(B)]
        whole = (probas.reshape(-1, C), labels.reshape(-1))

        def one(pr, lab):
            if ignore_index is not None:
                keep = lab != ignore_index
                pr, lab = pr[keep], lab[keep]
            return lovasz_softmax_flat(pr, lab)

    else:
        if not from_logits:
            p = np.clip(scores, LO, HI)
            scores = np.log(p) - np.log1p(-p)
        if mode == "binary":
            scores, labels = scores[..., None], labels[..., None]
        C = scores.shape[-1]

        def one(x, lab):
            # The mean over channels of Berman's lovasz_hinge_flat on each channel.
            out = []
            for c in range(C):
                xc, lc = x[:, c], lab[:, c].astype(np.float64)
                if ignore_index is not None:
                    keep = lab[:, c] != ignore_index
                    xc, lc = xc[keep], lc[keep]
                out.append(lovasz_hinge_flat(xc, (lc > 0.5).astype(np.float64)))
            return float(np.mean(out))

        images = [(scores[b].reshape(-1, C), labels[b].reshape(-1, C)) for b in range(B)]
        whole = (scores.reshape(-1, C), labels.reshape(-1, C))
    if per_image:
        return np.array([one(*img) for img in images], dtype=np.float64)
    return np.full((B,), one(*whole), dtype=np.float64)


def jaccard_loss(pred_mask, gt_mask):
    """1 - |A n B| / |A u B| of two boolean masks (0 for two empty masks)."""
    union = np.logical_or(pred_mask, gt_mask).sum()
    inter = np.logical_and(pred_mask, gt_mask).sum()
    return 0.0 if union == 0 else 1.0 - inter / union

"""NumPy float64 references for the box losses, written from the papers.

- IoU and GIoU: Rezatofighi et al. (2019), "Generalized Intersection over Union", Alg. 1/2.
- DIoU and CIoU: Zheng et al. (2020), "Distance-IoU Loss", eqs. 6, 9-11 (alpha a weight).

With kloss's documented conventions: `eps` as in torchvision (`I / (U + eps)`,
`(C - U) / (C + eps)`, `rho^2 / (c^2 + eps)`, `v / (1 - IoU + v + eps)`), an inverted box
(x2 < x1 or y2 < y1) has width/height 0, and `atan(w / h)` is `atan2(w, h)` with 0 for a
point box. Nothing here imports kloss.
"""

import numpy as np


def to_xyxy(boxes, fmt):
    b = np.asarray(boxes, np.float64)
    a, c, d, e = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    if fmt == "xyxy":
        out = (a, c, d, e)
    elif fmt == "yxyx":
        out = (c, a, e, d)
    elif fmt == "xywh":
        out = (a, c, a + d, c + e)
    elif fmt == "center_xywh":
        out = (a - d / 2, c - e / 2, a + d / 2, c + e / 2)
    else:
        raise ValueError(fmt)
    return np.stack(out, axis=-1)


def from_xyxy(boxes, fmt):
    b = np.asarray(boxes, np.float64)
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = {
        "xyxy": (x1, y1, x2, y2),
        "yxyx": (y1, x1, y2, x2),
        "xywh": (x1, y1, x2 - x1, y2 - y1),
        "center_xywh": ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1),
    }[fmt]
    return np.stack(out, axis=-1)


def _terms(y_true, y_pred, fmt, eps):
    p = to_xyxy(y_pred, fmt)
    t = to_xyxy(y_true, fmt)
    px1, py1, px2, py2 = np.moveaxis(p, -1, 0)
    tx1, ty1, tx2, ty2 = np.moveaxis(t, -1, 0)
    wp, hp = np.maximum(px2 - px1, 0), np.maximum(py2 - py1, 0)
    wt, ht = np.maximum(tx2 - tx1, 0), np.maximum(ty2 - ty1, 0)
    inter = np.maximum(np.minimum(px2, tx2) - np.maximum(px1, tx1), 0) * np.maximum(
        np.minimum(py2, ty2) - np.maximum(py1, ty1), 0
    )
    union = wp * hp + wt * ht - inter
    iou = inter / (union + eps)
    cw = np.maximum(px2, tx2) - np.minimum(px1, tx1)
    ch = np.maximum(py2, ty2) - np.minimum(py1, ty1)
    rho2 = ((px1 + px2) / 2 - (tx1 + tx2) / 2) ** 2 + ((py1 + py2) / 2 - (ty1 + ty2) / 2) ** 2
    return dict(iou=iou, union=union, cw=cw, ch=ch, rho2=rho2, wp=wp, hp=hp, wt=wt, ht=ht)


def _atan_ratio(w, h):
    return np.where((w <= 0) & (h <= 0), 0.0, np.arctan2(w, h))


def iou_loss(y_true, y_pred, bounding_box_format="xyxy", epsilon=1e-7):
    return 1.0 - _terms(y_true, y_pred, bounding_box_format, epsilon)["iou"]


def giou_loss(y_true, y_pred, bounding_box_format="xyxy", epsilon=1e-7):
    k = _terms(y_true, y_pred, bounding_box_format, epsilon)
    area_c = np.maximum(k["cw"], 0) * np.maximum(k["ch"], 0)
    return 1.0 - (k["iou"] - (area_c - k["union"]) / (area_c + epsilon))


def diou_loss(y_true, y_pred, bounding_box_format="xyxy", epsilon=1e-7):
    k = _terms(y_true, y_pred, bounding_box_format, epsilon)
    c2 = k["cw"] ** 2 + k["ch"] ** 2 + epsilon
    return 1.0 - k["iou"] + k["rho2"] / c2


def ciou_loss(y_true, y_pred, bounding_box_format="xyxy", epsilon=1e-7):
    k = _terms(y_true, y_pred, bounding_box_format, epsilon)
    c2 = k["cw"] ** 2 + k["ch"] ** 2 + epsilon
    v = 4 / np.pi**2 * (_atan_ratio(k["wt"], k["ht"]) - _atan_ratio(k["wp"], k["hp"])) ** 2
    alpha = v / (1.0 - k["iou"] + v + epsilon)
    return 1.0 - k["iou"] + k["rho2"] / c2 + alpha * v

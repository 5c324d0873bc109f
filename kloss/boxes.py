"""Box regression losses: IoU, GIoU, DIoU and CIoU for axis-aligned boxes.

Each loss is a function `snake_case_loss(y_true, y_pred, *, bounding_box_format, epsilon)`
returning one value per box (`y_pred.shape[:-1]`: `(B, N)` for `(B, N, 4)` boxes, `(B,)`
for `(B, 4)`), and a `keras.losses.Loss` class that validates its hyperparameters at
construction. A `(B, N)` `sample_weight` (0 for padded boxes) weights each box.

Conventions (docs/boxes.md):

- Boxes are converted to corners `(x1, y1, x2, y2)`; a box with `x2 < x1` or `y2 < y1` (a
  negative width or height in the size formats) is empty: its width and height count as 0
  (area 0, no intersection); its corners still enter the enclosing box and the center.
- Minima and maxima of two coordinates split the gradient evenly at a tie, so identical
  boxes give a zero gradient (up to the `eps` terms, of order eps / area), the same on
  every backend.
- `epsilon` (1e-7) enters as in torchvision: `IoU = I / (U + eps)`, the GIoU penalty
  `(C - U) / (C + eps)`, the DIoU term `rho^2 / (c^2 + eps)`, the CIoU weight
  `alpha = v / (1 - IoU + v + eps)`; degenerate boxes give finite values and gradients.
"""

import math

from keras import ops

from kloss._internal import (
    KlossLoss,
    check_number,
    check_option,
    prepare_pair,
    register,
    static_shape,
)

__all__ = [
    "IoU",
    "GIoU",
    "DIoU",
    "CIoU",
    "iou_loss",
    "giou_loss",
    "diou_loss",
    "ciou_loss",
]

FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh")


# --------------------------------------------------------------------------- helpers


def _check(owner, bounding_box_format, epsilon):
    return dict(
        bounding_box_format=check_option(
            owner, "bounding_box_format", bounding_box_format, FORMATS
        ),
        epsilon=check_number(owner, "epsilon", epsilon, gt=0.0),
    )


def _corners(boxes, fmt):
    """(x1, y1, x2, y2) of `boxes` (..., 4) in `fmt`."""
    a, b, c, d = (boxes[..., i] for i in range(4))
    if fmt == "xyxy":
        return a, b, c, d
    if fmt == "yxyx":
        return b, a, d, c
    if fmt == "xywh":
        return a, b, a + c, b + d
    # center_xywh
    return a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d


def _min(a, b):
    # The gradient goes to the smaller one, half to each at a tie (the same on every
    # backend; ops.minimum splits ties differently on TensorFlow, JAX and torch).
    return ops.where(a < b, a, ops.where(a > b, b, 0.5 * (a + b)))


def _max(a, b):
    return ops.where(a > b, a, ops.where(a < b, b, 0.5 * (a + b)))


def _positive(x):
    # max(x, 0) with a zero gradient at 0 on every backend.
    return ops.where(x > 0, x, ops.zeros_like(x))


def _box_loss(owner, kind, y_true, y_pred, bounding_box_format, epsilon):
    y_true, y_pred, out_dtype = prepare_pair(owner, y_true, y_pred, min_rank=2)
    shape = static_shape(y_pred)
    if len(shape) < 2 or shape[-1] != 4:
        raise ValueError(
            f"{owner}: `y_pred` must hold boxes of 4 coordinates on its last axis, with a "
            f"batch axis: (B, 4) or (B, N, 4). Received: y_pred.shape={shape}."
        )
    eps = epsilon
    x1, y1, x2, y2 = _corners(y_pred, bounding_box_format)
    x1g, y1g, x2g, y2g = _corners(y_true, bounding_box_format)
    # Inverted boxes are empty: width and height clamped at 0.
    w, h = _positive(x2 - x1), _positive(y2 - y1)
    wg, hg = _positive(x2g - x1g), _positive(y2g - y1g)
    iw = _min(x2, x2g) - _max(x1, x1g)
    ih = _min(y2, y2g) - _max(y1, y1g)
    # As torchvision: the intersection is iw * ih where both are > 0, else 0 (no gradient).
    overlap = ops.logical_and(iw > 0, ih > 0)
    inter = ops.where(overlap, iw * ih, ops.zeros_like(iw))
    union = w * h + wg * hg - inter
    iou = inter / (union + eps)
    loss = 1.0 - iou
    if kind == "iou":
        return ops.cast(loss, out_dtype)
    # The smallest enclosing box.
    cw = _max(x2, x2g) - _min(x1, x1g)
    ch = _max(y2, y2g) - _min(y1, y1g)
    if kind == "giou":
        area_c = _positive(cw) * _positive(ch)
        return ops.cast(loss + (area_c - union) / (area_c + eps), out_dtype)
    diagonal = ops.square(cw) + ops.square(ch) + eps
    # Squared distance of the centers: ((x1 + x2) - (x1g + x2g)) / 2 per axis.
    centers = ops.square(0.5 * ((x1 + x2) - (x1g + x2g))) + ops.square(
        0.5 * ((y1 + y2) - (y1g + y2g))
    )
    loss = loss + centers / diagonal
    if kind == "diou":
        return ops.cast(loss, out_dtype)
    # atan(w / h) as atan2(w, h): pi/2 for h == 0; a point box (w == h == 0) gets angle 0
    # (safe inputs keep atan2's gradient finite there).
    v = (4.0 / math.pi**2) * ops.square(_angle(wg, hg) - _angle(w, h))
    alpha = ops.stop_gradient(v / (1.0 - iou + v + eps))
    return ops.cast(loss + alpha * v, out_dtype)


def _angle(w, h):
    point = ops.logical_and(w <= 0, h <= 0)
    return ops.arctan2(w, ops.where(point, ops.ones_like(h), h))


class _BoxLoss(KlossLoss):
    hyperparameters = ("bounding_box_format", "epsilon")
    _kind = None

    def __init__(
        self,
        bounding_box_format="xyxy",
        epsilon=1e-7,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self.__dict__.update(_check(type(self).__name__, bounding_box_format, epsilon))
        super().__init__(name=name or self._kind, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _box_loss(
            type(self).__name__,
            self._kind,
            y_true,
            y_pred,
            self.bounding_box_format,
            self.epsilon,
        )


_COMMON_ARGS = """
    Args:
        bounding_box_format: the layout of the 4 coordinates, one of `"xyxy"` (corners
            `x1, y1, x2, y2`, torchvision's), `"yxyx"` (`y1, x1, y2, x2`, TensorFlow's),
            `"xywh"` (top-left corner, width, height; COCO's) or `"center_xywh"` (center,
            width, height; YOLO's). Default `"xyxy"`.
        epsilon: the small number `> 0` of the denominators, as torchvision's `eps`.
            Default 1e-7.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: the target boxes, the shape of `y_pred`.
        y_pred: the predicted boxes `(B, 4)` or `(B, N, 4)` (any rank >= 2, last axis 4).
        sample_weight: `(B,)`, or one weight per box (`(B, N)`, e.g. 0 for padding).
"""


def _doc(cls):
    cls.__doc__ = cls.__doc__.format(args=_COMMON_ARGS)
    return cls


# --------------------------------------------------------------------------- the losses


@register
def iou_loss(y_true, y_pred, *, bounding_box_format="xyxy", epsilon=1e-7):
    """`1 - IoU` per box; see `IoU`. Returns `y_pred.shape[:-1]`."""
    owner = "iou_loss"
    return _box_loss(owner, "iou", y_true, y_pred, **_check(owner, bounding_box_format, epsilon))


@register
@_doc
class IoU(_BoxLoss):
    """IoU loss for axis-aligned boxes: `1 - I / (U + eps)`, one value per box.

    `I` is the area of the intersection and `U = area(pred) + area(true) - I` that of the
    union. In `[0, 1]`; its gradient is 0 for boxes that do not overlap (use `GIoU`,
    `DIoU` or `CIoU` there). Equals `1 - torchvision.ops.box_iou` on matching pairs (with
    `eps` in the denominator as torchvision's losses).
    {args}
    Example:
        >>> loss = kloss.IoU()
        >>> round(float(loss([[0.0, 0.0, 2.0, 2.0]], [[1.0, 1.0, 3.0, 3.0]])), 4)
        0.8571
    """

    _kind = "iou"


@register
def giou_loss(y_true, y_pred, *, bounding_box_format="xyxy", epsilon=1e-7):
    """`1 - GIoU` per box; see `GIoU`. Returns `y_pred.shape[:-1]`."""
    owner = "giou_loss"
    return _box_loss(owner, "giou", y_true, y_pred, **_check(owner, bounding_box_format, epsilon))


@register
@_doc
class GIoU(_BoxLoss):
    """Generalized IoU loss (Rezatofighi et al. 2019): `1 - IoU + (C - U) / (C + eps)`.

    `C` is the area of the smallest box enclosing both: boxes that do not overlap still get
    a gradient that pulls them together. In `[0, 2]`. Equals
    `torchvision.ops.generalized_box_iou_loss(pred, true, eps=eps)` for valid boxes
    (torchvision asserts `x2 >= x1`; kloss reads an inverted box as empty).
    {args}
    Example:
        >>> loss = kloss.GIoU()
        >>> round(float(loss([[0.0, 0.0, 1.0, 1.0]], [[2.0, 0.0, 3.0, 1.0]])), 4)
        1.3333
    """

    _kind = "giou"


@register
def diou_loss(y_true, y_pred, *, bounding_box_format="xyxy", epsilon=1e-7):
    """`1 - DIoU` per box; see `DIoU`. Returns `y_pred.shape[:-1]`."""
    owner = "diou_loss"
    return _box_loss(owner, "diou", y_true, y_pred, **_check(owner, bounding_box_format, epsilon))


@register
@_doc
class DIoU(_BoxLoss):
    """Distance IoU loss (Zheng et al. 2020): `1 - IoU + rho^2 / (c^2 + eps)`.

    `rho` is the distance between the boxes' centers and `c` the diagonal of the smallest
    enclosing box: the penalty moves the centers together directly, which converges faster
    than `GIoU`. Equals `torchvision.ops.distance_box_iou_loss(pred, true, eps=eps)`.
    {args}
    Example:
        >>> loss = kloss.DIoU()
        >>> round(float(loss([[0.0, 0.0, 2.0, 2.0]], [[1.0, 1.0, 3.0, 3.0]])), 4)
        0.9683
    """

    _kind = "diou"


@register
def ciou_loss(y_true, y_pred, *, bounding_box_format="xyxy", epsilon=1e-7):
    """`1 - CIoU` per box; see `CIoU`. Returns `y_pred.shape[:-1]`."""
    owner = "ciou_loss"
    return _box_loss(owner, "ciou", y_true, y_pred, **_check(owner, bounding_box_format, epsilon))


@register
@_doc
class CIoU(_BoxLoss):
    """Complete IoU loss (Zheng et al. 2020): `1 - IoU + rho^2 / (c^2 + eps) + alpha v`.

    `DIoU` plus an aspect-ratio term `v = 4 / pi^2 (atan(w_t / h_t) - atan(w_p / h_p))^2`
    weighted by `alpha = v / (1 - IoU + v + eps)`, which is a constant for the gradient
    (no gradient flows through `alpha`), as in the paper's implementation and torchvision.
    Equals `torchvision.ops.complete_box_iou_loss(pred, true, eps=eps)` (values and
    gradients). The paper's code also replaces the factor `1 / (w^2 + h^2)` of `v`'s
    gradient by 1 and the journal version sets `alpha = 0` for `IoU < 0.5`; kloss does
    neither. `atan(w / h)` is `atan2(w, h)`: `pi / 2` for a zero height, and 0 for a point
    box (torchvision gives NaN for both).

    Note: KerasCV's / KerasHub's `CIoULoss` differs: it adds `eps` to every height (areas
    included), divides by `U + 2 eps`, squares the factor `4 / pi^2` (its `v` is
    `4 / pi^2` times this one) and lets the gradient flow through `alpha`. For boxes much
    larger than `eps` its value is `DIoU + v_k^2 / (1 - IoU + v_k)` with
    `v_k = 4 / pi^2 * v` (tests/test_boxes.py pins it).
    {args}
    Example:
        >>> loss = kloss.CIoU()
        >>> round(float(loss([[0.0, 0.0, 2.0, 2.0]], [[1.0, 1.0, 4.0, 2.0]])), 4)
        0.9666
    """

    _kind = "ciou"

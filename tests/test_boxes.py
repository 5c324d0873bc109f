"""Box losses: torchvision's definitions (re-implemented in torch from the public source,
as torchvision cannot be installed here) for values and autograd gradients, KerasCV's
CIoU pinned by an exact relation, hand values, box formats, degenerate boxes, per-box
weights, and every error message."""

import math

import numpy as np
import pytest

import kloss
from kloss.testing.references import boxes as ref
from tests.helpers import TOL, to_numpy, value_and_grad

F32 = TOL["float32"]
# float32 kloss against float64 torch: gradients agree to float32 rounding of the inputs.
GRAD_TOL = dict(rtol=1e-4, atol=1e-5)
LOSSES = {
    "iou": (kloss.IoU, kloss.iou_loss),
    "giou": (kloss.GIoU, kloss.giou_loss),
    "diou": (kloss.DIoU, kloss.diou_loss),
    "ciou": (kloss.CIoU, kloss.ciou_loss),
}


def _torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- torchvision
# torchvision/ops/_utils.py (_loss_inter_union), giou_loss.py, diou_loss.py
# (_diou_iou_loss), ciou_loss.py: boxes1 = pred, boxes2 = true, both xyxy, eps = 1e-7.


def _tv_inter_union(torch, boxes1, boxes2):
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    return intsctk, unionk


def _tv_iou_loss(torch, boxes1, boxes2, eps=1e-7):
    intsct, union = _tv_inter_union(torch, boxes1, boxes2)
    return 1 - intsct / (union + eps)


def _tv_giou_loss(torch, boxes1, boxes2, eps=1e-7):
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    intsctk, unionk = _tv_inter_union(torch, boxes1, boxes2)
    iouk = intsctk / (unionk + eps)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    miouk = iouk - ((area_c - unionk) / (area_c + eps))
    return 1 - miouk


def _tv_diou_iou_loss(torch, boxes1, boxes2, eps=1e-7):
    intsct, union = _tv_inter_union(torch, boxes1, boxes2)
    iou = intsct / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    diagonal_distance_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    x_p = (x2 + x1) / 2
    y_p = (y2 + y1) / 2
    x_g = (x1g + x2g) / 2
    y_g = (y1g + y2g) / 2
    centers_distance_squared = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    loss = 1 - iou + (centers_distance_squared / diagonal_distance_squared)
    return loss, iou


def _tv_diou_loss(torch, boxes1, boxes2, eps=1e-7):
    return _tv_diou_iou_loss(torch, boxes1, boxes2, eps)[0]


def _tv_ciou_loss(torch, boxes1, boxes2, eps=1e-7, alpha_gradient=False):
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    diou_loss, iou = _tv_diou_iou_loss(torch, boxes1, boxes2, eps)
    w_pred = x2 - x1
    h_pred = y2 - y1
    w_gt = x2g - x1g
    h_gt = y2g - y1g
    v = (4 / (torch.pi**2)) * torch.pow((torch.atan(w_gt / h_gt) - torch.atan(w_pred / h_pred)), 2)
    if alpha_gradient:  # not torchvision: alpha differentiated too (as KerasCV)
        alpha = v / (1 - iou + v + eps)
    else:
        with torch.no_grad():
            alpha = v / (1 - iou + v + eps)
    return diou_loss + alpha * v


TORCHVISION = {
    "iou": _tv_iou_loss,
    "giou": _tv_giou_loss,
    "diou": _tv_diou_loss,
    "ciou": _tv_ciou_loss,
}


def _random_boxes(seed, lead=(4, 3)):
    """Valid (true, pred) xyxy pairs: overlapping, nested and disjoint, no ties."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 5.0, size=lead + (2,))
    wh = rng.uniform(0.5, 3.0, size=lead + (2,))
    true = np.concatenate([xy, xy + wh], axis=-1)
    pred = true + rng.normal(scale=0.7, size=true.shape)
    pred = np.concatenate(
        [np.minimum(pred[..., :2], pred[..., 2:]), np.maximum(pred[..., :2], pred[..., 2:]) + 0.1],
        axis=-1,
    )
    pred.reshape(-1, 4)[::4, [0, 2]] += 6.0  # some disjoint pairs
    return true.astype(np.float32), pred.astype(np.float32)


def _torchvision_value_and_grad(kind, true, pred, **kwargs):
    torch = _torch()
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(true, dtype=torch.float64)
    value = TORCHVISION[kind](torch, p, t, **kwargs)
    (g,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), g.numpy()


@pytest.mark.parametrize("kind", list(LOSSES))
def test_values_equal_torchvision(kind):
    true, pred = _random_boxes(0)
    expected, _ = _torchvision_value_and_grad(kind, true, pred)
    cls, fn = LOSSES[kind]
    got = to_numpy(cls(reduction="none")(true, pred))
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got, expected, **F32)
    np.testing.assert_allclose(to_numpy(fn(true, pred)), expected, **F32)
    # The NumPy reference written from the papers agrees as well.
    reference = getattr(ref, f"{kind}_loss")(true, pred)
    np.testing.assert_allclose(reference, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_gradients_equal_torchvision_autograd(kind, autodiff):
    true, pred = _random_boxes(1)
    _, expected = _torchvision_value_and_grad(kind, true, pred)
    loss = LOSSES[kind][0](reduction="sum")
    _, got = value_and_grad(lambda p: loss(true, p), pred)
    np.testing.assert_allclose(got, expected, **GRAD_TOL)


@pytest.mark.parametrize("eps", [1e-7, 1e-3, 0.5])
def test_epsilon_is_torchvision_eps(eps):
    true, pred = _random_boxes(2, lead=(6,))
    for kind, (_, fn) in LOSSES.items():
        expected, _ = _torchvision_value_and_grad(kind, true, pred, eps=eps)
        np.testing.assert_allclose(to_numpy(fn(true, pred, epsilon=eps)), expected, **F32)


def test_ciou_alpha_has_no_gradient(autodiff):
    """kloss's CIoU gradient is torchvision's (alpha constant), not the full derivative."""
    true, pred = _random_boxes(3, lead=(5,))
    _, full = _torchvision_value_and_grad("ciou", true, pred, alpha_gradient=True)
    _, tv = _torchvision_value_and_grad("ciou", true, pred)
    _, got = value_and_grad(lambda p: kloss.CIoU(reduction="sum")(true, p), pred)
    np.testing.assert_allclose(got, tv, **GRAD_TOL)
    assert np.max(np.abs(got - full)) > 1e-3


# --------------------------------------------------------------------------- KerasCV


def _keras_cv_ciou_loss(y_true, y_pred, eps=1e-7):
    """KerasCV's `CIoULoss` (keras_cv/src/losses/ciou_loss.py: `1 - compute_ciou(y_true,
    y_pred)`, keras_cv/src/bounding_box/iou.py), re-implemented in NumPy float64 for xyxy
    boxes; eps is keras.backend.epsilon()."""
    b1 = np.asarray(y_true, np.float64)
    b2 = np.asarray(y_pred, np.float64)
    x_min1, y_min1, x_max1, y_max1 = np.moveaxis(b1, -1, 0)
    x_min2, y_min2, x_max2, y_max2 = np.moveaxis(b2, -1, 0)
    width_1 = x_max1 - x_min1
    height_1 = y_max1 - y_min1 + eps
    width_2 = x_max2 - x_min2
    height_2 = y_max2 - y_min2 + eps
    intersection_area = np.maximum(
        np.minimum(x_max1, x_max2) - np.maximum(x_min1, x_min2), 0
    ) * np.maximum(np.minimum(y_max1, y_max2) - np.maximum(y_min1, y_min2), 0)
    union_area = width_1 * height_1 + width_2 * height_2 - intersection_area + eps
    iou = intersection_area / (union_area + eps)
    convex_width = np.maximum(x_max1, x_max2) - np.minimum(x_min1, x_min2)
    convex_height = np.maximum(y_max1, y_max2) - np.minimum(y_min1, y_min2)
    convex_diagonal_squared = convex_width**2 + convex_height**2 + eps
    centers_distance_squared = ((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2 + (
        (y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2
    ) ** 2
    v = np.power(
        (4 / math.pi**2) * (np.arctan(width_2 / height_2) - np.arctan(width_1 / height_1)), 2
    )
    alpha = v / (v - iou + (1 + eps))
    return 1 - (iou - (centers_distance_squared / convex_diagonal_squared + v * alpha))


def test_keras_cv_ciou_relation():
    """KerasCV squares the 4 / pi^2 factor: with v_k = 4 / pi^2 * v, its loss is
    DIoU + v_k^2 / (1 - IoU + v_k) (its eps terms are below float32 resolution here)."""
    true, pred = _random_boxes(4, lead=(8,))
    keras_cv = _keras_cv_ciou_loss(true, pred)
    diou = to_numpy(kloss.diou_loss(true, pred))
    iou = 1.0 - to_numpy(kloss.iou_loss(true, pred))
    t, p = true.astype(np.float64), pred.astype(np.float64)
    angle_t = np.arctan((t[:, 2] - t[:, 0]) / (t[:, 3] - t[:, 1]))
    angle_p = np.arctan((p[:, 2] - p[:, 0]) / (p[:, 3] - p[:, 1]))
    v = 4 / math.pi**2 * (angle_t - angle_p) ** 2
    v_k = 4 / math.pi**2 * v
    np.testing.assert_allclose(keras_cv, diou + v_k**2 / (1 - iou + v_k), **F32)
    # kloss's CIoU uses v (torchvision, the paper): the two differ.
    ciou = to_numpy(kloss.ciou_loss(true, pred))
    np.testing.assert_allclose(ciou, diou + v**2 / (1 - iou + v), **F32)
    assert np.max(np.abs(ciou - keras_cv)) > 1e-3


# --------------------------------------------------------------------------- values, formats


def test_hand_values():
    a = np.array([[0.0, 0.0, 2.0, 2.0]], np.float32)
    b = np.array([[1.0, 1.0, 3.0, 3.0]], np.float32)
    c = np.array([[2.0, 0.0, 3.0, 1.0]], np.float32)
    unit = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    # I = 1, U = 7; C = 9, so GIoU = 1/7 - 2/9; rho^2 = 2, c^2 = 18.
    np.testing.assert_allclose(to_numpy(kloss.iou_loss(a, b)), [6 / 7], **F32)
    np.testing.assert_allclose(to_numpy(kloss.giou_loss(a, b)), [1 - 1 / 7 + 2 / 9], **F32)
    np.testing.assert_allclose(to_numpy(kloss.diou_loss(a, b)), [1 - 1 / 7 + 2 / 18], **F32)
    # Same aspect ratio: v = 0 and CIoU == DIoU.
    np.testing.assert_allclose(to_numpy(kloss.ciou_loss(a, b)), [1 - 1 / 7 + 2 / 18], **F32)
    # Disjoint unit boxes one apart: IoU 0, C = 3, U = 2.
    np.testing.assert_allclose(to_numpy(kloss.giou_loss(unit, c)), [1 + 1 / 3], **F32)
    np.testing.assert_allclose(to_numpy(kloss.iou_loss(unit, c)), [1.0], **F32)


@pytest.mark.parametrize("fmt", ["yxyx", "xywh", "center_xywh"])
def test_formats_give_the_xyxy_values(fmt):
    true, pred = _random_boxes(5)
    t = ref.from_xyxy(true, fmt).astype(np.float32)
    p = ref.from_xyxy(pred, fmt).astype(np.float32)
    for cls, fn in LOSSES.values():
        expected = to_numpy(fn(true, pred))
        got = to_numpy(cls(bounding_box_format=fmt, reduction="none")(t, p))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        got = to_numpy(fn(t, p, bounding_box_format=fmt))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_symmetric_in_true_and_pred():
    true, pred = _random_boxes(6)
    for _, fn in LOSSES.values():
        np.testing.assert_allclose(to_numpy(fn(true, pred)), to_numpy(fn(pred, true)), **F32)


def test_output_shapes_and_padded_boxes_with_sample_weight():
    true, pred = _random_boxes(7, lead=(2, 3))
    true[0, 2] = pred[0, 2] = 0.0  # padding: all-zero boxes
    true[1, 1:] = pred[1, 1:] = 0.0
    w = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    for kind, (cls, fn) in LOSSES.items():
        per_box = getattr(ref, f"{kind}_loss")(true, pred)
        assert tuple(fn(true, pred).shape) == (2, 3)
        assert tuple(fn(true[:, 0], pred[:, 0]).shape) == (2,)
        got = to_numpy(cls(reduction="mean_with_sample_weight")(true, pred, sample_weight=w))
        np.testing.assert_allclose(got, per_box[w > 0].mean(), **F32)
        got = to_numpy(cls(reduction="none")(true, pred, sample_weight=w))
        np.testing.assert_allclose(got, per_box * w, **F32)


# --------------------------------------------------------------------------- degenerate boxes


def test_identical_boxes_loss_and_gradient_vanish(autodiff):
    true, _ = _random_boxes(8, lead=(5,))
    for cls, _ in LOSSES.values():
        v, g = value_and_grad(lambda p, cls=cls: cls(reduction="sum")(true, p), true.copy())
        assert abs(v) < 1e-6
        # Ties split the gradient evenly: 0 up to the eps terms (of order eps / area).
        np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_inverted_box_is_empty():
    true = np.array([[1.0, 1.0, 3.0, 3.0]], np.float32)
    inverted = np.array([[2.5, 2.5, 1.5, 1.5]], np.float32)  # x2 < x1, y2 < y1
    np.testing.assert_allclose(to_numpy(kloss.iou_loss(true, inverted)), [1.0], **F32)
    # The same box in xywh (negative width and height) gives the same values.
    t_xywh = ref.from_xyxy(true, "xywh").astype(np.float32)
    p_xywh = ref.from_xyxy(inverted, "xywh").astype(np.float32)
    assert p_xywh[0, 2] < 0
    for kind, (_, fn) in LOSSES.items():
        expected = getattr(ref, f"{kind}_loss")(true, inverted)
        np.testing.assert_allclose(to_numpy(fn(true, inverted)), expected, **F32)
        got = to_numpy(fn(t_xywh, p_xywh, bounding_box_format="xywh"))
        np.testing.assert_allclose(got, expected, **F32)


def test_ciou_point_and_flat_boxes_are_finite_where_torchvision_is_nan(autodiff):
    torch = _torch()
    true = np.array([[1.0, 1.0, 3.0, 2.0], [0.0, 0.0, 2.0, 2.0]], np.float32)
    pred = np.array([[2.0, 1.5, 2.0, 1.5], [0.5, 1.0, 2.5, 1.0]], np.float32)  # point; flat
    tv = _tv_ciou_loss(
        torch, torch.tensor(pred, dtype=torch.float64), torch.tensor(true, dtype=torch.float64)
    )
    assert np.isnan(tv[0].item())  # atan(0 / 0)
    v, g = value_and_grad(lambda p: kloss.CIoU(reduction="sum")(true, p), pred)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    got = to_numpy(kloss.ciou_loss(true, pred))
    np.testing.assert_allclose(got, ref.ciou_loss(true, pred), **F32)
    # A zero height: atan(w / 0) = pi / 2, torchvision's value (its gradient is NaN there).
    np.testing.assert_allclose(got[1], tv[1].item(), **F32)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["IoU", "GIoU", "DIoU", "CIoU"])
def test_constructor_errors(name):
    cls = getattr(kloss, name)
    with pytest.raises(
        ValueError,
        match=rf"{name}: `bounding_box_format` must be one of .*"
        rf"Received: bounding_box_format='center_xyhw'. Did you mean \"center_xywh\"\?",
    ):
        cls(bounding_box_format="center_xyhw")
    with pytest.raises(
        ValueError, match=rf"{name}: `epsilon` must be > 0.0. Received: epsilon=0.0"
    ):
        cls(epsilon=0.0)
    with pytest.raises(TypeError, match=rf"{name}: `epsilon` must be a number"):
        cls(epsilon="1e-7")
    assert cls().name == name.lower()


def test_call_errors():
    with pytest.raises(
        ValueError,
        match=r"GIoU: `y_pred` must hold boxes of 4 coordinates .*Received: y_pred.shape=\(2, 5\)",
    ):
        kloss.GIoU()(np.ones((2, 5), np.float32), np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"iou_loss: `y_pred` must have rank >= 2"):
        kloss.iou_loss(np.ones(4, np.float32), np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"CIoU: `y_true` and `y_pred` must have the same shape"):
        kloss.CIoU()(np.ones((3, 4), np.float32), np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r'diou_loss: `bounding_box_format` .*Did you mean "xyxy"'):
        kloss.diou_loss(np.ones((2, 4)), np.ones((2, 4)), bounding_box_format="xxyy")

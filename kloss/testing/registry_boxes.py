"""Registry entries for kloss.boxes (see tests/entry.py).

The box losses reduce the last axis (the 4 coordinates) and return `y_pred.shape[:-1]`,
Keras's normal per-entry shape: `(B,)` for `(B, 4)` boxes, `(B, N)` for `(B, N, 4)`. So
they are ordinary non-elementwise losses (`elementwise=False`, `per_row=False`,
`batch_defined=False`) and get every generic check: `make_inputs` keeps the leading axes
of the requested shape and replaces the last one by 4 (`(4, 5)` gives 4 boxes, `(3, 2, 4)`
gives 3 x 2 boxes), so the 3-D tests, per-box weights, Keras masks (a masked box is all
zeros: a point box at the origin) and batch == stacked rows apply as for any loss. The
fit/save tests use a Dense(4) model with a sigmoid whose outputs are boxes in the option's
format (possibly inverted in the corner formats: read as empty boxes).
"""

import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import boxes as ref


def _fmt(option):
    return option.get("bounding_box_format", "xyxy")


def _boxes(rng, shape, option):
    """Boxes in normalized coordinates (about [0, 1], as detection heads predict them)."""
    lead = tuple(shape[:-1])
    x1 = rng.uniform(0.0, 0.6, size=lead)
    y1 = rng.uniform(0.0, 0.6, size=lead)
    w = rng.uniform(0.1, 0.5, size=lead)
    h = rng.uniform(0.1, 0.5, size=lead)
    true = np.stack([x1, y1, x1 + w, y1 + h], axis=-1)
    corners = true + rng.normal(scale=0.1, size=true.shape)
    # Valid predictions (x1 < x2, y1 < y2) around the targets; every third one shifted
    # away so that some pairs do not overlap.
    lo = np.minimum(corners[..., :2], corners[..., 2:])
    hi = np.maximum(corners[..., :2], corners[..., 2:]) + 0.02
    pred = np.concatenate([lo, hi], axis=-1)
    flat = pred.reshape(-1, 4)
    flat[::3, [0, 2]] += 1.2
    fmt = _fmt(option)
    return (
        ref.from_xyxy(true, fmt).astype(np.float32),
        ref.from_xyxy(pred, fmt).astype(np.float32),
    )


def _edges(option):
    fmt = _fmt(option)
    t = np.array([[1.0, 2.0, 4.0, 4.0], [0.0, 0.0, 2.0, 1.0]])

    def pair(name, true, pred):
        return (
            name,
            ref.from_xyxy(np.asarray(true, np.float64), fmt).astype(np.float32),
            ref.from_xyxy(np.asarray(pred, np.float64), fmt).astype(np.float32),
        )

    points = np.array([[2.0, 3.0, 2.0, 3.0], [0.5, 0.5, 0.5, 0.5]])
    return [
        pair("identical", t, t),
        pair("pred_zero_area", t, [[2.0, 2.5, 2.0, 3.5], [0.0, 0.5, 2.0, 0.5]]),
        pair("identical_points", points, points),
        pair("pred_point_at_true_center", t, [[2.5, 3.0, 2.5, 3.0], [1.0, 0.5, 1.0, 0.5]]),
        pair("touching", t, [[4.0, 2.0, 5.0, 4.0], [0.0, 1.0, 2.0, 3.0]]),
        pair("pred_inverted", t, [[4.0, 4.0, 1.0, 2.0], [2.0, 0.0, 0.0, 1.0]]),
        pair("pred_contains_true", t, [[0.0, 0.0, 6.0, 6.0], [-1.0, -1.0, 3.0, 2.0]]),
        pair("disjoint_far", t, t + 1e3),
        pair("coordinates_1e4", t * 1e3 + 1e4, t * 1e3 + 1e4 + 250.0),
    ]


def _entry(cls, fn, reference, options):
    return Entry(
        cls,
        fn,
        reference,
        options=options,
        make_inputs=_boxes,
        edges=_edges,
        elementwise=False,
        model_shape=lambda option, dim: (4,),
        # Coordinates in (0, 1): with "center_xywh" every predicted box is valid, so the
        # IoU loss (no gradient without overlap) trains the model in the fit test.
        activation="sigmoid",
    )


ENTRIES = [
    _entry(kloss.IoU, kloss.iou_loss, ref.iou_loss, [{}, {"bounding_box_format": "center_xywh"}]),
    _entry(kloss.GIoU, kloss.giou_loss, ref.giou_loss, [{}, {"bounding_box_format": "yxyx"}]),
    _entry(
        kloss.DIoU,
        kloss.diou_loss,
        ref.diou_loss,
        [{}, {"bounding_box_format": "xywh", "epsilon": 1e-6}],
    ),
    _entry(
        kloss.CIoU,
        kloss.ciou_loss,
        ref.ciou_loss,
        [{}, {"bounding_box_format": "yxyx"}, {"bounding_box_format": "center_xywh"}],
    ),
]

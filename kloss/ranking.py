"""Ranking losses over explicit pairs and triplets: contrastive, triplet, margin ranking.

The caller builds the pairs or triplets (no mining: see `kloss.mining` for losses that form
them from integer labels inside the batch). Each loss is a function
`snake_case(y_true, y_pred, *, hyper=...)` returning one value per sample and a
`keras.losses.Loss` class that validates its hyperparameters at construction.

Shared conventions (docs/ranking.md):

- Hinges `max(0, x)` have gradient 0 at the kink `x == 0` on every backend.
- Euclidean distances use a guarded square root: identical embeddings give a zero gradient,
  not NaN.
- float16 and bfloat16 inputs are computed in float32 and cast back.
"""

from keras import ops

from kloss._internal import (
    ElementwiseLoss,
    KlossLoss,
    check_bool,
    check_number,
    compute_dtype,
    elementwise_loss,
    float_dtype,
    register,
    static_shape,
)
from kloss._pairwise import check_distance, vector_distance

__all__ = [
    "Contrastive",
    "Triplet",
    "MarginRanking",
    "contrastive_loss",
    "triplet",
    "margin_ranking",
]


# --------------------------------------------------------------------------- helpers


def _hinge(x):
    # max(0, x) as a select: gradient 0 at x == 0 on every backend (no relu'(0) convention).
    return ops.where(x > 0, x, ops.zeros_like(x))


def _prepare_pred(y_pred):
    """`y_pred` as a tensor in the compute dtype, and the dtype the result is cast back to."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    return ops.cast(y_pred, compute_dtype(out_dtype)), out_dtype


def _batch_mismatch(ts, ps):
    return len(ts) == 0 or (ts[0] is not None and ps[0] is not None and ts[0] != ps[0])


# --------------------------------------------------------------------------- contrastive


def _check_contrastive(owner, margin):
    # margin 0 makes the dissimilar term max(0, -d)^2 == 0: the loss only pulls pairs in.
    return dict(margin=check_number(owner, "margin", margin, gt=0.0))


def _contrastive_elements(y_true, y_pred, margin=1.0):
    gap = _hinge(margin - y_pred)
    return 0.5 * (y_true * ops.square(y_pred) + (1.0 - y_true) * ops.square(gap))


@register
def contrastive_loss(y_true, y_pred, *, margin=1.0):
    """Contrastive loss of pair distances, averaged over the last axis; see `Contrastive`.

    Returns one value per sample: `(B,)` for `(B,)` or `(B, 1)` distances. (Named
    `contrastive_loss`, as tensorflow-addons' function: `kloss.contrastive` is the module of
    the in-batch contrastive losses.)
    """
    owner = "contrastive_loss"
    hyper = _check_contrastive(owner, margin)
    return elementwise_loss(owner, _contrastive_elements, y_true, y_pred, **hyper)


@register
class Contrastive(ElementwiseLoss):
    """Contrastive loss of a pair distance (Hadsell, Chopra and LeCun 2006).

    For Siamese networks trained on labelled pairs: similar pairs are pulled together,
    dissimilar pairs pushed at least `margin` apart. `y_pred` is the distance between the
    two embeddings of each pair (e.g. their Euclidean distance), not a similarity.
    Per pair:

        loss = 1/2 * (y * d**2 + (1 - y) * max(0, margin - d)**2)

    Label convention: `y = 1` for a **similar** pair and `y = 0` for a dissimilar one, as
    tensorflow-addons' `contrastive_loss`. The paper uses the opposite (`Y = 0` similar);
    for labels in that convention pass `1 - y`. Soft labels in `[0, 1]` interpolate.

    Note: kloss keeps the paper's factor 1/2; tensorflow-addons' `contrastive_loss` and
    `ContrastiveLoss` have none, so `2 * kloss.contrastive_loss(y, d, margin=m)` equals
    `tfa.losses.contrastive_loss(y, d, margin=m)`. pytorch-metric-learning's
    `ContrastiveLoss(pos_margin=0, neg_margin=m)` computes the unsquared hinges `d` and
    `max(0, m - d)`: each kloss pair loss is half the square of its pair loss.

    An elementwise loss like `keras.losses.MeanSquaredError`: distances of shape `(B,)` or
    `(B, 1)` give one value per pair, `(B, K)` the mean over the `K` pairs of each sample;
    per-element `sample_weight` is accepted.

    Args:
        margin: how far apart dissimilar pairs are pushed, `> 0` (with 0 the dissimilar term
            vanishes). Default 1.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: 1 for similar pairs, 0 for dissimilar ones, the shape of `y_pred` (or with or
            without a trailing axis of size 1).
        y_pred: pair distances `>= 0`, `(B,)` or `(B, 1)` (any rank: averaged over the last
            axis).
        sample_weight: `(B,)`, `(B, 1)`, or one per distance.

    Example:
        >>> loss = kloss.Contrastive(margin=1.0)
        >>> round(float(loss([1.0, 0.0, 0.0], [0.5, 0.2, 1.5])), 4)
        0.1483
    """

    hyperparameters = ("margin",)

    def __init__(self, margin=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.__dict__.update(_check_contrastive(type(self).__name__, margin))
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    _elements = staticmethod(_contrastive_elements)


# --------------------------------------------------------------------------- triplet


def _check_triplet(owner, margin, distance, swap, soft):
    return dict(
        margin=check_number(owner, "margin", margin, ge=0.0),
        distance=check_distance(owner, distance),
        swap=check_bool(owner, "swap", swap),
        soft=check_bool(owner, "soft", soft),
    )


def _triplet(owner, y_true, y_pred, margin, distance, swap, soft):
    y_pred, out_dtype = _prepare_pred(y_pred)
    ps = static_shape(y_pred)
    if len(ps) != 3 or ps[1] not in (3, None):
        raise ValueError(
            f"{owner}: `y_pred` must have shape (B, 3, D): anchor, positive and negative "
            f"embeddings stacked on axis 1. Received: y_pred.shape={ps}. Stack them with "
            "keras.ops.stack([anchor, positive, negative], axis=1)."
        )
    if y_true is not None:
        ts = static_shape(y_true)
        if _batch_mismatch(ts, ps):
            raise ValueError(
                f"{owner}: `y_true` is ignored but must have the batch size of `y_pred` "
                f"(e.g. zeros of shape (B,)). Received: y_true.shape={ts}, "
                f"y_pred.shape={ps}."
            )
    anchor, positive, negative = y_pred[:, 0], y_pred[:, 1], y_pred[:, 2]
    d_ap = vector_distance(anchor, positive, distance)
    d_an = vector_distance(anchor, negative, distance)
    if swap:
        d_pn = vector_distance(positive, negative, distance)
        # The harder negative distance; at a tie the anchor's, so the gradient is the same
        # on every backend (minimum splits or picks differently).
        d_an = ops.where(d_pn < d_an, d_pn, d_an)
    gap = d_ap - d_an
    # softplus is log1p(exp(x)) without overflow for large gaps.
    loss = ops.softplus(gap) if soft else _hinge(gap + margin)
    return ops.cast(loss, out_dtype)


@register
def triplet(y_true, y_pred, *, margin=1.0, distance="squared_euclidean", swap=False, soft=False):
    """Triplet margin loss of explicit triplets; see `Triplet`.

    Returns one value per triplet, shape `(B,)`.
    """
    owner = "triplet"
    hyper = _check_triplet(owner, margin, distance, swap, soft)
    return _triplet(owner, y_true, y_pred, **hyper)


@register
class Triplet(KlossLoss):
    """Triplet margin loss of explicit (anchor, positive, negative) triplets.

    For embeddings trained on triplets that the input pipeline builds (for triplets mined
    inside the batch from integer labels, see the mining losses in `kloss.mining`).
    Per triplet, with `d` the chosen distance:

        loss = max(0, d(a, p) - d(a, n) + margin)          # soft=False
        loss = log(1 + exp(d(a, p) - d(a, n)))             # soft=True

    With `swap=True` (Balntas et al. 2016, torch's `swap`), `d(a, n)` is replaced by
    `min(d(a, n), d(p, n))`, the harder of the two negative distances. `soft=True` is the
    soft-margin triplet loss of Hermans, Beyer and Leibe (2017): it has no margin, and
    `margin` is unused (but still validated).

    Equals `torch.nn.functional.triplet_margin_loss(a, p, n, margin, swap=swap, eps=0)` for
    `distance="euclidean"`, and `torch.nn.functional.triplet_margin_with_distance_loss`
    with the same distance function for every distance. torch's default `eps=1e-6` is
    added to the difference inside its distance, `||a - p + eps||`: without `swap`, torch's
    default equals kloss on `(a, p - eps, n - eps)`. `optax.losses.triplet_margin_loss(a,
    p, n, margin=m, eps=0)` equals `distance="euclidean"` too (its default `eps=1e-6` goes
    inside the square root). pytorch-metric-learning's `TripletMarginLoss` on explicit
    triplets equals it with `distance=LpDistance(normalize_embeddings=False, power=2)`
    (squared Euclidean), `power=1` (Euclidean) or `CosineSimilarity()` (cosine), a
    `MeanReducer()`, and `smooth_loss=True, margin=0` for `soft=True`.

    Note: the default distance is the squared Euclidean distance (FaceNet, Schroff et al.
    2015); torch and optax use the Euclidean distance: pass `distance="euclidean"`.
    torch requires `margin > 0`; kloss accepts 0.

    Args:
        margin: `>= 0`. Default 1. Unused with `soft=True`.
        distance: `"squared_euclidean"` (default), `"euclidean"` or `"cosine"`
            (`1 - cos(a, b)`; a zero vector has cosine 0 with everything).
        swap: use `min(d(a, n), d(p, n))` as the negative distance. Default False.
        soft: the soft-margin form `log(1 + exp(d(a, p) - d(a, n)))`. Default False.
        reduction: `"sum_over_batch_size"` (default, torch's `"mean"`), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: ignored; pass anything with the batch size `B`, e.g. `zeros((B,))` (Keras's
            `fit` needs a target).
        y_pred: `(B, 3, D)`: anchor, positive and negative embeddings stacked on axis 1,
            e.g. `keras.ops.stack([a, p, n], axis=1)`.
        sample_weight: `(B,)` or `(B, 1)`, one weight per triplet.

    Returns one value per triplet, `(B,)`.

    Example:
        >>> loss = kloss.Triplet(margin=1.0)
        >>> y_pred = [[[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 1.0], [2.0, 0.0]]]
        >>> round(float(loss([0.0, 0.0], y_pred)), 4)
        0.875
    """

    hyperparameters = ("margin", "distance", "swap", "soft")
    per_row = True

    def __init__(
        self,
        margin=1.0,
        distance="squared_euclidean",
        swap=False,
        soft=False,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.__dict__.update(_check_triplet(owner, margin, distance, swap, soft))
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        hyper = {name: getattr(self, name) for name in self.hyperparameters}
        return _triplet(type(self).__name__, y_true, y_pred, **hyper)


# --------------------------------------------------------------------------- margin ranking


def _check_margin_ranking(owner, margin):
    # A negative margin lets a wrongly ordered pair go unpenalized: never what is meant.
    return dict(margin=check_number(owner, "margin", margin, ge=0.0))


def _margin_ranking(owner, y_true, y_pred, margin):
    y_pred, out_dtype = _prepare_pred(y_pred)
    ps = static_shape(y_pred)
    if len(ps) != 2 or ps[1] not in (2, None):
        raise ValueError(
            f"{owner}: `y_pred` must have shape (B, 2): the two scores of each pair. "
            f"Received: y_pred.shape={ps}. Stack them with "
            "keras.ops.stack([x1, x2], axis=1)."
        )
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    ts = static_shape(y_true)
    if len(ts) not in (1, 2) or (len(ts) == 2 and ts[1] != 1) or _batch_mismatch(ts, ps):
        raise ValueError(
            f"{owner}: `y_true` must hold one label per pair, shape (B,) or (B, 1) for "
            f"`y_pred` of shape (B, 2). Received: y_true.shape={ts}, y_pred.shape={ps}."
        )
    if len(ts) == 2:
        y_true = ops.squeeze(y_true, -1)
    # Labels in {1, -1}; a 0 can only mean -1 (labels in {0, 1}), read elementwise.
    y = ops.where(y_true == 0, -ops.ones_like(y_true), y_true)
    loss = _hinge(margin - y * (y_pred[:, 0] - y_pred[:, 1]))
    return ops.cast(loss, out_dtype)


@register
def margin_ranking(y_true, y_pred, *, margin=0.0):
    """Margin ranking loss of score pairs; see `MarginRanking`.

    Returns one value per pair, shape `(B,)`.
    """
    owner = "margin_ranking"
    hyper = _check_margin_ranking(owner, margin)
    return _margin_ranking(owner, y_true, y_pred, **hyper)


@register
class MarginRanking(KlossLoss):
    """Margin ranking loss of a pair of scores: `max(0, -y (x1 - x2) + margin)`.

    For learning to rank from pairwise preferences: `y = 1` when the first item should
    score higher than the second, `y = -1` when the second should. A pair ranked the right
    way by at least `margin` costs nothing.

    Equals `torch.nn.functional.margin_ranking_loss(x1, x2, y, margin=margin)` with every
    reduction (`"none"`, `"sum"`, and `"mean"` as the default `"sum_over_batch_size"`).

    Note: a label 0 is read as -1 (as `kloss.Hinge` does), so labels in {0, 1} work: 1 means
    "the first ranks higher", 0 "the second does". torch multiplies by the label as given
    and makes a 0 label cost `max(0, margin)`; other values scale `x1 - x2` as in torch.

    Args:
        margin: `>= 0` (0 is valid: only the order counts). Default 0, as torch.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: labels in {1, -1} (0 is read as -1), shape `(B,)` or `(B, 1)`.
        y_pred: `(B, 2)`: the scores `x1` and `x2` of each pair, e.g.
            `keras.ops.stack([x1, x2], axis=1)` (or `concatenate` of two `(B, 1)` scores).
        sample_weight: `(B,)` or `(B, 1)`, one weight per pair.

    Returns one value per pair, `(B,)`.

    Example:
        >>> loss = kloss.MarginRanking(margin=0.5)
        >>> round(float(loss([1.0, -1.0, 0.0], [[2.0, 1.0], [0.3, 0.5], [1.0, 0.0]])), 4)
        0.6
    """

    hyperparameters = ("margin",)
    per_row = True

    def __init__(self, margin=0.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.__dict__.update(_check_margin_ranking(type(self).__name__, margin))
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _margin_ranking(type(self).__name__, y_true, y_pred, self.margin)

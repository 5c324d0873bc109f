"""Metric-learning losses with in-batch mining from integer labels: triplet semi-hard and hard,
lifted structure, multi-similarity, N-pairs.

Every loss takes integer labels `y_true` `(B,)` and embeddings `y_pred` `(B, D)`, mines its
pairs or triplets inside the batch, and returns one value per row `(B,)` chosen so that the
default reduction (the mean over rows) is the reference scalar: the tensorflow-addons or
pytorch-metric-learning value. Shared conventions (docs/mining.md):

- Memory is O(B^2): a (B, B) distance matrix and (B, B) masks, never a (B, B, B) tensor.
- No Python branch on tensor values: everything runs inside `jax.jit` and `tf.function`
  with an unknown batch size.
- A batch without a valid pair or triplet gives 0 and a zero gradient, never NaN
  (tensorflow-addons divides 0 by 0 there).
- A mined negative or positive is gathered from the distance matrix by its index, so the
  gradient reaches exactly the embeddings that were mined. Between equally distant
  candidates the lowest index wins, on every backend.
"""

from keras import ops

from kloss._internal import (
    KlossLoss,
    check_bool,
    check_number,
    register,
)
from kloss._pairwise import (
    check_distance,
    eye_mask,
    gram,
    l2_normalize,
    label_masks,
    labels_and_embeddings,
    pairwise_distance,
)

__all__ = [
    "TripletSemiHard",
    "TripletHard",
    "LiftedStructure",
    "MultiSimilarity",
    "NPairs",
    "triplet_semi_hard",
    "triplet_hard",
    "lifted_structure",
    "multi_similarity",
    "npairs",
]

# tensorflow-addons' `distance_metric` strings and the kloss `distance` of the same math
# (tensorflow_addons/losses/triplet.py: 0.10 used "L_1"/"L_2", 0.11 renamed them).
_TFA_DISTANCES = {
    "L2": "euclidean",
    "squared-L2": "squared_euclidean",
    "L_2": "squared_euclidean",
    "L_1": "euclidean",
    "angular": "cosine",
}


# --------------------------------------------------------------------------- validation


def _distance(owner, value):
    try:
        return check_distance(owner, value)
    except ValueError as err:
        if isinstance(value, str) and value in _TFA_DISTANCES:
            raise ValueError(
                f"{err} tensorflow-addons' distance_metric={value!r} is kloss's "
                f'distance="{_TFA_DISTANCES[value]}".'
            ) from None
        raise


def _margin(owner, value):
    return check_number(owner, "margin", value, ge=0.0)


# --------------------------------------------------------------------------- shared math


def _relu(x):
    # Gradient 0 at exactly 0 on every backend (ops.maximum splits it on JAX).
    return ops.where(x > 0, x, ops.zeros_like(x))


def _batch_size(x):
    return ops.shape(x)[0]


def _count(mask, dtype):
    return ops.sum(ops.cast(mask, dtype))


def _per_row(total, n, norm, dtype):
    """`n * total / norm`, 0 when `norm` is 0: rows whose mean over the batch is
    `sum(total) / norm`."""
    some = norm > 0
    safe = ops.where(some, norm, ops.ones_like(norm))  # no 0 / 0, not even unselected
    return ops.where(some, total * ops.cast(n, dtype) / safe, ops.zeros_like(total))


def _search_steps(n):
    # Bisection over n + 1 possible counts; a batch size unknown while tracing (TF) gets
    # enough steps for any int32 size.
    return max(1, n.bit_length()) if isinstance(n, int) else 32


def _count_at_most(sorted_rows, queries, n):
    """For each query q[a, j], the number of entries of the ascending row sorted_rows[a]
    that are <= q[a, j] (a row-wise `searchsorted(side="right")`).

    Vectorized bisection: (B, B) integers and one (B, B) gather per step, O(B^2 log B) time
    and O(B^2) memory; exact for ties (a (B, B, B) comparison is what it replaces).
    """
    lo = ops.zeros_like(queries, dtype="int32")
    hi = lo + ops.cast(n, "int32")
    last = ops.cast(n, "int32") - 1
    for _ in range(_search_steps(n)):
        active = lo < hi
        mid = ops.floor_divide(lo + hi, 2)
        value = ops.take_along_axis(sorted_rows, ops.minimum(mid, last), axis=1)
        at_most = value <= queries
        lo = ops.where(ops.logical_and(active, at_most), mid + 1, lo)
        hi = ops.where(ops.logical_and(active, ops.logical_not(at_most)), mid, hi)
    return lo


def _gather_rows(d, index):
    """d[a, index[a, j]]: (B, B) gather, so the gradient reaches the mined entries only."""
    return ops.take_along_axis(d, ops.cast(index, "int32"), axis=1)


def _log1p_sum_exp(z, mask):
    """log(1 + sum over `mask` of exp(z)) along axis 1, 0 for an empty row; stable for
    any z (shifted by a no-gradient max, exact as the shift cancels)."""
    z = ops.where(mask, z, ops.zeros_like(z))
    m = ops.max(z, axis=1, keepdims=True)
    m = ops.stop_gradient(ops.where(m > 0, m, ops.zeros_like(m)))  # max(0, z_max)
    terms = ops.where(mask, ops.exp(z - m), ops.zeros_like(z))
    total = ops.exp(-m) + ops.sum(terms, axis=1, keepdims=True)
    return ops.squeeze(m + ops.log(total), 1)


# --------------------------------------------------------------------------- triplet semi-hard


def _triplet_semi_hard(owner, y_true, y_pred, margin, distance):
    labels, x, out_dtype = labels_and_embeddings(owner, y_true, y_pred)
    dtype = x.dtype
    n = _batch_size(x)
    d = pairwise_distance(x, distance)
    pos, neg = label_masks(labels, x)
    sd = ops.stop_gradient(d)  # mining picks indices; values come from `d`
    inf = float("inf")
    # Each anchor's negatives in ascending order (+inf for non-negatives, sorted last).
    neg_d = ops.where(neg, sd, inf)
    order = ops.argsort(neg_d, axis=1)
    sorted_neg = ops.take_along_axis(neg_d, order, axis=1)
    n_neg = ops.sum(ops.cast(neg, "int32"), axis=1, keepdims=True)
    # c[a, p] negatives are at distance <= d(a, p), so the closest negative strictly
    # farther than the positive is the c-th in the sorted order (ties count as not
    # farther, as tensorflow-addons' `greater`): the first of its tied run, which the
    # stable argsort (JAX, PyTorch, TensorFlow's top_k) keeps at the lowest index.
    count = ops.minimum(_count_at_most(sorted_neg, sd, n), n_neg)
    outside = count < n_neg
    semi_hard = ops.take_along_axis(order, ops.minimum(count, ops.cast(n, "int32") - 1), axis=1)
    # No negative farther than the positive: the farthest negative (argmax: lowest index).
    farthest = ops.argmax(ops.where(neg, sd, -inf), axis=1)
    index = ops.where(outside, ops.cast(semi_hard, "int32"), ops.cast(farthest, "int32")[:, None])
    d_neg = _gather_rows(d, index)
    valid = ops.logical_and(pos, n_neg > 0)
    losses = ops.where(valid, _relu(d - d_neg + margin), ops.zeros_like(d))
    # Row a: B * sum_p loss(a, p) / P, P the number of positive pairs (the mean over rows
    # is tensorflow-addons' sum over pairs / P).
    rows = _per_row(ops.sum(losses, axis=1), n, _count(pos, dtype), dtype)
    return ops.cast(rows, out_dtype)


@register
def triplet_semi_hard(y_true, y_pred, *, margin=1.0, distance="squared_euclidean"):
    """Triplet loss with semi-hard negative mining; see `TripletSemiHard`.

    Returns one value per row `(B,)` whose mean is tensorflow-addons'
    `triplet_semihard_loss`.
    """
    owner = "triplet_semi_hard"
    return _triplet_semi_hard(
        owner, y_true, y_pred, _margin(owner, margin), _distance(owner, distance)
    )


class _MiningLoss(KlossLoss):
    integer_labels = True
    per_row = True
    _fn = None

    def call(self, y_true, y_pred):
        hyper = {name: getattr(self, name) for name in self.hyperparameters}
        return type(self)._fn(type(self).__name__, self._true(y_true), y_pred, **hyper)


@register
class TripletSemiHard(_MiningLoss):
    """Triplet loss with semi-hard negative mining (FaceNet), as tensorflow-addons'
    `TripletSemiHardLoss`.

    For embeddings trained with class labels: every positive pair `(a, p)` (same label,
    `a != p`) is matched with its semi-hard negative, the closest negative strictly farther
    from the anchor than the positive; when there is none, the farthest negative:

        loss(a, p) = max(d(a, p) - d(a, n*) + margin, 0)
        value      = sum over positive pairs of loss(a, p) / P     (P positive pairs)

    Row `a`'s value is `B * sum_p loss(a, p) / P`, so the default reduction (the mean over
    rows) is the value above and `sample_weight` weights anchors. A batch with no positive
    pair, or with one class only (no triplet), gives 0 and a zero gradient.

    Memory O(B^2), time O(B^2 log B): negatives are sorted per anchor and the semi-hard one
    is found by a row-wise bisection (tensorflow-addons tiles a (B^2, B) matrix). The
    negative's distance is gathered from the distance matrix by index, so the gradient
    reaches the mined negative; between equally distant negatives the lowest index wins.

    Equals tensorflow-addons' `triplet_semihard_loss` (checked against a NumPy copy of its
    formula) with these `distance_metric` names, which changed between its releases:

    | kloss `distance` | tensorflow-addons >= 0.11 | tensorflow-addons 0.10 |
    |---|---|---|
    | `"squared_euclidean"` (default) | `"squared-L2"` | `"L_2"` (its default) |
    | `"euclidean"` | `"L2"` (its default) | `"L_1"` (despite the name) |
    | `"cosine"` (`1 - cos`) | `"angular"` (clamped at 0) | `"angular"` |

    `triplet_semihard_loss` in tensorflow-addons <= 0.9 and `tf.contrib` always used the
    squared distance.

    Note: the default here is the squared distance, tensorflow-addons 0.10's default and
    the original `tf.contrib` one; tensorflow-addons >= 0.11 defaults to the plain Euclidean
    distance (`distance="euclidean"` reproduces it). Where kloss differs on purpose:
    tensorflow-addons gives NaN for a batch without a positive pair (kloss 0) and
    `mean(d(a, p) + margin)` for a batch of one class (kloss 0: there is no triplet).
    pytorch-metric-learning's `TripletMarginMiner(type_of_triplets="semihard")` keeps every
    negative with `0 < d(a, n) - d(a, p) <= margin` instead of one per positive pair and
    drops the fallback to the farthest negative.

    Args:
        margin: the margin, a number `>= 0`. Default 1.0.
        distance: `"squared_euclidean"` (default), `"euclidean"` or `"cosine"`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`).
        y_pred: embeddings `(B, D)`.
        sample_weight: `(B,)` or `(B, 1)`, one weight per row (anchor).

    Example:
        >>> loss = kloss.TripletSemiHard(margin=1.0)
        >>> labels = [0, 0, 1, 1]
        >>> embeddings = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.5], [2.0, 1.0]]
        >>> round(float(loss(labels, embeddings)), 4)
        0.5625

        Reference: Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015.
    """

    hyperparameters = ("margin", "distance")
    _fn = staticmethod(_triplet_semi_hard)

    def __init__(
        self,
        margin=1.0,
        distance="squared_euclidean",
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.margin = _margin(owner, margin)
        self.distance = _distance(owner, distance)
        super().__init__(name=name, reduction=reduction, dtype=dtype)


# --------------------------------------------------------------------------- triplet hard


def _triplet_hard(owner, y_true, y_pred, margin, soft, distance):
    labels, x, out_dtype = labels_and_embeddings(owner, y_true, y_pred)
    d = pairwise_distance(x, distance)
    pos, neg = label_masks(labels, x)
    sd = ops.stop_gradient(d)
    inf = float("inf")
    # Hardest positive and negative by index (argmax/argmin: the lowest index at a tie).
    hardest_pos = ops.argmax(ops.where(pos, sd, -inf), axis=1)[:, None]
    hardest_neg = ops.argmin(ops.where(neg, sd, inf), axis=1)[:, None]
    gap = ops.squeeze(_gather_rows(d, hardest_pos) - _gather_rows(d, hardest_neg), 1)
    losses = ops.softplus(gap) if soft else _relu(gap + margin)
    valid = ops.logical_and(ops.any(pos, axis=1), ops.any(neg, axis=1))
    return ops.cast(ops.where(valid, losses, ops.zeros_like(losses)), out_dtype)


@register
def triplet_hard(y_true, y_pred, *, margin=1.0, soft=False, distance="squared_euclidean"):
    """Batch-hard triplet loss; see `TripletHard`.

    Returns one value per row (anchor) `(B,)`.
    """
    owner = "triplet_hard"
    return _triplet_hard(
        owner,
        y_true,
        y_pred,
        _margin(owner, margin),
        check_bool(owner, "soft", soft),
        _distance(owner, distance),
    )


@register
class TripletHard(_MiningLoss):
    """Batch-hard triplet loss (Hermans et al.), as tensorflow-addons' `TripletHardLoss`.

    Each anchor is paired with its hardest positive (the farthest same-label sample) and
    its hardest negative (the closest other-label sample):

        loss(a) = max(d(a, p_hard) - d(a, n_hard) + margin, 0)
        soft:     log(1 + exp(d(a, p_hard) - d(a, n_hard)))     (margin unused)

    one value per row (anchor); the default reduction is the mean over anchors. An anchor
    without a positive or without a negative has no triplet and gives 0.

    Memory and time O(B^2). The mined distances are gathered by index (the lowest index at
    a tie), so the gradient reaches one positive and one negative per anchor.

    Equals tensorflow-addons' `triplet_hard_loss` (same `distance` names as
    `TripletSemiHard`) for batches where every anchor has a positive and a negative.
    Note: tensorflow-addons counts an anchor without a positive with a positive distance
    of 0 (`max(margin - d(a, n_hard), 0)`) and, in a batch of one class, gives `margin`
    per anchor; kloss gives 0 for both (no triplet exists). pytorch-metric-learning's
    `BatchHardMiner` with `TripletMarginLoss(margin, reducer=MeanReducer())` drops such
    anchors and averages over the others: its value is kloss's times `B / #valid anchors`.
    The soft version uses `softplus`, exact where tensorflow-addons' `log1p(exp(x))`
    overflows.

    Args:
        margin: the margin, a number `>= 0`; unused when `soft=True`. Default 1.0.
        soft: use the soft margin `log(1 + exp(.))`. Default False.
        distance: `"squared_euclidean"` (default), `"euclidean"` or `"cosine"`.
        reduction: as in `TripletSemiHard`.
        name: as in `TripletSemiHard`.
        dtype: as in `TripletSemiHard`.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`).
        y_pred: embeddings `(B, D)`.
        sample_weight: `(B,)` or `(B, 1)`, one weight per row (anchor).

    Example:
        >>> loss = kloss.TripletHard(margin=1.0)
        >>> labels = [0, 0, 1, 1]
        >>> embeddings = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.5], [2.0, 1.0]]
        >>> round(float(loss(labels, embeddings)), 4)
        1.5625

        Reference: Hermans et al., "In Defense of the Triplet Loss for Person
        Re-Identification", 2017.
    """

    hyperparameters = ("margin", "soft", "distance")
    _fn = staticmethod(_triplet_hard)

    def __init__(
        self,
        margin=1.0,
        soft=False,
        distance="squared_euclidean",
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.margin = _margin(owner, margin)
        self.soft = check_bool(owner, "soft", soft)
        self.distance = _distance(owner, distance)
        super().__init__(name=name, reduction=reduction, dtype=dtype)


# --------------------------------------------------------------------------- lifted structure


def _lifted_structure(owner, y_true, y_pred, margin):
    labels, x, out_dtype = labels_and_embeddings(owner, y_true, y_pred)
    dtype = x.dtype
    n = _batch_size(x)
    d = pairwise_distance(x, "euclidean")
    pos, neg = label_masks(labels, x)
    z = margin - d
    has_neg = ops.any(neg, axis=1, keepdims=True)
    # Per row i: m_i = max over negatives of (margin - d), s_i = sum exp(margin - d - m_i).
    # Rows without negatives get the global minimum, which never wins the max below.
    floor = ops.stop_gradient(ops.min(z))
    m = ops.max(ops.where(neg, z, floor), axis=1, keepdims=True)
    m = ops.stop_gradient(ops.where(has_neg, m, floor))
    s = ops.sum(ops.where(neg, ops.exp(ops.where(neg, z, m) - m), 0.0), axis=1, keepdims=True)
    # J(a, b) = log(sum_k exp(margin - d(a, k)) + sum_l exp(margin - d(b, l))) + d(a, b)
    # from the per-row sums, shifted by max(m_a, m_b): O(B^2) (tensorflow-addons tiles a
    # (B^2, B) matrix).
    m_t = ops.transpose(m)
    top = ops.where(m > m_t, m, m_t)  # max(m_a, m_b)
    inside = s * ops.exp(m - top) + ops.transpose(s) * ops.exp(m_t - top)
    some = inside > 0  # false only when neither row has a negative
    j = top + ops.log(ops.where(some, inside, ops.ones_like(inside))) + d
    valid = ops.logical_and(pos, some)
    terms = ops.where(valid, ops.square(_relu(j)), ops.zeros_like(j))
    # Row a: B * sum_b max(J, 0)^2 / (2 P), P ordered positive pairs: the mean over rows is
    # 1 / (2 |unordered pairs|) * sum over unordered pairs (the paper's 1/2 factor).
    rows = _per_row(ops.sum(terms, axis=1), n, 2.0 * _count(pos, dtype), dtype)
    return ops.cast(rows, out_dtype)


@register
def lifted_structure(y_true, y_pred, *, margin=1.0):
    """Lifted structured loss; see `LiftedStructure`.

    Returns one value per row `(B,)` whose mean is tensorflow-addons' `lifted_struct_loss`.
    """
    owner = "lifted_structure"
    return _lifted_structure(owner, y_true, y_pred, _margin(owner, margin))


@register
class LiftedStructure(_MiningLoss):
    """Lifted structured loss (Song et al. 2016), as tensorflow-addons' `LiftedStructLoss`.

    Every positive pair is pushed closer than all negatives of both its members, with a
    smooth (log-sum-exp) maximum over those negatives, on Euclidean distances:

        J(a, b) = log(sum_{k neg of a} exp(margin - d(a, k))
                      + sum_{l neg of b} exp(margin - d(b, l))) + d(a, b)
        value   = 1 / (2 |P|) * sum over unordered positive pairs {a, b} of max(J(a, b), 0)^2

    Row `a`'s value is `B * sum_b max(J(a, b), 0)^2 / (2 P)` with `P = 2 |P|` ordered
    positive pairs, so the default reduction (the mean over rows) is the value above. A
    batch with no positive pair, or with one class only, gives 0.

    Memory and time O(B^2): the log-sum-exp of a pair is assembled from per-row sums
    (tensorflow-addons tiles a (B^2, B) matrix).

    Equals tensorflow-addons' `lifted_struct_loss` (Euclidean distance, `0.25 * sum over
    ordered pairs / (P / 2)`) and pytorch-metric-learning's
    `LiftedStructureLoss(neg_margin=margin, pos_margin=0,
    distance=LpDistance(normalize_embeddings=False))`; pytorch-metric-learning's default
    distance normalizes the embeddings first.

    Note: tensorflow-addons gives NaN where kloss is finite: for a batch without a positive
    pair (0 / 0), and once a pair's nearest negatives are farther than about 88 (it
    exponentiates every entry before masking, and `exp(89) * 0` is `inf * 0` in float32).

    Args:
        margin: the margin, a number `>= 0`. Default 1.0.
        reduction: as in `TripletSemiHard`.
        name: as in `TripletSemiHard`.
        dtype: as in `TripletSemiHard`.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`).
        y_pred: embeddings `(B, D)`, not normalized by the loss.
        sample_weight: `(B,)` or `(B, 1)`, one weight per row (anchor).

    Example:
        >>> loss = kloss.LiftedStructure(margin=1.0)
        >>> labels = [0, 0, 1, 1]
        >>> embeddings = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.5], [2.0, 1.0]]
        >>> round(float(loss(labels, embeddings)), 4)
        2.6204

        Reference: Song et al., "Deep Metric Learning via Lifted Structured Feature Embedding",
        CVPR 2016.
    """

    hyperparameters = ("margin",)
    _fn = staticmethod(_lifted_structure)

    def __init__(self, margin=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.margin = _margin(type(self).__name__, margin)
        super().__init__(name=name, reduction=reduction, dtype=dtype)


# --------------------------------------------------------------------------- multi-similarity


def _multi_similarity(owner, y_true, y_pred, alpha, beta, base):
    labels, x, out_dtype = labels_and_embeddings(owner, y_true, y_pred)
    u = l2_normalize(x)
    s = gram(u, u)
    pos, neg = label_masks(labels, x)
    pos_term = _log1p_sum_exp(-alpha * (s - base), pos) / alpha
    neg_term = _log1p_sum_exp(beta * (s - base), neg) / beta
    return ops.cast(pos_term + neg_term, out_dtype)


def _check_multi_similarity(owner, alpha, beta, base):
    return dict(
        alpha=check_number(owner, "alpha", alpha, gt=0.0),
        beta=check_number(owner, "beta", beta, gt=0.0),
        base=check_number(owner, "base", base),
    )


@register
def multi_similarity(y_true, y_pred, *, alpha=2.0, beta=50.0, base=0.5):
    """Multi-similarity loss; see `MultiSimilarity`.

    Returns one value per row (anchor) `(B,)`.
    """
    owner = "multi_similarity"
    return _multi_similarity(
        owner, y_true, y_pred, **_check_multi_similarity(owner, alpha, beta, base)
    )


@register
class MultiSimilarity(_MiningLoss):
    """Multi-similarity loss (Wang et al. 2019) over cosine similarities `S`, without the
    paper's pair mining, as pytorch-metric-learning's `MultiSimilarityLoss`.

    Per anchor `a`, over its positives `p` and negatives `n` in the batch:

        loss(a) = 1/alpha * log(1 + sum_p exp(-alpha (S(a, p) - base)))
                + 1/beta  * log(1 + sum_n exp( beta (S(a, n) - base)))

    one value per row (anchor), 0 for a term without pairs; the default reduction is the
    mean over all `B` anchors, anchors without pairs included (pytorch-metric-learning's
    `MeanReducer`). Embeddings are L2-normalized inside the loss (a zero embedding has
    similarity 0 to everything, with a finite gradient). Memory and time O(B^2); each
    log-sum-exp is shifted by its maximum, exact for any `alpha` and `beta`.

    Equals `pytorch_metric_learning.losses.MultiSimilarityLoss(alpha, beta, base)` with its
    default cosine similarity and no miner.

    Args:
        alpha: scale of the positive term, `> 0`. Default 2.
        beta: scale of the negative term, `> 0`. Default 50.
        base: the similarity threshold `lambda`, a number. Default 0.5.
        reduction: as in `TripletSemiHard`.
        name: as in `TripletSemiHard`.
        dtype: as in `TripletSemiHard`.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`).
        y_pred: embeddings `(B, D)`, any norm.
        sample_weight: `(B,)` or `(B, 1)`, one weight per row (anchor).

    Example:
        >>> loss = kloss.MultiSimilarity()
        >>> labels = [0, 0, 1, 1]
        >>> embeddings = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]]
        >>> round(float(loss(labels, embeddings)), 4)
        0.3572

        Reference: Wang et al., "Multi-Similarity Loss with General Pair Weighting for Deep
        Metric Learning", CVPR 2019.
    """

    hyperparameters = ("alpha", "beta", "base")
    _fn = staticmethod(_multi_similarity)

    def __init__(
        self,
        alpha=2.0,
        beta=50.0,
        base=0.5,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self.__dict__.update(_check_multi_similarity(type(self).__name__, alpha, beta, base))
        super().__init__(name=name, reduction=reduction, dtype=dtype)


# --------------------------------------------------------------------------- N-pairs


def _npairs(owner, y_true, y_pred):
    labels, x, out_dtype = labels_and_embeddings(owner, y_true, y_pred)
    dtype = x.dtype
    n = _batch_size(x)
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    idx = ops.arange(n)
    later = ops.expand_dims(idx, 0) > ops.expand_dims(idx, 1)  # later[i, j]: j > i
    earlier = ops.logical_and(ops.logical_not(later), ops.logical_not(eye_mask(x)))
    # One pair per class with >= 2 rows: its first row (the anchor) and its second row
    # (the positive), as pytorch-metric-learning's NPairsLoss picks them.
    same_later = ops.logical_and(same, later)
    anchor = ops.logical_and(
        ops.logical_not(ops.any(ops.logical_and(same, earlier), axis=1)),
        ops.any(same_later, axis=1),
    )
    positive = ops.argmax(ops.cast(same_later, "int32"), axis=1)  # first later same-label row
    # The anchors (at most B // 2: each has a second row) compacted, in row order, into
    # K = (B + 1) // 2 slots: the (K, K) logits of the mined pairs, not a (B, B) Gram matrix
    # (4x less work; pytorch-metric-learning's N x N). Unused slots are masked out.
    k = (n + 1) // 2
    slots = ops.take(ops.argsort(ops.where(anchor, idx, idx + n)), ops.arange(k))
    valid = ops.arange(k) < ops.sum(ops.cast(anchor, "int32"))
    # logits[i, j] = a_i . p_j; over the valid slots j, cross-entropy with target i.
    logits = gram(ops.take(x, slots, axis=0), ops.take(x, ops.take(positive, slots), axis=0))
    cols = ops.expand_dims(valid, 0)
    floor = ops.stop_gradient(ops.min(logits))
    m = ops.stop_gradient(ops.max(ops.where(cols, logits, floor), axis=1, keepdims=True))
    terms = ops.where(cols, ops.exp(ops.where(cols, logits, m) - m), ops.zeros_like(logits))
    total = ops.sum(terms, axis=1)
    lse = ops.squeeze(m, 1) + ops.log(ops.where(total > 0, total, ops.ones_like(total)))
    target = ops.diagonal(logits)
    ce_slot = ops.where(valid, lse - target, ops.zeros_like(target))
    # Back to rows: anchor row r holds slot (number of anchors before r).
    rank = ops.cumsum(ops.cast(anchor, "int32")) - 1
    rank = ops.where(anchor, rank, ops.zeros_like(rank))
    ce_rows = ops.take(ce_slot, rank)
    ce = ops.where(anchor, ce_rows, ops.zeros_like(ce_rows))
    # Row a: B * ce(a) / #pairs for anchors, 0 elsewhere: the mean over rows is the mean
    # over pairs.
    rows = _per_row(ce, n, _count(anchor, dtype), dtype)
    return ops.cast(rows, out_dtype)


@register
def npairs(y_true, y_pred):
    """Multi-class N-pair loss; see `NPairs`.

    Returns one value per row `(B,)`: non-zero on the anchor rows only.
    """
    return _npairs("npairs", y_true, y_pred)


@register
class NPairs(_MiningLoss):
    """Multi-class N-pair loss (Sohn 2016) from labels, as pytorch-metric-learning's
    `NPairsLoss` with a plain dot product.

    Pairs are formed inside the batch: for each class with at least two rows, its first row
    (lowest index) is the anchor `a_k` and its second row the positive `p_k`. With `N`
    such pairs, each anchor is classified among the `N` positives by inner products:

        loss_k = -log(exp(a_k . p_k) / sum_j exp(a_k . p_j))
        value  = mean over the N pairs of loss_k

    Row values: `B * loss_k / N` on anchor rows, 0 on the other rows, so the default
    reduction (the mean over rows) is the value above; `sample_weight` weights the anchors.
    Fewer than two pairs (one class, or no class with two rows) give 0. Deterministic and
    `jit`-safe: the pairs come from (B, B) label masks; memory and time O(B^2 D).

    Equals `pytorch_metric_learning.losses.NPairsLoss(distance=DotProductSimilarity(
    normalize_embeddings=False))`. pytorch-metric-learning's default normalizes the
    embeddings (cosine logits): pass L2-normalized `y_pred` to reproduce it.
    tensorflow-addons' `npairs_loss(y_true, y_pred)` takes the (N, N) similarity matrix
    instead: kloss's value is `npairs_loss(labels of the anchors, anchors @ positives.T)`.
    Sohn's paper adds an L2 penalty on the embeddings, which is left to the model here.

    Args:
        reduction: as in `TripletSemiHard`.
        name: as in `TripletSemiHard`.
        dtype: as in `TripletSemiHard`.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`).
        y_pred: embeddings `(B, D)`, not normalized by the loss.
        sample_weight: `(B,)` or `(B, 1)`, one weight per row.

    Example:
        >>> loss = kloss.NPairs()
        >>> labels = [0, 1, 0, 1]
        >>> embeddings = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.5], [0.5, 1.0]]
        >>> round(float(loss(labels, embeddings)), 4)
        0.4741

        Reference: Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss
        Objective", NeurIPS 2016.
    """

    _fn = staticmethod(_npairs)

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

"""Contrastive representation losses over in-batch similarities: NT-Xent (SimCLR), InfoNCE
(CLIP), supervised contrastive, SigLIP.

Every loss here is defined over the whole batch and returns one value per row `(B,)`,
chosen so that the default reduction (the mean over rows) is the loss of the paper and of
the reference implementations; each docstring says what one row's value is. Similarities
are cosines of l2-normalized embeddings (a zero vector has cosine 0 with everything, and a
finite gradient); softmax denominators are log-sum-exps, so temperature 0.01 with aligned
or identical embeddings stays finite. Everything stays inside `jax.jit` and `tf.function`
with an unknown batch size (no Python branch on tensor values).

Shared conventions (docs/contrastive.md):

- The view losses (`NTXent`, `InfoNCE`, `SigLIP`) take `y_pred` of shape `(B, 2, D)`: the
  two views (or the two modalities, e.g. image and text) of sample `i` are
  `y_pred[i, 0]` and `y_pred[i, 1]`. They ignore `y_true` (pass zeros of shape `(B,)`).
- `SupervisedContrastive` takes integer labels `(B,)` and embeddings `(B, D)`.
"""

from keras import ops

from kloss._internal import (
    KlossLoss,
    check_bool,
    check_number,
    compute_dtype,
    float_dtype,
    register,
    static_shape,
)
from kloss._pairwise import eye_mask, gram, l2_normalize, labels_and_embeddings, nonzero

__all__ = [
    "NTXent",
    "InfoNCE",
    "SupervisedContrastive",
    "SigLIP",
    "ntxent",
    "info_nce",
    "supervised_contrastive",
    "siglip",
]


# --------------------------------------------------------------------------- validation


def _temperature(owner, value):
    return check_number(owner, "temperature", value, gt=0)


def _check_views(owner, shape):
    if len(shape) != 3 or shape[1] not in (2, None):
        raise ValueError(
            f"{owner}: `y_pred` must have shape (B, 2, D): the two views (or modalities) of "
            f"each sample stacked on axis 1. Received: y_pred.shape={shape}. Stack them with "
            "`keras.ops.stack([a, b], axis=1)`."
        )


def _embeddings(y_pred):
    """`y_pred` as a tensor in the compute dtype, and the dtype the result is cast back to."""
    y_pred = ops.convert_to_tensor(y_pred)
    out_dtype = float_dtype(y_pred)
    return ops.cast(y_pred, compute_dtype(out_dtype)), out_dtype


def _views(owner, y_pred):
    """(u, v, out_dtype): the unit vectors of the two views `(B, D)` of `y_pred (B, 2, D)`."""
    y_pred, out_dtype = _embeddings(y_pred)
    _check_views(owner, static_shape(y_pred))
    return l2_normalize(y_pred[:, 0]), l2_normalize(y_pred[:, 1]), out_dtype


# --------------------------------------------------------------------------- shared math


def _logsumexp(x, axis, mask=None):
    """log(sum(exp(x))) along `axis` over the entries where `mask` holds (all if None).

    Shifted by the (masked) maximum with no gradient (it cancels): no exp overflows, the
    largest term is exp(0) = 1, and masked-out entries give exact zeros with zero gradient.
    A row whose mask selects nothing gives a finite value, the row's minimum (callers select
    it away).
    """
    if mask is not None:
        low = ops.min(x, axis=axis, keepdims=True)
        x = ops.where(mask, x, low)
    m = ops.stop_gradient(ops.max(x, axis=axis, keepdims=True))
    e = ops.exp(x - m)
    if mask is not None:
        e = ops.where(mask, e, ops.zeros_like(e))
    return ops.log(nonzero(ops.sum(e, axis=axis))) + ops.squeeze(m, axis)


def _diagonal(square):
    """The diagonal of a square (B, B) matrix, exact (a sum of zeros and one entry)."""
    return ops.sum(ops.where(eye_mask(square), square, ops.zeros_like(square)), axis=1)


def _softplus(x):
    # softplus(x) = max(x, 0) + log1p(exp(-|x|)): exact for any x, the same ops on every
    # backend; -|x| as a select keeps the gradient at x == 0 (sigmoid(0) = 0.5).
    positive = x > 0
    return ops.where(positive, x, ops.zeros_like(x)) + ops.log1p(
        ops.exp(ops.where(positive, -x, x))
    )


# --------------------------------------------------------------------------- NT-Xent


def _ntxent(owner, y_pred, temperature):
    u, v, out_dtype = _views(owner, y_pred)
    z = ops.concatenate([u, v], axis=0)  # (2B, D): view 0 of every sample, then view 1
    sim = gram(z, z) / temperature
    n = ops.shape(z)[0]
    idx = ops.arange(n)
    # Embedding k's positive is its other view, k + B (mod 2B); every other k' != k is in the
    # denominator.
    partner = ops.equal(ops.expand_dims((idx + n // 2) % n, 1), ops.expand_dims(idx, 0))
    positive = ops.sum(ops.where(partner, sim, ops.zeros_like(sim)), axis=1)
    per_view = _logsumexp(sim, 1, ops.logical_not(eye_mask(z))) - positive  # (2B,)
    # Row i: the mean of its two views' losses.
    loss = ops.mean(ops.reshape(per_view, (2, -1)), axis=0)
    return ops.cast(loss, out_dtype)


@register
def ntxent(y_true, y_pred, *, temperature=0.1):
    """NT-Xent (SimCLR) over two stacked views; see `NTXent`.

    `y_true` is ignored. Returns one value per row `(B,)`: the mean of the losses of the two
    views of sample `i`.
    """
    del y_true
    owner = "ntxent"
    return _ntxent(owner, y_pred, _temperature(owner, temperature))


@register
class NTXent(KlossLoss):
    """NT-Xent, SimCLR's normalized temperature-scaled cross-entropy (Chen et al. 2020).

    For self-supervised learning from two augmented views of each sample. The `2B`
    embeddings `z_k` (both views of every sample, l2-normalized) each have their other view
    as positive and the other `2B - 2` embeddings as negatives:

        s_kj = cos(z_k, z_j) / temperature
        l_k = -log(exp(s_k,pos(k)) / sum_{j != k} exp(s_kj))
            = logsumexp_{j != k} s_kj - s_k,pos(k)

    SimCLR's loss is the mean of `l_k` over the `2B` embeddings. Row `i` is the mean of
    the losses of its two views, `(l_i + l_{B+i}) / 2`, so the default reduction (the mean
    over rows) is SimCLR's loss. Computed with a log-sum-exp: finite for temperature 0.01
    and for identical embeddings (every `l_k = log(2B - 1)`); a zero vector has cosine 0
    with everything and a finite gradient. One sample (`B = 1`) has no negatives: 0.

    Equals `optax.losses.ntxent(embeddings, labels, temperature)` and
    `pytorch_metric_learning.losses.NTXentLoss(temperature)` with the `2B` embeddings
    stacked as `concatenate([y_pred[:, 0], y_pred[:, 1]])` and labels
    `[0, ..., B-1, 0, ..., B-1]` pairing the two views (both average over the `2B`
    positive pairs). Their default temperature is 0.07; kloss's is SimCLR's 0.1.

    Args:
        temperature: the softmax temperature, `> 0`. Default 0.1.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: ignored (the pairing is given by the stacking); pass zeros of shape `(B,)`.
        y_pred: embeddings `(B, 2, D)`: `y_pred[i, 0]` and `y_pred[i, 1]` are the two views
            of sample `i`.
        sample_weight: one weight per row, `(B,)` or `(B, 1)`.

    Returns (from `ntxent`): `(B,)`.

    Example:
        >>> loss = kloss.NTXent(temperature=0.5)
        >>> views = [[[1.0, 0.0], [1.0, 0.2]], [[0.0, 1.0], [-0.3, 1.0]]]
        >>> round(float(loss([0.0, 0.0], views)), 4)
        0.2444
    """

    hyperparameters = ("temperature",)
    per_row = True

    def __init__(self, temperature=0.1, reduction="sum_over_batch_size", name=None, dtype=None):
        self.temperature = _temperature(type(self).__name__, temperature)
        super().__init__(name=name or "ntxent", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _ntxent(type(self).__name__, y_pred, self.temperature)


# --------------------------------------------------------------------------- InfoNCE


def _info_nce(owner, y_pred, temperature, symmetric):
    u, v, out_dtype = _views(owner, y_pred)
    logits = gram(u, v) / temperature  # (B, B): row i = u_i against every v_j
    target = _diagonal(logits)
    loss = _logsumexp(logits, 1) - target
    if symmetric:
        # Column i: v_i against every u_j, the CE of the transposed logits.
        loss = 0.5 * (loss + (_logsumexp(logits, 0) - target))
    return ops.cast(loss, out_dtype)


@register
def info_nce(y_true, y_pred, *, temperature=0.1, symmetric=False):
    """InfoNCE (CLIP's contrastive loss) over two stacked modalities; see `InfoNCE`.

    `y_true` is ignored. Returns one value per row `(B,)`.
    """
    del y_true
    owner = "info_nce"
    return _info_nce(
        owner,
        y_pred,
        _temperature(owner, temperature),
        check_bool(owner, "symmetric", symmetric),
    )


@register
class InfoNCE(KlossLoss):
    """InfoNCE with in-batch negatives (van den Oord et al. 2018), as CLIP's loss (Radford
    et al. 2021).

    For aligning two modalities or encoders (image and text, query and document): sample
    `i`'s `u_i = y_pred[i, 0]` should match its `v_i = y_pred[i, 1]` against every other
    `v_j` of the batch. With the `B x B` logits of l2-normalized embeddings

        logits_ij = cos(u_i, v_j) / temperature
        row_i = logsumexp_j logits_ij - logits_ii        (cross-entropy, target i)
        col_i = logsumexp_j logits_ji - logits_ii        (the transposed direction)

    row `i`'s value is `row_i`, or with `symmetric=True` `(row_i + col_i) / 2`, so the
    default reduction (the mean over rows) is the mean cross-entropy with the diagonal as
    targets, or CLIP's `(L_u + L_v) / 2`. Unlike `NTXent`, the negatives of `u_i` are the
    other `v_j` only (not the other `u_j`). Computed with a log-sum-exp: finite for
    temperature 0.01, identical embeddings (`log B`) and zero vectors. One sample: 0.

    Equals `torch.nn.functional.cross_entropy(logits, arange(B))` (and, with
    `symmetric=True`, its average with the cross-entropy of `logits.T`), and
    `optax.losses.softmax_cross_entropy_with_integer_labels(logits, arange(B))` per row.
    CLIP learns `1 / temperature` as a logit scale (initialized to `1 / 0.07`); here it is a
    fixed hyperparameter.

    Args:
        temperature: the softmax temperature, `> 0`. Default 0.1.
        symmetric: average the row-direction (u to v) and the column-direction (v to u)
            cross-entropies, as CLIP. Default False (u to v only).
        reduction: as in `NTXent`.
        name: as in `NTXent`.
        dtype: as in `NTXent`.

    Call arguments:
        y_true: ignored (the matching pairs are the diagonal); pass zeros of shape `(B,)`.
        y_pred: embeddings `(B, 2, D)`: `y_pred[:, 0]` is one modality, `y_pred[:, 1]` the
            other.
        sample_weight: one weight per row, `(B,)` or `(B, 1)`.

    Returns (from `info_nce`): `(B,)`.

    Example:
        >>> loss = kloss.InfoNCE(temperature=0.5, symmetric=True)
        >>> pairs = [[[1.0, 0.0], [1.0, 0.2]], [[0.0, 1.0], [-0.3, 1.0]]]
        >>> round(float(loss([0.0, 0.0], pairs)), 4)
        0.1356
    """

    hyperparameters = ("temperature", "symmetric")
    per_row = True

    def __init__(
        self,
        temperature=0.1,
        symmetric=False,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.temperature = _temperature(owner, temperature)
        self.symmetric = check_bool(owner, "symmetric", symmetric)
        super().__init__(name=name or "info_nce", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _info_nce(type(self).__name__, y_pred, self.temperature, self.symmetric)


# --------------------------------------------------------------------------- SupCon


def _supervised_contrastive(owner, labels, y_pred, temperature):
    labels, y_pred, out_dtype = labels_and_embeddings(owner, labels, y_pred)
    z = l2_normalize(y_pred)
    sim = gram(z, z) / temperature
    others = ops.logical_not(eye_mask(z))
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    positives = ops.logical_and(same, others)
    # log(exp(s_ip) / sum_{a != i} exp(s_ia)) for every pair.
    log_prob = sim - ops.expand_dims(_logsumexp(sim, 1, others), 1)
    n_pos = ops.sum(ops.cast(positives, sim.dtype), axis=1)
    total = ops.sum(ops.where(positives, log_prob, ops.zeros_like(log_prob)), axis=1)
    anchor = n_pos > 0
    per_anchor = -total / nonzero(n_pos)
    # Anchors without a positive give 0; the others are scaled by B / |A| (A: the anchors
    # with a positive), so the mean over rows is the mean over A, as pytorch-metric-learning.
    n_anchors = ops.sum(ops.cast(anchor, sim.dtype))
    batch = ops.cast(ops.shape(sim)[0], sim.dtype)
    scale = batch / nonzero(n_anchors)
    loss = ops.where(anchor, per_anchor * scale, ops.zeros_like(per_anchor))
    return ops.cast(loss, out_dtype)


@register
def supervised_contrastive(y_true, y_pred, *, temperature=0.1):
    """Supervised contrastive loss (SupCon, L_out); see `SupervisedContrastive`.

    Returns one value per row `(B,)`: anchor `i`'s loss times `B / |A|` (`A`: the anchors
    with at least one positive), 0 for an anchor without a positive.
    """
    owner = "supervised_contrastive"
    return _supervised_contrastive(owner, y_true, y_pred, _temperature(owner, temperature))


@register
class SupervisedContrastive(KlossLoss):
    """Supervised contrastive loss (Khosla et al. 2020, the `L_out` variant).

    For representation learning from labels: embeddings of the same class are pulled
    together, all others pushed apart. For anchor `i` with positives `P(i)` (same label,
    not `i`) and l2-normalized embeddings:

        s_ia = cos(z_i, z_a) / temperature
        L_i = -1/|P(i)| sum_{p in P(i)} log(exp(s_ip) / sum_{a != i} exp(s_ia))

    The loss is the mean of `L_i` over the anchors `A` that have at least one positive
    (as `pytorch_metric_learning.losses.SupConLoss`); a batch with no positive pair gives 0
    and a zero gradient. Row `i`'s value is `L_i * B / |A|` for `i` in `A` and 0 otherwise,
    so the default reduction (the mean over rows) is that loss. For the paper's multi-view
    batches, put each view in its own row with its sample's label. Log-sum-exp: finite for
    temperature 0.01, identical embeddings and zero vectors.

    Equals `pytorch_metric_learning.losses.SupConLoss(temperature)` (same default 0.1)
    whenever the batch has a negative pair; pml returns 0 for a batch of a single class,
    where kloss gives `mean_{i in A} L_i` (the paper's value; every `L_i > 0` for `B >= 3`).
    The reference implementation (HobbitLong/SupContrast) averages over all `B` anchors
    instead: its value is `|A| / B` times kloss's.

    Args:
        temperature: the softmax temperature, `> 0`. Default 0.1.
        reduction: as in `NTXent`.
        name: as in `NTXent`.
        dtype: as in `NTXent`.

    Call arguments:
        y_true: integer class labels `(B,)` (or `(B, 1)`); float labels raise a `TypeError`.
        y_pred: embeddings `(B, D)`.
        sample_weight: one weight per row, `(B,)` or `(B, 1)`.

    Returns (from `supervised_contrastive`): `(B,)`.

    Example:
        >>> loss = kloss.SupervisedContrastive(temperature=0.5)
        >>> z = [[1.0, 0.0], [0.8, 0.3], [0.0, 1.0], [0.2, -1.0]]
        >>> round(float(loss([0, 0, 1, 2], z)), 4)
        0.3374
    """

    hyperparameters = ("temperature",)
    per_row = True
    integer_labels = True

    def __init__(self, temperature=0.1, reduction="sum_over_batch_size", name=None, dtype=None):
        self.temperature = _temperature(type(self).__name__, temperature)
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _supervised_contrastive(
            type(self).__name__, self._true(y_true), y_pred, self.temperature
        )


# --------------------------------------------------------------------------- SigLIP


def _check_siglip(owner, temperature, bias):
    return dict(
        temperature=_temperature(owner, temperature),
        bias=check_number(owner, "bias", bias),
    )


def _siglip(owner, y_pred, temperature, bias):
    u, v, out_dtype = _views(owner, y_pred)
    logits = temperature * gram(u, v) + bias
    # z_ij = 1 on the diagonal, -1 elsewhere: -log_sigmoid(z x) = softplus(-z x).
    signed = ops.where(eye_mask(logits), -logits, logits)
    return ops.cast(ops.sum(_softplus(signed), axis=1), out_dtype)


@register
def siglip(y_true, y_pred, *, temperature=10.0, bias=-10.0):
    """SigLIP's pairwise sigmoid loss over two stacked modalities; see `SigLIP`.

    `y_true` is ignored. Returns one value per row `(B,)`.
    """
    del y_true
    owner = "siglip"
    return _siglip(owner, y_pred, **_check_siglip(owner, temperature, bias))


@register
class SigLIP(KlossLoss):
    """SigLIP's pairwise sigmoid loss (Zhai et al. 2023).

    For aligning two modalities without a softmax over the batch: every pair `(u_i, v_j)`
    is an independent binary classification, positive on the diagonal. With l2-normalized
    embeddings

        logits_ij = temperature * cos(u_i, v_j) + bias
        z_ij = 1 if i == j else -1
        row_i = -sum_j log_sigmoid(z_ij * logits_ij)

    The paper normalises the sum over all pairs by `B`: that is the default reduction (the
    mean over rows). `temperature` is the multiplicative logit scale `t = exp(t')` of the
    paper (which learns `t'`, initialized to `log 10`, and `b`, initialized to -10): a
    fixed positive number here, not a divisor as in `InfoNCE`. Exact for any logits
    (softplus, no probability is formed); zero vectors have cosine 0.

    Equals `-sum(F.logsigmoid(z * logits)) / B` in torch, i.e.
    `F.binary_cross_entropy_with_logits(logits, eye(B), reduction="sum") / B`.

    Args:
        temperature: the logit scale `t`, `> 0` (multiplies the cosine). Default 10.
        bias: the logit bias `b`, a finite number. Default -10.
        reduction: as in `NTXent`.
        name: as in `NTXent`.
        dtype: as in `NTXent`.

    Call arguments:
        y_true: ignored (the matching pairs are the diagonal); pass zeros of shape `(B,)`.
        y_pred: embeddings `(B, 2, D)`: `y_pred[:, 0]` is one modality, `y_pred[:, 1]` the
            other.
        sample_weight: one weight per row, `(B,)` or `(B, 1)`.

    Returns (from `siglip`): `(B,)`.

    Example:
        >>> loss = kloss.SigLIP()
        >>> pairs = [[[1.0, 0.0], [1.0, 0.2]], [[0.0, 1.0], [-0.3, 1.0]]]
        >>> round(float(loss([0.0, 0.0], pairs)), 4)
        0.8607
    """

    hyperparameters = ("temperature", "bias")
    per_row = True

    def __init__(
        self, temperature=10.0, bias=-10.0, reduction="sum_over_batch_size", name=None, dtype=None
    ):
        self.__dict__.update(_check_siglip(type(self).__name__, temperature, bias))
        super().__init__(name=name or "siglip", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _siglip(type(self).__name__, y_pred, self.temperature, self.bias)

"""In-batch mining losses: tensorflow-addons' formulas (a vectorized NumPy copy, since TFA is
not installable), pytorch-metric-learning oracles (values and gradients), hand-computed
values, the exact relations where kloss differs on purpose, edges, jit with an unknown batch
size, O(B^2) memory, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import mining as ref
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]
LOSSES = [
    kloss.TripletSemiHard(),
    kloss.TripletHard(),
    kloss.LiftedStructure(),
    kloss.MultiSimilarity(),
    kloss.NPairs(),
]


def _pml():
    torch = pytest.importorskip("torch")
    return torch, pytest.importorskip("pytorch_metric_learning")


def _batch(B, D=4, classes=None, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    classes = classes or max(B // 2, 1)
    labels = rng.permutation(np.arange(B) % classes).astype(np.int32)
    return labels, (scale * rng.normal(size=(B, D))).astype(np.float32)


def _value(loss, y, x):
    return float(to_numpy(loss(y, x)))


# --------------------------------------------------------------------------- TFA's formulas
# A line-by-line NumPy copy of tensorflow_addons/losses/{triplet,lifted,npairs,
# metric_learning}.py (0.11-0.23; 0.10 only named the distances "L_2"/"L_1"), in float64.


def _tfa_pairwise_distance(x, squared, dtype=np.float64):
    x = x.astype(dtype)
    d2 = (x**2).sum(1)[:, None] + (x**2).sum(1)[None, :] - 2 * x @ x.T
    d2 = np.maximum(d2, 0)
    error_mask = d2 <= 0
    d = d2 if squared else np.sqrt(d2 + error_mask * dtype(1e-16))
    d = d * ~error_mask
    return d * (1 - np.eye(len(x), dtype=dtype))


def _tfa_angular_distance(x):
    x = x.astype(np.float64)
    f = x / np.sqrt(np.maximum((x**2).sum(1, keepdims=True), 1e-12))  # tf.math.l2_normalize
    return np.maximum(1.0 - f @ f.T, 0.0)


def _tfa_distance(x, metric):
    if metric == "angular":
        return _tfa_angular_distance(x)
    return _tfa_pairwise_distance(x, squared=metric == "squared-L2")


def _masked_maximum(data, mask):
    axis_minimums = data.min(1, keepdims=True)
    return ((data - axis_minimums) * mask).max(1, keepdims=True) + axis_minimums


def _masked_minimum(data, mask):
    axis_maximums = data.max(1, keepdims=True)
    return ((data - axis_maximums) * mask).min(1, keepdims=True) + axis_maximums


def tfa_triplet_semihard_loss(y_true, y_pred, margin=1.0, distance_metric="squared-L2"):
    labels = np.asarray(y_true).reshape(-1, 1)
    pdist = _tfa_distance(y_pred, distance_metric)
    adjacency = labels == labels.T
    adjacency_not = ~adjacency
    b = labels.size
    pdist_tile = np.tile(pdist, (b, 1))
    mask = np.tile(adjacency_not, (b, 1)) & (pdist_tile > pdist.T.reshape(-1, 1))
    mask_final = (mask.astype(np.float64).sum(1, keepdims=True) > 0.0).reshape(b, b).T
    negatives_outside = _masked_minimum(pdist_tile, mask).reshape(b, b).T
    negatives_inside = np.tile(_masked_maximum(pdist, adjacency_not), (1, b))
    semi_hard_negatives = np.where(mask_final, negatives_outside, negatives_inside)
    loss_mat = margin + pdist - semi_hard_negatives
    mask_positives = adjacency.astype(np.float64) - np.eye(b)
    num_positives = mask_positives.sum()
    with np.errstate(invalid="ignore"):
        return np.maximum(loss_mat * mask_positives, 0.0).sum() / num_positives


def tfa_triplet_hard_rows(y_true, y_pred, margin=1.0, soft=False, distance_metric="squared-L2"):
    """tensorflow-addons' `triplet_hard_loss` before its `reduce_mean`: one value per anchor."""
    labels = np.asarray(y_true).reshape(-1, 1)
    pdist = _tfa_distance(y_pred, distance_metric)
    adjacency = labels == labels.T
    hard_negatives = _masked_minimum(pdist, ~adjacency)
    mask_positives = adjacency.astype(np.float64) - np.eye(labels.size)
    hard_positives = _masked_maximum(pdist, mask_positives)
    if soft:
        return np.log1p(np.exp(hard_positives - hard_negatives)).ravel()
    return np.maximum(hard_positives - hard_negatives + margin, 0.0).ravel()


def tfa_lifted_struct_loss(labels, embeddings, margin=1.0, dtype=np.float64):
    labels = np.asarray(labels).reshape(-1, 1)
    pairwise_distances = _tfa_pairwise_distance(embeddings, squared=False, dtype=dtype)
    adjacency = labels == labels.T
    b = labels.size
    diff = dtype(margin) - pairwise_distances
    mask = (~adjacency).astype(dtype)
    row_minimums = diff.min(1, keepdims=True)
    row_negative_maximums = ((diff - row_minimums) * mask).max(1, keepdims=True) + row_minimums
    max_elements = np.maximum(row_negative_maximums, row_negative_maximums.T)
    diff_tiled = np.tile(diff, (b, 1))
    mask_tiled = np.tile(mask, (b, 1))
    max_elements_vect = max_elements.T.reshape(-1, 1)
    loss_exp_left = (np.exp(diff_tiled - max_elements_vect) * mask_tiled).sum(1).reshape(b, b)
    loss_mat = max_elements + np.log(loss_exp_left + loss_exp_left.T) + pairwise_distances
    mask_positives = adjacency.astype(dtype) - np.eye(b, dtype=dtype)
    num_positives = mask_positives.sum() / 2
    return 0.25 * (np.maximum(loss_mat * mask_positives, 0) ** 2).sum() / num_positives


def tfa_npairs_loss(y_true, y_pred):
    y_true = np.asarray(y_true, np.float64).reshape(-1, 1)
    y_true = (y_true == y_true.T).astype(np.float64)
    y_true /= y_true.sum(1, keepdims=True)
    logits = np.asarray(y_pred, np.float64)
    log_softmax = (
        logits
        - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1))[:, None]
        - logits.max(1, keepdims=True)
    )
    return float(np.mean(-(y_true * log_softmax).sum(1)))


TFA_NAME = {"squared_euclidean": "squared-L2", "euclidean": "L2", "cosine": "angular"}


# --------------------------------------------------------------------------- kloss == TFA


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
@pytest.mark.parametrize(
    "B,classes,seed", [(4, 2, 0), (7, 3, 1), (12, 5, 2), (16, 2, 3), (64, 8, 4), (33, 30, 5)]
)
def test_triplet_semi_hard_equals_tfa(distance, B, classes, seed):
    y, x = _batch(B, classes=classes, seed=seed)
    for margin in (1.0, 0.3):
        expected = tfa_triplet_semihard_loss(y, x, margin, TFA_NAME[distance])
        loss = kloss.TripletSemiHard(margin=margin, distance=distance)
        np.testing.assert_allclose(_value(loss, y, x), expected, **F32)
        # ... and with the loops of the independent reference, row by row.
        rows = to_numpy(kloss.triplet_semi_hard(y, x, margin=margin, distance=distance))
        np.testing.assert_allclose(rows, ref.triplet_semi_hard(y, x, margin, distance), **F32)


def test_triplet_semi_hard_ties_as_tfa():
    """Integer points: exact distances with ties between the positive and negatives (a tie is
    not "farther", as TFA's `greater`) and among negatives, and identical embeddings."""
    grid = np.array([[1, 1], [2, 1], [1, 2], [2, 2], [3, 1], [1, 3], [2, 2], [1, 1]], np.float32)
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1], np.int32)
    for distance in ("squared_euclidean", "euclidean"):
        for margin in (0.0, 0.5, 1.0, 2.0):
            expected = tfa_triplet_semihard_loss(labels, grid, margin, TFA_NAME[distance])
            got = _value(kloss.TripletSemiHard(margin=margin, distance=distance), labels, grid)
            np.testing.assert_allclose(got, expected, **F32)
    same = np.tile(np.array([[0.5, -0.25, 1.0]], np.float32), (4, 1))
    labels4 = np.array([0, 0, 1, 1], np.int32)
    # All distances 0: no negative is farther, the farthest one is at 0: loss = margin.
    np.testing.assert_allclose(tfa_triplet_semihard_loss(labels4, same, 0.7), 0.7, **F32)
    np.testing.assert_allclose(_value(kloss.TripletSemiHard(margin=0.7), labels4, same), 0.7)


def test_triplet_semi_hard_hand_values_and_pml_difference():
    """1-D points 0, 5 (class 0) and 6, 7 (class 1), squared distances, margin 25.

    TFA: (0,5) -> n=6: 25-36+25 = 14; (5,0) -> no negative beyond 25, farthest 4: 46;
    (6,7) -> 1 = d(6,5) is a tie, so n=0: 25+1-36 < 0: 0; (7,6) -> n=5: 1-4+25 = 22;
    sum 82 over 4 pairs: 20.5. pytorch-metric-learning's semihard miner keeps every
    negative with 0 < d(a,n) - d(a,p) <= 25: (0,5,6): 14, (0,5,7): 1, (7,6,5): 22, and
    drops (5,0) (no semi-hard negative): mean 37 / 3.
    """
    labels = np.array([0, 0, 1, 1], np.int32)
    x = np.array([[0.0], [5.0], [6.0], [7.0]], np.float32)
    loss = kloss.TripletSemiHard(margin=25.0, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(labels, x)), [14.0, 46.0, 0.0, 22.0], **F32)
    np.testing.assert_allclose(_value(kloss.TripletSemiHard(margin=25.0), labels, x), 20.5)
    np.testing.assert_allclose(tfa_triplet_semihard_loss(labels, x, 25.0), 20.5)
    torch, pml = _pml()
    from pytorch_metric_learning import distances, losses, miners

    dist = distances.LpDistance(power=2, normalize_embeddings=False)
    miner = miners.TripletMarginMiner(margin=25.0, type_of_triplets="semihard", distance=dist)
    tx, ty = torch.tensor(x), torch.tensor(labels)
    pml_loss = losses.TripletMarginLoss(margin=25.0, distance=dist)(tx, ty, miner(tx, ty))
    np.testing.assert_allclose(pml_loss.item(), 37.0 / 3.0, rtol=1e-6)


def test_triplet_semi_hard_differs_from_tfa_only_without_triplets():
    x = _batch(4, seed=6)[1]
    one_class = np.array([3, 3, 3, 3], np.int32)
    # TFA: no negative at all, its "farthest negative" is the row minimum 0: mean(d + margin).
    d = _tfa_pairwise_distance(x, squared=True)
    expected_tfa = (d[~np.eye(4, dtype=bool)] + 1.0).mean()
    np.testing.assert_allclose(tfa_triplet_semihard_loss(one_class, x), expected_tfa)
    assert _value(kloss.TripletSemiHard(), one_class, x) == 0.0
    # No positive pair: TFA divides 0 by 0.
    no_pair = np.array([0, 1, 2, 3], np.int32)
    assert np.isnan(tfa_triplet_semihard_loss(no_pair, x))
    assert _value(kloss.TripletSemiHard(), no_pair, x) == 0.0


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
@pytest.mark.parametrize("soft", [False, True])
def test_triplet_hard_equals_tfa_where_every_anchor_has_a_triplet(distance, soft):
    for B, classes, seed in ((4, 2, 0), (9, 3, 1), (16, 4, 2)):
        y, x = _batch(B, classes=classes, seed=seed)
        expected = tfa_triplet_hard_rows(y, x, 0.4, soft, TFA_NAME[distance]).mean()
        loss = kloss.TripletHard(margin=0.4, soft=soft, distance=distance)
        np.testing.assert_allclose(_value(loss, y, x), expected, **F32)


@pytest.mark.parametrize("soft", [False, True])
def test_triplet_hard_pins_the_tfa_difference_for_anchors_without_a_triplet(soft):
    """TFA's masked maximum over no positive is the row minimum, d(a, a) = 0: the anchor
    counts with a positive distance of 0. In a one-class batch its masked minimum over no
    negative is the row maximum, which is the hardest positive: loss = margin (soft: log 2).
    kloss gives 0 to these anchors; every other anchor is TFA's."""
    y, x = _batch(6, seed=7)
    labels = np.array([0, 0, 1, 2, 3, 3], np.int32)  # anchors 2 and 3 have no positive
    m = 0.8
    tfa_rows = tfa_triplet_hard_rows(labels, x, m, soft)
    d = _tfa_pairwise_distance(x, squared=True)
    for a in (2, 3):
        hn = d[a][labels != labels[a]].min()
        np.testing.assert_allclose(tfa_rows[a], np.log1p(np.exp(-hn)) if soft else max(m - hn, 0))
    expected = tfa_rows.copy()
    expected[[2, 3]] = 0.0
    got = to_numpy(kloss.triplet_hard(labels, x, margin=m, soft=soft))
    np.testing.assert_allclose(got, expected, **F32)
    one_class = np.zeros(6, np.int32)
    tfa_one = tfa_triplet_hard_rows(one_class, x, m, soft)
    np.testing.assert_allclose(tfa_one, np.log(2.0) if soft else m)
    np.testing.assert_array_equal(
        to_numpy(kloss.triplet_hard(one_class, x, margin=m, soft=soft)), 0
    )


def test_lifted_structure_equals_tfa():
    for B, classes, seed in ((4, 2, 0), (7, 3, 1), (12, 5, 2), (10, 8, 3)):
        y, x = _batch(B, classes=classes, seed=seed)
        for margin in (1.0, 2.5):
            expected = tfa_lifted_struct_loss(y, x, margin)
            got = _value(kloss.LiftedStructure(margin=margin), y, x)
            np.testing.assert_allclose(got, expected, **F32)
    # Distances of tens: exp(margin - d) underflows unless shifted; both shift by a maximum.
    y, x = _batch(6, classes=2, seed=4, scale=30.0)
    np.testing.assert_allclose(
        _value(kloss.LiftedStructure(), y, x), tfa_lifted_struct_loss(y, x), **F32
    )
    # Far apart: TFA exponentiates every entry before masking, so a positive pair much closer
    # than the nearest negatives gives exp(large) * 0 = inf * 0 = NaN (past a gap of ~709 in
    # this float64 copy, ~88 in TFA's float32). kloss stays the reference's finite value.
    y, x = _batch(6, classes=2, seed=4, scale=300.0)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(tfa_lifted_struct_loss(y, x))
    rows = to_numpy(kloss.lifted_structure(y, x))
    np.testing.assert_allclose(rows, ref.lifted_structure(y, x), **F32)
    # The same in TFA's own float32, once the nearest negatives are ~89 away (exp(89) = inf).
    labels = np.array([0, 0, 1, 1], np.int32)
    for gap, tfa_is_nan in ((85.0, False), (90.0, True)):
        x = np.array([[0, 0], [1, 0], [gap, 0], [gap + 1, 0]], np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            tfa32 = tfa_lifted_struct_loss(labels, x, dtype=np.float32)
        assert np.isnan(tfa32) == tfa_is_nan
        assert (
            _value(kloss.LiftedStructure(), labels, x)
            == 0.0
            == ref.lifted_structure(labels, x).mean()
        )
    no_pair, x = np.arange(4, dtype=np.int32), _batch(4, seed=5)[1]
    with np.errstate(invalid="ignore"):
        assert np.isnan(tfa_lifted_struct_loss(no_pair, x))  # 0 / 0 positive pairs
    assert _value(kloss.LiftedStructure(), no_pair, x) == 0.0


def test_npairs_equals_tfa_on_the_mined_pairs():
    """TFA's `npairs_loss` takes the similarity matrix of anchors and positives: kloss forms
    the pairs (each class's first and second row) and equals it on them."""
    for labels, seed in (([0, 1, 0, 1], 0), ([2, 0, 1, 0, 2, 1, 2, 3], 1), ([5, 5, 5], 2)):
        labels = np.array(labels, np.int32)
        x = np.random.default_rng(seed).normal(size=(len(labels), 3)).astype(np.float32)
        pairs = ref.npairs_pairs(labels)
        anchors = x[[a for a, _ in pairs]].astype(np.float64)
        positives = x[[p for _, p in pairs]].astype(np.float64)
        expected = tfa_npairs_loss(labels[[a for a, _ in pairs]], anchors @ positives.T)
        np.testing.assert_allclose(_value(kloss.NPairs(), labels, x), expected, **F32)


def test_npairs_pairs_are_each_class_first_and_second_row():
    assert ref.npairs_pairs([2, 0, 1, 0, 2, 1, 2, 3]) == [(0, 4), (1, 3), (2, 5)]
    labels = np.array([2, 0, 1, 0, 2, 1, 2, 3], np.int32)
    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    rows = to_numpy(kloss.npairs(labels, x))
    assert np.all(rows[[3, 4, 5, 6, 7]] == 0.0) and np.all(rows[[0, 1, 2]] > 0.0)
    np.testing.assert_allclose(rows, ref.npairs(labels, x), **F32)


# ---------------------------------------------------------------- pytorch-metric-learning


def _pml_value_and_grad(make_loss, y, x, miner=None):
    torch, _ = _pml()
    tx = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    ty = torch.tensor(y.astype(np.int64))
    out = make_loss()(tx, ty, miner(tx, ty)) if miner is not None else make_loss()(tx, ty)
    (g,) = torch.autograd.grad(out, tx)
    return out.item(), g.numpy().astype(np.float64)


def _kloss_value_and_grad(loss, y, x):
    if backend() == "numpy":
        return _value(loss, y, x), None
    return value_and_grad(lambda p: loss(y, p), x)


def _check(loss, y, x, expected_value, expected_grad, scale=1.0):
    v, g = _kloss_value_and_grad(loss, y, x)
    np.testing.assert_allclose(v * scale, expected_value, rtol=1e-5, atol=1e-5)
    if g is not None:
        np.testing.assert_allclose(g * scale, expected_grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "cosine"])
def test_triplet_hard_matches_pml_batch_hard(distance):
    """BatchHardMiner + TripletMarginLoss(reducer=MeanReducer) averages over the anchors that
    have a positive and a negative; kloss averages over all B rows, 0 for the others."""
    _pml()
    from pytorch_metric_learning import distances, losses, miners, reducers

    dist = {
        "squared_euclidean": distances.LpDistance(power=2, normalize_embeddings=False),
        "euclidean": distances.LpDistance(normalize_embeddings=False),
        "cosine": distances.CosineSimilarity(),
    }[distance]
    for labels, seed in (([0, 1, 0, 1, 2, 2, 1], 0), ([0, 0, 1, 2, 3, 3, 4], 1)):
        labels = np.array(labels, np.int32)
        x = np.random.default_rng(seed).normal(size=(len(labels), 4)).astype(np.float32)
        counts = np.bincount(labels)
        n_valid = int((counts[labels] > 1).sum())
        for soft, margin in ((False, 0.5), (True, 0.0)):

            def make(margin=margin, soft=soft):
                return losses.TripletMarginLoss(
                    margin=margin, smooth_loss=soft, distance=dist, reducer=reducers.MeanReducer()
                )

            miner = miners.BatchHardMiner(distance=dist)
            value, grad = _pml_value_and_grad(make, labels, x, miner)
            loss = kloss.TripletHard(margin=margin, soft=soft, distance=distance)
            _check(loss, labels, x, value, grad, scale=len(labels) / n_valid)


def _semi_hard_agreement(y, d, margin):
    """True where TFA's one negative per positive pair and pml's semihard triplets give the
    same sum: every pair has a negative beyond it, and at most one within the margin."""
    for a in range(len(y)):
        negatives = d[a][y != y[a]]
        for p in np.flatnonzero((y == y[a]) & (np.arange(len(y)) != a)):
            beyond = negatives[negatives > d[a, p]]
            if not beyond.size or (beyond <= d[a, p] + margin).sum() > 1:
                return False
    return True


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean"])
def test_triplet_semi_hard_matches_pml_where_they_agree(distance):
    """On batches where each positive pair has one semi-hard candidate at most and always a
    negative beyond it, pml's semihard triplets are TFA's: pml's sum = kloss's mean * P
    (values and gradients). The seeds are searched deterministically."""
    _pml()
    from pytorch_metric_learning import distances, losses, miners, reducers

    power = 2 if distance == "squared_euclidean" else 1
    dist = distances.LpDistance(power=power, normalize_embeddings=False)
    margin, found, violations = 0.3, 0, 0
    for seed in range(200):
        y, x = _batch(8, D=3, classes=3, seed=seed)
        d = ref_distances(x, distance)
        if not _semi_hard_agreement(y, d, margin):
            continue
        n_pairs = int((y[:, None] == y[None, :]).sum() - len(y))
        miner = miners.TripletMarginMiner(margin=margin, type_of_triplets="semihard", distance=dist)

        def make():
            return losses.TripletMarginLoss(
                margin=margin, distance=dist, reducer=reducers.SumReducer()
            )

        value, grad = _pml_value_and_grad(make, y, x, miner)
        loss = kloss.TripletSemiHard(margin=margin, distance=distance)
        _check(loss, y, x, value, grad, scale=n_pairs)
        found, violations = found + 1, violations + (value > 0)
        if found == 3:
            break
    assert found == 3 and violations  # agreeing batches, with semi-hard triplets in them


def ref_distances(x, distance):
    return np.array([[ref.pair_distance(a, b, distance) for b in x] for a in x.astype(np.float64)])


def test_lifted_structure_matches_pml():
    _pml()
    from pytorch_metric_learning import distances, losses

    dist = distances.LpDistance(normalize_embeddings=False)
    for labels, seed in (([0, 1, 0, 1, 2, 2], 0), ([0, 0, 1, 2, 3, 3, 1], 1)):
        labels = np.array(labels, np.int32)
        x = np.random.default_rng(seed).normal(size=(len(labels), 4)).astype(np.float32)
        for margin in (1.0, 3.0):

            def make(margin=margin):
                return losses.LiftedStructureLoss(neg_margin=margin, pos_margin=0, distance=dist)

            value, grad = _pml_value_and_grad(make, labels, x)
            _check(kloss.LiftedStructure(margin=margin), labels, x, value, grad)


def test_multi_similarity_matches_pml():
    _pml()
    from pytorch_metric_learning import losses

    cases = (([0, 1, 0, 1, 2, 2], 0), ([0, 0, 1, 2, 3, 3, 1], 1), ([0, 1, 2, 3], 2))
    for labels, seed in cases:
        labels = np.array(labels, np.int32)
        x = np.random.default_rng(seed).normal(size=(len(labels), 4)).astype(np.float32)
        for alpha, beta, base in ((2.0, 50.0, 0.5), (1.0, 10.0, 0.0), (4.0, 40.0, -0.2)):

            def make(alpha=alpha, beta=beta, base=base):
                return losses.MultiSimilarityLoss(alpha=alpha, beta=beta, base=base)

            value, grad = _pml_value_and_grad(make, labels, x)
            loss = kloss.MultiSimilarity(alpha=alpha, beta=beta, base=base)
            _check(loss, labels, x, value, grad)


def test_npairs_matches_pml():
    torch, _ = _pml()
    from pytorch_metric_learning import distances, losses

    for labels, seed in (([0, 1, 0, 1], 0), ([2, 0, 1, 0, 2, 1, 2, 3], 1)):
        labels = np.array(labels, np.int32)
        x = np.random.default_rng(seed).normal(size=(len(labels), 3)).astype(np.float32)

        def make():
            dot = distances.DotProductSimilarity(normalize_embeddings=False)
            return losses.NPairsLoss(distance=dot)

        value, grad = _pml_value_and_grad(make, labels, x)
        _check(kloss.NPairs(), labels, x, value, grad)
        # pml's default normalizes the embeddings: kloss on L2-normalized rows.
        unit = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
        default = losses.NPairsLoss()(torch.tensor(x), torch.tensor(labels.astype(np.int64)))
        np.testing.assert_allclose(_value(kloss.NPairs(), labels, unit), default.item(), **F32)


# --------------------------------------------------------------------------- gradients, edges


def test_gradient_reaches_only_the_mined_triplet(autodiff):
    """Anchor 0 at the origin, positive (1, 0); negatives (0, 1.5) (semi-hard, d = 2.25)
    and (0, -3) (d = 9): the gradient of the (0, 1, n*) term moves rows 0, 1 and 2 only."""
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.5], [0.0, -3.0]], np.float32)
    labels = np.array([0, 0, 1, 1], np.int32)
    loss = kloss.TripletSemiHard(margin=2.0, reduction="none")
    _, g = value_and_grad(lambda p: loss(labels, p)[0], x)
    # row 0's value: B / P * (d(0,1) - d(0,2) + 2) = 4 / 4 * 0.75; d/dx of squared distances.
    expected = np.array([[-2.0, 3.0], [2.0, 0.0], [0.0, -3.0], [0.0, 0.0]])
    np.testing.assert_allclose(g, expected, **F32)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_no_valid_pair_gives_zero_and_zero_gradient(loss, autodiff):
    x = np.random.default_rng(8).normal(size=(4, 3)).astype(np.float32)
    if isinstance(loss, kloss.MultiSimilarity):
        cases = [(np.array([0], np.int32), x[:1])]  # any other batch has a pair
    else:
        cases = [
            (np.array([0, 1, 2, 3], np.int32), x),  # no positive pair
            (np.array([4, 4, 4, 4], np.int32), x),  # no negative: no triplet; one N-pair
        ]
    for labels, emb in cases:
        v, g = value_and_grad(lambda p, labels=labels: loss(labels, p), emb)
        assert v == 0.0 and np.all(g == 0.0), (labels, v, g)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_identical_and_zero_embeddings_finite_gradients(loss, autodiff):
    labels = np.array([0, 0, 1, 1, 2], np.int32)
    for x in (np.ones((5, 3), np.float32), np.zeros((5, 3), np.float32)):
        v, g = value_and_grad(lambda p: loss(labels, p), x)
        assert np.isfinite(v) and np.all(np.isfinite(g)), (v, g)
        np.testing.assert_allclose(v, _reference(loss)(labels, x).mean(), **F32)


def _reference(loss):
    name = type(loss).__name__
    fn = {
        "TripletSemiHard": ref.triplet_semi_hard,
        "TripletHard": ref.triplet_hard,
        "LiftedStructure": ref.lifted_structure,
        "MultiSimilarity": ref.multi_similarity,
        "NPairs": ref.npairs,
    }[name]
    hyper = {k: getattr(loss, k) for k in loss.hyperparameters}
    return lambda y, x: fn(y, x, **hyper)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_labels_of_shape_b1_and_any_integer_dtype(loss):
    y, x = _batch(6, seed=9)
    expected = _value(loss, y, x)
    for labels in (y[:, None], y.astype(np.int64), y.astype(np.uint8)):
        np.testing.assert_allclose(_value(loss, labels, x), expected, **F32)


def test_sample_weight_weights_anchors():
    y, x = _batch(6, seed=10)
    w = np.array([0.0, 1.0, 2.0, 0.5, 1.0, 3.0], np.float32)
    for loss in LOSSES:
        rows = _reference(loss)(y, x)
        got = type(loss)(reduction="sum", **{k: getattr(loss, k) for k in loss.hyperparameters})
        np.testing.assert_allclose(to_numpy(got(y, x, sample_weight=w)), (w * rows).sum(), **F32)


# --------------------------------------------------------------------------- jit, memory


def _jit_cases():
    y, x = _batch(9, D=4, classes=3, seed=11)
    return [(loss, y, x) for loss in LOSSES] + [
        (kloss.TripletSemiHard(distance="cosine", margin=0.2), y, x),
        (kloss.TripletHard(soft=True, distance="euclidean"), y, x),
    ]


def test_unknown_batch_size_under_tf_function():
    if backend() != "tensorflow":
        pytest.skip("tf.function with an unknown batch size: tensorflow backend")
    import tensorflow as tf

    for loss, y, x in _jit_cases():
        spec = [tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 4), tf.float32)]

        @tf.function(input_signature=spec)
        def value_and_gradient(t, p, loss=loss):
            with tf.GradientTape() as tape:
                tape.watch(p)
                v = loss(t, p)
            return v, tape.gradient(v, p)

        for B in (9, 5, 2):  # one trace, three batch sizes
            v, g = value_and_gradient(y[:B], x[:B])
            ev, eg = value_and_grad(lambda p, B=B, loss=loss: loss(y[:B], p), x[:B])
            np.testing.assert_allclose(to_numpy(v), ev, **F32)
            np.testing.assert_allclose(to_numpy(g), eg, **F32)


def test_under_jax_jit():
    if backend() != "jax":
        pytest.skip("jax.jit: jax backend")
    import jax

    for loss, y, x in _jit_cases():
        ev, eg = value_and_grad(lambda p, loss=loss: loss(y, p), x)
        v, g = jax.jit(jax.value_and_grad(lambda p, t, loss=loss: loss(t, p)))(x, y)
        np.testing.assert_allclose(to_numpy(v), ev, **F32)
        np.testing.assert_allclose(to_numpy(g), eg, **F32)


def _largest_intermediate(jaxpr):
    from jax.extend import core

    size = 0
    for eqn in jaxpr.eqns:
        for var in eqn.outvars:
            size = max(size, int(np.prod(var.aval.shape)) if var.aval.shape else 1)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else (param,):
                if isinstance(sub, core.ClosedJaxpr):
                    size = max(size, _largest_intermediate(sub.jaxpr))
                elif isinstance(sub, core.Jaxpr):
                    size = max(size, _largest_intermediate(sub))
    return size


def test_memory_is_quadratic_in_the_batch():
    """Every intermediate of the value and the gradient (the traced JAX program) holds at
    most B^2 entries (B = 48, D = 4): no (B, B, B) tensor."""
    if backend() != "jax":
        pytest.skip("inspects the traced program: jax backend")
    import jax

    B = 48
    y, x = _batch(B, D=4, classes=6, seed=12)
    for loss, _, _ in _jit_cases():
        program = jax.make_jaxpr(jax.value_and_grad(lambda p, t, loss=loss: loss(t, p)))(x, y)
        assert _largest_intermediate(program.jaxpr) <= B * B, type(loss).__name__


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (
            lambda: kloss.TripletSemiHard(margin=-0.1),
            ValueError,
            "TripletSemiHard: `margin` must be >= 0.0. Received: margin=-0.1.",
        ),
        (
            lambda: kloss.TripletHard(margin="1"),
            TypeError,
            "TripletHard: `margin` must be a number. Received: margin='1'",
        ),
        (
            lambda: kloss.TripletHard(soft=1),
            TypeError,
            "TripletHard: `soft` must be True or False. Received: soft=1",
        ),
        (
            lambda: kloss.TripletSemiHard(distance="squared_euclidian"),
            ValueError,
            "TripletSemiHard: `distance` must be one of ['squared_euclidean', 'euclidean', "
            "'cosine']. Received: distance='squared_euclidian'. "
            'Did you mean "squared_euclidean"?',
        ),
        (
            lambda: kloss.TripletHard(distance="L2"),
            ValueError,
            "tensorflow-addons' distance_metric='L2' is kloss's distance=\"euclidean\".",
        ),
        (
            lambda: kloss.TripletSemiHard(distance="squared-L2"),
            ValueError,
            "tensorflow-addons' distance_metric='squared-L2' is kloss's "
            'distance="squared_euclidean".',
        ),
        (
            lambda: kloss.TripletSemiHard(distance="L_1"),
            ValueError,
            "distance_metric='L_1' is kloss's distance=\"euclidean\"",
        ),
        (
            lambda: kloss.LiftedStructure(margin=-1),
            ValueError,
            "LiftedStructure: `margin` must be >= 0.0. Received: margin=-1.0.",
        ),
        (
            lambda: kloss.MultiSimilarity(alpha=0),
            ValueError,
            "MultiSimilarity: `alpha` must be > 0.0. Received: alpha=0.0.",
        ),
        (
            lambda: kloss.MultiSimilarity(beta=-5.0),
            ValueError,
            "MultiSimilarity: `beta` must be > 0.0. Received: beta=-5.0.",
        ),
        (
            lambda: kloss.MultiSimilarity(base=float("nan")),
            ValueError,
            "MultiSimilarity: `base` must be finite. Received: base=nan.",
        ),
        (
            lambda: kloss.triplet_semi_hard([0, 0], [[0.0], [1.0]], margin=-2),
            ValueError,
            "triplet_semi_hard: `margin` must be >= 0.0. Received: margin=-2.0.",
        ),
        (
            lambda: kloss.triplet_hard([0, 0], [[0.0], [1.0]], distance="cos"),
            ValueError,
            "triplet_hard: `distance` must be one of",
        ),
    ],
)
def test_argument_errors(make, exc, fragment):
    with pytest.raises(exc) as err:
        make()
    assert fragment in str(err.value)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: type(loss).__name__)
def test_input_errors_name_the_loss_and_both_shapes(loss):
    name = type(loss).__name__
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(TypeError) as err:
        loss(np.array([0.0, 1.0, 0.0, 1.0], np.float32), x)
    assert str(err.value).startswith(
        f"{name}: `y_true` must hold integer class labels. Received: y_true.dtype=float32."
    )
    with pytest.raises(ValueError) as err:
        loss(np.zeros((4, 2), np.int32), x)
    assert str(err.value) == (
        f"{name}: `y_true` must be 1-D integer labels, one per row of `y_pred`. "
        "Received: y_true.shape=(4, 2), y_pred.shape=(4, 3)."
    )
    with pytest.raises(ValueError, match=r"y_true.shape=\(5,\), y_pred.shape=\(4, 3\)"):
        loss(np.zeros(5, np.int32), x)
    for bad in (np.zeros(4, np.float32), np.zeros((4, 3, 2), np.float32)):
        with pytest.raises(ValueError) as err:
            loss(np.zeros(4, np.int32), bad)
        assert str(err.value) == (
            f"{name}: `y_pred` must be 2-D embeddings (B, D). Received: "
            f"y_true.shape=(4,), y_pred.shape={bad.shape}."
        )
    assert backend() not in str(err.value)


def test_functions_raise_with_their_own_name():
    x = np.zeros((2, 3), np.float32)
    for fn in (kloss.triplet_semi_hard, kloss.triplet_hard, kloss.lifted_structure,
               kloss.multi_similarity, kloss.npairs):  # fmt: skip
        with pytest.raises(TypeError, match=f"^{fn.__name__}: `y_true` must hold integer"):
            fn(np.zeros(2, np.float32), x)


def test_get_config_roundtrip_keeps_hyperparameters():
    loss = kloss.TripletHard(margin=0.25, soft=True, distance="cosine", name="th")
    again = kloss.TripletHard.from_config(loss.get_config())
    assert (again.margin, again.soft, again.distance, again.name) == (0.25, True, "cosine", "th")
    ms = kloss.MultiSimilarity(alpha=1, beta=20, base=0.1)
    assert {k: ms.get_config()[k] for k in ("alpha", "beta", "base")} == {
        "alpha": 1.0,
        "beta": 20.0,
        "base": 0.1,
    }
    assert keras.losses.deserialize(keras.losses.serialize(kloss.NPairs())).name == "npairs"

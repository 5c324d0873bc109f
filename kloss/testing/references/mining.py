"""NumPy float64 references for the in-batch mining losses, written from the papers and the
documented definitions with explicit Python loops over anchors (no vectorized mining).

Each returns the per-row values `(B,)` that kloss documents; their mean is the scalar of the
reference implementation (tensorflow-addons or pytorch-metric-learning). Distances are
computed from differences (exact for nearby points). Nothing here imports kloss.
"""

import math

import numpy as np


def _f64(y_true, y_pred):
    labels = np.asarray(y_true).reshape(-1).astype(np.int64)
    x = np.asarray(y_pred, dtype=np.float64)
    return labels, x


def _normalize(v):
    return v / max(math.sqrt(float(np.dot(v, v))), 1e-12)


def pair_distance(a, b, kind):
    """Distance between two embeddings: squared Euclidean, Euclidean or 1 - cosine."""
    if kind == "cosine":
        return 1.0 - float(np.dot(_normalize(a), _normalize(b)))
    squared = float(np.sum((a - b) ** 2))
    return squared if kind == "squared_euclidean" else math.sqrt(squared)


def _logsumexp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def triplet_semi_hard(y_true, y_pred, margin=1.0, distance="squared_euclidean"):
    """Row a: B * sum_p max(d(a, p) - d(a, n*) + margin, 0) / P (0 without negatives)."""
    kind = distance
    labels, x = _f64(y_true, y_pred)
    b = len(labels)
    rows = np.zeros(b)
    n_pairs = 0
    for a in range(b):
        negatives = [pair_distance(x[a], x[n], kind) for n in range(b) if labels[n] != labels[a]]
        for p in range(b):
            if p == a or labels[p] != labels[a]:
                continue
            n_pairs += 1
            if not negatives:
                continue  # one class in the batch: no triplet
            d_ap = pair_distance(x[a], x[p], kind)
            farther = [d for d in negatives if d > d_ap]
            d_an = min(farther) if farther else max(negatives)
            rows[a] += max(d_ap - d_an + margin, 0.0)
    return rows * b / n_pairs if n_pairs else rows


def triplet_hard(y_true, y_pred, margin=1.0, soft=False, distance="squared_euclidean"):
    """Row a: max(d(a, p_hard) - d(a, n_hard) + margin, 0), or softplus of the gap; 0 for an
    anchor without a positive or a negative."""
    labels, x = _f64(y_true, y_pred)
    b = len(labels)
    rows = np.zeros(b)
    for a in range(b):
        d_pos = [pair_distance(x[a], x[p], distance) for p in range(b)]
        positives = [d_pos[p] for p in range(b) if p != a and labels[p] == labels[a]]
        negatives = [d_pos[n] for n in range(b) if labels[n] != labels[a]]
        if not positives or not negatives:
            continue
        gap = max(positives) - min(negatives)
        rows[a] = np.logaddexp(0.0, gap) if soft else max(gap + margin, 0.0)
    return rows


def lifted_structure(y_true, y_pred, margin=1.0):
    """Row a: B * sum_b max(J(a, b), 0)^2 / (2 P), P ordered positive pairs, Euclidean d."""
    labels, x = _f64(y_true, y_pred)
    b = len(labels)
    d = [[pair_distance(x[i], x[j], "euclidean") for j in range(b)] for i in range(b)]
    rows = np.zeros(b)
    n_pairs = 0
    for a in range(b):
        for p in range(b):
            if p == a or labels[p] != labels[a]:
                continue
            n_pairs += 1
            terms = [margin - d[a][k] for k in range(b) if labels[k] != labels[a]]
            terms += [margin - d[p][k] for k in range(b) if labels[k] != labels[p]]
            if not terms:
                continue  # one class in the batch
            j = _logsumexp(terms) + d[a][p]
            rows[a] += max(j, 0.0) ** 2
    return rows * b / (2 * n_pairs) if n_pairs else rows


def multi_similarity(y_true, y_pred, alpha=2.0, beta=50.0, base=0.5):
    """Row a: 1/alpha log(1 + sum_p e^{-alpha (S_ap - base)}) + 1/beta log(1 + sum_n
    e^{beta (S_an - base)}), S the cosine similarity."""
    labels, x = _f64(y_true, y_pred)
    b = len(labels)
    rows = np.zeros(b)
    for a in range(b):
        pos = [
            -alpha * (1 - pair_distance(x[a], x[p], "cosine") - base)
            for p in range(b)
            if p != a and labels[p] == labels[a]
        ]
        neg = [
            beta * (1 - pair_distance(x[a], x[n], "cosine") - base)
            for n in range(b)
            if labels[n] != labels[a]
        ]
        rows[a] = _logsumexp([0.0] + pos) / alpha + _logsumexp([0.0] + neg) / beta
    return rows


def npairs_pairs(y_true):
    """[(anchor, positive)]: each class's first and second row, in order of first rows."""
    labels = np.asarray(y_true).reshape(-1)
    pairs = []
    for i in range(len(labels)):
        if any(labels[j] == labels[i] for j in range(i)):
            continue
        later = [j for j in range(i + 1, len(labels)) if labels[j] == labels[i]]
        if later:
            pairs.append((i, later[0]))
    return pairs


def npairs(y_true, y_pred):
    """Row a_k: B * CE_k / N on the N anchor rows, CE_k = -log softmax_j(a_k . p_j)[k]."""
    labels, x = _f64(y_true, y_pred)
    b = len(labels)
    pairs = npairs_pairs(labels)
    rows = np.zeros(b)
    for a, p in pairs:
        logits = [float(np.dot(x[a], x[q])) for _, q in pairs]
        rows[a] = _logsumexp(logits) - float(np.dot(x[a], x[p]))
    return rows * b / len(pairs) if pairs else rows

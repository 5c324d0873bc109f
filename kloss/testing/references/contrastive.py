"""NumPy float64 references for the contrastive losses, written from the papers' formulas
with explicit loops over anchors and pairs. Nothing here imports kloss.

Conventions (those of the losses' documented definitions): cosines of l2-normalized
embeddings, a zero vector's unit vector is 0 (cosine 0 with everything); every function
returns the per-row `(B,)` values whose mean is the paper's loss.
"""

import numpy as np


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        # Divided by its largest entry first: the same direction, and no underflow of the
        # squared norm of tiny rows.
        m = np.max(np.abs(row))
        if m > 0:
            r = row / m
            out[i] = r / np.sqrt(np.sum(r * r))
    return out


def _cos(a, b):
    return float(np.dot(a, b))


def _logsumexp(values):
    values = np.asarray(values, dtype=np.float64)
    m = values.max()
    return m + np.log(np.sum(np.exp(values - m)))


def _log_sigmoid(x):
    # -softplus(-x), stable for any x.
    return -np.logaddexp(0.0, -x)


def ntxent(y_true, y_pred, temperature=0.1):
    """SimCLR (Chen et al. 2020), eq. 1: per embedding k of the 2B,
    l_k = -log(exp(s_k,pos / t) / sum_{j != k} exp(s_kj / t)); row i = (l_i + l_{B+i}) / 2."""
    p = np.asarray(y_pred, dtype=np.float64)
    B = p.shape[0]
    z = np.concatenate([_unit(p[:, 0]), _unit(p[:, 1])], axis=0)
    losses = np.zeros(2 * B)
    for k in range(2 * B):
        pos = (k + B) % (2 * B)
        denominator = [_cos(z[k], z[j]) / temperature for j in range(2 * B) if j != k]
        losses[k] = -(_cos(z[k], z[pos]) / temperature - _logsumexp(denominator))
    return (losses[:B] + losses[B:]) / 2.0


def info_nce(y_true, y_pred, temperature=0.1, symmetric=False):
    """CLIP (Radford et al. 2021): cross-entropy over the B x B logits cos(u_i, v_j) / t
    with the diagonal as targets; symmetric: the mean of both directions per index."""
    p = np.asarray(y_pred, dtype=np.float64)
    B = p.shape[0]
    u, v = _unit(p[:, 0]), _unit(p[:, 1])
    logits = np.array([[_cos(u[i], v[j]) / temperature for j in range(B)] for i in range(B)])
    out = np.zeros(B)
    for i in range(B):
        row = _logsumexp(logits[i, :]) - logits[i, i]
        if symmetric:
            col = _logsumexp(logits[:, i]) - logits[i, i]
            out[i] = (row + col) / 2.0
        else:
            out[i] = row
    return out


def supervised_contrastive_anchors(y_true, y_pred, temperature=0.1):
    """Khosla et al. 2020, eq. 2 (L_out): (L_i for every anchor, has_positive mask)."""
    labels = np.asarray(y_true).reshape(-1)
    z = _unit(y_pred)
    B = z.shape[0]
    losses = np.zeros(B)
    has = np.zeros(B, bool)
    for i in range(B):
        positives = [p for p in range(B) if p != i and labels[p] == labels[i]]
        if not positives:
            continue
        has[i] = True
        log_denominator = _logsumexp([_cos(z[i], z[a]) / temperature for a in range(B) if a != i])
        terms = [_cos(z[i], z[p]) / temperature - log_denominator for p in positives]
        losses[i] = -np.mean(terms)
    return losses, has


def supervised_contrastive(y_true, y_pred, temperature=0.1):
    """Rows: L_i * B / |A| for anchors with a positive (A), 0 for the others; the mean over
    rows is the mean of L_i over A (pytorch-metric-learning's averaging)."""
    losses, has = supervised_contrastive_anchors(y_true, y_pred, temperature)
    B = losses.shape[0]
    if not has.any():
        return np.zeros(B)
    return np.where(has, losses * B / has.sum(), 0.0)


def siglip(y_true, y_pred, temperature=10.0, bias=-10.0):
    """Zhai et al. 2023, Algorithm 1: row i = -sum_j log_sigmoid(z_ij (t cos(u_i, v_j) + b)),
    z_ij = 1 if i == j else -1 (the paper divides the total by B: the mean over rows)."""
    p = np.asarray(y_pred, dtype=np.float64)
    B = p.shape[0]
    u, v = _unit(p[:, 0]), _unit(p[:, 1])
    out = np.zeros(B)
    for i in range(B):
        for j in range(B):
            z = 1.0 if i == j else -1.0
            out[i] -= _log_sigmoid(z * (temperature * _cos(u[i], v[j]) + bias))
    return out

"""NumPy float64 reference for the sequence losses, written from the CTC paper.

Graves et al. 2006, "Connectionist Temporal Classification": the label sequence `l` of
length `U` is extended with blanks to `l'` of length `2U + 1`; `alpha_t(s)` sums the
probabilities of the alignments of `l'_1..s` with frames `1..t`, and
`p(l | x) = alpha_T(2U) + alpha_T(2U - 1)` (0-based states). Computed in log space with
`-inf` for "impossible", so an infeasible label gives `inf`. Nothing here imports kloss.
"""

import numpy as np


def _log_softmax(x):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def _lse(*xs):
    xs = np.array(xs, np.float64)
    m = xs.max()
    if m == -np.inf:
        return -np.inf
    return m + np.log(np.exp(xs - m).sum())


def ctc_nll(log_probs, label, blank):
    """-log p(label | frames) for one sequence: `log_probs` (T, C), `label` a list of ints."""
    T = log_probs.shape[0]
    ext = [blank]
    for c in label:
        ext += [c, blank]
    S = len(ext)
    alpha = np.full(S, -np.inf)
    if T == 0:
        return 0.0 if not label else np.inf
    alpha[0] = log_probs[0, blank]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        new = np.full(S, -np.inf)
        for s in range(S):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = _lse(*terms) + log_probs[t, ext[s]]
        alpha = new
    total = _lse(alpha[-1], alpha[-2]) if S > 1 else alpha[-1]
    return -total


def ctc(y_true, y_pred, blank_index=0, pad_value=-1, zero_infinity=False, mask=None):
    """Per-sequence CTC loss (B,), float64.

    `y_true` (B, L) integer labels where `pad_value` entries are dropped; `y_pred` (B, T, C)
    logits; `mask` (B, T) booleans: frames where it is False are dropped (None: all kept).
    """
    y_true = np.asarray(y_true)
    logp = _log_softmax(y_pred)
    B, T, C = logp.shape
    blank = blank_index % C
    keep = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    out = np.zeros(B)
    for b in range(B):
        label = [int(c) for c in y_true[b] if c != pad_value]
        value = ctc_nll(logp[b][keep[b]], label, blank)
        out[b] = 0.0 if (zero_infinity and np.isinf(value)) else value
    return out


def frames_needed(label):
    """The fewest frames that can emit `label`: its length plus one blank per repeat."""
    return len(label) + sum(a == b for a, b in zip(label[:-1], label[1:], strict=False))

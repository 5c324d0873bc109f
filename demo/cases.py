"""The demo's cases: one dict per loss trained by `train_backend.py`.

Imported only by the worker, after `KERAS_BACKEND` is set (importing kloss imports keras).
A later loss family adds its own dicts to `CASES` (and, if it needs other data, a loader
to `DATASETS`: `loader(rng) -> (x_train, y_train, x_test, y_test)`, whose docstring's first
line describes the data above its table). Keys of a case:

    name        label in the table, the plot and results.json (unique)
    loss        factory returning a fresh kloss loss: `loss()`, or `loss(t_train)` (the
                targets the loss sees, after `target` and `target_dtype`) when
                `loss_takes_targets` is True, e.g. for class weights from class counts
    dataset     key of `DATASETS` (default "diabetes"); the printed tables group by it
    target      `target(y_train) -> (forward, inverse)`: `forward(y)` maps raw targets to
                what the loss sees, `inverse(output)` maps model outputs back to target units
                (or, for classifiers, to what `metrics` expects, e.g. class indices)
    target_dtype dtype of what the loss sees (default "float32"; "int32" for the class
                indices of the sparse losses, which must not be cast to a float dtype)
    activation  the output layer's activation (None: linear, e.g. logits)
    units       the output layer's width (default 1)
    output_bias optional `output_bias(t_train) -> float or array`: the output layer's
                initial bias
    metrics     `metrics(y_test, prediction) -> {name: float}` in original target units;
                each key is one column of its dataset's table ("test_mae" is titled
                "test MAE" and printed with 2 decimals, other keys with 3)
"""

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.metrics import average_precision_score, f1_score, recall_score

import kloss

# --------------------------------------------------------------------------- data


def _split(x, y, rng, test_fraction=0.2):
    perm = rng.permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = perm[:n_test], perm[n_test:]
    mu, sd = x[train].mean(axis=0), x[train].std(axis=0)
    x = (x - mu) / sd
    return (
        x[train].astype("float32"),
        y[train].astype("float64"),
        x[test].astype("float32"),
        y[test].astype("float64"),
    )


def diabetes(rng):
    """load_diabetes (shipped with scikit-learn): 442 x 10, target disease progression."""
    x, y = load_diabetes(return_X_y=True, scaled=False)
    return _split(x.astype("float64"), y.astype("float64"), rng)


# The long-tailed digits: classes 5-9 keep this many training images each (the others keep
# all of theirs, about 125), a 12.5:1 imbalance fixed before any run, not tuned.
MINORITY_CLASSES = (5, 6, 7, 8, 9)
MINORITY_TRAIN = 10
# The binary task: this minority digit against all the others.
POSITIVE_DIGIT = 9


def digits_longtail(rng):
    """load_digits, long-tailed train (5-9: 10 images each, 0-4: ~125), balanced test split."""
    x, y = load_digits(return_X_y=True)
    train, test = [], []
    for c in range(10):
        # A stratified 70/30 split: the test set keeps the digits' natural, nearly equal
        # class frequencies, so per-class recalls are measured on ~54 images each.
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(0.3 * len(idx)))
        test.append(idx[:n_test])
        keep = idx[n_test:]
        train.append(keep[:MINORITY_TRAIN] if c in MINORITY_CLASSES else keep)
    train, test = np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
    mu, sd = x[train].mean(axis=0), x[train].std(axis=0)
    x = (x - mu) / np.where(sd > 0, sd, 1.0)  # some border pixels are always 0
    return (
        x[train].astype("float32"),
        y[train].astype("int64"),
        x[test].astype("float32"),
        y[test].astype("int64"),
    )


DATASETS = {"diabetes": diabetes, "digits_longtail": digits_longtail}

# --------------------------------------------------------------------------- target transforms


def standardise(y_train):
    """Zero mean, unit variance (train statistics); predictions are mapped back."""
    mu, sd = float(y_train.mean()), float(y_train.std())
    return (lambda y: (y - mu) / sd), (lambda out: out * sd + mu)


def counts(scale):
    """Targets `y / scale` as counts-like rates; the model outputs a log-rate."""

    def target(y_train):
        return (lambda y: y / scale), (lambda out: scale * np.exp(out))

    return target


def log_mean(t_train):
    """Initial bias of a log-rate output: log of the mean count, so exp(bias) fits on average."""
    return float(np.log(np.mean(t_train)))


def class_indices(y_train):
    """Integer labels as they are; the model's logits map to the arg-max class."""
    return (lambda y: y), (lambda out: np.argmax(out, axis=-1))


def one_vs_rest(y_train):
    """0/1 targets `y == POSITIVE_DIGIT`; the model's single output is a logit (kept)."""
    return (lambda y: (y == POSITIVE_DIGIT).astype("float32")), (lambda out: out)


def balanced_class_weights(labels):
    """scikit-learn's "balanced" weights `n / (C n_c)`, from the training labels."""
    counts = np.bincount(np.ravel(labels), minlength=10)
    return [float(len(np.ravel(labels)) / (len(counts) * n)) for n in counts]


def negatives_per_positive(t_train):
    """`pos_weight` n_negative / n_positive, from the 0/1 training targets."""
    positives = float(np.sum(t_train))
    return float((t_train.size - positives) / positives)


# --------------------------------------------------------------------------- metrics


def mae(y, pred):
    return {"test_mae": float(np.mean(np.abs(pred - y)))}


def mae_and_coverage(y, pred):
    """MAE, and the fraction of targets at or below the prediction (a quantile's coverage)."""
    return {**mae(y, pred), "coverage": float(np.mean(y <= pred))}


def classification_metrics(y, labels, minority, scores=None):
    """Held-out metrics that show the imbalance: accuracy alone mostly rewards the majority
    classes. `bal_acc` is the mean per-class recall (scikit-learn's balanced accuracy),
    `macro_f1` the unweighted mean F1, `min_recall` the mean recall of the `minority`
    classes, `avg_prec` (binary only) the average precision of the scores (no threshold)."""
    classes = np.unique(y)
    recalls = recall_score(y, labels, labels=classes, average=None, zero_division=0.0)
    out = {
        "accuracy": float(np.mean(labels == y)),
        "bal_acc": float(np.mean(recalls)),
        "macro_f1": float(f1_score(y, labels, labels=classes, average="macro", zero_division=0)),
        "min_recall": float(np.mean(recalls[np.isin(classes, minority)])),
    }
    if scores is not None:
        out["avg_prec"] = float(average_precision_score(y, scores))
    return out


def digit_metrics(y, pred_class):
    return classification_metrics(y, pred_class, MINORITY_CLASSES)


def one_vs_rest_metrics(y, logit):
    """Threshold at logit 0 (probability 0.5), the positive digit as the minority class."""
    positive = (y == POSITIVE_DIGIT).astype("int64")
    return classification_metrics(positive, (logit > 0).astype("int64"), (1,), scores=logit)


# --------------------------------------------------------------------------- cases

_REGRESSION = {"dataset": "diabetes", "target": standardise, "activation": None, "metrics": mae}

CASES = [
    {**_REGRESSION, "name": "MeanSquaredError", "loss": lambda: kloss.MeanSquaredError()},
    {**_REGRESSION, "name": "MeanAbsoluteError", "loss": lambda: kloss.MeanAbsoluteError()},
    {**_REGRESSION, "name": "Huber(1.0)", "loss": lambda: kloss.Huber(delta=1.0)},
    {**_REGRESSION, "name": "LogCosh", "loss": lambda: kloss.LogCosh()},
    {
        **_REGRESSION,
        "name": "Pinball(0.9)",
        "loss": lambda: kloss.Pinball(quantile=0.9),
        "metrics": mae_and_coverage,
    },
    {
        **_REGRESSION,
        "name": "Poisson(log_input)",
        "loss": lambda: kloss.Poisson(log_input=True),
        "target": counts(10.0),
        "output_bias": log_mean,
    },
]

# Long-tailed digits, 64 -> 32 -> 10 logits, integer labels. Each loss with its defaults
# except `from_logits`: focal gamma 2 (the paper's), no alpha; the class-weighted
# cross-entropy is the usual alternative remedy, shown for reference.
_DIGITS = {
    "dataset": "digits_longtail",
    "target": class_indices,
    "target_dtype": "int32",
    "activation": None,
    "units": 10,
    "metrics": digit_metrics,
}
# The same images as a binary task (digit 9 vs the rest, 1.5% positives in training): one
# logit. BinaryFocalCrossentropy with its defaults, alpha 0.25 and gamma 2 (the paper's).
_ONE_VS_REST = {
    "dataset": "digits_longtail",
    "target": one_vs_rest,
    "activation": None,
    "metrics": one_vs_rest_metrics,
}

CASES += [
    {
        **_DIGITS,
        "name": "SparseCE",
        "loss": lambda: kloss.SparseCategoricalCrossentropy(from_logits=True),
    },
    {
        **_DIGITS,
        "name": "SparseFocal(gamma=2)",
        "loss": lambda: kloss.SparseCategoricalFocalCrossentropy(gamma=2.0, from_logits=True),
    },
    {
        **_DIGITS,
        "name": "SparseCE(balanced)",
        "loss": lambda t: kloss.SparseCategoricalCrossentropy(
            from_logits=True, class_weights=balanced_class_weights(t)
        ),
        "loss_takes_targets": True,
    },
    {
        **_ONE_VS_REST,
        "name": "BinaryCE(9 vs rest)",
        "loss": lambda: kloss.BinaryCrossentropy(from_logits=True),
    },
    {
        **_ONE_VS_REST,
        "name": "BinaryFocal(9 vs rest)",
        "loss": lambda: kloss.BinaryFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True),
    },
    {
        **_ONE_VS_REST,
        "name": "BinaryCE(9 vs rest, pos_weight)",
        "loss": lambda t: kloss.BinaryCrossentropy(
            from_logits=True, pos_weight=negatives_per_positive(t)
        ),
        "loss_takes_targets": True,
    },
]

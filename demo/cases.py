"""The demo's cases: one dict per loss trained by `train_backend.py`.

Imported only by the worker, after `KERAS_BACKEND` is set (importing kloss imports keras).
A later loss family adds its own dicts to `CASES` (and, if it needs other data, a loader
to `DATASETS`). Keys of a case:

    name        label in the table, the plot and results.json (unique)
    loss        factory returning a fresh kloss loss
    dataset     key of `DATASETS` (default "diabetes")
    target      `target(y_train) -> (forward, inverse)`: `forward(y)` maps raw targets to
                what the loss sees, `inverse(output)` maps model outputs back to target units
    activation  the output layer's activation (None: linear)
    units       the output layer's width (default 1)
    output_bias optional `output_bias(t_train) -> float`: the output layer's initial bias
    metrics     `metrics(y_test, prediction) -> {name: float}` in original target units;
                "test_mae" gets its own column, any other key one column of its own
"""

import numpy as np
from sklearn.datasets import load_diabetes

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


DATASETS = {"diabetes": diabetes}

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


# --------------------------------------------------------------------------- metrics


def mae(y, pred):
    return {"test_mae": float(np.mean(np.abs(pred - y)))}


def mae_and_coverage(y, pred):
    """MAE, and the fraction of targets at or below the prediction (a quantile's coverage)."""
    return {**mae(y, pred), "coverage": float(np.mean(y <= pred))}


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

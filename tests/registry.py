"""The registry of losses that drives the generic test matrix and the cross-backend cases.

Adding a loss = adding one `Entry`: it then gets every check in `test_matrix.py` and
appears in the cross-backend comparison.
"""

import dataclasses
from collections.abc import Callable

import numpy as np

import kloss
from tests.references import regression as ref_regression


def _normal_pair(rng, shape, option):
    return (
        rng.normal(size=shape).astype(np.float32),
        rng.normal(scale=1.5, size=shape).astype(np.float32),
    )


def _poisson_pair(rng, shape, option):
    y_true = rng.poisson(2.0, size=shape).astype(np.float32)
    if option.get("log_input"):
        y_pred = rng.normal(scale=0.7, size=shape).astype(np.float32)
    else:
        y_pred = rng.uniform(0.1, 4.0, size=shape).astype(np.float32)
    return y_true, y_pred


def _edges_common(D=4):
    z = np.zeros((2, D), np.float32)
    big = np.full((2, D), 1e3, np.float32)
    return [
        ("perfect", z + 0.25, z + 0.25),
        ("zero_error_at_zero", z, z),
        ("large_error", -big, big),
        ("tiny_error", z, z + 1e-30),
    ]


def _edges_huber(option):
    d = option.get("delta", 1.0)
    z = np.zeros((2, 3), np.float32)
    return _edges_common() + [("error_equals_delta", z, z + np.float32(d))]


def _edges_log_cosh(option):
    z = np.zeros((2, 3), np.float32)
    return _edges_common() + [("error_1e4", z, z + np.array([1e4, -1e4, 50.0], np.float32))]


def _edges_poisson(option):
    z = np.zeros((2, 3), np.float32)
    if option.get("log_input"):
        return [
            ("counts_zero", z, z),
            ("logits_50", z + 3, z + 50.0),
            ("logits_-50", z + 3, z - 50),
        ]
    return [
        ("zero_rate_zero_count", z, z),
        ("zero_rate_positive_count", z + 3.0, z),
        ("large_rate", z + 1.0, z + 1e6),
    ]


def _edges_cosine(option):
    rng = np.random.default_rng(7)
    v = rng.normal(size=(2, 5)).astype(np.float32)
    w = rng.normal(size=(2, 5)).astype(np.float32)
    z = np.zeros_like(v)
    return [
        ("both_zero", z, z),
        ("pred_zero", v, z),
        ("true_zero", z, v),
        ("identical", v, v.copy()),
        ("norm_1e20", v * 1e19, w * 1e19),
        ("norm_1e-20", v * 1e-20, w * 1e-20),
        ("mixed_scales", v * 1e20, w * 1e-20),
    ]


@dataclasses.dataclass
class Entry:
    cls: type
    fn: Callable
    reference: Callable
    options: list = dataclasses.field(default_factory=lambda: [{}])
    make_inputs: Callable = _normal_pair
    edges: Callable = lambda option: _edges_common()
    elementwise: bool = True
    # Output activation of the one-layer model used for the fit/save tests.
    activation: str = "linear"
    # Edge inputs whose exact gradient exceeds float16's range (so inf there is the answer).
    float16_out_of_range: tuple = ()

    @property
    def name(self):
        return self.cls.__name__


REGISTRY = [
    Entry(kloss.MeanSquaredError, kloss.mean_squared_error, ref_regression.mean_squared_error),
    Entry(kloss.MeanAbsoluteError, kloss.mean_absolute_error, ref_regression.mean_absolute_error),
    Entry(
        kloss.Huber,
        kloss.huber,
        ref_regression.huber,
        options=[{}, {"delta": 0.5}, {"delta": 2.5}],
        edges=_edges_huber,
    ),
    Entry(kloss.LogCosh, kloss.log_cosh, ref_regression.log_cosh, edges=_edges_log_cosh),
    Entry(
        kloss.Pinball,
        kloss.pinball,
        ref_regression.pinball,
        options=[{}, {"quantile": 0.1}, {"quantile": 0.9}, {"quantile": 0.0}, {"quantile": 1.0}],
    ),
    Entry(
        kloss.Poisson,
        kloss.poisson,
        ref_regression.poisson,
        options=[{}, {"log_input": True}, {"epsilon": 1e-3}],
        make_inputs=_poisson_pair,
        edges=_edges_poisson,
        activation="softplus",
        # d/dy_pred at y_pred = 0 is 1 - y_true / epsilon = -3e7 with epsilon 1e-7.
        float16_out_of_range=("zero_rate_positive_count",),
    ),
    Entry(
        kloss.CosineProximity,
        kloss.cosine_proximity,
        ref_regression.cosine_proximity,
        edges=_edges_cosine,
        elementwise=False,
    ),
]


def cases():
    """(entry, option, id) for every loss and option set."""
    out = []
    for entry in REGISTRY:
        for i, option in enumerate(entry.options):
            out.append((entry, option, f"{entry.name}-{i}"))
    return out


def non_default_option(entry):
    """An option set with a non-default hyperparameter where the loss has one."""
    return entry.options[-1]

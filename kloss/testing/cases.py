"""The fixed, seeded cross-backend cases, computed in one backend's process.

Each backend's pytest process (`make test`) and each `kloss check` worker calls
`compute_cases`; `kloss.testing.compare` then compares every pair of backends.
"""

import keras
import numpy as np

from kloss.testing.autodiff import to_numpy, value_and_grad
from kloss.testing.registry import cases


def loss_inputs(entry, option):
    """[(kind, y_true, y_pred)]: two seeded random inputs (2-D and 3-D) and the edge inputs."""
    inputs = [("random", *entry.make_inputs(np.random.default_rng(11), (4, 6), option))]
    inputs += [("random3d", *entry.make_inputs(np.random.default_rng(12), (2, 3, 5), option))]
    inputs += [(f"edge_{n}", t, p) for n, t, p in entry.edges(option)]
    return inputs


def case_values(entry, option, cid, autodiff):
    """{case_key: float64 array} for one loss and option set."""
    out = {}
    for kind, y_true, y_pred in loss_inputs(entry, option):
        key = f"{cid}/{kind}"
        out[f"{key}/per_sample"] = to_numpy(entry.cls(**option, reduction="none")(y_true, y_pred))
        w = np.linspace(0.0, 2.0, y_pred.shape[0]).astype(np.float32)
        loss = entry.cls(**option, reduction="mean_with_sample_weight")
        out[f"{key}/weighted"] = to_numpy(loss(y_true, y_pred, sample_weight=w))
        if autodiff:
            v, g = value_and_grad(lambda p: entry.cls(**option)(y_true, p), y_pred)  # noqa: B023
            out[f"{key}/value"] = v
            out[f"{key}/grad"] = g
    return out


def compute_cases(names=None):
    """{case_key: float64 array} for every loss (or those whose class name is in `names`),
    option set and input kind. Values and gradients only where the backend has autodiff."""
    out = {}
    autodiff = keras.backend.backend() != "numpy"
    for entry, option, cid in cases():
        if names is None or entry.name in names:
            out.update(case_values(entry, option, cid, autodiff))
    return out

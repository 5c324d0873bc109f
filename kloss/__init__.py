"""kloss: losses for Keras 3 that agree on TensorFlow, JAX and PyTorch.

Every loss is a `keras.losses.Loss` subclass written with `keras.ops` only, plus a function
that returns one value per sample. Classes and functions are registered under `kloss>` so
saved models load without `custom_objects`.
"""

from kloss._internal import KlossLoss
from kloss.regression import (
    CosineProximity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanSquaredError,
    Pinball,
    Poisson,
    cosine_proximity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_squared_error,
    pinball,
    poisson,
)

__version__ = "0.1.0"

__all__ = [
    "KlossLoss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "LogCosh",
    "Pinball",
    "Poisson",
    "CosineProximity",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "pinball",
    "poisson",
    "cosine_proximity",
]

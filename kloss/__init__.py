"""kloss: losses for Keras 3 that agree on TensorFlow, JAX and PyTorch.

Every loss is a `keras.losses.Loss` subclass written with `keras.ops` only, plus a function
that returns one value per sample. Classes and functions are registered under `kloss>` so
saved models load without `custom_objects`.
"""

from kloss._internal import KlossLoss
from kloss.classification import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    SparseCategoricalCrossentropy,
    SparseCategoricalFocalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    sparse_categorical_crossentropy,
    sparse_categorical_focal_crossentropy,
    squared_hinge,
)
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
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy",
    "SparseCategoricalFocalCrossentropy",
    "KLDivergence",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "sparse_categorical_focal_crossentropy",
    "kl_divergence",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
]

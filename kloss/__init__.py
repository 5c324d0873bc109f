"""kloss: losses for Keras 3 that agree on TensorFlow, JAX and PyTorch.

Every loss is a `keras.losses.Loss` subclass written with `keras.ops` only, plus a function
that returns one value per sample. Classes and functions are registered under `kloss>` so
saved models load without `custom_objects`.
"""

from kloss import classification, contrastive, mining, ranking, regression
from kloss._internal import KlossLoss
from kloss.classification import *  # noqa: F403
from kloss.contrastive import *  # noqa: F403
from kloss.mining import *  # noqa: F403
from kloss.ranking import *  # noqa: F403
from kloss.regression import *  # noqa: F403

__version__ = "0.1.0"

# One family per module; each module's __all__ lists its classes and functions.
__all__ = [
    "KlossLoss",
    *regression.__all__,
    *classification.__all__,
    *ranking.__all__,
    *mining.__all__,
    *contrastive.__all__,
]

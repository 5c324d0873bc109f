"""kloss: losses for Keras 3 that agree on TensorFlow, JAX and PyTorch.

Every loss is a `keras.losses.Loss` subclass written with `keras.ops` only, plus a function
that returns one value per sample. Classes and functions are registered under `kloss>` so
saved models load without `custom_objects`.
"""

from kloss import (  # noqa: I001
    adversarial,
    boxes,
    classification,
    combination,
    contrastive,
    distribution,
    image,
    lovasz,
    mining,
    ranking,
    regression,
    segmentation,
    sequence,
)
from kloss._internal import KlossLoss
from kloss.adversarial import *  # noqa: F403
from kloss.boxes import *  # noqa: F403
from kloss.classification import *  # noqa: F403
from kloss.combination import *  # noqa: F403
from kloss.contrastive import *  # noqa: F403
from kloss.distribution import *  # noqa: F403
from kloss.image import *  # noqa: F403
from kloss.lovasz import *  # noqa: F403
from kloss.mining import *  # noqa: F403
from kloss.ranking import *  # noqa: F403
from kloss.regression import *  # noqa: F403
from kloss.segmentation import *  # noqa: F403
from kloss.sequence import *  # noqa: F403

__version__ = "0.1.0"

# One family per module; each module's __all__ lists its classes and functions.
__all__ = [
    "KlossLoss",
    *regression.__all__,
    *classification.__all__,
    *ranking.__all__,
    *mining.__all__,
    *contrastive.__all__,
    *segmentation.__all__,
    *lovasz.__all__,
    *image.__all__,
    *adversarial.__all__,
    *sequence.__all__,
    *distribution.__all__,
    *boxes.__all__,
    *combination.__all__,
]

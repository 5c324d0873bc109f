"""`Entry`: one loss in the registry that drives the generic test matrix (`registry.py`)."""

import dataclasses
from collections.abc import Callable

import numpy as np

from kloss.testing.references import classification as ref_cls


def _normal_pair(rng, shape, option):
    return (
        rng.normal(size=shape).astype(np.float32),
        rng.normal(scale=1.5, size=shape).astype(np.float32),
    )


def _edges_common(D=4):
    z = np.zeros((2, D), np.float32)
    big = np.full((2, D), 1e3, np.float32)
    return [
        ("perfect", z + 0.25, z + 0.25),
        ("zero_error_at_zero", z, z),
        ("large_error", -big, big),
        ("tiny_error", z, z + 1e-30),
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
    # y_true holds integer class indices (never cast to a float dtype).
    int_labels: bool = False
    # One value per row computed from the whole batch (in-batch mining, contrastive): the
    # checks that split or reshape the batch (batch == stacked rows, 1-D/3-D inputs, per-
    # timestep weights and masks) do not apply. make_inputs(rng, shape, option) then reads
    # only B = shape[0] and D = shape[-1].
    batch_defined: bool = False
    # The output shape (without the batch axis) of the model used for the fit/save tests,
    # given its width `dim`: a Dense(prod(shape)) layer reshaped to it.
    model_shape: Callable = lambda option, dim: (dim,)
    # The default reduction's value from (y_true, per_sample, option) where it is not the
    # mean of the per-sample values (e.g. a weighted mean over valid pixels); None: below.
    default_reduce: Callable | None = None

    def default_reduction(self, y_true, per_sample, option):
        """The value of the loss with its default reduction, from the reference's values."""
        if self.default_reduce is not None:
            return self.default_reduce(y_true, per_sample, option)
        if self.int_labels and (
            option.get("class_weights") is not None or option.get("ignore_index") is not None
        ):
            # PyTorch's weighted mean over valid entries (see SparseCategoricalCrossentropy).
            w = ref_cls.sparse_entry_weights(
                y_true, option.get("class_weights"), option.get("ignore_index")
            )
            return per_sample.sum() / w.sum() if w.sum() else 0.0
        return per_sample.mean()

    def activation_for(self, option):
        return self.activation(option) if callable(self.activation) else self.activation

    @property
    def name(self):
        return self.cls.__name__

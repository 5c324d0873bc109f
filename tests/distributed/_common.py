"""Shared pieces of the distribution scripts: tiny models, NumPy data, one case per family.

Imported by the engine scripts after they have configured their engine (device count,
`KERAS_BACKEND`); it uses `keras` and `kloss` only, so it works on every backend.
"""

import json
import sys

import keras
import numpy as np

import kloss

# float32 tolerance of every comparison between a distributed and a one-device run: the
# runs sum the same terms in a different order (per-shard partial sums, all-reduces).
RTOL = 1e-5
ATOL = 1e-6

BATCH = 32  # the global batch: 4 rows per device for 8 JAX devices, 16 per TF replica
EPOCHS = 3  # one step per epoch (the dataset is one batch), so the history is per step


def _dense_model(in_shape, hidden, out, activation=None, name="m"):
    inputs = keras.Input(in_shape)
    h = keras.layers.Dense(hidden, activation="tanh")(inputs)
    outputs = keras.layers.Dense(out, activation=activation)(h)
    return keras.Model(inputs, outputs, name=name)


def _onehot(labels, n):
    return np.eye(n, dtype="float32")[labels]


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype("float32")


def cases(batch=BATCH):
    """One case per loss family: (name, family, loss factory, model factory, x, y, in_batch).

    `in_batch` marks losses defined over the whole batch (mining, contrastive): a replica
    that sees only its shard computes a different value. The others return one value per
    sample, and Keras's reductions make the distributed value exact.
    """
    rng = np.random.default_rng(0)
    b = batch
    out = []

    def add(name, family, loss, model, x, y, in_batch=False):
        out.append(
            dict(
                name=name,
                family=family,
                loss=loss,
                model=model,
                x=np.asarray(x, "float32"),
                y=np.asarray(y),
                in_batch=in_batch,
            )
        )

    x = rng.normal(size=(b, 6))
    add(
        "Huber",
        "regression",
        lambda: kloss.Huber(delta=0.5),
        lambda: _dense_model((6,), 8, 3),
        x,
        rng.normal(size=(b, 3)).astype("float32"),
    )
    add(
        "Huber+0.5*MeanAbsoluteError",
        "combination",
        lambda: kloss.Huber() + 0.5 * kloss.MeanAbsoluteError(),
        lambda: _dense_model((6,), 8, 3),
        x,
        rng.normal(size=(b, 3)).astype("float32"),
    )
    add(
        "SparseCategoricalCrossentropy",
        "classification",
        lambda: kloss.SparseCategoricalCrossentropy(from_logits=True),
        lambda: _dense_model((6,), 8, 4),
        x,
        rng.integers(0, 4, size=(b,)).astype("int32"),
    )
    add(
        "CategoricalFocalCrossentropy",
        "classification",
        lambda: kloss.CategoricalFocalCrossentropy(from_logits=True, gamma=2.0),
        lambda: _dense_model((6,), 8, 4),
        x,
        _onehot(rng.integers(0, 4, size=(b,)), 4),
    )
    add(
        "Dice",
        "segmentation",
        lambda: kloss.Dice(mode="multiclass"),
        lambda: _dense_model((4, 4, 3), 8, 3, activation="softmax"),
        rng.normal(size=(b, 4, 4, 3)),
        _onehot(rng.integers(0, 3, size=(b, 4, 4)), 3),
    )
    add(
        "GIoU",
        "boxes",
        lambda: kloss.GIoU(bounding_box_format="xywh"),
        lambda: _dense_model((6,), 8, 4, activation="softplus"),
        x,
        np.abs(rng.normal(1.0, 0.5, size=(b, 4))).astype("float32"),
    )
    add(
        "EarthMovers",
        "distribution",
        lambda: kloss.EarthMovers(from_logits=True),
        lambda: _dense_model((6,), 8, 5),
        x,
        _softmax(rng.normal(size=(b, 5))),
    )
    add(
        "MinimaxDiscriminator",
        "adversarial",
        lambda: kloss.MinimaxDiscriminator(),
        lambda: _dense_model((6,), 8, 1),
        x,
        rng.integers(0, 2, size=(b, 1)).astype("float32"),
    )
    labels = rng.integers(1, 5, size=(b, 3))
    labels[rng.random(b) < 0.5, 2] = -1  # padded label sequences of length 2 or 3
    add(
        "CTC",
        "sequence",
        lambda: kloss.CTC(),
        lambda: _dense_model((7, 4), 8, 5),
        rng.normal(size=(b, 7, 4)),
        labels.astype("int32"),
    )
    add(
        "TripletSemiHard",
        "mining",
        lambda: kloss.TripletSemiHard(margin=0.5),
        lambda: _dense_model((6,), 8, 4),
        x,
        rng.integers(0, 4, size=(b,)).astype("int32"),
        in_batch=True,
    )
    add(
        "InfoNCE",
        "contrastive",
        lambda: kloss.InfoNCE(temperature=0.2),
        lambda: _dense_model((2, 6), 8, 4),
        rng.normal(size=(b, 2, 6)),
        np.zeros((b,), "float32"),
        in_batch=True,
    )
    return out


def entry_weighted_case():
    """SparseCategoricalCrossentropy with `ignore_index`: the averaging reductions divide by
    the number of valid entries. Every 4th label is ignored, 4 in each half and in each
    quarter of the batch, so every shard has the same number of valid entries (the
    global value is then also the mean of the per-shard values)."""
    case = dict(cases()[2])
    y = case["y"].copy()
    y[::4] = -1
    case.update(
        name="SparseCategoricalCrossentropy(ignore_index=-1)",
        y=y,
        loss=lambda: kloss.SparseCategoricalCrossentropy(from_logits=True, ignore_index=-1),
    )
    return case


def loss_value(loss, y, pred):
    """The loss (default reduction) of `pred` against `y`, as a Python float."""
    return float(keras.ops.convert_to_numpy(loss(y, pred)))


def shard_mean(loss, y, pred, n_shards):
    """The mean over `n_shards` contiguous equal shards of the loss on each shard."""
    size = len(y) // n_shards
    parts = [
        loss_value(loss, y[i * size : (i + 1) * size], pred[i * size : (i + 1) * size])
        for i in range(n_shards)
    ]
    return float(np.mean(parts))


def max_rel_diff(a, b):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), ATOL / RTOL)))


def close(a, b):
    return bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def emit(result):
    """Writes the JSON result to the path in argv[1], or prints it."""
    text = json.dumps(result, indent=1, sort_keys=True)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text)
    else:
        print(text)


class StepRecorder(keras.callbacks.Callback):
    """Before each step: the loss of the current predictions, global and mean over `shards`
    equal shards."""

    def __init__(self, loss, x, y, shards):
        super().__init__()
        self.loss, self.x, self.y, self.n_shards = loss, x, y, shards
        self.globals, self.shards = [], []

    def on_train_batch_begin(self, batch, logs=None):
        pred = keras.ops.convert_to_numpy(self.model(self.x, training=False))
        self.globals.append(loss_value(self.loss, self.y, pred))
        self.shards.append(shard_mean(self.loss, self.y, pred, self.n_shards))

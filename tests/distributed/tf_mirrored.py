"""kloss under `tf.distribute.MirroredStrategy` over 2 logical CPU devices.

Run: KERAS_BACKEND=tensorflow PYTHONPATH=. python tests/distributed/tf_mirrored.py [out.json]

For every case of `_common.cases()` the same model (same initial weights) is trained for
`EPOCHS` steps (one batch per epoch, no shuffle) on one device and, built and compiled under
`strategy.scope()`, on 2 replicas; the JSON holds both loss histories. For the in-batch
losses it also holds, at every step, the loss of the model's current predictions on the
whole batch (`global`) and the mean over the two half-batch shards (`shards`): each replica
mines within its own shard. The `GlobalBatch` wrapper below is the user-side recipe
(docs/distributed.md) that all-gathers the embeddings so that the replicas mine the global
batch; its history under the strategy is compared with the one-device history.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, before anything else initializes the runtime.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import kloss  # noqa: E402

REPLICAS = 2


class GlobalBatch(keras.losses.Loss):
    """User-side recipe: a kloss loss over the batch gathered from every replica.

    `fn(y_true, y_pred)` is a kloss function returning one value per row. Each replica
    all-gathers labels and embeddings, evaluates `fn` on the global batch and returns the
    rows of its own shard; Keras averages them and divides by the number of replicas, so
    the sum over replicas is the global-batch loss. `ReplicaContext.all_gather` sums the
    incoming gradients over replicas in its backward pass, so each replica's embeddings get
    the gradient of the global loss (the terms where they are candidates in other replicas'
    rows included).
    """

    def __init__(self, fn, integer_labels=True, name="global_batch", **kwargs):
        super().__init__(name=name, **kwargs)
        self.fn = fn
        self.integer_labels = integer_labels

    def call(self, y_true, y_pred):
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            # Gather float tensors only (int32 tensors live on the host, and the all-gather
            # wants them on the devices), one call each (the gradient of a gathered list
            # fails for tensors of different ranks). Loss.__call__ has already cast y_true
            # to the loss's float dtype (exact for labels below 2**24).
            local = tf.shape(y_pred)[0]
            sizes = ctx.all_gather(tf.cast(tf.reshape(local, [1]), y_pred.dtype), axis=0)
            start = tf.cast(tf.reduce_sum(sizes[: ctx.replica_id_in_sync_group]), "int32")
            y_true = ctx.all_gather(tf.cast(y_true, y_pred.dtype), axis=0)
            y_pred = ctx.all_gather(y_pred, axis=0)
        else:
            local, start = tf.shape(y_pred)[0], 0
        if self.integer_labels:
            y_true = tf.cast(y_true, "int32")
        # The global loss per row; this replica returns the rows of its own shard.
        return self.fn(y_true, y_pred)[start : start + local]


class ShardProbe(keras.losses.Loss):
    """Wraps a loss and records, while tracing, which replica called it with which shape."""

    seen = []

    def __init__(self, inner, **kwargs):
        super().__init__(name="probe", **kwargs)
        self.inner = inner

    def __call__(self, y_true, y_pred, sample_weight=None):
        ctx = tf.distribute.get_replica_context()
        if ctx is None:  # Keras's symbolic build, in the cross-replica context
            return self.inner(y_true, y_pred, sample_weight=sample_weight)
        ShardProbe.seen.append(
            dict(
                replica=int(tf.get_static_value(ctx.replica_id_in_sync_group)),
                replicas=int(ctx.num_replicas_in_sync),
                shape=[d for d in y_pred.shape],
            )
        )
        return self.inner(y_true, y_pred, sample_weight=sample_weight)


def prebuild_loss(model, x, y):
    """Builds the compiled loss on real labels before `fit()` (the workaround, see below).

    Under a strategy, Keras's first `fit()` builds the compiled loss symbolically on the
    MEAN over replicas of the first batch's shards, which turns integer labels into
    float64; kloss's integer-label losses reject those with a `TypeError`. Once built, the
    compiled loss is not built again.
    """
    model.compute_loss(x=x, y=y, y_pred=model(x), training=False)


def train(case, weights, strategy=None, loss=None, recorder=False, prebuild=True):
    scope = strategy.scope() if strategy is not None else _null()
    with scope:
        model = case["model"]()
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss or case["loss"]())
        if strategy is not None and prebuild:
            prebuild_loss(model, case["x"], case["y"])
    callbacks = []
    if recorder:
        callbacks.append(C.StepRecorder(case["loss"](), case["x"], case["y"], REPLICAS))
    history = model.fit(
        case["x"],
        case["y"],
        batch_size=C.BATCH,
        epochs=C.EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return history.history["loss"], (callbacks[0] if callbacks else None)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = dict(
        engine="tf.distribute.MirroredStrategy",
        num_replicas_in_sync=int(strategy.num_replicas_in_sync),
        devices=list(strategy.extended.worker_devices),
        rtol=C.RTOL,
        atol=C.ATOL,
        batch=C.BATCH,
        cases={},
    )
    # How the strategy splits one global batch: each replica's shard of row indices.
    ds = tf.data.Dataset.from_tensor_slices(np.arange(C.BATCH)).batch(C.BATCH)
    first = next(iter(strategy.experimental_distribute_dataset(ds)))
    result["shards"] = [t.numpy().tolist() for t in strategy.experimental_local_results(first)]

    keras.utils.set_random_seed(0)
    for case in C.cases():
        weights = case["model"]().get_weights()
        single, _ = train(case, weights)
        entry = dict(family=case["family"], in_batch=case["in_batch"], single=single)
        ShardProbe.seen = []
        probe = ShardProbe(case["loss"]())
        entry["mirrored"], rec = train(case, weights, strategy, loss=probe, recorder=True)
        entry["probe"] = ShardProbe.seen
        if case["in_batch"]:
            entry["step_global"], entry["step_shards"] = rec.globals, rec.shards
            fn = {"TripletSemiHard": kloss.triplet_semi_hard, "InfoNCE": kloss.info_nce}
            f = fn[case["name"]]
            hyper = case["loss"]().get_config()
            kwargs = {k: hyper[k] for k in ("margin", "temperature") if k in hyper}
            gathered, _ = train(
                case, weights, strategy, loss=GlobalBatch(lambda t, p, f=f: f(t, p, **kwargs))
            )
            entry["mirrored_global_batch"] = gathered
        result["cases"][case["name"]] = entry

    # A loss with entry weights (ignore_index): its averaging reductions divide by the
    # number of valid entries (equal in both shards here).
    case = C.entry_weighted_case()
    weights = case["model"]().get_weights()
    single, _ = train(case, weights)
    mirrored, _ = train(case, weights, strategy)
    result["entry_weighted"] = dict(single=single, mirrored=mirrored)

    # Integer labels without the pre-build of the compiled loss.
    try:
        base = C.cases()[2]  # SparseCategoricalCrossentropy
        train(base, base["model"]().get_weights(), strategy, prebuild=False)
        result["integer_labels_without_prebuild"] = "ok"
    except TypeError as error:
        result["integer_labels_without_prebuild"] = f"TypeError: {error}"
    C.emit(result)


if __name__ == "__main__":
    main()

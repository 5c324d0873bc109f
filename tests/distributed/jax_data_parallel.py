"""kloss under `keras.distribution.DataParallel` over 8 simulated JAX CPU devices.

Run: KERAS_BACKEND=jax PYTHONPATH=. python tests/distributed/jax_data_parallel.py [out.json]

`XLA_FLAGS=--xla_force_host_platform_device_count=8` is set here, before jax is imported.
For every case of `_common.cases()` the same model (same initial weights) is trained for
`EPOCHS` steps (one batch per epoch, no shuffle) on one device and, created under
`DataParallel(...).scope()`, on 8; the JSON holds both loss histories, the sharding that the
loss saw (`jax.debug.inspect_array_sharding` on `y_pred` inside the jitted train step) and,
for the in-batch losses, at every step the loss of the current predictions on the whole
batch (`global`) and the mean over the 8 shards of the per-shard losses (`shards`).
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
DEVICES = 8
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}"
).strip()

import jax  # noqa: E402
import keras  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402


class ShardProbe(keras.losses.Loss):
    """Wraps a loss; records the sharding of `y_pred` that the loss receives under jit."""

    seen = []

    def __init__(self, inner, **kwargs):
        super().__init__(name="probe", **kwargs)
        self.inner = inner

    def __call__(self, y_true, y_pred, sample_weight=None):
        if isinstance(y_pred, jax.Array) or isinstance(y_pred, jax.core.Tracer):

            def record(sharding, shape=tuple(y_pred.shape)):
                ShardProbe.seen.append(
                    dict(
                        global_shape=list(shape),
                        shard_shape=list(sharding.shard_shape(shape)),
                        devices=len(sharding.device_set),
                    )
                )

            jax.debug.inspect_array_sharding(y_pred, callback=record)
        return self.inner(y_true, y_pred, sample_weight=sample_weight)


def train(case, weights, loss=None, recorder=False):
    model = case["model"]()
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss or case["loss"]())
    callbacks = [C.StepRecorder(case["loss"](), case["x"], case["y"], DEVICES)] if recorder else []
    history = model.fit(
        case["x"],
        case["y"],
        batch_size=C.BATCH,
        epochs=C.EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, history.history["loss"], (callbacks[0] if callbacks else None)


def main():
    devices = keras.distribution.list_devices("cpu")
    mesh = keras.distribution.DeviceMesh((DEVICES,), axis_names=["batch"], devices=devices)
    distribution = keras.distribution.DataParallel(device_mesh=mesh)
    result = dict(
        engine="keras.distribution.DataParallel (jax)",
        jax_devices=len(jax.devices()),
        mesh_shape=list(mesh.shape),
        rtol=C.RTOL,
        atol=C.ATOL,
        batch=C.BATCH,
        cases={},
    )
    keras.utils.set_random_seed(0)
    for case in C.cases():
        weights = case["model"]().get_weights()
        _, single, _ = train(case, weights)
        entry = dict(family=case["family"], in_batch=case["in_batch"], single=single)
        ShardProbe.seen = []
        with distribution.scope():
            model, entry["data_parallel"], rec = train(
                case, weights, loss=ShardProbe(case["loss"]()), recorder=case["in_batch"]
            )
        jax.effects_barrier()  # the probe's callbacks have run
        entry["probe"] = ShardProbe.seen[:1]
        kernel = model.trainable_variables[0].value
        entry["kernel_devices"] = len(kernel.sharding.device_set)
        entry["kernel_replicated"] = bool(kernel.sharding.is_fully_replicated)
        if rec is not None:
            entry["step_global"], entry["step_shards"] = rec.globals, rec.shards
        result["cases"][case["name"]] = entry
    # A loss with entry weights (ignore_index): the global value on the sharded batch.
    case = C.entry_weighted_case()
    weights = case["model"]().get_weights()
    _, single, _ = train(case, weights)
    with distribution.scope():
        _, data_parallel, _ = train(case, weights)
    result["entry_weighted"] = dict(single=single, data_parallel=data_parallel)
    C.emit(result)


if __name__ == "__main__":
    main()

"""One generic test module driven by `registry.REGISTRY`: every loss gets every check."""

import keras
import numpy as np
import pytest

from kloss.testing.registry import REGISTRY, cases, non_default_option
from tests.helpers import TOL, masked, to_numpy, value_and_grad

CASES = cases()
IDS = [c[2] for c in CASES]
ENTRIES = [pytest.param(e, id=e.name) for e in REGISTRY]
REDUCTIONS = ["none", "sum", "sum_over_batch_size", "mean", "mean_with_sample_weight"]


def _inputs(entry, option, shape=(4, 5), seed=0):
    return entry.make_inputs(np.random.default_rng(seed), shape, option)


def _cast_true(entry, y_true, dtype):
    """Float labels in `dtype`; integer class indices stay integers."""
    if entry.int_labels:
        return y_true
    return keras.ops.cast(y_true, dtype) if isinstance(dtype, str) else y_true.astype(dtype)


BATCH_DEFINED = "a batch-defined loss: one value per row from the whole batch, (B, ...) input"


def _skip_batch_defined(entry):
    if entry.batch_defined:
        pytest.skip(BATCH_DEFINED)


def _reduce(per_sample, weights, reduction):
    """NumPy version of the Keras reductions, applied to weighted per-sample losses."""
    w = np.ones_like(per_sample) if weights is None else np.broadcast_to(weights, per_sample.shape)
    values = per_sample * w
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and weights is not None:
        return values.sum() / w.sum()
    return values.sum() / values.size


# --------------------------------------------------------------------------- reference


@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 4), (6,)], ids=["2d", "3d", "1d"])
def test_reference(entry, option, cid, shape):
    if len(shape) == 1 and not entry.elementwise:
        pytest.skip("needs a feature axis: rank-1 inputs raise (tested in test_regression)")
    if len(shape) != 2:
        _skip_batch_defined(entry)
    y_true, y_pred = _inputs(entry, option, shape)
    expected = entry.reference(y_true, y_pred, **option)
    got_cls = entry.cls(**option, reduction="none")(y_true, y_pred)
    got_fn = entry.fn(y_true, y_pred, **option)
    assert tuple(got_cls.shape) == expected.shape
    np.testing.assert_allclose(to_numpy(got_cls), expected, **TOL["float32"])
    np.testing.assert_allclose(to_numpy(got_fn), expected, **TOL["float32"])


@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
def test_function_keeps_input_dtype(entry, option, cid):
    y_true, y_pred = _inputs(entry, option)
    p64 = keras.ops.convert_to_tensor(y_pred.astype(np.float64))
    # JAX holds float64 only with jax_enable_x64; otherwise its arrays are float32.
    in_dtype = keras.backend.standardize_dtype(p64.dtype)
    got = entry.fn(_cast_true(entry, y_true, np.float64), p64, **option)
    assert keras.backend.standardize_dtype(got.dtype) == in_dtype
    # float64: 1e-7, not 1e-12, as keras.ops.mean/sum on torch reduce float64 to ~1e-8 only.
    tol = dict(rtol=1e-7, atol=1e-7) if in_dtype == "float64" else TOL["float32"]
    np.testing.assert_allclose(to_numpy(got), entry.reference(y_true, y_pred, **option), **tol)


# --------------------------------------------------------------------------- reductions, weights


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "B", "B1"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_reductions_and_sample_weight(entry, reduction, weight):
    option = entry.options[0]
    y_true, y_pred = _inputs(entry, option)
    per_sample = entry.reference(y_true, y_pred, **option)
    sw = None
    if weight is not None:
        w = np.array([0.5, 2.0, 0.0, 1.5], np.float32)
        sw = w if weight == "B" else w[:, None]
    sw_before = None if sw is None else sw.copy()
    got = entry.cls(**option, reduction=reduction)(y_true, y_pred, sample_weight=sw)
    expected = _reduce(per_sample, None if sw is None else np.ravel(sw), reduction)
    np.testing.assert_allclose(to_numpy(got), expected, **TOL["float32"])
    if sw is not None:
        np.testing.assert_array_equal(sw, sw_before)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_per_element_sample_weight(entry, reduction):
    option = entry.options[0]
    y_true, y_pred = _inputs(entry, option)
    w = np.random.default_rng(3).uniform(0, 2, size=y_pred.shape).astype(np.float32)
    w[1] = 0.0  # a row with no weight at all
    loss = entry.cls(**option, reduction=reduction)
    if not entry.elementwise:
        with pytest.raises(ValueError, match="per-element `sample_weight` is not supported"):
            loss(y_true, y_pred, sample_weight=w)
        return
    got = to_numpy(loss(y_true, y_pred, sample_weight=w))
    # Reference: each element weighted before the mean over the last axis.
    elements = entry.reference(y_true[..., None], y_pred[..., None], **option)
    per_sample = (w * elements).mean(axis=-1)
    expected = {
        "none": per_sample,
        "sum": per_sample.sum(),
        "sum_over_batch_size": per_sample.mean(),
        "mean": per_sample.mean(),
        "mean_with_sample_weight": (w * elements).sum() / w.sum(),
    }[reduction]
    np.testing.assert_allclose(got, expected, **TOL["float32"])


@pytest.mark.parametrize("entry", ENTRIES)
def test_sample_weight_per_sample_aligns_with_batch_axis(entry):
    """A (B,) weight against per-timestep losses (B, T) weights the batch axis."""
    _skip_batch_defined(entry)
    option = entry.options[0]
    y_true, y_pred = _inputs(entry, option, shape=(3, 3, 4))
    w = np.array([1.0, 0.0, 3.0], np.float32)
    per_entry = entry.reference(y_true, y_pred, **option)  # (3, 3)
    got = entry.cls(**option, reduction="none")(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(to_numpy(got), per_entry * w[:, None], **TOL["float32"])


@pytest.mark.parametrize("entry", ENTRIES)
def test_sample_weight_bad_shape_raises(entry):
    option = entry.options[0]
    y_true, y_pred = _inputs(entry, option)
    with pytest.raises(ValueError, match=f"{entry.name}: `sample_weight` does not fit"):
        entry.cls(**option)(y_true, y_pred, sample_weight=np.ones((7,), np.float32))


# --------------------------------------------------------------------------- masks


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_keras_mask(entry, reduction):
    _skip_batch_defined(entry)
    option = entry.options[0]
    y_true, y_pred = _inputs(entry, option, shape=(3, 4, 5))
    keep = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], bool)
    pred_masked, pred_np = masked(y_pred, keep)
    w = np.array([1.0, 2.0, 0.5], np.float32)
    got = entry.cls(**option, reduction=reduction)(y_true, pred_masked, sample_weight=w)
    per_entry = entry.reference(y_true, pred_np, **option)
    weights = keep * w[:, None]
    values = per_entry * weights
    expected = {
        "none": values,
        "sum": values.sum(),
        # Keras: masked entries are dropped from the count as well.
        "sum_over_batch_size": values.sum() / keep.sum(),
        "mean": values.sum() / keep.sum(),
        "mean_with_sample_weight": values.sum() / weights.sum(),
    }[reduction]
    np.testing.assert_allclose(to_numpy(got), expected, **TOL["float32"])


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
def test_low_precision_inputs(entry, option, cid, dtype):
    y_true, y_pred = _inputs(entry, option)
    t16 = _cast_true(entry, y_true, dtype)
    p16 = keras.ops.cast(y_pred, dtype)
    # The reference sees the same rounded inputs; the math runs in float32.
    expected = entry.reference(to_numpy(t16), to_numpy(p16), **option)
    got32 = entry.cls(**option, reduction="none")(t16, p16)
    np.testing.assert_allclose(to_numpy(got32), expected, rtol=1e-5, atol=1e-5)
    loss16 = entry.cls(**option, reduction="none", dtype=dtype)
    got16 = loss16(t16, p16)
    assert keras.backend.standardize_dtype(got16.dtype) == dtype
    np.testing.assert_allclose(to_numpy(got16), expected, **TOL[dtype])
    fn16 = entry.fn(t16, p16, **option)
    assert keras.backend.standardize_dtype(fn16.dtype) == dtype
    np.testing.assert_allclose(to_numpy(fn16), expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_low_precision_gradients_finite(entry, dtype, autodiff):
    option = entry.options[0]
    for name, y_true, y_pred in entry.edges(option):
        if dtype == "float16" and (
            max(np.abs(y_true).max(), np.abs(y_pred).max()) > 6e4
            or name in entry.float16_out_of_range
            or np.abs(entry.reference(y_true, y_pred, **option)).max() > 6e4
        ):
            continue  # the inputs, exact value or gradient exceed float16's range (65504)
        loss = entry.cls(**option, dtype=dtype)
        v, g = value_and_grad(
            lambda p: keras.ops.cast(loss(y_true, p), "float32"),
            keras.ops.convert_to_numpy(keras.ops.cast(y_pred, "float32")),
        )
        assert np.isfinite(v) and np.all(np.isfinite(g)), name


# --------------------------------------------------------------------------- edges


@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
def test_edges_finite_value_and_gradient(entry, option, cid, autodiff):
    loss = entry.cls(**option)
    for name, y_true, y_pred in entry.edges(option):
        v, g = value_and_grad(lambda p: loss(y_true, p), y_pred)
        assert np.isfinite(v), f"{cid} {name}: value {v}"
        assert np.all(np.isfinite(g)), f"{cid} {name}: gradient {g}"
        expected = entry.default_reduction(
            y_true, entry.reference(y_true, y_pred, **option), option
        )
        np.testing.assert_allclose(v, expected, rtol=1e-5, atol=1e-6, err_msg=f"{cid} {name}")


@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
def test_edges_forward_finite(entry, option, cid):
    loss = entry.cls(**option, reduction="none")
    for name, y_true, y_pred in entry.edges(option):
        got = to_numpy(loss(y_true, y_pred))
        assert np.all(np.isfinite(got)), f"{cid} {name}: {got}"


# --------------------------------------------------------------------------- batch == rows


@pytest.mark.parametrize("entry,option,cid", CASES, ids=IDS)
def test_batch_equals_stacked_rows(entry, option, cid):
    _skip_batch_defined(entry)
    y_true, y_pred = _inputs(entry, option, shape=(5, 3))
    loss = entry.cls(**option, reduction="none")
    batch = to_numpy(loss(y_true, y_pred))
    rows = np.concatenate([to_numpy(loss(y_true[i : i + 1], y_pred[i : i + 1])) for i in range(5)])
    np.testing.assert_allclose(batch, rows, **TOL["float32"])


# --------------------------------------------------------------------------- serialization


@pytest.mark.parametrize("entry", ENTRIES)
def test_serialize_roundtrip(entry):
    option = non_default_option(entry)
    loss = entry.cls(**option, reduction="sum", name="my_loss", dtype="bfloat16")
    config = keras.losses.serialize(loss)
    assert config["registered_name"] == f"kloss>{entry.name}"
    again = keras.losses.deserialize(config)
    assert type(again) is entry.cls
    assert again.get_config() == loss.get_config()
    assert again.dtype == "bfloat16" and again.reduction == "sum" and again.name == "my_loss"
    for key, value in option.items():
        assert _as_config(getattr(again, key)) == _as_config(value)
    fn_config = keras.saving.serialize_keras_object(entry.fn)
    assert keras.saving.deserialize_keras_object(fn_config) is entry.fn


def _as_config(value):
    """Hyperparameter values comparable across a round trip (losses by their config)."""
    if isinstance(value, keras.losses.Loss):
        return keras.losses.serialize(value)
    if isinstance(value, (list, tuple)):
        return [_as_config(v) for v in value]
    return value


def _model(entry, option, dim):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((dim,))
    shape = tuple(entry.model_shape(option, dim))
    width = int(np.prod(shape))
    outputs = keras.layers.Dense(width, activation=entry.activation_for(option))(inputs)
    if shape != (width,):
        outputs = keras.layers.Reshape(shape)(outputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("entry", ENTRIES)
def test_compiled_model_fits_one_step(entry, autodiff):
    option = non_default_option(entry)
    y_true, _ = _inputs(entry, option, shape=(8, 4))
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    model = _model(entry, option, 4)
    # torch: jit_compile=True means torch.compile (inductor), which is exercised too.
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=entry.cls(**option), jit_compile=True)
    before = [w.copy() for w in model.get_weights()]
    # Weights per element where the loss takes them, else per sample: traced with an
    # unknown batch size under tf.function and jax.jit.
    shape = y_true.shape if entry.elementwise else y_true.shape[:1]
    sw = np.random.default_rng(2).uniform(0.5, 1.5, size=shape).astype(np.float32)
    history = model.fit(
        x, y_true, sample_weight=sw, batch_size=8, epochs=1, verbose=0, shuffle=False
    )
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=False))


@pytest.mark.parametrize("entry", ENTRIES)
def test_save_and_load_model(entry, tmp_path):
    option = non_default_option(entry)
    model = _model(entry, option, 4)
    loss = entry.cls(**option, reduction="sum", name="custom_name")
    model.compile(optimizer="sgd", loss=loss)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects
    assert type(loaded.loss) is entry.cls
    assert loaded.loss.get_config() == loss.get_config()
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    y_true, _ = _inputs(entry, option, shape=(8, 4))
    a = loaded.loss(y_true, loaded.predict(x, verbose=0))
    b = loss(y_true, model.predict(x, verbose=0))
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL["float32"])


@pytest.mark.parametrize("entry", ENTRIES)
def test_mixed_bfloat16_policy(entry, autodiff):
    option = non_default_option(entry)
    y_true, _ = _inputs(entry, option, shape=(8, 4))
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _model(entry, option, 4)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=entry.cls(**option))
        y_pred = model.predict(x, verbose=0)
        assert keras.backend.standardize_dtype(model.outputs[0].dtype) == "bfloat16"
        first = model.train_on_batch(x, y_true)
    finally:
        keras.config.set_dtype_policy("float32")
    per_sample = entry.reference(y_true, y_pred.astype(np.float32), **option)
    expected = entry.default_reduction(y_true, per_sample, option)
    assert np.isfinite(first)
    np.testing.assert_allclose(first, expected, **TOL["bfloat16"])

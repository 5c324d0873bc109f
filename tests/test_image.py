"""Image losses: TensorFlow and kornia oracles on every backend (values and gradients), the
exact relations where conventions differ, edges, sizes, dtypes and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss import image as kimage
from kloss.testing.references import image as ref
from kloss.testing.registry_image import NumpyNormal
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]
# SSIM against TF and float64: the loss 1 - SSIM subtracts a float32 number near 1 computed
# from E[x^2] - mu^2 over large windows; both TF and kloss are ~3e-6 from float64 on a
# 161x170 image, so values agree to 1e-5 absolute (the brief's tolerance), not 1e-6.
SSIM_TOL = dict(rtol=1e-5, atol=1e-5)


def _tf():
    return pytest.importorskip("tensorflow")


def _torch():
    return pytest.importorskip("torch")


def _pair(shape, seed=0, scale=1.0, noise=0.2):
    rng = np.random.default_rng(seed)
    x = scale * rng.uniform(size=shape)
    y = np.clip(x + rng.normal(scale=noise * scale, size=shape), 0.0, scale)
    return x.astype(np.float32), y.astype(np.float32)


def _tf_grad(fn, y_pred):
    """The gradient of sum(fn(y_pred)) by TensorFlow."""
    tf = _tf()
    p = tf.constant(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(p)
        v = tf.reduce_sum(fn(p))
    return tape.gradient(v, p).numpy()


def _sum_loss(loss_fn):
    return lambda p: keras.ops.sum(loss_fn(p))


def _has_autodiff():
    return backend() != "numpy"


# --------------------------------------------------------------------------- total variation


def test_total_variation_l1_equals_tensorflow_and_kornia():
    tf, torch = _tf(), _torch()
    from kornia.losses import total_variation as kornia_tv

    x = np.random.default_rng(0).normal(size=(3, 7, 9, 2)).astype(np.float32)
    expected_tf = tf.image.total_variation(tf.constant(x)).numpy()
    got = to_numpy(kloss.TotalVariation(power=1, reduction="none")(np.zeros((3,)), x))
    np.testing.assert_allclose(got, expected_tf, **F32)
    # kornia takes (B, C, H, W) and returns one sum per channel: summed over channels.
    chw = torch.tensor(np.moveaxis(x, -1, 1))
    expected_kornia = kornia_tv(chw, reduction="sum").sum(dim=-1).numpy()
    np.testing.assert_allclose(got, expected_kornia, **F32)
    first = kloss.total_variation(0.0, np.moveaxis(x, -1, 1), power=1, data_format="channels_first")
    np.testing.assert_allclose(to_numpy(first), expected_tf, **F32)


def test_total_variation_hand_values_and_seed_definition():
    image = np.array([[0.0, 1.0], [2.0, 4.0]], np.float32).reshape(1, 2, 2, 1)
    # Vertical differences 2, 3; horizontal 1, 2.
    assert to_numpy(kloss.total_variation(None, image))[0] == 4 + 9 + 1 + 4
    assert to_numpy(kloss.total_variation(None, image, power=1))[0] == 2 + 3 + 1 + 2
    x = np.random.default_rng(1).normal(size=(2, 5, 6, 3))
    seed = sum(
        (x[:, i, j + 1] - x[:, i, j]) ** 2 + (x[:, i + 1, j] - x[:, i, j]) ** 2
        for i in range(4)
        for j in range(5)
    ).sum(-1)
    seed += ((x[:, 4, 1:] - x[:, 4, :-1]) ** 2).sum((1, 2))  # last row: horizontal only
    seed += ((x[:, 1:, 5] - x[:, :-1, 5]) ** 2).sum((1, 2))  # last column: vertical only
    got = kloss.total_variation(None, x.astype(np.float32))
    np.testing.assert_allclose(to_numpy(got), seed, **F32)


def test_total_variation_ignores_y_true_of_any_shape():
    x = np.random.default_rng(2).normal(size=(2, 4, 4, 3)).astype(np.float32)
    loss = kloss.TotalVariation(reduction="none")
    expected = ref.total_variation(None, x)
    for y_true in (np.zeros((2,)), np.zeros_like(x), np.zeros((2, 1)), np.ones((5, 7)), 0.0):
        np.testing.assert_allclose(to_numpy(loss(y_true, x)), expected, **F32)


def test_total_variation_gradient_matches_tensorflow_and_is_zero_at_ties(autodiff):
    tf = _tf()
    x = np.random.default_rng(3).normal(size=(2, 5, 5, 2)).astype(np.float32)
    x[:, :2, :2] = 0.25  # zero differences next to non-zero ones
    for power in (1, 2):
        loss = kloss.TotalVariation(power=power, reduction="sum")
        _, g = value_and_grad(lambda p, loss=loss: loss(0.0, p), x)
        if power == 1:
            expected = _tf_grad(tf.image.total_variation, x)  # sign(0) = 0 in TF
        else:
            expected = ref.total_variation_grad_power2(x)
        np.testing.assert_allclose(g, expected, **F32)
    _, g = value_and_grad(lambda p: kloss.TotalVariation(power=1)(0.0, p), np.ones((1, 4, 4, 1)))
    np.testing.assert_array_equal(g, 0.0)


def test_total_variation_uint8_and_float16_compute_in_float32():
    x = np.zeros((1, 64, 64, 3), np.uint8)
    x[:, ::2] = 255  # every vertical difference is 255: 63 * 64 * 3 of them
    got = kloss.total_variation(None, x, power=1)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(got), 255.0 * 63 * 64 * 3, **F32)
    h = np.random.default_rng(4).uniform(size=(1, 32, 32, 3)).astype(np.float16)
    # A float32 loss on float16 images: the float16 sum would round; float32 does not.
    got = kloss.TotalVariation(reduction="none")(0.0, h)
    np.testing.assert_allclose(to_numpy(got), ref.total_variation(None, h), **F32)


# --------------------------------------------------------------------------- SSIM: TF oracle


SSIM_CASES = [
    ({}, (2, 24, 24, 3)),  # the default 11-tap filter
    ({"filter_size": 5}, (3, 16, 12, 1)),
    ({"filter_size": 7, "filter_sigma": 0.8, "k1": 0.02, "k2": 0.05}, (2, 9, 11, 2)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("option,shape", SSIM_CASES, ids=["default", "f5", "f7"])
def test_ssim_equals_tensorflow_values_and_gradients(option, shape, data_format):
    tf = _tf()
    x, y = _pair(shape, seed=5, scale=2.0)
    expected = 1.0 - tf.image.ssim(x, y, max_val=2.0, **option).numpy()

    def to_format(a):
        return np.moveaxis(a, -1, 1) if data_format == "channels_first" else a

    loss = kloss.SSIM(max_val=2.0, data_format=data_format, reduction="none", **option)
    np.testing.assert_allclose(to_numpy(loss(to_format(x), to_format(y))), expected, **SSIM_TOL)
    fn = kloss.ssim(to_format(x), to_format(y), max_val=2.0, data_format=data_format, **option)
    np.testing.assert_allclose(to_numpy(fn), expected, **SSIM_TOL)
    np.testing.assert_allclose(to_numpy(fn), ref.ssim(x, y, max_val=2.0, **option), **SSIM_TOL)
    if _has_autodiff():
        _, g = value_and_grad(_sum_loss(lambda p: loss(to_format(x), p)), to_format(y))
        tf_g = -_tf_grad(lambda p: tf.image.ssim(x, p, max_val=2.0, **option), y)
        # 1e-4: per-pixel gradients are sums of many float32 window terms, and TF's
        # uncentred E[x^2] - mu^2 differs from kloss's centred form by rounding.
        np.testing.assert_allclose(g, to_format(tf_g), rtol=1e-4, atol=1e-6)


def test_ssim_uint8_equals_tensorflow():
    tf = _tf()
    x, y = _pair((2, 16, 16, 3), seed=6, scale=255.0)
    x, y = x.astype(np.uint8), y.astype(np.uint8)
    # TF converts uint8 images and max_val to [0, 1]; SSIM is invariant to that scaling.
    expected = 1.0 - tf.image.ssim(x, y, max_val=255, filter_size=5).numpy()
    got = kloss.ssim(x, y, max_val=255.0, filter_size=5)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(got), expected, **F32)


def test_ssim_is_twice_kornia_valid_ssim_loss():
    torch = _torch()
    from kornia.losses import ssim_loss

    x, y = _pair((2, 20, 20, 3), seed=7)
    for window in (5, 11):
        k = ssim_loss(
            torch.tensor(np.moveaxis(x, -1, 1)),
            torch.tensor(np.moveaxis(y, -1, 1)),
            window,
            max_val=1.0,
            eps=0.0,
            reduction="none",
            padding="valid",
        )
        expected = 2.0 * k.mean(dim=(1, 2, 3)).numpy()
        got = kloss.ssim(x, y, filter_size=window)
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-5, atol=2e-6)


def test_ssim_edges_constant_and_negative():
    c = np.full((2, 12, 12, 2), 0.3, np.float32)
    x, _ = _pair((2, 12, 12, 2), seed=8)
    loss = kloss.SSIM(filter_size=5, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(c, c)), 0.0, atol=1e-6)  # zero variance
    anti = to_numpy(loss(x, 1.0 - x))
    assert np.all(anti > 1.0) and np.all(anti <= 2.0)  # negative SSIM
    np.testing.assert_allclose(anti, ref.ssim(x, 1.0 - x, filter_size=5), **F32)
    if _has_autodiff():
        for t, p in ((c, c), (x, 1.0 - x), (c, x), (np.zeros_like(c), np.zeros_like(c))):
            v, g = value_and_grad(lambda q, t=t: kloss.SSIM(filter_size=5)(t, q), p)
            assert np.isfinite(v) and np.all(np.isfinite(g))
        _, g = value_and_grad(lambda q: kloss.SSIM(filter_size=5)(c, q), c)
        np.testing.assert_allclose(g, 0.0, atol=1e-6)  # a minimum


def test_ssim_too_small_image_names_both_sizes():
    x = np.zeros((1, 8, 16, 1), np.float32)
    with pytest.raises(
        ValueError,
        match=r"SSIM: the images are smaller than the filter: image "
        r"height 8 < filter_size 11",
    ):
        kloss.SSIM()(x, x)
    with pytest.raises(ValueError, match="ssim: .*width 4 < filter_size 5"):
        kloss.ssim(x[:, :, :4], x[:, :, :4], filter_size=5)


# --------------------------------------------------------------------------- MS-SSIM


MS_CASES = [
    ({}, (1, 161, 170, 1)),  # the default 5 scales and 11-tap filter at the minimum size
    ({"filter_size": 5, "power_factors": [0.2, 0.5, 0.3]}, (2, 37, 45, 2)),
    ({"filter_size": 3, "power_factors": [0.4, 0.0, 0.6], "filter_sigma": 1.0}, (2, 20, 21, 3)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("option,shape", MS_CASES, ids=["default", "3_scales", "zero_factor"])
def test_multi_scale_ssim_equals_tensorflow(option, shape, data_format):
    tf = _tf()
    x, y = _pair(shape, seed=9, noise=0.1)
    tf_option = dict(option)
    if "power_factors" in tf_option:
        tf_option["power_factors"] = tuple(tf_option["power_factors"])
    expected = 1.0 - tf.image.ssim_multiscale(x, y, max_val=1.0, **tf_option).numpy()

    def to_format(a):
        return np.moveaxis(a, -1, 1) if data_format == "channels_first" else a

    loss = kloss.MultiScaleSSIM(data_format=data_format, reduction="none", **option)
    np.testing.assert_allclose(to_numpy(loss(to_format(x), to_format(y))), expected, **SSIM_TOL)
    np.testing.assert_allclose(expected, ref.multi_scale_ssim(x, y, **option), **SSIM_TOL)
    if _has_autodiff():
        _, g = value_and_grad(_sum_loss(lambda p: loss(to_format(x), p)), to_format(y))
        tf_g = -_tf_grad(lambda p: tf.image.ssim_multiscale(x, p, 1.0, **tf_option), y)
        # 1e-4: per-pixel gradients are sums of many float32 window terms, and TF's
        # uncentred E[x^2] - mu^2 differs from kloss's centred form by rounding.
        np.testing.assert_allclose(g, to_format(tf_g), rtol=1e-4, atol=1e-6)


def test_multi_scale_ssim_negative_terms_value_as_tf_gradient_finite():
    tf = _tf()
    x, _ = _pair((2, 20, 20, 1), seed=10)
    y = (1.0 - x).astype(np.float32)  # anti-correlated: cs < 0 at the first scale
    option = {"filter_size": 3, "power_factors": (0.3, 0.3, 0.4)}
    expected = 1.0 - tf.image.ssim_multiscale(x, y, 1.0, **option).numpy()
    np.testing.assert_allclose(expected, 1.0)  # relu(cs) = 0 zeroes the product
    got = kloss.multi_scale_ssim(x, y, filter_size=3, power_factors=[0.3, 0.3, 0.4])
    np.testing.assert_allclose(to_numpy(got), expected, **F32)
    tf_g = _tf_grad(lambda p: tf.image.ssim_multiscale(x, p, 1.0, **option), y)
    assert not np.all(np.isfinite(tf_g))  # TF: 0 * inf at relu(cs) = 0
    if _has_autodiff():
        loss = kloss.MultiScaleSSIM(filter_size=3, power_factors=[0.3, 0.3, 0.4])
        _, g = value_and_grad(lambda p: loss(x, p), y)
        np.testing.assert_array_equal(g, 0.0)  # the loss is flat (1) there


def test_multi_scale_ssim_identical_constant_images():
    c = np.full((2, 20, 20, 1), 0.7, np.float32)
    loss = kloss.MultiScaleSSIM(filter_size=3, power_factors=[0.5, 0.5])
    np.testing.assert_allclose(to_numpy(loss(c, c)), 0.0, atol=1e-6)
    if _has_autodiff():
        v, g = value_and_grad(lambda p: loss(c, p), c)
        assert np.isfinite(v) and np.all(np.isfinite(g))


def test_multi_scale_ssim_size_check_states_the_minimum():
    x = np.zeros((1, 160, 200, 1), np.float32)
    with pytest.raises(
        ValueError,
        match=r"MultiScaleSSIM: the images are too small for 5 "
        r"scales with filter_size 11: the height is 160, .*= 161 pixels",
    ):
        kloss.MultiScaleSSIM()(x, x)
    x = np.zeros((1, 17, 8, 1), np.float32)
    with pytest.raises(ValueError, match=r"multi_scale_ssim: .*width is 8.*= 9 pixels"):
        kloss.multi_scale_ssim(x, x, filter_size=3, power_factors=[1.0, 1.0, 1.0])
    kloss.multi_scale_ssim(x[:, :9, :], x[:, :9, :], filter_size=3, power_factors=[1.0, 1.0])


# --------------------------------------------------------------------------- shared


@pytest.mark.parametrize(
    "loss",
    [
        kloss.TotalVariation(reduction="none"),
        kloss.SSIM(filter_size=3, reduction="none"),
        kloss.MultiScaleSSIM(filter_size=3, power_factors=[0.5, 0.5], reduction="none"),
    ],
    ids=["TotalVariation", "SSIM", "MultiScaleSSIM"],
)
def test_image_losses_batch_equals_stacked_images(loss):
    x, y = _pair((4, 10, 10, 2), seed=11)
    batch = to_numpy(loss(x, y))
    rows = np.concatenate([to_numpy(loss(x[i : i + 1], y[i : i + 1])) for i in range(4)])
    np.testing.assert_allclose(batch, rows, **F32)


def test_data_format_none_reads_keras_config():
    x, y = _pair((2, 3, 9, 9), seed=12)
    keras.config.set_image_data_format("channels_first")
    try:
        got = to_numpy(kloss.SSIM(filter_size=3, reduction="none")(x, y))
        tv = to_numpy(kloss.total_variation(None, y))
    finally:
        keras.config.set_image_data_format("channels_last")
    xl, yl = np.moveaxis(x, 1, -1), np.moveaxis(y, 1, -1)
    np.testing.assert_allclose(got, ref.ssim(xl, yl, filter_size=3), **F32)
    np.testing.assert_allclose(tv, ref.total_variation(None, yl), **F32)


@pytest.mark.parametrize(
    "make,match,error",
    [
        (lambda: kloss.TotalVariation(power=3), "TotalVariation: `power` must be 1", ValueError),
        (lambda: kloss.TotalVariation(power="2"), "`power` must be a number", TypeError),
        (
            lambda: kloss.SSIM(data_format="channel_last"),
            'SSIM: `data_format` must be one of .*Did you mean "channels_last"',
            ValueError,
        ),
        (lambda: kloss.SSIM(max_val=0), r"SSIM: `max_val` must be > 0.0", ValueError),
        (lambda: kloss.SSIM(filter_size=0), "SSIM: `filter_size` must be >= 1", ValueError),
        (lambda: kloss.SSIM(filter_size=3.0), "SSIM: `filter_size` must be an int", TypeError),
        (lambda: kloss.SSIM(filter_sigma=-1.0), "`filter_sigma` must be > 0.0", ValueError),
        (lambda: kloss.SSIM(k2=0.0), "SSIM: `k2` must be > 0.0", ValueError),
        (
            lambda: kloss.MultiScaleSSIM(power_factors=[0.5, -0.5]),
            "MultiScaleSSIM: every entry of `power_factors` must be finite and >= 0",
            ValueError,
        ),
        (
            lambda: kloss.MultiScaleSSIM(power_factors=[0.0, 0.0]),
            "`power_factors` needs at least one positive entry",
            ValueError,
        ),
        (lambda: kloss.MultiScaleSSIM(power_factors=0.5), "must be a list", TypeError),
    ],
)
def test_constructor_errors(make, match, error):
    with pytest.raises(error, match=match):
        make()


def test_shape_errors_name_both_shapes():
    a = np.zeros((2, 12, 12, 1), np.float32)
    with pytest.raises(
        ValueError,
        match=r"SSIM: `y_true` and `y_pred` must have the same "
        r"shape. Received: y_true.shape=\(2, 12, 12, 1\), y_pred.shape="
        r"\(2, 12, 12, 3\)",
    ):
        kloss.SSIM(filter_size=3)(a, np.zeros((2, 12, 12, 3), np.float32))
    with pytest.raises(
        ValueError,
        match=r"TotalVariation: `y_pred` must be a batch of images "
        r"of rank 4.*Received: y_pred.shape=\(12, 12, 1\)",
    ):
        kloss.TotalVariation()(0.0, a[0])


# --------------------------------------------------------------------------- perceptual


def _random_extractor(seed=0):
    """A small functional model with randomly initialized (unseeded) weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv3")(x)
    model = keras.Model(inputs, x)
    # Non-zero biases, so that the reference checks them.
    for layer in model.layers:
        if layer.weights:
            k, b = layer.get_weights()
            layer.set_weights([k, np.random.default_rng(seed).normal(size=b.shape) * 0.1])
    return model


def _weights64(model):
    return [np.asarray(w, np.float64) for w in model.get_weights()]


def test_perceptual_equals_numpy_recomputation_of_the_features():
    model = _random_extractor()
    x, y = _pair((3, 8, 8, 3), seed=13)
    w = _weights64(model)
    got = kloss.Perceptual(model, reduction="none")(x, y)
    expected = ref.perceptual(x, y, w, features=lambda a, w: ref.tiny_features(a, w)[1:])
    np.testing.assert_allclose(to_numpy(got), expected, **F32)
    got = kloss.perceptual(
        x, y, feature_extractor=model, layers=["conv1", "conv3"], layer_weights=[2.0, 0.25]
    )
    expected = ref.perceptual(x, y, w, layer_weights=[2.0, 0.25])
    np.testing.assert_allclose(to_numpy(got), expected, **F32)
    np.testing.assert_allclose(to_numpy(kloss.Perceptual(model, reduction="none")(x, x)), 0.0)


def test_perceptual_multi_output_model_sums_every_output():
    model = _random_extractor(1)
    multi = keras.Model(model.inputs, [model.get_layer("conv1").output, model.output])
    x, y = _pair((2, 8, 8, 3), seed=14)
    got = kloss.Perceptual(multi, layer_weights=[1.0, 3.0], reduction="none")(x, y)
    expected = ref.perceptual(x, y, _weights64(model), layer_weights=[1.0, 3.0])
    np.testing.assert_allclose(to_numpy(got), expected, **F32)


def test_perceptual_gradient_reaches_y_pred_and_fit_keeps_the_extractor(autodiff):
    extractor = _random_extractor(2)
    frozen = [w.copy() for w in extractor.get_weights()]
    x, y = _pair((2, 8, 8, 3), seed=15)
    loss = kloss.Perceptual(extractor, layers=["conv1", "conv3"])
    _, g = value_and_grad(lambda p: loss(x, p), y)
    assert np.all(np.isfinite(g)) and np.abs(g).max() > 0
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    out = keras.layers.Reshape((8, 8, 3))(keras.layers.Dense(192, activation="sigmoid")(inputs))
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss, jit_compile=True)
    before = [w.copy() for w in model.get_weights()]
    data = np.random.default_rng(16).normal(size=(8, 4)).astype(np.float32)
    targets = np.random.default_rng(17).uniform(size=(8, 8, 8, 3)).astype(np.float32)
    model.fit(data, targets, batch_size=4, epochs=2, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    for a, b in zip(frozen, extractor.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not extractor.trainable and model.trainable_weights[0] is not extractor.weights[0]


def test_perceptual_save_and_load_keeps_the_extractor_weights(tmp_path):
    extractor = _random_extractor(3)
    loss = kloss.Perceptual(extractor, layers=["conv1", "conv3"], layer_weights=[1.0, 0.5])
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    out = keras.layers.Reshape((8, 8, 3))(keras.layers.Dense(192)(inputs))
    model = keras.Model(inputs, out)
    model.compile(optimizer="sgd", loss=loss)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.loss) is kloss.Perceptual
    assert loaded.loss.get_config() == loss.get_config()
    # The weights of the layers compared are restored (saved with the compiled loss).
    for layer in ("conv1", "conv2", "conv3"):
        for a, b in zip(
            extractor.get_layer(layer).get_weights(),
            loaded.loss.extractor.get_layer(layer).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
    x, y = _pair((2, 8, 8, 3), seed=18)
    np.testing.assert_allclose(to_numpy(loaded.loss(x, y)), to_numpy(loss(x, y)), **F32)
    # The config alone rebuilds the architecture with fresh weights.
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert again.get_config() == loss.get_config()
    assert [w.shape for w in again.extractor.get_weights()] == [
        w.shape for w in loss.extractor.get_weights()
    ]


def _fake_application(calls):
    """A tiny stand-in for keras.applications.VGG16 with its default layers' names."""

    def build(include_top=True, weights="imagenet", **kwargs):
        calls.append(dict(include_top=include_top, weights=weights, **kwargs))
        inputs = keras.Input((None, None, 3))
        x = inputs
        names = ["block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"]
        for i, name in enumerate(names):
            x = keras.layers.Conv2D(
                2, 1, activation="relu", name=name, kernel_initializer=NumpyNormal(30 + i)
            )(x)
        return keras.Model(inputs, x, name="vgg16")

    return build


def test_perceptual_named_application_builds_and_preprocesses(monkeypatch):
    calls = []
    monkeypatch.setattr(keras.applications, "VGG16", _fake_application(calls))
    monkeypatch.setattr(kimage, "_BUILT", {})
    loss = kloss.Perceptual("vgg16", weights=None, reduction="none")
    assert calls == [{"include_top": False, "weights": None}]
    kloss.Perceptual("vgg16", weights=None)  # built once per (name, weights)
    assert len(calls) == 1
    assert loss.get_config()["feature_extractor"] == "vgg16"
    assert loss.get_config()["weights"] is None
    x, y = _pair((2, 4, 4, 3), seed=19, scale=255.0)
    weights = [np.asarray(w, np.float64) for w in loss.extractor.get_weights()]

    def features(a, w):
        a = a[..., ::-1] - np.array([103.939, 116.779, 123.68])  # "caffe": BGR, mean
        out = []
        for i in range(5):
            k, b = w[2 * i], w[2 * i + 1]
            a = np.maximum(np.einsum("bhwc,co->bhwo", a, k[0, 0]) + b, 0.0)
            out.append(a)
        return out

    expected = ref.perceptual(x, y, weights, features=features)
    np.testing.assert_allclose(to_numpy(loss(x, y)), expected, rtol=1e-5, atol=1e-4)


def test_perceptual_errors():
    model = _random_extractor(4)
    with pytest.raises(
        ValueError, match='Perceptual: `feature_extractor` must be one of .*Did you mean "resnet50"'
    ):
        kloss.Perceptual("resnet5")
    with pytest.raises(TypeError, match="Perceptual: `feature_extractor` must be a keras.Model"):
        kloss.Perceptual(lambda x: x)
    with pytest.raises(
        ValueError, match='Perceptual: `layers` must be one of .*Did you mean "conv1"'
    ):
        kloss.Perceptual(model, layers=["conv_1"])
    with pytest.raises(TypeError, match="`layers` must be None or a non-empty list"):
        kloss.Perceptual(model, layers=[])
    with pytest.raises(
        ValueError, match="`layer_weights` needs one weight per compared feature map: 2 here"
    ):
        kloss.Perceptual(model, layers=["conv1", "conv2"], layer_weights=[1.0])
    with pytest.raises(ValueError, match="every entry of `layer_weights` must be finite"):
        kloss.Perceptual(model, layer_weights=[-1.0])
    x = np.zeros((2, 8, 8, 3), np.float32)
    with pytest.raises(
        ValueError,
        match=r"Perceptual: `y_true` and `y_pred` must be batches .*"
        r"y_true.shape=\(2, 8, 8, 3\), y_pred.shape=\(2, 8, 8, 1\)",
    ):
        kloss.Perceptual(model)(x, x[..., :1])


def test_perceptual_dict_outputs_and_uint8_inputs():
    model = _random_extractor(5)
    named = keras.Model(model.inputs, {"a": model.get_layer("conv1").output, "b": model.output})
    x, y = _pair((2, 8, 8, 3), seed=20, scale=255.0)
    x8, y8 = x.astype(np.uint8), y.astype(np.uint8)
    got = kloss.perceptual(x8, y8, feature_extractor=named)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    expected = ref.perceptual(x8, y8, _weights64(model))  # conv1 and conv3, weight 1 each
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-5, atol=1e-3)

"""Registry entries of the losses in `kloss/image.py` (see `tests/entry.py`).

Images are small: (B, 8, 8, 3) for total variation and the perceptual loss, (B, 16, 16, 2)
for SSIM with 5- and 7-tap filters, and 13x13 / 17x18 for MS-SSIM with 3-tap filters and
3-4 scales (odd sizes exercise TF's padding before each downsampling).
"""

import functools
import json

import keras
import numpy as np

import kloss
from kloss.testing.entry import Entry
from kloss.testing.references import image as ref

# --------------------------------------------------------------------------- helpers


def _images(rng, B, size, channels, data_format, scale=1.0):
    h, w = size
    x = rng.uniform(size=(B, h, w, channels))
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    return (scale * x).astype(np.float32)


def _noisy(rng, x, scale):
    noise = rng.normal(scale=0.15 * scale, size=x.shape)
    return np.clip(x + noise, 0.0, scale).astype(np.float32)


def _image_shape(size, channels, data_format):
    h, w = size
    return (channels, h, w) if data_format == "channels_first" else (h, w, channels)


# --------------------------------------------------------------------------- total variation

_TV_SIZE, _TV_C = (8, 8), 3


def _tv_inputs(rng, shape, option):
    B = shape[0]
    y_pred = _images(rng, B, _TV_SIZE, _TV_C, option.get("data_format"))
    return np.zeros((B,), np.float32), y_pred


def _tv_edges(option):
    fmt = option.get("data_format")
    shape = (2,) + _image_shape(_TV_SIZE, _TV_C, fmt)
    z = np.zeros(shape, np.float32)
    rng = np.random.default_rng(3)
    steps = np.zeros(shape, np.float32)
    steps[..., ::2] = 1.0  # ties: many zero differences next to non-zero ones
    return [
        ("constant_zero_differences", np.zeros((2,), np.float32), z + 0.5),
        ("zeros", np.zeros((2,), np.float32), z),
        ("steps", np.zeros((2,), np.float32), steps),
        ("large", np.zeros((2,), np.float32), (rng.normal(size=shape) * 1e3).astype(np.float32)),
        ("y_true_like_y_pred", z, rng.normal(size=shape).astype(np.float32)),
    ]


# --------------------------------------------------------------------------- SSIM

_SSIM_SIZE, _SSIM_C = (16, 16), 2


def _ssim_size(option):
    return _SSIM_SIZE


def _ssim_inputs_for(size):
    def make(rng, shape, option):
        scale = option.get("max_val", 1.0)
        x = _images(rng, shape[0], size(option), _SSIM_C, option.get("data_format"), scale)
        return x, _noisy(rng, x, scale)

    return make


def _ssim_edges_for(size):
    def edges(option):
        scale = option.get("max_val", 1.0)
        shape = (2,) + _image_shape(size(option), _SSIM_C, option.get("data_format"))
        rng = np.random.default_rng(4)
        x = (scale * rng.uniform(size=shape)).astype(np.float32)
        const = np.full(shape, 0.5 * scale, np.float32)
        z = np.zeros(shape, np.float32)
        return [
            ("identical_constant", const, const.copy()),
            ("zeros", z, z.copy()),
            ("identical", x, x.copy()),
            ("anti_correlated", x, (scale - x).astype(np.float32)),
            ("constant_vs_random", const, x),
            ("random_vs_zeros", x, z),
        ]

    return edges


_MS_SIZES = {3: (13, 13), 4: (17, 18)}


def _ms_size(option):
    return _MS_SIZES[len(option["power_factors"])]


# --------------------------------------------------------------------------- perceptual


@keras.saving.register_keras_serializable(package="kloss_tests")
class NumpyNormal(keras.initializers.Initializer):
    """Seeded N(0, scale^2) weights drawn with NumPy: the same on every backend."""

    def __init__(self, seed, scale=0.3):
        self.seed = seed
        self.scale = scale

    def __call__(self, shape, dtype=None):
        values = np.random.default_rng(self.seed).normal(scale=self.scale, size=shape)
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale}


_PC_SIZE, _PC_C = (8, 8), 3


def tiny_extractor():
    """conv3x3-relu (conv1), conv3x3-relu (conv2), 2x2 average pool, conv3x3 (conv3)."""
    inputs = keras.Input(_PC_SIZE + (_PC_C,))
    x = inputs
    for i, (filters, act) in enumerate([(4, "relu"), (4, "relu"), (3, None)]):
        if i == 2:
            x = keras.layers.AveragePooling2D(2, name="pool")(x)
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            activation=act,
            kernel_initializer=NumpyNormal(10 + i),
            bias_initializer=NumpyNormal(20 + i, 0.1),
            name=f"conv{i + 1}",
        )(x)
    return keras.Model(inputs, x, name="tiny_extractor")


# The options hold the serialized extractor as JSON reads it back (a dict): equal after a
# get_config round trip and after saving, and rebuilt with the same NumPy weights on every backend.
TINY = json.loads(json.dumps(keras.saving.serialize_keras_object(tiny_extractor())))


@functools.cache
def _tiny_weights(config_json):
    model = keras.saving.deserialize_keras_object(json.loads(config_json))
    return tuple(np.asarray(w, np.float64) for w in model.get_weights())


def perceptual_reference(y_true, y_pred, feature_extractor, layers=None, layer_weights=None):
    weights = _tiny_weights(json.dumps(feature_extractor, sort_keys=True))
    names = {"conv1": 0, "conv3": 1}

    def features(x, w):
        out = ref.tiny_features(x, w)
        return [out[names[n]] for n in layers] if layers else [out[1]]

    return ref.perceptual(y_true, y_pred, weights, layer_weights, features)


def _pc_inputs(rng, shape, option):
    x = _images(rng, shape[0], _PC_SIZE, _PC_C, None)
    return x, _noisy(rng, x, 1.0)


def _pc_edges(option):
    shape = (2,) + _PC_SIZE + (_PC_C,)
    rng = np.random.default_rng(5)
    x = rng.uniform(size=shape).astype(np.float32)
    z = np.zeros(shape, np.float32)
    return [
        ("identical", x, x.copy()),
        ("zeros", z, z.copy()),
        ("large", x, (x * 1e3).astype(np.float32)),
    ]


# --------------------------------------------------------------------------- entries

ENTRIES = [
    Entry(
        kloss.TotalVariation,
        kloss.total_variation,
        ref.total_variation,
        options=[{}, {"power": 1}, {"power": 1, "data_format": "channels_first"}],
        make_inputs=_tv_inputs,
        edges=_tv_edges,
        elementwise=False,
        batch_defined=True,
        model_shape=lambda option, dim: _image_shape(_TV_SIZE, _TV_C, option.get("data_format")),
    ),
    Entry(
        kloss.SSIM,
        kloss.ssim,
        ref.ssim,
        options=[
            {"filter_size": 5},
            {
                "filter_size": 7,
                "filter_sigma": 1.0,
                "max_val": 2.0,
                "k1": 0.02,
                "data_format": "channels_first",
            },
        ],
        make_inputs=_ssim_inputs_for(_ssim_size),
        edges=_ssim_edges_for(_ssim_size),
        elementwise=False,
        batch_defined=True,
        activation="sigmoid",
        model_shape=lambda option, dim: _image_shape(
            _SSIM_SIZE, _SSIM_C, option.get("data_format")
        ),
    ),
    Entry(
        kloss.MultiScaleSSIM,
        kloss.multi_scale_ssim,
        ref.multi_scale_ssim,
        options=[
            {"filter_size": 3, "power_factors": [0.2, 0.3, 0.5]},
            {
                "filter_size": 3,
                "filter_sigma": 1.0,
                "power_factors": [0.3, 0.0, 0.5, 0.2],
                "data_format": "channels_first",
            },
        ],
        make_inputs=_ssim_inputs_for(_ms_size),
        edges=_ssim_edges_for(_ms_size),
        elementwise=False,
        batch_defined=True,
        activation="sigmoid",
        model_shape=lambda option, dim: _image_shape(
            _ms_size(option), _SSIM_C, option.get("data_format")
        ),
    ),
    Entry(
        kloss.Perceptual,
        kloss.perceptual,
        perceptual_reference,
        options=[
            {"feature_extractor": TINY},
            {"feature_extractor": TINY, "layers": ["conv1", "conv3"], "layer_weights": [0.5, 2.0]},
        ],
        make_inputs=_pc_inputs,
        edges=_pc_edges,
        elementwise=False,
        batch_defined=True,
        model_shape=lambda option, dim: _PC_SIZE + (_PC_C,),
    ),
]

"""kloss.Combined: a weighted sum of losses, built by a dict, a list, `+` and `*`."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import classification as ref_cls
from kloss.testing.references import regression as ref_regression
from tests.helpers import TOL, to_numpy

RNG = np.random.default_rng(0)
T = RNG.normal(size=(4, 5)).astype(np.float32)
P = RNG.normal(size=(4, 5)).astype(np.float32)


def _mse_mae(t, p, w_mse=1.0, w_mae=1.0):
    return w_mse * ref_regression.mean_squared_error(
        t, p
    ) + w_mae * ref_regression.mean_absolute_error(t, p)


def test_operators_build_the_same_loss():
    mse, mae = kloss.MeanSquaredError(), kloss.MeanAbsoluteError()
    expected = _mse_mae(T, P, 2.0, 0.5).mean()
    for loss in [
        kloss.Combined({mse: 2.0, mae: 0.5}),
        kloss.Combined([mse, mae], weights=[2.0, 0.5]),
        2.0 * mse + 0.5 * mae,
        mse * 2.0 + mae * 0.5,
        sum([2 * mse, mae * 0.5]),
        0.5 * (4.0 * mse + mae),
    ]:
        assert isinstance(loss, kloss.Combined)
        assert loss.weights == [2.0, 0.5] and loss.losses == [mse, mae]
        np.testing.assert_allclose(to_numpy(loss(T, P)), expected, **TOL["float32"])


def test_sums_of_sums_are_flattened():
    a, b, c = kloss.MeanSquaredError(), kloss.MeanAbsoluteError(), kloss.LogCosh()
    loss = (a + b) + 3.0 * (b + c)
    assert loss.losses == [a, b, b, c] and loss.weights == [1.0, 1.0, 3.0, 3.0]


def test_keras_losses_are_terms_too():
    kmse = keras.losses.MeanSquaredError()
    loss = kmse + kloss.MeanAbsoluteError()  # Keras's Loss has no __add__: kloss's __radd__
    assert isinstance(loss, kloss.Combined)
    np.testing.assert_allclose(to_numpy(loss(T, P)), _mse_mae(T, P).mean(), **TOL["float32"])


def test_reduction_applies_to_every_term_and_terms_keep_theirs():
    mse = kloss.MeanSquaredError(reduction="sum")
    mae = kloss.MeanAbsoluteError(reduction="none")
    loss = kloss.Combined([mse, mae], reduction="none")
    np.testing.assert_allclose(to_numpy(loss(T, P)), _mse_mae(T, P), **TOL["float32"])
    assert mse.reduction == "sum" and mae.reduction == "none"
    summed = kloss.Combined([mse, mae], reduction="sum")
    np.testing.assert_allclose(to_numpy(summed(T, P)), _mse_mae(T, P).sum(), **TOL["float32"])


def test_each_term_keeps_its_own_weighted_mean():
    """Sparse CE with ignore_index is the mean over valid entries inside the sum too."""
    labels = np.array([[0, 2, 1], [1, -1, -1]], np.int32)
    logits = RNG.normal(size=(2, 3, 3)).astype(np.float32)
    ce = kloss.SparseCategoricalCrossentropy(from_logits=True, ignore_index=-1)
    focal = kloss.SparseCategoricalFocalCrossentropy(
        alpha=None, gamma=0.0, from_logits=True, ignore_index=-1
    )
    per_entry = ref_cls.sparse_categorical_crossentropy(
        np.maximum(labels, 0), logits, from_logits=True
    )
    valid = labels != -1
    ce_mean = (per_entry * valid).sum() / valid.sum()  # 4 valid entries, not 6
    loss = kloss.Combined({ce: 1.0, focal: 0.5})
    np.testing.assert_allclose(to_numpy(loss(labels, logits)), 1.5 * ce_mean, **TOL["float32"])


def test_integer_labels_reach_the_term_uncast():
    """Label 257 of 300 classes in a bfloat16 sum: Keras would cast it to 256."""
    labels = np.array([257, 3], np.int32)
    logits = np.zeros((2, 300), np.float32)
    logits[0, 257] = 5.0
    loss = kloss.Combined([kloss.SparseCategoricalCrossentropy(from_logits=True)], dtype="bfloat16")
    got = to_numpy(keras.ops.cast(loss(labels, logits), "float32"))
    expected = ref_cls.sparse_categorical_crossentropy(labels, logits, from_logits=True).mean()
    np.testing.assert_allclose(got, expected, **TOL["bfloat16"])


def test_function_is_the_unreduced_sum():
    got = kloss.combined(T, P, {kloss.MeanSquaredError(): 1.0, kloss.MeanAbsoluteError(): 3.0})
    np.testing.assert_allclose(to_numpy(got), _mse_mae(T, P, 1.0, 3.0), **TOL["float32"])


def test_config_round_trip_keeps_terms_and_weights():
    loss = kloss.Huber(delta=0.3) + 0.25 * kloss.Pinball(quantile=0.8)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert [type(t) for t in again.losses] == [kloss.Huber, kloss.Pinball]
    assert again.losses[0].delta == 0.3 and again.losses[1].quantile == 0.8
    assert again.weights == [1.0, 0.25]
    np.testing.assert_allclose(to_numpy(again(T, P)), to_numpy(loss(T, P)), **TOL["float32"])


@pytest.mark.parametrize(
    "args,kwargs,error,match",
    [
        (([],), {}, TypeError, "non-empty dict"),
        (("mse",), {}, TypeError, "non-empty dict"),
        (([kloss.huber],), {}, TypeError, "every term must be a `keras.losses.Loss`"),
        (([kloss.Huber()],), {"weights": [1.0, 2.0]}, ValueError, "one number per loss"),
        (({kloss.Huber(): 1.0},), {"weights": [1.0]}, ValueError, "not both"),
        (([kloss.Huber()],), {"weights": ["a"]}, TypeError, "weights"),
    ],
)
def test_bad_arguments_raise(args, kwargs, error, match):
    with pytest.raises(error, match=f"Combined: .*{match}"):
        kloss.Combined(*args, **kwargs)


def test_term_errors_name_the_sum_and_the_term():
    loss = kloss.MeanSquaredError() + kloss.MeanAbsoluteError()
    with pytest.raises(ValueError, match=r"Combined: `y_true` and `y_pred` .*term 0, Mean"):
        loss(T[:, :3], P)


def test_multiplying_by_a_non_number_is_refused():
    with pytest.raises(TypeError):
        kloss.Huber() * "2"
    with pytest.raises(TypeError):
        kloss.Huber() + 1.0


def test_dice_plus_cross_entropy_equals_monai_dice_ce():
    """Dice + 0.5 * CE is MONAI's DiceCELoss(lambda_dice=1, lambda_ce=0.5) on the same pixels.

    MONAI's Dice is the mean over images and classes from the softmax (batch=False), its CE
    torch's `cross_entropy` mean over pixels: kloss's default reductions of the two terms.
    """
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(3, 6, 7, 4)).astype(np.float32)  # channels last
    labels = rng.integers(0, 4, size=(3, 6, 7)).astype(np.int32)
    labels[2] = 0  # an image without foreground
    loss = kloss.Dice(mode="multiclass", from_logits=True, data_format="channels_last") + (
        0.5 * kloss.PixelwiseCrossentropy(from_logits=True, data_format="channels_last")
    )
    oracle = monai.losses.DiceCELoss(
        softmax=True,
        to_onehot_y=True,
        lambda_dice=1.0,
        lambda_ce=0.5,
        smooth_nr=1e-5,
        smooth_dr=1e-5,
    )
    x = torch.tensor(logits).permute(0, 3, 1, 2)
    y = torch.tensor(labels, dtype=torch.long)[:, None]
    expected = float(oracle(x, y))
    np.testing.assert_allclose(to_numpy(loss(labels, logits)), expected, rtol=1e-5, atol=1e-6)

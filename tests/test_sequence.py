"""CTC: oracles (torch, optax, TensorFlow, the float64 NumPy forward algorithm), pinned
Keras behaviours, infeasible labels, Keras masks, jit, and every error message."""

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import sequence as ref
from tests.helpers import TOL, backend, masked, to_numpy, value_and_grad

F32 = TOL["float32"]


def _batch(seed=0, B=5, T=12, C=6, L=4, blank=0, pad=-1, scale=1.5):
    """Logits (B, T, C) and padded labels (B, L): varied lengths, a repeat, an empty row."""
    rng = np.random.default_rng(seed)
    classes = np.array([c for c in range(C) if c != blank])
    y = rng.choice(classes, size=(B, L)).astype(np.int32)
    y[1, 2:] = pad
    y[2, 1] = y[2, 0]
    y[3, :] = pad
    x = rng.normal(scale=scale, size=(B, T, C)).astype(np.float32)
    return y, x


def _lengths(y, pad=-1):
    return (y != pad).sum(axis=1)


# --------------------------------------------------------------------------- torch


def _torch_ctc(y, x, blank=0, pad=-1, frames=None, zero_infinity=False):
    """torch's per-sequence loss and its gradient with respect to the logits (autograd)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    B, T, _ = x.shape
    p = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor(np.where(y == pad, 0, y), dtype=torch.long)
    frames = np.full(B, T) if frames is None else frames
    loss = F.ctc_loss(
        F.log_softmax(p, -1).transpose(0, 1),
        targets,
        torch.tensor(frames),
        torch.tensor(_lengths(y, pad)),
        blank=blank,
        reduction="none",
        zero_infinity=zero_infinity,
    )
    (g,) = torch.autograd.grad(loss.sum(), p)
    return loss.detach().numpy(), g.numpy()


@pytest.mark.parametrize("blank", [0, 5])
def test_matches_torch_values_and_gradients(blank, autodiff):
    y, x = _batch(blank=blank)
    expected, grad = _torch_ctc(y, x, blank=blank)
    loss = kloss.CTC(blank_index=blank, reduction="sum")
    v, g = value_and_grad(lambda p: loss(y, p), x)
    np.testing.assert_allclose(to_numpy(kloss.ctc(y, x, blank_index=blank)), expected, **F32)
    np.testing.assert_allclose(v, expected.sum(), **F32)
    np.testing.assert_allclose(g, grad, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(expected, ref.ctc(y, x, blank_index=blank), rtol=1e-10)


def test_matches_torch_with_frame_mask_and_zero_infinity(autodiff):
    y, x = _batch(seed=1)
    y[4] = [1, 1, 1, 1]  # needs 7 frames
    frames = np.array([12, 9, 5, 3, 6])  # row 4: 6 frames, infeasible
    keep = np.arange(12)[None] < frames[:, None]
    for zero_infinity in (False, True):
        expected, grad = _torch_ctc(y, x, frames=frames, zero_infinity=zero_infinity)
        got = to_numpy(kloss.ctc(y, x, mask=keep, zero_infinity=zero_infinity))
        np.testing.assert_allclose(got, expected, **F32)
        np.testing.assert_allclose(got, ref.ctc(y, x, mask=keep, zero_infinity=zero_infinity))
    assert np.isinf(got[4]) if not zero_infinity else got[4] == 0.0
    v, g = value_and_grad(
        lambda p: keras.ops.sum(kloss.ctc(y, p, mask=keep, zero_infinity=True)), x
    )
    np.testing.assert_allclose(g, grad, rtol=1e-4, atol=1e-5)
    assert np.all(g[4] == 0.0)
    assert np.all(g[keep == 0] == 0.0)  # dropped frames take no gradient


# --------------------------------------------------------------------------- optax, TF


def test_matches_optax_and_pins_its_floor():
    optax = pytest.importorskip("optax")
    y, x = _batch(seed=2)
    pad = (y == -1).astype(np.float32)
    labels = np.where(y == -1, 0, y)
    got = to_numpy(kloss.ctc(y, x))
    expected = np.asarray(optax.ctc_loss(x, np.zeros(x.shape[:2], np.float32), labels, pad))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Infeasible (four repeats in 5 frames): optax gives a large finite value, kloss inf.
    yi = np.array([[1, 1, 1, 1]], np.int32)
    floor = np.asarray(optax.ctc_loss(x[:1, :5], np.zeros((1, 5)), yi, np.zeros((1, 4))))
    assert np.isfinite(floor[0]) and floor[0] > 1e4
    assert np.isinf(to_numpy(kloss.ctc(yi, x[:1, :5]))[0])


def test_matches_tensorflow_and_pins_its_floor_for_large_logits():
    tf = pytest.importorskip("tensorflow")
    y, x = _batch(seed=3)
    labels = np.where(y == -1, 0, y)

    def tf_ctc(logits):
        return tf.nn.ctc_loss(
            labels, logits, _lengths(y), np.full(len(y), x.shape[1]), logits_time_major=False
        ).numpy()

    np.testing.assert_allclose(to_numpy(kloss.ctc(y, x)), tf_ctc(x), rtol=1e-5, atol=1e-5)
    # Logits x1000 (the inputs of the Keras pins below): tf.nn.ctc_loss gives 12520.5 for
    # the first sequence where the float64 forward algorithm (and kloss) gives 12587.4.
    y, x = _keras_inputs()
    big = x * 1000.0
    native = tf.nn.ctc_loss(y, big, _lengths(y, 0), np.full(2, 12), logits_time_major=False)
    exact = ref.ctc(y, big, pad_value=0)
    np.testing.assert_allclose(native.numpy(), [12520.475, exact[1]], rtol=1e-5)
    np.testing.assert_allclose(to_numpy(kloss.ctc(y, big, pad_value=0)), exact, rtol=1e-5)


# --------------------------------------------------------------------------- pinned Keras


def _keras_inputs():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 12, 6)).astype(np.float32)
    y = rng.integers(1, 6, size=(2, 4)).astype(np.int32)
    y[1, 3] = 0  # Keras pads with the blank 0
    return y, x


def test_keras_ctc_differs_across_backends_for_large_logits():
    """keras.losses.CTC with logits x1000: TensorFlow's value is 12520.5, JAX's and torch's
    12587.4 (the float64 forward algorithm's); kloss gives 12587.4 everywhere."""
    if backend() == "numpy":
        pytest.skip("pinned on tensorflow, jax and torch")
    y, x = _keras_inputs()
    big = x * 1000.0
    exact = ref.ctc(y, big, pad_value=0)
    np.testing.assert_allclose(exact, [12587.44489861, 6800.098526], rtol=1e-9)
    keras_value = to_numpy(keras.losses.CTC(reduction=None)(y, big))
    if backend() == "tensorflow":
        np.testing.assert_allclose(keras_value[0], 12520.475, rtol=1e-5)
    else:
        np.testing.assert_allclose(keras_value, exact, rtol=1e-5)
    got = to_numpy(kloss.CTC(pad_value=0, reduction="none")(y, big))
    np.testing.assert_allclose(got, exact, rtol=1e-5)


def test_keras_ctc_infeasible_label_differs_across_backends():
    """An infeasible label: Keras gives ~715 (TF), ~1e5 (JAX), inf (torch); kloss inf."""
    y, x = _keras_inputs()
    yi = np.array([[1, 1, 1, 1]], np.int32)
    xi = x[:1, :5]
    assert np.isinf(ref.ctc(yi, xi)[0])
    assert np.isinf(to_numpy(kloss.ctc(yi, xi))[0])
    assert to_numpy(kloss.ctc(yi, xi, zero_infinity=True))[0] == 0.0
    if backend() == "numpy":
        return
    keras_value = to_numpy(keras.losses.CTC(reduction=None)(yi, xi))[0]
    expected = {"tensorflow": (700, 720), "jax": (1e5, 1.001e5), "torch": (np.inf, np.inf)}
    lo, hi = expected[backend()]
    assert lo <= keras_value <= hi, keras_value


def test_pad_value_equal_to_blank_is_keras_convention():
    y, x = _keras_inputs()
    got = to_numpy(kloss.ctc(y, x, pad_value=0))
    np.testing.assert_allclose(got, ref.ctc(y, x, pad_value=0), **F32)
    if backend() != "numpy":
        np.testing.assert_allclose(got, to_numpy(keras.losses.CTC(reduction=None)(y, x)), **F32)


# --------------------------------------------------------------------------- semantics


def test_reference_by_enumerating_alignments():
    """The float64 forward algorithm against brute force over all C**T paths."""
    import itertools

    rng = np.random.default_rng(4)
    T, C, blank = 5, 3, 1
    logp = ref._log_softmax(rng.normal(size=(T, C)))
    for label in ([0], [0, 0], [2, 0], [0, 2, 0], []):
        total = 0.0
        for path in itertools.product(range(C), repeat=T):
            collapsed = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
            if [c for c in collapsed if c != blank] == label:
                total += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
        np.testing.assert_allclose(ref.ctc_nll(logp, label, blank), -np.log(total), rtol=1e-12)


def test_padding_anywhere_and_class_zero_as_label():
    y, x = _batch(seed=5, blank=5)
    y[0] = [0, -1, 2, 0]  # padding in the middle is dropped: the label is (0, 2, 0)
    got = to_numpy(kloss.ctc(y, x, blank_index=-1))
    np.testing.assert_allclose(got, ref.ctc(y, x, blank_index=5), **F32)
    np.testing.assert_allclose(got[0], ref.ctc([[0, 2, 0]], x[:1], blank_index=5)[0], **F32)


def test_infeasible_batch_keeps_other_gradients_finite(autodiff):
    y, x = _batch(seed=6, T=6)
    y[0] = [2, 2, 2, 2]  # needs 7 frames, has 6
    assert ref.frames_needed([2, 2, 2, 2]) == 7
    for zero_infinity in (False, True):
        loss = kloss.CTC(zero_infinity=zero_infinity)
        v, g = value_and_grad(lambda p: loss(y, p), x)
        assert np.isinf(v) if not zero_infinity else np.isfinite(v)
        assert np.all(np.isfinite(g)) and np.all(g[0] == 0.0)
        assert np.abs(g[1:]).max() > 0
    expected = ref.ctc(y, x, zero_infinity=True)
    np.testing.assert_allclose(to_numpy(kloss.ctc(y, x, zero_infinity=True)), expected, **F32)


def test_exactly_enough_frames_is_feasible():
    rng = np.random.default_rng(7)
    y = np.array([[1, 1, 2, -1]], np.int32)  # 3 labels + 1 blank between the repeat
    x = rng.normal(size=(1, 4, 3)).astype(np.float32)
    got = to_numpy(kloss.ctc(y, x))
    assert np.isfinite(got[0])
    np.testing.assert_allclose(got, ref.ctc(y, x), **F32)
    assert np.isinf(to_numpy(kloss.ctc(y, x[:, :3]))[0])


def test_never_negative_and_zero_for_a_certain_path(autodiff):
    y = np.array([[1, 2]], np.int32)
    path = [0, 1, 1, 0, 2]
    x = np.where(np.arange(3) == np.array(path)[:, None], 50.0, -50.0)[None].astype(np.float32)
    v, g = value_and_grad(lambda p: kloss.CTC()(y, p), x)
    assert v == 0.0 and np.all(np.isfinite(g))
    y, x = _batch(seed=8)
    assert np.all(to_numpy(kloss.ctc(y, x * 100.0)) >= 0.0)


def test_large_logits_exact():
    y, x = _batch(seed=9)
    for scale in (1e3, 1e4):
        np.testing.assert_allclose(
            to_numpy(kloss.ctc(y, x * scale)), ref.ctc(y, x * scale), rtol=1e-5
        )


def test_large_logits_gradients(autodiff):
    """Gradients at logits x1000 against torch's float64 autograd. On torch kloss calls
    torch's float32 kernel, whose gradient rounds at the scale of the log-probabilities
    (2.2e-3 of the largest entry here); the recursion elsewhere stays within 1e-5."""
    y, x = _batch(seed=9)
    big = x * 1000.0
    _, expected = _torch_ctc(y, big)
    v, g = value_and_grad(lambda p: kloss.CTC(reduction="sum")(y, p), big)
    np.testing.assert_allclose(v, ref.ctc(y, big).sum(), rtol=1e-6)
    err = np.abs(g - expected).max() / np.abs(expected).max()
    assert err < (5e-3 if backend() == "torch" else 1e-5), err  # torch: 2.2e-3 measured


def test_batch_equals_stacked_rows():
    y, x = _batch(seed=10)
    batch = to_numpy(kloss.ctc(y, x))
    rows = np.concatenate([to_numpy(kloss.ctc(y[i : i + 1], x[i : i + 1])) for i in range(5)])
    np.testing.assert_allclose(batch, rows, **F32)


def test_no_frames_and_empty_label():
    y = np.array([[-1, -1], [1, -1]], np.int32)
    x = np.zeros((2, 3, 3), np.float32)
    keep = np.zeros((2, 3), bool)
    got = to_numpy(kloss.ctc(y, x, mask=keep))
    assert got[0] == 0.0 and np.isinf(got[1])
    np.testing.assert_allclose(to_numpy(kloss.ctc(y[:, :0], x)), ref.ctc(y[:, :0], x), **F32)


# --------------------------------------------------------------------------- Keras masks


@pytest.mark.parametrize("reduction", ["none", "sum_over_batch_size", "sum"])
def test_keras_mask_drops_frames(reduction):
    y, x = _batch(seed=11)
    keep = np.ones((5, 12), bool)
    keep[0, 9:] = False  # post-padding
    keep[1, :4] = False  # pre-padding (pad_sequences' default)
    keep[2, 3:5] = False
    pred, x_np = masked(x, keep)
    w = np.array([1.0, 0.5, 2.0, 1.0, 0.0], np.float32)
    got = to_numpy(kloss.CTC(reduction=reduction)(y, pred, sample_weight=w))
    per = ref.ctc(y, x_np, mask=keep) * w
    expected = {"none": per, "sum": per.sum(), "sum_over_batch_size": per.mean()}[reduction]
    np.testing.assert_allclose(got, expected, **F32)


def test_keras_mask_in_a_model():
    """A Masking layer in a model: evaluate() gives the mean over sequences of the loss on
    the unmasked frames."""
    rng = np.random.default_rng(12)
    B, T, Fdim, C = 4, 10, 3, 5
    x = rng.normal(size=(B, T, Fdim)).astype(np.float32)
    x[0, 7:] = 0.0
    x[1, :3] = 0.0
    y = np.array([[1, 2, -1], [3, 3, -1], [4, -1, -1], [1, 2, 3]], np.int32)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((T, Fdim))
    h = keras.layers.Masking(0.0)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(C)(h))
    model.compile(loss=kloss.CTC())
    logits = model.predict(x, verbose=0)
    keep = np.any(x != 0.0, axis=-1)
    expected = ref.ctc(y, logits, mask=keep).mean()
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)


# --------------------------------------------------------------------------- jit


def test_jit_matches_eager_and_bad_labels_give_nan():
    name = backend()
    y, x = _batch(seed=13)
    bad = y.copy()
    bad[1, 0] = 0  # the blank inside a label
    loss = kloss.CTC(reduction="none")
    if name == "jax":
        import jax

        f = jax.jit(lambda t, p: loss(t, p))
    elif name == "tensorflow":
        import tensorflow as tf

        spec = (tf.TensorSpec((None, 4), tf.int32), tf.TensorSpec((None, 12, 6), tf.float32))
        f = tf.function(lambda t, p: loss(t, p), input_signature=spec, jit_compile=True)
    else:
        pytest.skip("jax.jit and tf.function only")
    np.testing.assert_allclose(to_numpy(f(y, x)), ref.ctc(y, x), **F32)
    got = to_numpy(f(bad, x))
    assert np.isnan(got[1]) and np.all(np.isfinite(np.delete(got, 1)))


# --------------------------------------------------------------------------- errors


def test_label_errors_in_eager_mode():
    y, x = _batch(seed=14)
    bad = y.copy()
    bad[0, 1] = 0
    with pytest.raises(ValueError, match=r"CTC: every label entry .* other than the blank 0"):
        kloss.CTC()(bad, x)
    bad[0, 1] = 6
    with pytest.raises(ValueError, match=r"ctc: .*Received: y_true holds 6"):
        kloss.ctc(bad, x)
    bad[0, 1] = -2
    with pytest.raises(ValueError, match="Received: y_true holds -2"):
        kloss.ctc(bad, x)
    with pytest.raises(TypeError, match=r"ctc: `y_true` must hold integer labels"):
        kloss.ctc(y.astype(np.float32), x)


def test_shape_errors():
    y, x = _batch(seed=15)
    with pytest.raises(ValueError, match=r"CTC: `y_pred` must be logits of shape"):
        kloss.CTC()(y, x[:, 0])
    with pytest.raises(ValueError, match=r"ctc: `y_true` must be padded label sequences"):
        kloss.ctc(y[:3], x)
    with pytest.raises(ValueError, match=r"ctc: `y_true` must be padded label sequences"):
        kloss.ctc(y[:, 0], x)
    with pytest.raises(ValueError, match=r"`blank_index` must be a class of `y_pred`"):
        kloss.CTC(blank_index=6)(y, x)
    with pytest.raises(ValueError, match=r"frame mask must have shape \(batch, frames\)"):
        kloss.ctc(y, x, mask=np.ones((5, 11), bool))


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        ({"blank_index": "0"}, TypeError, "`blank_index` must be an int"),
        ({"blank_index": 1.0}, TypeError, "`blank_index` must be an int"),
        ({"pad_value": None}, TypeError, "`pad_value` must be an int"),
        ({"zero_infinity": 1}, TypeError, "`zero_infinity` must be True or False"),
        ({"reduction": "avg"}, ValueError, "`reduction` must be one of"),
    ],
)
def test_constructor_errors(kwargs, error, fragment):
    with pytest.raises(error, match=f"CTC: {fragment}"):
        kloss.CTC(**kwargs)
    if "reduction" not in kwargs:
        with pytest.raises(error, match=f"ctc: {fragment}"):
            kloss.ctc(np.zeros((1, 1), np.int32), np.zeros((1, 2, 2), np.float32), **kwargs)


def test_config_roundtrip():
    loss = kloss.CTC(blank_index=-1, pad_value=-7, zero_infinity=True, reduction="sum")
    config = loss.get_config()
    assert config["blank_index"] == -1 and config["pad_value"] == -7
    assert config["zero_infinity"] is True
    again = kloss.CTC.from_config(config)
    assert again.get_config() == config

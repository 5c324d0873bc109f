"""Adversarial (GAN) losses: torch oracles, the exact relation to MONAI's
`PatchAdversarialLoss` and to TF-GAN's definitions, the scalar objectives, the extreme
outputs, and every error message."""

import math

import keras
import numpy as np
import pytest

import kloss
from kloss.testing.references import adversarial as ref
from tests.helpers import TOL, backend, to_numpy, value_and_grad

F32 = TOL["float32"]
OBJECTIVES = ["minimax", "least_squares", "wasserstein", "hinge"]
DISCRIMINATORS = {
    "minimax": kloss.MinimaxDiscriminator,
    "least_squares": kloss.LeastSquaresDiscriminator,
    "wasserstein": kloss.WassersteinCritic,
    "hinge": kloss.HingeDiscriminator,
}
GENERATORS = {
    "minimax": kloss.MinimaxGenerator,
    "least_squares": kloss.LeastSquaresGenerator,
    "wasserstein": kloss.WassersteinGenerator,
    "hinge": kloss.HingeGenerator,
}
# Options per objective: (Loss class kwargs, discriminator_loss / generator_loss kwargs).
DISC_OPTIONS = [
    ("minimax", {}),
    ("minimax", {"label_smoothing": 0.2}),
    ("least_squares", {}),
    ("least_squares", {"real_target": 1.0, "fake_target": -1.0}),
    ("wasserstein", {}),
    ("hinge", {}),
]
GEN_OPTIONS = [
    ("minimax", {}),
    ("minimax", {"non_saturating": False}),
    ("least_squares", {}),
    ("least_squares", {"target": 0.0}),
    ("wasserstein", {}),
    ("hinge", {}),
]
DISC_IDS = [f"{o}-{i}" for i, (o, _) in enumerate(DISC_OPTIONS)]
GEN_IDS = [f"{o}-{i}" for i, (o, _) in enumerate(GEN_OPTIONS)]


def _torch():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.functional


def _np(x):
    return to_numpy(x)


def _f32(x):
    """A (possibly 16-bit, 0-d) tensor as float64 (TF cannot export a 0-d bfloat16)."""
    return to_numpy(keras.ops.cast(x, "float32"))


def _patch_outputs(seed=0, batch=3):
    """PatchGAN-style raw outputs (B, h, w, 1) for real and generated samples."""
    rng = np.random.default_rng(seed)
    real = rng.normal(1.0, 2.0, size=(batch, 4, 4, 1)).astype(np.float32)
    fake = rng.normal(-1.0, 2.0, size=(batch, 4, 4, 1)).astype(np.float32)
    return real, fake


def _concat(real, fake):
    y_true = np.concatenate([np.ones_like(real), np.zeros_like(fake)])
    return y_true, np.concatenate([real, fake])


# --------------------------------------------------------------------------- torch oracles


def _torch_discriminator(objective, real, fake, options):
    """Each objective written with torch.nn.functional: mean over real + mean over fake."""
    torch, F = _torch()
    r, f = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    if objective == "minimax":
        s = options.get("label_smoothing", 0.0)
        real_loss = F.binary_cross_entropy_with_logits(r, torch.full_like(r, 1.0 - s))
        fake_loss = F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    elif objective == "least_squares":
        b, a = options.get("real_target", 1.0), options.get("fake_target", 0.0)
        real_loss = 0.5 * F.mse_loss(r, torch.full_like(r, b))
        fake_loss = 0.5 * F.mse_loss(f, torch.full_like(f, a))
    elif objective == "wasserstein":
        real_loss, fake_loss = -r.mean(), f.mean()
    else:
        real_loss, fake_loss = F.relu(1.0 - r).mean(), F.relu(1.0 + f).mean()
    return (real_loss + fake_loss).item()


def _torch_generator(objective, fake, options):
    torch, F = _torch()
    f = torch.tensor(fake, dtype=torch.float64)
    if objective == "minimax":
        if options.get("non_saturating", True):
            return F.binary_cross_entropy_with_logits(f, torch.ones_like(f)).item()
        return -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)).item()
    if objective == "least_squares":
        return 0.5 * F.mse_loss(f, torch.full_like(f, options.get("target", 1.0))).item()
    return -f.mean().item()


@pytest.mark.parametrize("objective,options", DISC_OPTIONS, ids=DISC_IDS)
def test_discriminator_matches_torch(objective, options):
    real, fake = _patch_outputs()
    expected = _torch_discriminator(objective, real, fake, options)
    got = _np(kloss.discriminator_loss(real, fake, objective=objective, **options))
    np.testing.assert_allclose(got, expected, **F32)
    # The Loss object on the concatenated batch (equal sizes) is half the objective, and
    # the sum of its values on each batch alone is the objective.
    loss = DISCRIMINATORS[objective](**options)
    np.testing.assert_allclose(2.0 * _np(loss(*_concat(real, fake))), expected, **F32)
    separate = loss(np.ones_like(real), real) + loss(np.zeros_like(fake), fake)
    np.testing.assert_allclose(_np(separate), expected, **F32)
    np.testing.assert_allclose(
        got, ref.discriminator_objective(real, fake, objective, **options), **F32
    )


@pytest.mark.parametrize("objective,options", GEN_OPTIONS, ids=GEN_IDS)
def test_generator_matches_torch(objective, options):
    _, fake = _patch_outputs(seed=1)
    expected = _torch_generator(objective, fake, options)
    got = _np(kloss.generator_loss(fake, objective=objective, **options))
    np.testing.assert_allclose(got, expected, **F32)
    loss = GENERATORS[objective](**options)
    np.testing.assert_allclose(_np(loss(np.ones_like(fake), fake)), expected, **F32)
    np.testing.assert_allclose(got, ref.generator_objective(fake, objective, **options), **F32)


def test_patch_outputs_per_element_weights_match_torch():
    """PatchGAN outputs (B, h, w, 1) with a weight per patch: torch's weighted BCE mean."""
    torch, F = _torch()
    real, fake = _patch_outputs(seed=2)
    y_true, y_pred = _concat(real, fake)
    w = np.random.default_rng(3).uniform(0.0, 2.0, size=y_pred.shape).astype(np.float32)
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(y_pred), torch.tensor(y_true), weight=torch.tensor(w)
    ).item()
    got = kloss.MinimaxDiscriminator()(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(got), expected, **F32)
    per_patch = kloss.MinimaxDiscriminator(reduction="none")(y_true, y_pred)
    assert tuple(per_patch.shape) == (6, 4, 4)


def test_minimax_discriminator_is_binary_crossentropy_on_smoothed_targets():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, size=(5, 3)).astype(np.float32)
    x = rng.normal(scale=3.0, size=(5, 3)).astype(np.float32)
    for s in (0.0, 0.1, 0.3):
        got = kloss.MinimaxDiscriminator(label_smoothing=s, reduction="none")(t, x)
        expected = kloss.BinaryCrossentropy(from_logits=True, reduction="none")(t * (1 - s), x)
        np.testing.assert_allclose(_np(got), _np(expected), **F32)


# --------------------------------------------------------------------------- MONAI


def _monai(criterion, **kwargs):
    pytest.importorskip("monai")
    from monai.losses.adversarial_loss import PatchAdversarialLoss

    return PatchAdversarialLoss(criterion=criterion, reduction="mean", **kwargs)


def _channels_first(x):
    torch, _ = _torch()
    return torch.tensor(np.moveaxis(x, -1, 1))  # MONAI's (B, 1, h, w)


def _monai_pair(monai_loss, real, fake):
    r = monai_loss(_channels_first(real), target_is_real=True, for_discriminator=True).item()
    f = monai_loss(_channels_first(fake), target_is_real=False, for_discriminator=True).item()
    g = monai_loss(_channels_first(fake), target_is_real=True, for_discriminator=False).item()
    return r + f, g


def test_monai_bce_is_minimax_for_moderate_logits_and_clamps_large_ones():
    """MONAI applies a sigmoid and torch's BCELoss (each log clamped at -100): the minimax
    objective with the non-saturating generator, for logits where the sigmoid is exact."""
    real, fake = _patch_outputs(seed=5)
    disc, gen = _monai_pair(_monai("bce"), real, fake)
    np.testing.assert_allclose(disc, _np(kloss.discriminator_loss(real, fake)), rtol=1e-5)
    np.testing.assert_allclose(gen, _np(kloss.generator_loss(fake)), rtol=1e-5)
    # A generated sample scored 200 (certainly real): -log(1 - sigmoid(200)) is 200; MONAI's
    # float32 sigmoid rounds to 1 and the clamp gives 100.
    big = np.full((1, 2, 2, 1), 200.0, np.float32)
    monai_fake = _monai("bce")(_channels_first(big), target_is_real=False, for_discriminator=True)
    assert monai_fake.item() == pytest.approx(100.0)
    kloss_fake = kloss.MinimaxDiscriminator()(np.zeros_like(big), big)
    assert float(_np(kloss_fake)) == pytest.approx(200.0, rel=1e-6)


def test_monai_least_squares_is_twice_kloss_without_its_activation():
    """MONAI's least squares is torch's MSELoss (no factor 1/2) after a LeakyReLU(0.05)
    unless `no_activation_leastsq=True`."""
    real, fake = _patch_outputs(seed=6)
    disc, gen = _monai_pair(_monai("least_squares", no_activation_leastsq=True), real, fake)
    np.testing.assert_allclose(
        disc, 2 * _np(kloss.discriminator_loss(real, fake, objective="least_squares")), rtol=1e-5
    )
    lsg = kloss.LeastSquaresGenerator()
    np.testing.assert_allclose(gen, 2 * _np(lsg(np.ones_like(fake), fake)), rtol=1e-5)

    def leaky(x):
        return np.where(x > 0, x, 0.05 * x).astype(np.float32)

    disc, gen = _monai_pair(_monai("least_squares"), real, fake)
    expected = 2 * _np(
        kloss.discriminator_loss(leaky(real), leaky(fake), objective="least_squares")
    )
    np.testing.assert_allclose(disc, expected, rtol=1e-5)
    np.testing.assert_allclose(gen, 2 * _np(lsg(np.ones_like(fake), leaky(fake))), rtol=1e-5)


def test_monai_hinge_is_kloss_hinge_on_tanh_outputs():
    """MONAI's hinge applies a tanh first; its generator form is mean(relu(1 - tanh(x))) =
    1 - mean(tanh(x)), kloss's `-D` on tanh outputs plus 1."""
    real, fake = _patch_outputs(seed=7)
    disc, gen = _monai_pair(_monai("hinge"), real, fake)
    tr, tf_ = np.tanh(real), np.tanh(fake)
    np.testing.assert_allclose(
        disc, _np(kloss.discriminator_loss(tr, tf_, objective="hinge")), rtol=1e-5
    )
    hinge_g = _np(kloss.HingeGenerator()(np.ones_like(fake), tf_))
    np.testing.assert_allclose(gen, hinge_g + 1.0, rtol=1e-5)


# --------------------------------------------------------------------------- TF-GAN
# TF-GAN (github.com/tensorflow/gan, tensorflow_gan/python/losses/losses_impl.py) is not
# installed: its definitions are written out below in NumPy. Its losses reduce with
# SUM_BY_NONZERO_WEIGHTS, with unit weights the mean over every element, and the
# discriminator losses add the real and the generated means. Its label smoothing is
# tf.compat.v1.losses.sigmoid_cross_entropy's: towards 1/2, `t (1 - s) + s / 2`.


def _sigmoid_xent(labels, logits, label_smoothing=0.0):
    """tf.compat.v1.losses.sigmoid_cross_entropy with unit weights (its mean)."""
    z = np.asarray(logits, np.float64)
    labels = np.broadcast_to(np.asarray(labels, np.float64), z.shape)
    if label_smoothing > 0:
        labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    # tf.nn.sigmoid_cross_entropy_with_logits: max(z, 0) - z * labels + log(1 + exp(-|z|)).
    return np.mean(np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z))))


def tfgan_minimax_discriminator_loss(real, gen, label_smoothing=0.25):
    return _sigmoid_xent(1.0, real, label_smoothing) + _sigmoid_xent(0.0, gen)


def tfgan_minimax_generator_loss(gen, label_smoothing=0.0):
    # TF-GAN: -minimax_discriminator_loss(tf.ones_like(gen), gen, label_smoothing).
    return -tfgan_minimax_discriminator_loss(np.ones_like(gen), gen, label_smoothing)


def tfgan_modified_generator_loss(gen, label_smoothing=0.0):
    return _sigmoid_xent(1.0, gen, label_smoothing)


def tfgan_least_squares_discriminator_loss(real, gen, real_label=1, fake_label=0):
    real, gen = np.asarray(real, np.float64), np.asarray(gen, np.float64)
    return np.mean((real - real_label) ** 2 / 2.0) + np.mean((gen - fake_label) ** 2 / 2.0)


def tfgan_least_squares_generator_loss(gen, real_label=1):
    return np.mean((np.asarray(gen, np.float64) - real_label) ** 2 / 2.0)


def tfgan_wasserstein_discriminator_loss(real, gen):
    return np.mean(np.asarray(gen, np.float64)) - np.mean(np.asarray(real, np.float64))


def tfgan_wasserstein_generator_loss(gen):
    return -np.mean(np.asarray(gen, np.float64))


def tfgan_wasserstein_hinge_discriminator_loss(real, gen, real_hinge=1.0, generated_hinge=1.0):
    real, gen = np.asarray(real, np.float64), np.asarray(gen, np.float64)
    return np.mean(np.maximum(real_hinge - real, 0)) + np.mean(np.maximum(generated_hinge + gen, 0))


def test_tfgan_transcription_matches_tensorflow_sigmoid_cross_entropy():
    """The NumPy `_sigmoid_xent` above is TF's own op, smoothing towards 1/2 included."""
    if backend() != "tensorflow":
        pytest.skip("checked in the tensorflow process")
    tf = pytest.importorskip("tensorflow")
    real, _ = _patch_outputs(seed=8)
    for s in (0.0, 0.25):
        expected = tf.compat.v1.losses.sigmoid_cross_entropy(
            tf.ones_like(real), real, label_smoothing=s
        )
        np.testing.assert_allclose(_sigmoid_xent(1.0, real, s), float(expected), rtol=1e-6)


def test_tfgan_minimax_default_smoothing_is_kloss_0125():
    """TF-GAN's default `label_smoothing=0.25` smooths towards 1/2: real targets 0.875, i.e.
    kloss's one-sided `label_smoothing=0.125`. kloss's default is no smoothing."""
    real, fake = _patch_outputs(seed=9)
    tfgan_default = tfgan_minimax_discriminator_loss(real, fake)
    got = kloss.discriminator_loss(real, fake, label_smoothing=0.125)
    np.testing.assert_allclose(_np(got), tfgan_default, **F32)
    loss = kloss.MinimaxDiscriminator(label_smoothing=0.125)
    np.testing.assert_allclose(2 * _np(loss(*_concat(real, fake))), tfgan_default, **F32)
    unsmoothed = tfgan_minimax_discriminator_loss(real, fake, label_smoothing=0.0)
    np.testing.assert_allclose(_np(kloss.discriminator_loss(real, fake)), unsmoothed, **F32)
    for s in (0.1, 0.3):
        np.testing.assert_allclose(
            _np(kloss.discriminator_loss(real, fake, label_smoothing=s)),
            tfgan_minimax_discriminator_loss(real, fake, label_smoothing=2 * s),
            **F32,
        )
    assert abs(unsmoothed - tfgan_default) > 0.05  # the defaults really differ


def test_tfgan_generator_losses():
    _, fake = _patch_outputs(seed=10)
    ones = np.ones_like(fake)
    np.testing.assert_allclose(
        _np(kloss.MinimaxGenerator()(ones, fake)), tfgan_modified_generator_loss(fake), **F32
    )
    # TF-GAN's minimax generator loss feeds real logits of 1 to the discriminator loss: a
    # constant -softplus(-1) = -log(1 + e^-1) below kloss's saturating loss.
    saturating = _np(kloss.MinimaxGenerator(non_saturating=False)(ones, fake))
    np.testing.assert_allclose(
        saturating - math.log1p(math.exp(-1.0)), tfgan_minimax_generator_loss(fake), **F32
    )
    for c in (1.0, 0.0):
        np.testing.assert_allclose(
            _np(kloss.generator_loss(fake, objective="least_squares", target=c)),
            tfgan_least_squares_generator_loss(fake, real_label=c),
            **F32,
        )
    for objective in ("wasserstein", "hinge"):
        np.testing.assert_allclose(
            _np(kloss.generator_loss(fake, objective=objective)),
            tfgan_wasserstein_generator_loss(fake),
            **F32,
        )


def test_tfgan_discriminator_losses():
    real, fake = _patch_outputs(seed=11)
    for b, a in ((1.0, 0.0), (1.0, -1.0)):
        got = kloss.discriminator_loss(
            real, fake, objective="least_squares", real_target=b, fake_target=a
        )
        expected = tfgan_least_squares_discriminator_loss(real, fake, real_label=b, fake_label=a)
        np.testing.assert_allclose(_np(got), expected, **F32)
    np.testing.assert_allclose(
        _np(kloss.discriminator_loss(real, fake, objective="wasserstein")),
        tfgan_wasserstein_discriminator_loss(real, fake),
        **F32,
    )
    np.testing.assert_allclose(
        _np(kloss.discriminator_loss(real, fake, objective="hinge")),
        tfgan_wasserstein_hinge_discriminator_loss(real, fake),
        **F32,
    )


# --------------------------------------------------------------------------- scalar objectives


def test_discriminator_loss_takes_batches_of_different_sizes():
    rng = np.random.default_rng(12)
    real = rng.normal(size=(5, 1)).astype(np.float32)
    fake = rng.normal(size=(2, 1)).astype(np.float32)
    for objective in OBJECTIVES:
        got = _np(kloss.discriminator_loss(real, fake, objective=objective))
        loss = DISCRIMINATORS[objective]()
        expected = _np(loss(np.ones_like(real), real)) + _np(loss(np.zeros_like(fake), fake))
        np.testing.assert_allclose(got, expected, **F32)
        assert got.shape == ()


def test_scalar_objectives_keep_the_input_dtype_and_compute_in_float32():
    real, fake = _patch_outputs(seed=13)
    for dtype in ("float16", "bfloat16"):
        r16, f16 = keras.ops.cast(real, dtype), keras.ops.cast(fake, dtype)
        for objective in OBJECTIVES:
            got = kloss.discriminator_loss(r16, f16, objective=objective)
            assert keras.backend.standardize_dtype(got.dtype) == dtype
            expected = ref.discriminator_objective(_np(r16), _np(f16), objective)
            np.testing.assert_allclose(_f32(got), expected, **TOL[dtype])
            g = kloss.generator_loss(f16, objective=objective)
            assert keras.backend.standardize_dtype(g.dtype) == dtype
            expected = ref.generator_objective(_np(f16), objective)
            np.testing.assert_allclose(_f32(g), expected, **TOL[dtype])
    # (400 - 1)^2 overflows float16 (max 65504); the objective, about 2e4, does not.
    big = keras.ops.cast(np.array([[400.0], [0.0], [0.0], [0.0]], np.float32), "float16")
    got = kloss.discriminator_loss(big, big, objective="least_squares")
    expected = ref.discriminator_objective(_np(big), _np(big), "least_squares")
    np.testing.assert_allclose(_f32(got), expected, **TOL["float16"])
    got = kloss.generator_loss(big, objective="least_squares", target=-1.0)
    np.testing.assert_allclose(_f32(got), 0.5 * (401**2 + 3) / 4, **TOL["float16"])


def test_scalar_objectives_under_jit():
    real, fake = _patch_outputs(seed=14)
    expected = [
        ref.discriminator_objective(real, fake, "hinge"),
        ref.generator_objective(fake, "minimax"),
    ]

    def both(r, f):
        return (
            kloss.discriminator_loss(r, f, objective="hinge"),
            kloss.generator_loss(f, objective="minimax"),
        )

    name = backend()
    if name == "jax":
        import jax

        got = jax.jit(both)(real, fake)
    elif name == "tensorflow":
        import tensorflow as tf

        spec = tf.TensorSpec([None, 4, 4, 1], tf.float32)  # unknown batch size
        got = tf.function(both, jit_compile=True, input_signature=[spec, spec])(real, fake)
    else:
        pytest.skip("jax.jit and XLA here; torch.compile is covered by the matrix's fit test")
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(_np(g), e, **F32)


# --------------------------------------------------------------------------- label semantics


@pytest.mark.parametrize("cls", list(DISCRIMINATORS.values()), ids=lambda c: c.__name__)
def test_discriminator_loss_is_linear_in_y_true(cls):
    """A soft label t mixes the real and the fake term: t * real + (1 - t) * fake."""
    rng = np.random.default_rng(15)
    x = rng.normal(scale=2.0, size=(4, 3)).astype(np.float32)
    t = rng.uniform(size=(4, 3)).astype(np.float32)
    loss = cls(reduction="none")
    # Elementwise: (B, d, 1) inputs give one value per element.
    real = _np(loss(np.ones_like(x)[..., None], x[..., None]))
    fake = _np(loss(np.zeros_like(x)[..., None], x[..., None]))
    expected = (t * real + (1 - t) * fake).mean(axis=-1)
    np.testing.assert_allclose(_np(loss(t, x)), expected, **F32)


@pytest.mark.parametrize("cls", list(GENERATORS.values()), ids=lambda c: c.__name__)
def test_generator_ignores_y_true_values_but_checks_its_shape(cls):
    rng = np.random.default_rng(16)
    x = rng.normal(size=(4, 1)).astype(np.float32)
    loss = cls(reduction="none")
    ones = _np(loss(np.ones_like(x), x))
    for y_true in (np.zeros_like(x), rng.normal(size=(4, 1)).astype(np.float32), np.ones(4)):
        np.testing.assert_array_equal(_np(loss(y_true, x)), ones)
    with pytest.raises(ValueError, match=f"{cls.__name__}: `y_true` and `y_pred` must have"):
        loss(np.ones((4, 3), np.float32), x)


# --------------------------------------------------------------------------- extreme outputs


def _check_value_and_grad(loss, y_true, x, value, grad):
    v, g = value_and_grad(lambda p: loss(y_true, p), x)
    np.testing.assert_allclose(v, value, rtol=1e-6, atol=0)
    np.testing.assert_allclose(g, grad, rtol=1e-6, atol=0)


def test_minimax_exact_at_logits_1e4(autodiff):
    t = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    x = np.array([[-1e4, 1e4, 1e4, -1e4]], np.float32)
    # Two certain mistakes (loss 1e4 each, gradient -+1) and two certain right answers.
    _check_value_and_grad(
        kloss.MinimaxDiscriminator(), t, x, 2e4 / 4, np.array([[-1, 1, 0, 0]]) / 4
    )
    ones = np.ones((1, 2), np.float32)
    x = np.array([[-1e4, 1e4]], np.float32)
    _check_value_and_grad(kloss.MinimaxGenerator(), ones, x, 1e4 / 2, np.array([[-1, 0]]) / 2)
    # Saturating: log(1 - D) is 0 with gradient 0 where D rejects the sample, -1e4 with
    # gradient -1 where D is fooled; the same at -inf.
    sat = kloss.MinimaxGenerator(non_saturating=False)
    _check_value_and_grad(sat, ones, x, -1e4 / 2, np.array([[0, -1]]) / 2)
    x_inf = np.array([[-np.inf, 0.0]], np.float32)
    _check_value_and_grad(sat, ones, x_inf, -math.log(2) / 2, np.array([[0, -0.5]]) / 2)


def test_wasserstein_and_hinge_gradients_are_exact(autodiff):
    t = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    x = np.array([[1e4, 1e4, -1.0, 1.0]], np.float32)
    _check_value_and_grad(
        kloss.WassersteinCritic(), t, x, (-1e4 + 1e4 + 1 + 1) / 4, np.array([[-1, 1, -1, 1]]) / 4
    )
    # Hinge: 0 with gradient 0 beyond the margin and at the kinks D(real) = 1, D(fake) = -1.
    x = np.array([[1.0, -1.0, -1e4, 1e4]], np.float32)
    _check_value_and_grad(
        kloss.HingeDiscriminator(), t, x, (1e4 + 1 + 1e4 + 1) / 4, np.array([[0, 0, -1, 1]]) / 4
    )


# --------------------------------------------------------------------------- errors


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"MinimaxDiscriminator: `label_smoothing` must be < 1"):
        kloss.MinimaxDiscriminator(label_smoothing=1.0)
    with pytest.raises(ValueError, match=r"`label_smoothing` must be >= 0.0. Received"):
        kloss.MinimaxDiscriminator(label_smoothing=-0.1)
    with pytest.raises(TypeError, match=r"MinimaxGenerator: `non_saturating` must be True or"):
        kloss.MinimaxGenerator(non_saturating=1)
    with pytest.raises(ValueError, match=r"LeastSquaresDiscriminator: `real_target` and "):
        kloss.LeastSquaresDiscriminator(real_target=0.5, fake_target=0.5)
    with pytest.raises(TypeError, match=r"LeastSquaresDiscriminator: `fake_target` must be a"):
        kloss.LeastSquaresDiscriminator(fake_target="0")
    with pytest.raises(ValueError, match=r"LeastSquaresGenerator: `target` must be finite"):
        kloss.LeastSquaresGenerator(target=float("nan"))
    with pytest.raises(ValueError, match=r"WassersteinCritic: `reduction` must be one of"):
        kloss.WassersteinCritic(reduction="avg")
    with pytest.raises(ValueError, match=r"minimax_discriminator: `label_smoothing` must be"):
        kloss.minimax_discriminator(np.ones((2, 1)), np.ones((2, 1)), label_smoothing=2.0)
    with pytest.raises(ValueError, match=r"least_squares_generator: `target` must be finite"):
        kloss.least_squares_generator(np.ones((2, 1)), np.ones((2, 1)), target=float("inf"))


def test_scalar_objective_errors():
    x = np.zeros((2, 1), np.float32)
    with pytest.raises(
        ValueError,
        match=r"discriminator_loss: `objective` must be one of .*Did "
        r'you mean "least_squares"\?',
    ):
        kloss.discriminator_loss(x, x, objective="least_square")
    with pytest.raises(ValueError, match=r"generator_loss: `objective` must be one of"):
        kloss.generator_loss(x, objective="wgan")
    with pytest.raises(
        ValueError,
        match=r"discriminator_loss: `label_smoothing` applies to objective='minimax' only. "
        r"Received: label_smoothing=0.1, objective='hinge'",
    ):
        kloss.discriminator_loss(x, x, objective="hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"`real_target` applies to objective='least_squares'"):
        kloss.discriminator_loss(x, x, real_target=1.0)
    with pytest.raises(ValueError, match=r"generator_loss: `non_saturating` applies to objec"):
        kloss.generator_loss(x, objective="least_squares", non_saturating=False)
    with pytest.raises(ValueError, match=r"generator_loss: `target` applies to objective='le"):
        kloss.generator_loss(x, objective="wasserstein", target=0.0)
    with pytest.raises(ValueError, match=r"discriminator_loss: `real_target` and `fake_target`"):
        kloss.discriminator_loss(x, x, objective="least_squares", real_target=0.0)
    with pytest.raises(ValueError, match=r"discriminator_loss: `label_smoothing` must be < 1"):
        kloss.discriminator_loss(x, x, label_smoothing=1.0)
    with pytest.raises(TypeError, match=r"generator_loss: `non_saturating` must be True or"):
        kloss.generator_loss(x, non_saturating="yes")

"""Adversarial (GAN) losses for the discriminator (critic) and the generator.

Every objective has two Loss classes, one for each player, and two registered functions of
`(y_true, y_pred)` returning one value per sample; `discriminator_loss(real_output,
fake_output, objective=...)` and `generator_loss(fake_output, objective=...)` give the
scalar objectives for a custom training step.

Shared conventions (docs/adversarial.md):

- `y_pred` holds the discriminator's raw outputs `D` (logits for the minimax objective, which
  applies the sigmoid itself; unbounded scores for the others), of any shape `(B, ..., d)`:
  one term per output element, averaged over the last axis, so a PatchGAN output
  `(B, h, w, 1)` gives one value per patch and per-element `sample_weight` works.
- For the discriminator losses `y_true` is 1 for a real sample and 0 for a generated one,
  the shape of `y_pred` (or without its trailing axis 1). Each term is linear in `y_true`:
  `t * real_term(D) + (1 - t) * fake_term(D)`, so a batch of real and fake samples trains
  with `compile()`/`fit()` or `train_on_batch()`. The generator losses ignore the values of
  `y_true` (conventionally ones; any array of the shape of `y_pred` is accepted).
- From logits, the minimax terms are softplus (log-sigmoid): outputs of +-1e4 give exact
  values and gradients, and an infinite output on the correct side gives 0.
- The Wasserstein and hinge generator losses, and the Wasserstein critic loss, are linear in
  `D` and unbounded below: their Lipschitz constraint (weight clipping, a gradient penalty,
  spectral normalization) belongs to the discriminator model. kloss provides no gradient
  penalty: it needs the gradient of `D` with respect to its input inside the loss, and
  Keras 3 has no public backend-independent API for gradients (`keras.ops` has none; it
  takes `tf.GradientTape`, `jax.grad` or `torch.autograd` in a custom `train_step`).
"""

from keras import ops

from kloss._internal import (
    ElementwiseLoss,
    check_bool,
    check_number,
    check_option,
    compute_dtype,
    elementwise_loss,
    float_dtype,
    register,
)
from kloss.classification import _relu, _zero_where

__all__ = [
    "MinimaxDiscriminator",
    "MinimaxGenerator",
    "LeastSquaresDiscriminator",
    "LeastSquaresGenerator",
    "WassersteinCritic",
    "WassersteinGenerator",
    "HingeDiscriminator",
    "HingeGenerator",
    "minimax_discriminator",
    "minimax_generator",
    "least_squares_discriminator",
    "least_squares_generator",
    "wasserstein_critic",
    "wasserstein_generator",
    "hinge_discriminator",
    "hinge_generator",
    "discriminator_loss",
    "generator_loss",
]

OBJECTIVES = ("minimax", "least_squares", "wasserstein", "hinge")


# --------------------------------------------------------------------------- validation


def _smoothing(owner, value):
    return check_number(owner, "label_smoothing", value, ge=0.0, lt=1.0)


def _targets(owner, real_target, fake_target):
    real_target = check_number(owner, "real_target", real_target)
    fake_target = check_number(owner, "fake_target", fake_target)
    if real_target == fake_target:
        raise ValueError(
            f"{owner}: `real_target` and `fake_target` must differ, or the discriminator has "
            f"nothing to learn. Received: real_target={real_target!r}, "
            f"fake_target={fake_target!r}."
        )
    return dict(real_target=real_target, fake_target=fake_target)


# --------------------------------------------------------------------------- terms
# real_term(D) is the discriminator's loss on a real sample, fake_term(D) on a generated one;
# a generator term is its loss on a generated sample.


def _minimax_real(x, label_smoothing=0.0):
    # -log sigmoid(x) = softplus(-x); a smoothed target 1 - s adds s * softplus(x).
    if not label_smoothing:
        return ops.softplus(-x)
    return (1.0 - label_smoothing) * ops.softplus(-x) + label_smoothing * ops.softplus(x)


def _minimax_fake(x, label_smoothing=0.0):
    return ops.softplus(x)  # -log(1 - sigmoid(x))


def _least_squares_real(x, real_target=1.0, fake_target=0.0):
    return 0.5 * ops.square(x - real_target)


def _least_squares_fake(x, real_target=1.0, fake_target=0.0):
    return 0.5 * ops.square(x - fake_target)


def _wasserstein_real(x):
    return -x


def _wasserstein_fake(x):
    return x


def _hinge_real(x):
    return _relu(1.0 - x)


def _hinge_fake(x):
    return _relu(1.0 + x)


_DISCRIMINATOR_TERMS = {
    "minimax": (_minimax_real, _minimax_fake),
    "least_squares": (_least_squares_real, _least_squares_fake),
    "wasserstein": (_wasserstein_real, _wasserstein_fake),
    "hinge": (_hinge_real, _hinge_fake),
}


def _minimax_generator(x, non_saturating=True):
    if non_saturating:
        return ops.softplus(-x)  # -log sigmoid(x)
    return -ops.softplus(x)  # log(1 - sigmoid(x))


def _least_squares_generator(x, target=1.0):
    return 0.5 * ops.square(x - target)


def _minus(x):
    return -x


_GENERATOR_TERMS = {
    "minimax": _minimax_generator,
    "least_squares": _least_squares_generator,
    "wasserstein": _minus,
    "hinge": _minus,
}


def _discriminator_elements(objective):
    real_term, fake_term = _DISCRIMINATOR_TERMS[objective]

    def elements(y_true, y_pred, **hyper):
        real = real_term(y_pred, **hyper)
        fake = fake_term(y_pred, **hyper)
        if objective == "minimax":
            # An infinite logit on the correct side makes the other term 0 * inf: select the
            # infinite term away before the product, so no NaN reaches values or gradients.
            real = _zero_where(y_true <= 0, real)
            fake = _zero_where(y_true >= 1, fake)
        return y_true * real + (1.0 - y_true) * fake

    return elements


def _generator_elements(objective):
    term = _GENERATOR_TERMS[objective]

    def elements(y_true, y_pred, **hyper):
        return term(y_pred, **hyper)  # y_true is ignored (its shape is checked)

    return elements


# --------------------------------------------------------------------------- minimax


@register
def minimax_discriminator(y_true, y_pred, *, label_smoothing=0.0):
    """Minimax discriminator loss averaged over the last axis; see `MinimaxDiscriminator`.

    Returns one value per sample, shape `y_pred.shape[:-1]` (`(B,)` for rank-1 inputs).
    """
    owner = "minimax_discriminator"
    hyper = dict(label_smoothing=_smoothing(owner, label_smoothing))
    return elementwise_loss(owner, _discriminator_elements("minimax"), y_true, y_pred, **hyper)


@register
class MinimaxDiscriminator(ElementwiseLoss):
    """The minimax GAN discriminator loss (Goodfellow et al. 2014), from logits.

    The binary cross-entropy of the discriminator's logit `x` against the label real (1) or
    generated (0), with one-sided label smoothing: a real sample's target is `1 - s`, a
    generated one's stays 0 (Salimans et al. 2016). Per output element, with `t = y_true`:

        t * ((1 - s) * softplus(-x) + s * softplus(x)) + (1 - t) * softplus(x)

    i.e. `-log D(x)` on real and `-log(1 - D(G(z)))` on generated samples for
    `D = sigmoid(x)`, averaged over the last axis. Logits of +-1e4 give exact values and
    gradients; an infinite logit on the correct side gives 0 (without smoothing).

    Equals `torch.nn.functional.binary_cross_entropy_with_logits(x, t * (1 - s))` (and
    `kloss.BinaryCrossentropy(from_logits=True)` with targets `t * (1 - s)`). TF-GAN's
    `minimax_discriminator_loss` defaults to `label_smoothing=0.25` and smooths towards 1/2
    (targets `1 - s_tfgan / 2`), so its default is kloss's `label_smoothing=0.125`; it
    returns the sum of the means over the real and the generated batch, which is
    `discriminator_loss(real, fake)`, twice this loss on the two batches concatenated (of
    equal sizes). MONAI's `PatchAdversarialLoss(criterion="bce")` takes the raw outputs,
    applies a sigmoid and clamps each log at -100, so it equals this loss only for
    `|x| < ~16` (see tests/test_adversarial.py).

    Args:
        label_smoothing: `s` in `[0, 1)`: real samples' target is `1 - s`. Default 0.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: 1 for a real sample, 0 for a generated one, the shape of `y_pred` (or without
            its trailing axis 1); values in between mix the two terms linearly.
        y_pred: the discriminator's logits `(B, ..., d)`, e.g. `(B, 1)` or a PatchGAN's
            `(B, h, w, 1)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.MinimaxDiscriminator()
        >>> round(float(loss([[1.0], [0.0]], [[2.0], [-1.0]])), 4)
        0.2201
    """

    hyperparameters = ("label_smoothing",)

    def __init__(self, label_smoothing=0.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.label_smoothing = _smoothing(type(self).__name__, label_smoothing)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _discriminator_elements("minimax")


@register
def minimax_generator(y_true, y_pred, *, non_saturating=True):
    """Minimax generator loss averaged over the last axis; see `MinimaxGenerator`.

    `y_true` is ignored (any array of the shape of `y_pred`). Returns one value per sample,
    shape `y_pred.shape[:-1]`.
    """
    owner = "minimax_generator"
    hyper = dict(non_saturating=check_bool(owner, "non_saturating", non_saturating))
    return elementwise_loss(owner, _generator_elements("minimax"), y_true, y_pred, **hyper)


@register
class MinimaxGenerator(ElementwiseLoss):
    """The minimax GAN generator loss (Goodfellow et al. 2014), from the discriminator's logits.

    Per output element `x = logit D(G(z))`, averaged over the last axis:

    - `non_saturating=True` (default): `-log sigmoid(x) = softplus(-x)`, the generator
      maximizes `log D(G(z))` (the heuristic of the paper, TF-GAN's
      `modified_generator_loss`, exactly);
    - `non_saturating=False`: `log(1 - sigmoid(x)) = -softplus(x)`, the generator minimizes
      the discriminator's objective (the minimax game as written). Its gradient vanishes
      where the discriminator rejects the samples (`x -> -inf`, where the loss is exactly 0
      with gradient 0); it is negative and decreases without bound as `x` grows. TF-GAN's
      `minimax_generator_loss` is this minus the constant `log(1 + e^-1)` (it evaluates
      the discriminator loss with real logits of 1).

    Both are exact for logits of +-1e4.

    Args:
        non_saturating: use `-log D(G(z))` (True) or `log(1 - D(G(z)))` (False).
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: ignored: any array of the shape of `y_pred` (or without its trailing axis
            1), conventionally ones (the generator wants its samples labelled real).
        y_pred: the discriminator's logits on generated samples `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.MinimaxGenerator()
        >>> round(float(loss([[1.0], [1.0]], [[0.0], [-3.0]])), 4)
        1.8709
    """

    hyperparameters = ("non_saturating",)

    def __init__(self, non_saturating=True, reduction="sum_over_batch_size", name=None, dtype=None):
        self.non_saturating = check_bool(type(self).__name__, "non_saturating", non_saturating)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _generator_elements("minimax")


# --------------------------------------------------------------------------- least squares


@register
def least_squares_discriminator(y_true, y_pred, *, real_target=1.0, fake_target=0.0):
    """Least-squares discriminator loss averaged over the last axis; see
    `LeastSquaresDiscriminator`."""
    owner = "least_squares_discriminator"
    hyper = _targets(owner, real_target, fake_target)
    return elementwise_loss(
        owner, _discriminator_elements("least_squares"), y_true, y_pred, **hyper
    )


@register
class LeastSquaresDiscriminator(ElementwiseLoss):
    """The least-squares GAN discriminator loss (Mao et al. 2017, LSGAN).

    Per output element `x` (the discriminator's raw output, no activation), with
    `t = y_true`, `b = real_target` and `a = fake_target`, averaged over the last axis:

        t * (x - b) ** 2 / 2 + (1 - t) * (x - a) ** 2 / 2

    The factors 1/2 are the paper's: its discriminator objective is
    `1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]`, which is
    `discriminator_loss(real, fake, objective="least_squares")` exactly (and TF-GAN's
    `least_squares_discriminator_loss`, same targets); this loss on the real and generated
    batches concatenated (equal sizes) is half of it. Mao et al. use `a = 0, b = 1, c = 1`
    (the default) or `a = -1, b = 1, c = 0` (`c` the generator's target). Plain MSE
    variants (pix2pix / CycleGAN, MONAI's `PatchAdversarialLoss(criterion="least_squares",
    no_activation_leastsq=True)`) are twice this; MONAI's default also applies a
    LeakyReLU(0.05) to the outputs first.

    Args:
        real_target: `b`, the output the discriminator is pushed to on real samples.
        fake_target: `a`, on generated samples; must differ from `real_target`.
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: 1 for a real sample, 0 for a generated one (not the targets `a`, `b`), the
            shape of `y_pred` (or without its trailing axis 1).
        y_pred: the discriminator's raw outputs `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.LeastSquaresDiscriminator()
        >>> round(float(loss([[1.0], [0.0]], [[0.5], [0.5]])), 4)
        0.125
    """

    hyperparameters = ("real_target", "fake_target")

    def __init__(
        self,
        real_target=1.0,
        fake_target=0.0,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self.__dict__.update(_targets(type(self).__name__, real_target, fake_target))
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _discriminator_elements("least_squares")


@register
def least_squares_generator(y_true, y_pred, *, target=1.0):
    """Least-squares generator loss averaged over the last axis; see `LeastSquaresGenerator`.

    `y_true` is ignored (any array of the shape of `y_pred`)."""
    owner = "least_squares_generator"
    hyper = dict(target=check_number(owner, "target", target))
    return elementwise_loss(owner, _generator_elements("least_squares"), y_true, y_pred, **hyper)


@register
class LeastSquaresGenerator(ElementwiseLoss):
    """The least-squares GAN generator loss (Mao et al. 2017, LSGAN).

    Per output element `x = D(G(z))`, averaged over the last axis: `(x - c) ** 2 / 2`, with
    `c = target`, the value the generator wants the discriminator to output on its samples
    (the paper's factor 1/2; TF-GAN's `least_squares_generator_loss(real_label=c)`
    exactly; MONAI's `PatchAdversarialLoss(criterion="least_squares",
    no_activation_leastsq=True)` for the generator is twice this).

    Args:
        target: `c`, default 1 (the discriminator's real target). Mao et al.'s second
            setting uses `c = 0` with discriminator targets `-1` (fake) and `1` (real).
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: ignored: any array of the shape of `y_pred` (or without its trailing axis
            1), conventionally ones.
        y_pred: the discriminator's raw outputs on generated samples `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.LeastSquaresGenerator()
        >>> round(float(loss([[1.0], [1.0]], [[0.0], [3.0]])), 4)
        1.25
    """

    hyperparameters = ("target",)

    def __init__(self, target=1.0, reduction="sum_over_batch_size", name=None, dtype=None):
        self.target = check_number(type(self).__name__, "target", target)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _generator_elements("least_squares")


# --------------------------------------------------------------------------- wasserstein


@register
def wasserstein_critic(y_true, y_pred):
    """Wasserstein critic loss averaged over the last axis; see `WassersteinCritic`."""
    owner = "wasserstein_critic"
    return elementwise_loss(owner, _discriminator_elements("wasserstein"), y_true, y_pred)


@register
class WassersteinCritic(ElementwiseLoss):
    """The Wasserstein GAN critic loss (Arjovsky et al. 2017).

    Per output element `x` (the critic's raw score), with `t = y_true`, averaged over the
    last axis: `(1 - 2 t) * x`, i.e. `-x` on a real sample and `x` on a generated one. The
    critic objective `E[D(G(z))] - E[D(x)]` is `discriminator_loss(real, fake,
    objective="wasserstein")` (TF-GAN's `wasserstein_discriminator_loss`); this loss on the
    two batches concatenated (equal sizes) is half of it.

    The loss is linear and unbounded below: it estimates the Wasserstein distance only if
    the critic is (about) 1-Lipschitz, and that constraint is the model's job: clip its
    weights (Arjovsky et al.), add a gradient penalty in a custom `train_step` (Gulrajani
    et al. 2017; it needs the backend's autodiff, which `keras.ops` does not expose, so
    kloss provides none) or use spectral normalization
    (`keras.layers.SpectralNormalization`).

    Args:
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: 1 for a real sample, 0 for a generated one, the shape of `y_pred` (or without
            its trailing axis 1).
        y_pred: the critic's scores `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.WassersteinCritic()
        >>> round(float(loss([[1.0], [0.0]], [[2.0], [-1.0]])), 4)
        -1.5
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _discriminator_elements("wasserstein")


@register
def wasserstein_generator(y_true, y_pred):
    """Wasserstein generator loss `-D(G(z))` averaged over the last axis; see
    `WassersteinGenerator`. `y_true` is ignored."""
    owner = "wasserstein_generator"
    return elementwise_loss(owner, _generator_elements("wasserstein"), y_true, y_pred)


@register
class WassersteinGenerator(ElementwiseLoss):
    """The Wasserstein GAN generator loss (Arjovsky et al. 2017): `-D(G(z))`.

    Per output element `x` (the critic's score on a generated sample), averaged over the
    last axis: `-x`. Equals TF-GAN's `wasserstein_generator_loss`. Linear and unbounded
    below: it is meaningful only against a (near) 1-Lipschitz critic (see
    `WassersteinCritic`). The same generator loss serves the hinge objective
    (`HingeGenerator`).

    Args:
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: ignored: any array of the shape of `y_pred` (or without its trailing axis
            1), conventionally ones.
        y_pred: the critic's scores on generated samples `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.WassersteinGenerator()
        >>> round(float(loss([[1.0], [1.0]], [[2.0], [-1.0]])), 4)
        -0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _generator_elements("wasserstein")


# --------------------------------------------------------------------------- hinge


@register
def hinge_discriminator(y_true, y_pred):
    """Hinge discriminator loss averaged over the last axis; see `HingeDiscriminator`."""
    owner = "hinge_discriminator"
    return elementwise_loss(owner, _discriminator_elements("hinge"), y_true, y_pred)


@register
class HingeDiscriminator(ElementwiseLoss):
    """The hinge GAN discriminator loss (Lim & Ye 2017; Miyato et al. 2018, SN-GAN).

    Per output element `x` (the discriminator's raw score), with `t = y_true`, averaged
    over the last axis:

        t * relu(1 - x) + (1 - t) * relu(1 + x)

    The objective `E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]` is `discriminator_loss(real,
    fake, objective="hinge")` (TF-GAN's `wasserstein_hinge_discriminator_loss` with its
    default hinges 1); this loss on the two batches concatenated (equal sizes) is half of
    it. The gradient at the kink `x = +-1` is 0 on every backend. MONAI's
    `PatchAdversarialLoss(criterion="hinge")` applies a tanh to the outputs first: its
    real and fake terms are this loss's on `tanh(x)`.

    Args:
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: 1 for a real sample, 0 for a generated one, the shape of `y_pred` (or without
            its trailing axis 1).
        y_pred: the discriminator's scores `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.HingeDiscriminator()
        >>> round(float(loss([[1.0], [0.0]], [[0.5], [-2.0]])), 4)
        0.25
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _discriminator_elements("hinge")


@register
def hinge_generator(y_true, y_pred):
    """Hinge generator loss `-D(G(z))` averaged over the last axis; see `HingeGenerator`.
    `y_true` is ignored."""
    owner = "hinge_generator"
    return elementwise_loss(owner, _generator_elements("hinge"), y_true, y_pred)


@register
class HingeGenerator(ElementwiseLoss):
    """The hinge GAN generator loss (Lim & Ye 2017; Miyato et al. 2018): `-D(G(z))`.

    Per output element `x` (the discriminator's score on a generated sample), averaged over
    the last axis: `-x`, the same as `WassersteinGenerator` (TF-GAN's
    `wasserstein_hinge_generator_loss` is its `wasserstein_generator_loss`); unbounded
    below. MONAI's `PatchAdversarialLoss(criterion="hinge", for_discriminator=False)`
    instead returns `mean(relu(1 - tanh(x)))`, which is `1 - mean(tanh(x))`: this loss on
    `tanh(x)`, plus 1.

    Args:
        reduction: as in `MinimaxDiscriminator`.
        name: as in `MinimaxDiscriminator`.
        dtype: as in `MinimaxDiscriminator`.

    Call arguments:
        y_true: ignored: any array of the shape of `y_pred` (or without its trailing axis
            1), conventionally ones.
        y_pred: the discriminator's scores on generated samples `(B, ..., d)`.
        sample_weight: `(B,)`, `(B, 1)`, one per loss entry, or per element.

    Example:
        >>> loss = kloss.HingeGenerator()
        >>> round(float(loss([[1.0], [1.0]], [[0.5], [-2.0]])), 4)
        0.75
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._elements = _generator_elements("hinge")


# --------------------------------------------------------------------------- scalar objectives

_DISCRIMINATOR_OPTIONS = {
    "minimax": ("label_smoothing",),
    "least_squares": ("real_target", "fake_target"),
    "wasserstein": (),
    "hinge": (),
}
_GENERATOR_OPTIONS = {
    "minimax": ("non_saturating",),
    "least_squares": ("target",),
    "wasserstein": (),
    "hinge": (),
}


def _options(owner, objective, given, allowed):
    """The options `given` (not None) checked against those the objective takes."""
    for name, value in given.items():
        if value is not None and name not in allowed[objective]:
            takes = [o for o, names in allowed.items() if name in names]
            raise ValueError(
                f"{owner}: `{name}` applies to objective={takes[0]!r} only. Received: "
                f"{name}={value!r}, objective={objective!r}."
            )
    return {name: value for name, value in given.items() if value is not None}


def _outputs(x):
    x = ops.convert_to_tensor(x)
    out = float_dtype(x)
    return ops.cast(x, compute_dtype(out)), out


def discriminator_loss(
    real_output,
    fake_output,
    *,
    objective="minimax",
    label_smoothing=None,
    real_target=None,
    fake_target=None,
):
    """The discriminator's (critic's) GAN objective, a scalar, for a custom training step.

    `mean(real_term(real_output)) + mean(fake_term(fake_output))`, each mean over every
    element of its batch (which may differ in size), with the terms of the objective's
    Loss class:

    | objective | real_term(x) | fake_term(x) | Loss class |
    |---|---|---|---|
    | `"minimax"` | `(1-s) softplus(-x) + s softplus(x)` | `softplus(x)` | `MinimaxDiscriminator` |
    | `"least_squares"` | `(x - b)^2 / 2` | `(x - a)^2 / 2` | `LeastSquaresDiscriminator` |
    | `"wasserstein"` | `-x` | `x` | `WassersteinCritic` |
    | `"hinge"` | `relu(1 - x)` | `relu(1 + x)` | `HingeDiscriminator` |

    These are the papers' objectives and TF-GAN's `*_discriminator_loss` (same
    hyperparameters; TF-GAN's minimax smoothing is twice kloss's `label_smoothing`). In terms
    of the Loss object `L` (default reduction): `L(ones, real_output) + L(zeros,
    fake_output)`; for equal batch sizes, twice `L` on the concatenated batch
    `L(concat([ones, zeros]), concat([real_output, fake_output]))`.

    Args:
        real_output: the discriminator's raw outputs (logits for `"minimax"`) on real
            samples, any shape `(B, ...)`.
        fake_output: its outputs on generated samples, any shape `(B', ...)`.
        objective: `"minimax"` (default), `"least_squares"`, `"wasserstein"` or `"hinge"`.
        label_smoothing: `"minimax"` only: one-sided smoothing `s` in `[0, 1)`, default 0.
        real_target: `"least_squares"` only: the target `b` of real samples, default 1.
        fake_target: `"least_squares"` only: the target `a` of generated samples,
            default 0.

    Returns:
        A scalar in the dtype of `real_output` (float32 math for 16-bit inputs).
    """
    owner = "discriminator_loss"
    objective = check_option(owner, "objective", objective, OBJECTIVES)
    given = dict(label_smoothing=label_smoothing, real_target=real_target, fake_target=fake_target)
    hyper = _options(owner, objective, given, _DISCRIMINATOR_OPTIONS)
    if objective == "minimax":
        hyper = dict(label_smoothing=_smoothing(owner, hyper.get("label_smoothing", 0.0)))
    elif objective == "least_squares":
        hyper = _targets(owner, hyper.get("real_target", 1.0), hyper.get("fake_target", 0.0))
    real, out_dtype = _outputs(real_output)
    fake, _ = _outputs(fake_output)
    fake = ops.cast(fake, real.dtype)
    real_term, fake_term = _DISCRIMINATOR_TERMS[objective]
    loss = ops.mean(real_term(real, **hyper)) + ops.mean(fake_term(fake, **hyper))
    return ops.cast(loss, out_dtype)


def generator_loss(fake_output, *, objective="minimax", non_saturating=None, target=None):
    """The generator's GAN objective, a scalar, for a custom training step.

    `mean(term(fake_output))` over every element, with the term of the objective's Loss
    class: `"minimax"`: `softplus(-x)` (`non_saturating=True`, the default) or
    `-softplus(x)`; `"least_squares"`: `(x - c)^2 / 2`; `"wasserstein"` and `"hinge"`:
    `-x`. It equals the Loss object with its default reduction on `(ones, fake_output)`
    (`MinimaxGenerator`, `LeastSquaresGenerator`, `WassersteinGenerator`, `HingeGenerator`).

    Args:
        fake_output: the discriminator's raw outputs (logits for `"minimax"`) on generated
            samples, any shape `(B, ...)`.
        objective: `"minimax"` (default), `"least_squares"`, `"wasserstein"` or `"hinge"`.
        non_saturating: `"minimax"` only: `-log D(G(z))` (True, default) or
            `log(1 - D(G(z)))`.
        target: `"least_squares"` only: `c`, default 1.

    Returns:
        A scalar in the dtype of `fake_output` (float32 math for 16-bit inputs).
    """
    owner = "generator_loss"
    objective = check_option(owner, "objective", objective, OBJECTIVES)
    given = dict(non_saturating=non_saturating, target=target)
    hyper = _options(owner, objective, given, _GENERATOR_OPTIONS)
    if objective == "minimax":
        hyper = dict(
            non_saturating=check_bool(owner, "non_saturating", hyper.get("non_saturating", True))
        )
    elif objective == "least_squares":
        hyper = dict(target=check_number(owner, "target", hyper.get("target", 1.0)))
    fake, out_dtype = _outputs(fake_output)
    return ops.cast(ops.mean(_GENERATOR_TERMS[objective](fake, **hyper)), out_dtype)

"""NumPy float64 references for the adversarial (GAN) losses, written from the papers.

`t` is 1 for a real sample and 0 for a generated one; `x` the discriminator's raw output
(a logit where the objective needs a probability, `D = sigmoid(x)`). Each per-element term
is averaged over the last axis (rank-1 inputs: one term per sample). Nothing here imports
kloss.

- Goodfellow et al. 2014: the discriminator minimizes `-log D(x) - log(1 - D(G(z)))`; the
  generator `log(1 - D(G(z)))` (saturating) or `-log D(G(z))` (non-saturating). One-sided
  label smoothing (Salimans et al. 2016): the real target becomes `1 - s`.
- Mao et al. 2017 (LSGAN): `1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2`, generator
  `1/2 (D(G(z)) - c)^2`.
- Arjovsky et al. 2017 (WGAN): critic `D(G(z)) - D(x)`, generator `-D(G(z))`.
- Lim & Ye 2017, Miyato et al. 2018 (hinge): `max(0, 1 - D(x)) + max(0, 1 + D(G(z)))`,
  generator `-D(G(z))`.
"""

import numpy as np


def _f64(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _mean_last(x):
    return x if x.ndim < 2 else x.mean(axis=-1)


def _align(t, x):
    """`t` broadcast to the shape of `x` (it may lack or add a trailing axis of 1)."""
    if t.ndim + 1 == x.ndim:
        t = t[..., None]
    elif t.ndim == x.ndim + 1:
        t = t[..., 0]
    return np.broadcast_to(t, x.shape)


def _log_sigmoid(x):
    """log(1 / (1 + exp(-x))), exact for any x (including +-inf)."""
    return -np.logaddexp(0.0, -x)


def _times(a, b):
    """a * b with 0 * inf = 0 (a zero weight on an infinite term)."""
    with np.errstate(invalid="ignore"):
        return np.where(a == 0, 0.0, a * b)


def _mix(t, real, fake):
    return _times(t, real) + _times(1.0 - t, fake)


def minimax_discriminator(y_true, y_pred, label_smoothing=0.0):
    t, x = _f64(y_true, y_pred)
    t = _align(t, x)
    s = label_smoothing
    # Binary cross-entropy against target 1 - s for real, 0 for fake samples.
    real = _times(1.0 - s, -_log_sigmoid(x)) + _times(s, -_log_sigmoid(-x))
    fake = -_log_sigmoid(-x)  # -log(1 - sigmoid(x)) = -log sigmoid(-x)
    return _mean_last(_mix(t, real, fake))


def minimax_generator(y_true, y_pred, non_saturating=True):
    (x,) = _f64(y_pred)
    if non_saturating:
        return _mean_last(-_log_sigmoid(x))
    return _mean_last(_log_sigmoid(-x))  # log(1 - D) = log sigmoid(-x)


def least_squares_discriminator(y_true, y_pred, real_target=1.0, fake_target=0.0):
    t, x = _f64(y_true, y_pred)
    t = _align(t, x)
    real = 0.5 * (x - real_target) ** 2
    fake = 0.5 * (x - fake_target) ** 2
    return _mean_last(_mix(t, real, fake))


def least_squares_generator(y_true, y_pred, target=1.0):
    (x,) = _f64(y_pred)
    return _mean_last(0.5 * (x - target) ** 2)


def wasserstein_critic(y_true, y_pred):
    t, x = _f64(y_true, y_pred)
    t = _align(t, x)
    return _mean_last(_mix(t, -x, x))


def wasserstein_generator(y_true, y_pred):
    (x,) = _f64(y_pred)
    return _mean_last(-x)


def hinge_discriminator(y_true, y_pred):
    t, x = _f64(y_true, y_pred)
    t = _align(t, x)
    return _mean_last(_mix(t, np.maximum(0.0, 1.0 - x), np.maximum(0.0, 1.0 + x)))


def hinge_generator(y_true, y_pred):
    (x,) = _f64(y_pred)
    return _mean_last(-x)


# --------------------------------------------------------------------------- scalar objectives

DISCRIMINATORS = {
    "minimax": minimax_discriminator,
    "least_squares": least_squares_discriminator,
    "wasserstein": wasserstein_critic,
    "hinge": hinge_discriminator,
}
GENERATORS = {
    "minimax": minimax_generator,
    "least_squares": least_squares_generator,
    "wasserstein": wasserstein_generator,
    "hinge": hinge_generator,
}


def discriminator_objective(real, fake, objective, **options):
    """E over real samples of the real term + E over generated samples of the fake term."""
    real, fake = _f64(real, fake)
    ref = DISCRIMINATORS[objective]
    real_terms = ref(np.ones(real.shape + (1,)), real[..., None], **options)
    fake_terms = ref(np.zeros(fake.shape + (1,)), fake[..., None], **options)
    return real_terms.mean() + fake_terms.mean()


def generator_objective(fake, objective, **options):
    (fake,) = _f64(fake)
    return GENERATORS[objective](None, fake[..., None], **options).mean()

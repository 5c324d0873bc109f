"""The loss gallery: each kloss loss and its derivative along a 1-D sweep of fixed inputs.

`write(out_dir)` draws `out_dir/gallery/<ClassName>.png` for every loss class of
`kloss.__all__` and the page `out_dir/gallery.md` that shows them, grouped by family (the
module the class comes from, in the order of `kloss/__init__.py`). Everything is computed by
kloss itself on the current Keras backend, so regenerating the docs redraws the pictures
from the code:

- the value is the loss with its default reduction on the fixed inputs at each point `t`
  of the sweep (one sample, or the small batch that an in-batch loss needs);
- the derivative `d loss / d t` is `<d loss / d y_pred, d y_pred / d t>`: the backend's
  autodiff gradient (`kloss.testing.autodiff.value_and_grad`) by the chain rule along the
  sweep direction, so at a kink it is the (sub)gradient that training sees. The numpy
  backend has no autodiff: there the derivative is a central finite difference of the
  loss's values (see `finite_difference`), and the caption says so.

Where a loss is per sample (its value on a sample does not depend on the rest of the batch),
the whole sweep runs as one batch; in-batch losses (mining, contrastive) run once per point.
"""

import dataclasses
import math
import pathlib
from collections.abc import Callable

import keras
import numpy as np

import kloss
from kloss.testing.autodiff import to_numpy, value_and_grad

N_POINTS = 101

# --------------------------------------------------------------------------- specs


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one loss is drawn.

    `make(t)` turns a sweep value `t` (a Python float) into NumPy `(y_true, y_pred)`: one
    sample when `per_sample`, else the whole (small) batch the loss sees. `y_pred` is
    float64 (cast to the loss's dtype when evaluated); integer `y_true` stays integer.
    """

    cls: type
    make: Callable
    lo: float
    hi: float
    xlabel: str
    swept: str
    fixed: str
    kwargs: dict = dataclasses.field(default_factory=dict)
    # (x, label) vertical markers: kinks, margins, minima.
    marks: tuple = ()
    per_sample: bool = True
    # A callable (reduction, dtype) -> loss, for losses built from other losses (Combined).
    build: Callable | None = None
    title: str | None = None

    @property
    def name(self):
        return self.cls.__name__

    @property
    def family(self):
        return self.cls.__module__.rsplit(".", 1)[-1]

    @property
    def grid(self):
        return np.linspace(self.lo, self.hi, N_POINTS)

    def loss(self, reduction="sum_over_batch_size", dtype="float32"):
        if self.build is not None:
            return self.build(reduction, dtype)
        return self.cls(**self.kwargs, reduction=reduction, dtype=dtype)

    def label(self):
        if self.title is not None:
            return self.title
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"

    def inputs(self, ts):
        """(y_true, y_pred) for the sweep values `ts`: the samples stacked along the batch
        axis when `per_sample`, else a list of one batch per value."""
        pairs = [self.make(float(t)) for t in np.atleast_1d(ts)]
        if not self.per_sample:
            return pairs
        return tuple(np.concatenate([np.asarray(p[i]) for p in pairs]) for i in (0, 1))

    def tangent(self, ts):
        """d y_pred / d t at each sweep value (float64 central difference of `make`, exact
        up to rounding for the affine sweeps and to ~1e-10 for the others)."""
        h = 1e-6 * max(1.0, self.hi - self.lo)
        ts = np.atleast_1d(np.asarray(ts, np.float64))
        if self.per_sample:
            return (self.inputs(ts + h)[1] - self.inputs(ts - h)[1]) / (2 * h)
        up, down = self.inputs(ts + h), self.inputs(ts - h)
        return [
            (np.asarray(u[1]) - np.asarray(d[1])) / (2 * h) for u, d in zip(up, down, strict=True)
        ]


def _f(*rows):
    return np.array(rows, np.float64)


def _circle(angles):
    """Unit 2-D vectors at the given angles (radians), float64 `(len(angles), 2)`."""
    a = np.asarray(angles, np.float64)
    return np.stack([np.cos(a), np.sin(a)], axis=-1)


# ---- regression: the error y_pred - y_true, one scalar sample


def _error(t):
    return _f([0.5]), _f([0.5 + t])


def _regression():
    err = dict(
        make=_error,
        lo=-3.0,
        hi=3.0,
        xlabel="error  y_pred - y_true",
        swept="the error `y_pred - y_true` from -3 to 3",
        fixed="one scalar sample, `y_true = 0.5`",
    )
    return [
        Spec(kloss.MeanSquaredError, **err),
        Spec(kloss.MeanAbsoluteError, **err, marks=((0.0, "kink"),)),
        Spec(kloss.Huber, **err, marks=((-1.0, "-delta"), (1.0, "delta"))),
        Spec(kloss.LogCosh, **err),
        Spec(kloss.Pinball, **err, kwargs={"quantile": 0.8}, marks=((0.0, "kink"),)),
        Spec(
            kloss.Poisson,
            make=lambda t: (_f([2.0]), _f([t])),
            lo=0.05,
            hi=6.0,
            xlabel="predicted rate  y_pred",
            swept="the predicted rate `y_pred` from 0.05 to 6",
            fixed="one sample with count `y_true = 2`",
            marks=((2.0, "y_true"),),
        ),
        Spec(
            kloss.CosineProximity,
            make=lambda t: (_f([1.0, 0.0]), _circle([t])),
            lo=-math.pi,
            hi=math.pi,
            xlabel="angle between y_pred and y_true (rad)",
            swept="the angle of the unit vector `y_pred = (cos t, sin t)` from -pi to pi",
            fixed="`y_true = (1, 0)`",
        ),
    ]


# ---- classification: the true class's logit (or probability)


def _classification():
    logit = dict(
        lo=-6.0,
        hi=6.0,
        xlabel="logit of the true class",
        kwargs={"from_logits": True},
    )
    binary = dict(
        **logit,
        make=lambda t: (_f([1.0]), _f([t])),
        swept="the logit of a positive label from -6 to 6",
        fixed="one sample, `y_true = 1`",
    )
    three = "3 classes, true class 0, the other logits fixed at 0.5 and -0.5"
    categorical = dict(
        **logit,
        make=lambda t: (_f([1.0, 0.0, 0.0]), _f([t, 0.5, -0.5])),
        swept="the logit of the true class from -6 to 6",
        fixed=f"one sample, {three} (one-hot `y_true`)",
    )
    sparse = dict(
        **logit,
        make=lambda t: (np.array([0], np.int32), _f([t, 0.5, -0.5])),
        swept="the logit of the true class from -6 to 6",
        fixed=f"one sample, {three} (integer label 0)",
    )
    score = dict(
        make=lambda t: (_f([1.0]), _f([t])),
        lo=-3.0,
        hi=3.0,
        xlabel="score  y_pred  (y_true = 1)",
        swept="the score of a positive label from -3 to 3",
        fixed="one sample, `y_true = 1`",
        marks=((1.0, "margin"),),
    )
    return [
        Spec(kloss.BinaryCrossentropy, **binary),
        Spec(kloss.BinaryFocalCrossentropy, **binary),
        Spec(kloss.CategoricalCrossentropy, **categorical),
        Spec(kloss.CategoricalFocalCrossentropy, **categorical),
        Spec(kloss.SparseCategoricalCrossentropy, **sparse),
        Spec(kloss.SparseCategoricalFocalCrossentropy, **sparse),
        Spec(
            kloss.KLDivergence,
            make=lambda t: (_f([0.6, 0.3, 0.1]), _f([t, 0.75 * (1 - t), 0.25 * (1 - t)])),
            lo=0.02,
            hi=0.98,
            xlabel="predicted probability of class 0",
            swept="the predicted probability `q_0` from 0.02 to 0.98, the rest split 3:1",
            fixed="`y_true = (0.6, 0.3, 0.1)`",
            marks=((0.6, "y_true"),),
        ),
        Spec(kloss.Hinge, **score),
        Spec(kloss.SquaredHinge, **score),
        Spec(
            kloss.CategoricalHinge,
            make=lambda t: (_f([1.0, 0.0, 0.0]), _f([t, 0.5, -0.5])),
            lo=-3.0,
            hi=3.0,
            xlabel="score of the true class",
            swept="the score of the true class from -3 to 3",
            fixed="one sample, 3 classes, the other scores 0.5 and -0.5",
            marks=((1.5, "kink"),),
        ),
    ]


# ---- ranking, mining, contrastive: distances and angles of a positive pair


def _in_batch_circle(t):
    """Labels (0, 0, 1, 1) and unit embeddings at angles (0, t, 2.0, 2.5)."""
    return np.array([0, 0, 1, 1], np.int32), _circle([0.0, t, 2.0, 2.5])


def _views(t):
    """3 samples, 2 views each: u at angles (0, 2.1, 4.2), v at (t, 2.3, 4.0)."""
    u = _circle([0.0, 2.1, 4.2])
    v = _circle([t, 2.3, 4.0])
    return np.zeros((3,), np.float64), np.stack([u, v], axis=1)


IN_BATCH_FIXED = (
    "a batch of 4 unit embeddings in 2-D with labels (0, 0, 1, 1): rows 0, 2, 3 at angles "
    "0, 2.0, 2.5 rad; the value is the batch loss (mean over rows)"
)
VIEWS_FIXED = (
    "3 samples of 2 unit views each, u at angles (0, 2.1, 4.2) and the other v at 2.3, 4.0; "
    "the value is the batch loss (mean over rows)"
)


def _ranking_family():
    angle = dict(
        make=_in_batch_circle,
        lo=0.0,
        hi=math.pi,
        per_sample=False,
        xlabel="angle of row 1 from its positive row 0 (rad)",
        swept="the angle of row 1 (label 0) from its positive, row 0, from 0 to pi",
        fixed=IN_BATCH_FIXED,
        marks=((2.0, "negatives"), (2.5, "")),
    )
    views = dict(
        make=_views,
        lo=0.0,
        hi=math.pi,
        per_sample=False,
        xlabel="angle between the two views of sample 0 (rad)",
        swept="the angle of sample 0's second view from its first, from 0 to pi",
        fixed=VIEWS_FIXED,
        marks=((2.1, "u of sample 1"),),
    )
    margin_kink = math.sqrt(1.2**2 - 1.0)
    return [
        Spec(
            kloss.Contrastive,
            make=lambda t: (_f([1.0, 0.0]), _f([0.3, t])),
            lo=0.0,
            hi=2.0,
            xlabel="distance of the dissimilar pair",
            swept="the distance of a dissimilar pair (label 0) from 0 to 2",
            fixed="one sample of two pairs: a similar pair at distance 0.3, mean over the pairs",
            marks=((1.0, "margin"),),
        ),
        Spec(
            kloss.Triplet,
            make=lambda t: (_f(0.0), np.array([[[0.0, 0.0], [t, 0.0], [0.0, 1.2]]])),
            lo=0.0,
            hi=2.0,
            xlabel="anchor-positive distance",
            swept="the anchor-positive distance from 0 to 2 (positive at (t, 0))",
            fixed="one triplet in 2-D: anchor (0, 0), negative (0, 1.2); squared Euclidean",
            marks=((margin_kink, "hinge"),),
        ),
        Spec(
            kloss.MarginRanking,
            make=lambda t: (_f(1.0), _f([t, 0.0])),
            lo=-2.0,
            hi=2.0,
            xlabel="score difference  x1 - x2  (y = 1)",
            swept="the first score `x1` from -2 to 2",
            fixed="one pair, `x2 = 0`, label 1 (x1 should rank higher)",
            marks=((0.0, "margin"),),
        ),
        Spec(kloss.TripletSemiHard, **angle),
        Spec(kloss.TripletHard, **angle),
        Spec(kloss.LiftedStructure, **angle),
        Spec(kloss.MultiSimilarity, **angle),
        Spec(kloss.NPairs, **angle),
        Spec(kloss.NTXent, **views),
        Spec(kloss.InfoNCE, **views),
        Spec(kloss.SupervisedContrastive, **angle),
        Spec(kloss.SigLIP, **views),
    ]


# ---- segmentation and Lovasz: foreground probability (or logit) on a small mask

_MASK = np.zeros((4, 4), bool)
_MASK[:2, :2] = True


def _seg_probs(t):
    """Integer labels (1, 4, 4) with a 2x2 foreground square; two-class probabilities with
    foreground probability t on the square and 0.2 elsewhere."""
    labels = _MASK.astype(np.int32)[None]
    fg = np.where(_MASK, t, 0.2)
    return labels, np.stack([1.0 - fg, fg], axis=-1)[None]


def _seg_logits(t):
    labels = _MASK.astype(np.int32)[None]
    fg = np.where(_MASK, t, -1.0)
    return labels, np.stack([np.zeros_like(fg), fg], axis=-1)[None]


SEG_FIXED = (
    "one 4x4 image, 2 classes, a 2x2 foreground square (integer labels); foreground "
    "probability 0.2 on the background pixels"
)


def _dice_plus_ce(reduction, dtype):
    terms = [kloss.Dice(dtype=dtype), kloss.PixelwiseCrossentropy(dtype=dtype)]
    return kloss.Combined(terms, weights=[1.0, 0.5], reduction=reduction, dtype=dtype)


def _segmentation():
    prob = dict(
        make=_seg_probs,
        lo=0.0,
        hi=1.0,
        xlabel="foreground probability on the true mask",
        swept="the predicted foreground probability on the 4 foreground pixels from 0 to 1",
        fixed=SEG_FIXED,
    )
    return [
        Spec(kloss.PixelwiseCrossentropy, **{**prob, "lo": 0.02}),
        Spec(kloss.Dice, **prob),
        Spec(kloss.Jaccard, **prob),
        Spec(kloss.Tversky, **prob, kwargs={"alpha": 0.3, "beta": 0.7}),
        Spec(kloss.FocalTversky, **prob),
        Spec(kloss.GeneralizedDice, **prob),
        Spec(
            kloss.Lovasz,
            make=_seg_logits,
            lo=-4.0,
            hi=4.0,
            xlabel="foreground logit on the true mask",
            swept="the foreground logit on the 4 foreground pixels from -4 to 4",
            fixed=(
                "one 4x4 image, 2 classes (softmax of logits), a 2x2 foreground square; "
                "logits (0, -1) on the background pixels, background logit 0 everywhere"
            ),
            marks=((-1.0, "= background pixels"),),
        ),
        Spec(
            kloss.Combined,
            **{**prob, "lo": 0.02},
            build=_dice_plus_ce,
            title="Dice() + 0.5 * PixelwiseCrossentropy()",
        ),
    ]


# ---- image: noise added to a fixed image


def _base_image(size, channels=1, seed=0):
    """A smooth pattern in [0.2, 0.8] (float64, (1, H, W, C))."""
    h, w = size
    y, x = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    img = 0.5 + 0.3 * np.sin(2 * math.pi * x) * np.cos(3 * math.pi * y)
    img = np.repeat(img[None, ..., None], channels, axis=-1)
    shift = np.random.default_rng(seed).uniform(-0.1, 0.1, size=(channels,))
    return img + shift


def _noise(size, channels=1, seed=1):
    return np.random.default_rng(seed).normal(size=(1, *size, channels))


def _noisy(size, channels=1):
    base, noise = _base_image(size, channels), _noise(size, channels)
    return lambda t: (base, base + t * noise)


def _tiny_extractor(dtype="float32"):
    """A fixed, seeded conv3x3-relu, conv3x3 feature extractor for 8x8x3 images (weights
    drawn with NumPy, so they are the same on every backend; nothing is downloaded)."""
    inputs = keras.Input((8, 8, 3), dtype=dtype)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", dtype=dtype)(inputs)
    x = keras.layers.Conv2D(3, 3, padding="same", dtype=dtype)(x)
    model = keras.Model(inputs, x, name="tiny_extractor")
    rng = np.random.default_rng(10)
    model.set_weights([rng.normal(scale=0.3, size=w.shape) for w in model.get_weights()])
    return model


def _perceptual(reduction, dtype):
    return kloss.Perceptual(_tiny_extractor(dtype), reduction=reduction, dtype=dtype)


def _image():
    return [
        Spec(
            kloss.TotalVariation,
            make=lambda t: (np.zeros((1,)), _noisy((8, 8))(t)[1]),
            lo=-1.0,
            hi=1.0,
            xlabel="noise amplitude t",
            swept="the amplitude `t` of fixed Gaussian noise added to the image, -1 to 1",
            fixed="one smooth 8x8x1 image in [0.2, 0.8], seeded noise",
        ),
        Spec(
            kloss.SSIM,
            make=_noisy((16, 16)),
            lo=-0.5,
            hi=0.5,
            xlabel="noise amplitude t",
            swept="the amplitude `t` of fixed Gaussian noise added to `y_pred`, -0.5 to 0.5",
            fixed="`y_true`: one smooth 16x16x1 image in [0.2, 0.8]; `y_pred = y_true + t * noise`",
        ),
        Spec(
            kloss.MultiScaleSSIM,
            make=_noisy((48, 48)),
            kwargs={"filter_size": 3},
            lo=-0.5,
            hi=0.5,
            xlabel="noise amplitude t",
            swept="the amplitude `t` of fixed Gaussian noise added to `y_pred`, -0.5 to 0.5",
            fixed=(
                "`y_true`: one smooth 48x48x1 image; 5 scales (default power factors), "
                "3-tap filters (the default 11 taps need images of 161 px or more)"
            ),
        ),
        Spec(
            kloss.Perceptual,
            make=_noisy((8, 8), 3),
            lo=-0.5,
            hi=0.5,
            build=_perceptual,
            title="Perceptual(tiny fixed-seed conv net)",
            xlabel="noise amplitude t",
            swept="the amplitude `t` of fixed Gaussian noise added to `y_pred`, -0.5 to 0.5",
            fixed=(
                "`y_true`: one smooth 8x8x3 image; features of a seeded 2-layer conv net "
                "(conv3x3-relu, conv3x3) built here, no pretrained weights"
            ),
        ),
    ]


# ---- adversarial: the discriminator's logit


def _adversarial():
    logit = dict(
        make=lambda t: (_f([1.0]), _f([t])),
        lo=-4.0,
        hi=4.0,
        xlabel="discriminator output (logit / score)",
    )
    real = dict(
        **logit,
        swept="the discriminator output on a real sample from -4 to 4",
        fixed="one real sample (`y_true = 1`)",
    )
    fake = dict(
        **logit,
        swept="the discriminator output on a generated sample from -4 to 4",
        fixed="one generated sample (`y_true` = 1, ignored)",
    )
    return [
        Spec(kloss.MinimaxDiscriminator, **real),
        Spec(kloss.MinimaxGenerator, **fake),
        Spec(kloss.LeastSquaresDiscriminator, **real, marks=((1.0, "real target"),)),
        Spec(kloss.LeastSquaresGenerator, **fake, marks=((1.0, "target"),)),
        Spec(kloss.WassersteinCritic, **real),
        Spec(kloss.WassersteinGenerator, **fake),
        Spec(kloss.HingeDiscriminator, **real, marks=((1.0, "margin"),)),
        Spec(kloss.HingeGenerator, **fake),
    ]


# ---- sequence: the scale of the correct path's logits

_CTC_PATH = np.array([0, 1, 1, 0, 2, 2, 0, 0])


def _ctc(t):
    logits = t * (np.arange(4) == _CTC_PATH[:, None]).astype(np.float64)
    return np.array([[1, 2]], np.int32), logits[None]


def _sequence():
    return [
        Spec(
            kloss.CTC,
            make=_ctc,
            lo=-2.0,
            hi=6.0,
            xlabel="logit of the path's class at every frame",
            swept="the logit `t` of one alignment's class at each of 8 frames, -2 to 6",
            fixed=(
                "label (1, 2), 4 classes (blank 0), alignment (-, 1, 1, -, 2, 2, -, -), "
                "other logits 0"
            ),
        ),
    ]


# ---- distribution: a histogram's mass shifted along the bins

_BINS = np.arange(8)


def _bump(mu):
    p = np.exp(-0.5 * ((_BINS - mu) / 0.8) ** 2)
    return p / p.sum()


def _shifted(t):
    return _bump(3.0)[None], _bump(t)[None]


def _distribution():
    shift = dict(
        make=_shifted,
        lo=0.0,
        hi=7.0,
        xlabel="center of the predicted histogram (bin)",
        swept="the center of a Gaussian-shaped predicted histogram from bin 0 to 7",
        fixed="8 bins; `y_true` the same shape centred at bin 3",
        marks=((3.0, "y_true"),),
    )
    cost = np.abs(_BINS[:, None] - _BINS[None, :]).astype(float).tolist()
    return [
        Spec(kloss.EarthMovers, **shift),
        Spec(
            kloss.Sinkhorn,
            **shift,
            kwargs={"cost_matrix": cost},
            title="Sinkhorn(cost_matrix=|i - j|)",
        ),
    ]


# ---- boxes: the horizontal offset of the predicted box


def _boxes():
    offset = dict(
        make=lambda t: (_f([0.0, 0.0, 1.0, 1.0]), _f([t, 0.25, t + 1.0, 1.25])),
        lo=-2.5,
        hi=2.5,
        xlabel="horizontal offset of the predicted box",
        swept="the horizontal offset of the predicted box from -2.5 to 2.5",
        fixed="target box (0, 0, 1, 1), predicted box of the same size shifted 0.25 down (xyxy)",
        marks=((-1.0, "no overlap"), (1.0, "")),
    )
    return [Spec(cls, **offset) for cls in (kloss.IoU, kloss.GIoU, kloss.DIoU, kloss.CIoU)]


def specs():
    """{class name: Spec} for every loss in the gallery."""
    out = []
    for family in (
        _regression,
        _classification,
        _ranking_family,
        _segmentation,
        _image,
        _adversarial,
        _sequence,
        _distribution,
        _boxes,
    ):
        out += family()
    return {s.name: s for s in out}


def loss_classes():
    """The loss classes of `kloss.__all__` (not `KlossLoss`), in the order of the package."""
    out = []
    for name in kloss.__all__:
        obj = getattr(kloss, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, keras.losses.Loss)
            and obj is not kloss.KlossLoss
        ):
            out.append(obj)
    return out


# --------------------------------------------------------------------------- curves


@dataclasses.dataclass
class Curve:
    t: np.ndarray
    value: np.ndarray
    derivative: np.ndarray
    # "autodiff" (the backend's gradient, chain rule along the sweep) or "finite_difference".
    method: str
    backend: str


def _cast(x, dtype):
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.integer) else x.astype(dtype)


def _row_means(out, n):
    return keras.ops.mean(keras.ops.reshape(out, (n, -1)), axis=1)


def _compiled(fn):
    """`fn` traced once with `jax.jit` on JAX (whose eager mode dispatches op by op, ~10x
    slower here); as it is elsewhere. Same kloss code either way."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def _gradient(fn):
    """(y_true, y_pred) -> d fn(y_true, y_pred) / d y_pred (NumPy float64) by the backend's
    autodiff: `kloss.testing.autodiff.value_and_grad`, and on JAX the same
    `jax.value_and_grad` traced once with `jax.jit` (reused over the sweep's points)."""
    if keras.backend.backend() == "jax":
        import jax

        vg = jax.jit(jax.value_and_grad(fn, argnums=1))
        return lambda yt, p: to_numpy(vg(yt, p)[1])
    return lambda yt, p: value_and_grad(lambda q: fn(yt, q), p)[1]


def values(spec, ts, dtype="float32"):
    """The loss (default reduction) at each sweep value: float64 array `(len(ts),)`."""
    ts = np.atleast_1d(np.asarray(ts, np.float64))
    if spec.per_sample:
        y_true, y_pred = spec.inputs(ts)
        loss = spec.loss("none", dtype)
        f = _compiled(lambda yt, p: _row_means(loss(yt, p), len(ts)))
        return to_numpy(f(_cast(y_true, dtype), _cast(y_pred, dtype)))
    f = _compiled(spec.loss(dtype=dtype))
    return np.array(
        [float(to_numpy(f(_cast(yt, dtype), _cast(yp, dtype)))) for yt, yp in spec.inputs(ts)]
    )


def autodiff_derivative(spec, ts, dtype="float32"):
    """d loss / d t by the backend's autodiff: `<grad_y_pred, d y_pred / d t>`."""
    ts = np.atleast_1d(np.asarray(ts, np.float64))
    if spec.per_sample:
        y_true, y_pred = spec.inputs(ts)
        loss = spec.loss("none", dtype)
        y_true = _cast(y_true, dtype)
        n = len(ts)
        # Each sample's value depends on its own row only: the gradient of the sum is the
        # stack of the per-sample gradients.
        grad = _gradient(lambda yt, p: keras.ops.sum(_row_means(loss(yt, p), n)))
        g = grad(y_true, _cast(y_pred, dtype))
        return np.sum((g * spec.tangent(ts)).reshape(n, -1), axis=1)
    grad = _gradient(spec.loss(dtype=dtype))
    out = []
    for (yt, yp), d in zip(spec.inputs(ts), spec.tangent(ts), strict=True):
        out.append(float(np.sum(grad(_cast(yt, dtype), _cast(yp, dtype)) * d)))
    return np.array(out)


def fd_step(spec):
    return 1e-3 * (spec.hi - spec.lo)


def finite_difference(spec, ts):
    """d loss / d t by a central finite difference of `values`, taken in float64. The values
    themselves are float32 even for float64 inputs on the numpy backend (Keras converts
    64-bit arrays to 32 bits on every backend but TensorFlow), hence the step of 1e-3 of
    the sweep's range: rounding then costs ~1e-4 of the loss's scale, and a kink is
    smoothed over 0.2 % of the range (a fifth of the grid spacing)."""
    ts = np.atleast_1d(np.asarray(ts, np.float64))
    h = fd_step(spec)
    return (values(spec, ts + h) - values(spec, ts - h)) / (2 * h)


def curve(spec):
    """The plotted curve on the current backend: autodiff where it exists, else float64
    values with finite differences (the numpy backend)."""
    name = keras.backend.backend()
    t = spec.grid
    if name == "numpy":
        return Curve(t, values(spec, t), finite_difference(spec, t), "fd", name)
    return Curve(t, values(spec, t), autodiff_derivative(spec, t), "autodiff", name)


# --------------------------------------------------------------------------- output


def _plot(spec, c, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.0, 2.6), dpi=90)
    ax2 = ax.twinx()
    (l1,) = ax.plot(c.t, c.value, color="C0", lw=1.6, label="loss")
    grad_label = "d loss / d t" + (" (autodiff)" if c.method == "autodiff" else " (fin. diff.)")
    (l2,) = ax2.plot(c.t, c.derivative, color="C3", lw=1.2, ls="--", label=grad_label)
    ax2.axhline(0.0, color="C3", lw=0.5, alpha=0.4)
    for x, text in spec.marks:
        ax.axvline(x, color="0.5", lw=0.8, ls=":")
        if text:
            ax.annotate(
                text,
                (x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -9),
                textcoords="offset points",
                fontsize=6,
                color="0.35",
            )
    ax.set_xlabel(spec.xlabel, fontsize=7)
    ax.set_ylabel("loss", color="C0", fontsize=7)
    ax2.set_ylabel("d loss / d t", color="C3", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.tick_params(axis="y", colors="C0")
    ax2.tick_params(labelsize=6, colors="C3")
    ax.set_title(spec.label(), fontsize=8)
    ax.legend(handles=[l1, l2], fontsize=6, loc="best", framealpha=0.7)
    fig.tight_layout(pad=0.4)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def caption(spec, c):
    how = (
        f"gradient by {c.backend} autodiff, chain rule along the sweep"
        if c.method == "autodiff"
        else f"derivative by central finite differences of the loss (step {fd_step(spec):.3g}), "
        "as the numpy backend has no autodiff"
    )
    return (
        f"Swept: {spec.swept}. Fixed: {spec.fixed}. Generated on the {c.backend} backend "
        f"(Keras {keras.__version__}); {how}."
    )


def write(out_dir: pathlib.Path, names=None) -> list[pathlib.Path]:
    """Draws `out_dir/gallery/<ClassName>.png` for every loss (or those in `names`) and the
    page `out_dir/gallery.md`. Returns the paths written."""
    out_dir = pathlib.Path(out_dir)
    img_dir = out_dir / "gallery"
    img_dir.mkdir(parents=True, exist_ok=True)
    table = specs()
    missing = [cls.__name__ for cls in loss_classes() if cls.__name__ not in table]
    if missing:
        raise RuntimeError(f"no gallery spec for: {', '.join(missing)}")
    wanted = [c for c in loss_classes() if names is None or c.__name__ in set(names)]
    backend = keras.backend.backend()
    lines = [
        "# Loss gallery",
        "",
        "Each picture shows one loss (solid, left axis) and its derivative along the sweep "
        "(dashed, right axis) on fixed inputs, one parameter `t` swept over 101 points. The "
        "derivative is `<d loss / d y_pred, d y_pred / d t>` with kloss's own gradient (the "
        "backend's autodiff), so kinks show the (sub)gradient that training sees. The pictures "
        f"are drawn by `docgen/gallery.py` from kloss itself, here on the **{backend}** backend: "
        "rebuilding the docs redraws them, so they cannot drift from the code.",
        "",
    ]
    written = []
    family = None
    for cls in wanted:
        spec = table[cls.__name__]
        if spec.family != family:
            family = spec.family
            lines += [f"## {family}", "", f"API: [kloss.{family}](../api/{family}.md)", ""]
        c = curve(spec)
        png = img_dir / f"{spec.name}.png"
        _plot(spec, c, png)
        written.append(png)
        anchor = f"kloss.{family}.{spec.name}"
        lines += [
            f"### {spec.name}",
            "",
            f"![{spec.label()}: loss and derivative](gallery/{spec.name}.png)",
            "",
            f"{caption(spec, c)} [API](../api/{family}.md#{anchor})",
            "",
        ]
    md = out_dir / "gallery.md"
    md.write_text("\n".join(lines).rstrip() + "\n")
    written.append(md)
    return written

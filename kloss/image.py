"""Image losses: total variation, SSIM, multi-scale SSIM and perceptual (feature) losses.

Each loss returns one value per image `(B,)`. Images are `(B, H, W, C)` or, with
`data_format="channels_first"`, `(B, C, H, W)`; `data_format=None` reads
`keras.config.image_data_format()` when the loss is called. Integer (e.g. uint8) and 16-bit
images are computed in float32 (docs/image.md).
"""

import copy
import json
import math
import weakref

import keras
from keras import ops

from kloss._internal import (
    KlossLoss,
    check_int,
    check_number,
    check_option,
    check_vector,
    compute_dtype,
    register,
    shapes_match,
    static_shape,
)

__all__ = [
    "TotalVariation",
    "SSIM",
    "MultiScaleSSIM",
    "Perceptual",
    "total_variation",
    "ssim",
    "multi_scale_ssim",
    "perceptual",
]

_DATA_FORMATS = ("channels_last", "channels_first")
# Wang et al. 2003 (and tf.image.ssim_multiscale): the weights of the five scales.
_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


# --------------------------------------------------------------------------- validation


def _check_data_format(owner, value):
    if value is None:
        return None
    return check_option(owner, "data_format", value, _DATA_FORMATS)


def _resolve_format(data_format):
    return data_format or keras.config.image_data_format()


def _image_dtypes(x):
    """(compute dtype, output dtype) of an image tensor: integers compute in floatx (float32)
    and return it; float16/bfloat16 compute in float32 and return their own dtype."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    out = dtype if "float" in dtype else keras.config.floatx()
    return compute_dtype(out), out


def _image(owner, arg, x, dtype=None):
    x = ops.convert_to_tensor(x)
    if dtype is None:
        dtype, out = _image_dtypes(x)
    else:
        out = dtype
    shape = static_shape(x)
    if len(shape) != 4:
        raise ValueError(
            f"{owner}: `{arg}` must be a batch of images of rank 4, (B, H, W, C) or, with "
            f'data_format="channels_first", (B, C, H, W). Received: {arg}.shape={shape}.'
        )
    return ops.cast(x, dtype), out


def _image_pair(owner, y_true, y_pred):
    y_pred, out = _image(owner, "y_pred", y_pred)
    y_true, _ = _image(owner, "y_true", y_true, dtype=y_pred.dtype)
    ts, ps = static_shape(y_true), static_shape(y_pred)
    if not shapes_match(ts, ps):
        raise ValueError(
            f"{owner}: `y_true` and `y_pred` must have the same shape. Received: "
            f"y_true.shape={ts}, y_pred.shape={ps}. Both are batches of images in the same "
            "data_format."
        )
    return y_true, y_pred, out


# --------------------------------------------------------------------------- total variation


def _check_power(owner, power):
    power = check_number(owner, "power", power)
    if power not in (1.0, 2.0):
        raise ValueError(
            f"{owner}: `power` must be 1 (anisotropic L1, tf.image.total_variation) or 2 "
            f"(squared differences). Received: power={power!r}."
        )
    return int(power)


def _abs(d):
    # |d| as d * sign(d): its gradient is sign(d), 0 at d == 0 on every backend.
    return d * ops.sign(d)


def _total_variation(owner, y_pred, power, data_format):
    x, out = _image(owner, "y_pred", y_pred)
    rows, cols = (2, 3) if _resolve_format(data_format) == "channels_first" else (1, 2)
    shape = static_shape(x)
    n_rows, n_cols = shape[rows], shape[cols]
    # Differences along H (valid (H-1, W) pairs) and along W (valid (H, W-1) pairs).
    dh = _slice(x, rows, 1, n_rows) - _slice(x, rows, 0, -1)
    dw = _slice(x, cols, 1, n_cols) - _slice(x, cols, 0, -1)
    term = _abs if power == 1 else ops.square
    axes = (1, 2, 3)
    return ops.cast(ops.sum(term(dh), axis=axes) + ops.sum(term(dw), axis=axes), out)


def _slice(x, axis, start, stop):
    index = [slice(None)] * 4
    index[axis] = slice(start, stop)
    return x[tuple(index)]


@register
def total_variation(y_true, y_pred, *, power=2, data_format=None):
    """Total variation of each image of `y_pred`; see `TotalVariation`.

    `y_true` is ignored. Returns `(B,)`.
    """
    del y_true
    owner = "total_variation"
    power = _check_power(owner, power)
    data_format = _check_data_format(owner, data_format)
    return _total_variation(owner, y_pred, power, data_format)


@register
class TotalVariation(KlossLoss):
    """Total variation of each predicted image: a smoothness regularizer on `y_pred` alone.

    For denoising, super-resolution and style transfer: penalizes differences between
    neighbouring pixels. Per image, summed over rows, columns and channels:

        power=2 (default): sum_{i,j,c} (y[i+1,j,c] - y[i,j,c])^2 + (y[i,j+1,c] - y[i,j,c])^2
        power=1:           sum_{i,j,c} |y[i+1,j,c] - y[i,j,c]|  + |y[i,j+1,c] - y[i,j,c]|

    each sum over the pairs that exist (`(H - 1) x W` vertical, `H x (W - 1)` horizontal).
    `power=1` (the anisotropic L1 form) equals `tf.image.total_variation(y_pred)` and
    kornia's `total_variation(y_pred, reduction="sum")` summed over channels. The sum is not
    normalized by the image size (divide the loss, or scale it, for resolution-independent
    weights). At zero differences the gradient of `power=1` is 0 (a subgradient), the same on
    every backend. Integer and 16-bit images are computed in float32 (no overflow).

    Args:
        power: 2 (squared differences, default) or 1 (absolute differences).
        data_format: `"channels_last"` (images `(B, H, W, C)`), `"channels_first"`
            (`(B, C, H, W)`) or None (default): `keras.config.image_data_format()`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: ignored (the loss regularizes `y_pred` alone): pass anything, e.g. zeros of
            any shape or of `y_pred`'s shape (what `model.fit` needs as targets).
        y_pred: images `(B, H, W, C)` (or `(B, C, H, W)`).
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Returns (from `total_variation`): `(B,)`.

    Example:
        >>> image = [[[[0.0], [1.0]], [[2.0], [4.0]]]]  # one 2x2 image, one channel
        >>> round(float(kloss.TotalVariation()([0.0], image)), 4)
        18.0
        >>> round(float(kloss.TotalVariation(power=1)([0.0], image)), 4)
        8.0
    """

    hyperparameters = ("power", "data_format")
    per_row = True

    def __init__(
        self,
        power=2,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        self.power = _check_power(owner, power)
        self.data_format = _check_data_format(owner, data_format)
        super().__init__(name=name or "total_variation", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _total_variation(type(self).__name__, y_pred, self.power, self.data_format)


# --------------------------------------------------------------------------- SSIM


def _gaussian(size, sigma):
    """The normalized 1-D Gaussian window; its outer product is TF's 2-D window (TF takes a
    softmax over the 2-D exponents, which factorizes into two 1-D softmaxes)."""
    # Python floats, no NumPy: a NumPy constant breaks the torch.compile graph.
    g = [math.exp(-0.5 * (i - (size - 1) / 2.0) ** 2 / sigma**2) for i in range(size)]
    total = math.fsum(g)
    return tuple(v / total for v in g)


def _layout():
    # Images are filtered channels-last on every backend. On torch, Keras permutes them to
    # NCHW views with NHWC strides, which oneDNN's depthwise convolution runs ~3x faster
    # than NCHW-contiguous images (measured at (16, 256, 256, 3)).
    return "channels_last"


def _to_layout(x, data_format):
    layout = _layout()
    if data_format == layout:
        return x
    if layout == "channels_first":
        return ops.transpose(x, (0, 3, 1, 2))
    return ops.transpose(x, (0, 2, 3, 1))


def _spatial_axes(layout):
    return (2, 3) if layout == "channels_first" else (1, 2)


def _check_ssim_args(owner, max_val, filter_size, filter_sigma, k1, k2):
    max_val = check_number(owner, "max_val", max_val, gt=0.0)
    filter_size = check_int(owner, "filter_size", filter_size)
    if filter_size < 1:
        raise ValueError(
            f"{owner}: `filter_size` must be >= 1. Received: filter_size={filter_size}."
        )
    filter_sigma = check_number(owner, "filter_sigma", filter_sigma, gt=0.0)
    k1 = check_number(owner, "k1", k1, gt=0.0)
    k2 = check_number(owner, "k2", k2, gt=0.0)
    return max_val, filter_size, filter_sigma, k1, k2


def _check_sizes(owner, shape, layout, filter_size, levels=1):
    """Static H and W must hold the filter at every scale; C must be static."""
    h_axis, w_axis = _spatial_axes(layout)
    channels = shape[1] if layout == "channels_first" else shape[3]
    if channels is None:
        raise ValueError(
            f"{owner}: the number of channels of the images must be known. Received: "
            f"image shape {shape}."
        )
    need = (filter_size - 1) * 2 ** (levels - 1) + 1
    for axis, what in ((h_axis, "height"), (w_axis, "width")):
        size = shape[axis]
        if size is None:
            if levels > 1:
                raise ValueError(
                    f"{owner}: the image {what} must be known (static) to downsample. "
                    f"Received: image shape {shape}."
                )
            continue
        if size < need:
            if levels == 1:
                raise ValueError(
                    f"{owner}: the images are smaller than the filter: image {what} {size} < "
                    f"filter_size {filter_size}. Received: image shape {shape}. Use a "
                    "smaller `filter_size` or bigger images."
                )
            raise ValueError(
                f"{owner}: the images are too small for {levels} scales with filter_size "
                f"{filter_size}: the {what} is {size}, and MS-SSIM needs at least "
                f"(filter_size - 1) * 2**(levels - 1) + 1 = {need} pixels (the filter must fit "
                f"the image at the coarsest scale). Received: image shape {shape}. Use "
                "fewer `power_factors`, a smaller `filter_size` or bigger images."
            )
    return channels


def _blur(x, window, channels, layout):
    """Separable Gaussian filtering, VALID: along W, then along H.

    On torch, two 1-D depthwise convolutions (oneDNN). Under XLA (JAX, TensorFlow) and on
    NumPy, a weighted sum of shifted slices, which XLA fuses into one pass per axis: 5-6x
    faster than XLA:CPU's depthwise convolution, value and gradient, at (16, 256, 256, C)
    for C = 1 and 21 (measured with one thread).
    """
    k = len(window)
    if keras.backend.backend() != "torch":
        h_axis, w_axis = _spatial_axes(layout)
        for axis in (w_axis, h_axis):
            out = None
            for i, weight in enumerate(window):
                # x[i : n - (k - 1) + i] with a static (negative) stop: any n, even unknown.
                stop = i - (k - 1)
                term = weight * _slice(x, axis, i, stop if stop < 0 else None)
                out = term if out is None else out + term
            x = out
        return x
    w = ops.convert_to_tensor(list(window), dtype=x.dtype)
    row = ops.tile(ops.reshape(w, (1, k, 1, 1)), (1, 1, channels, 1))
    col = ops.tile(ops.reshape(w, (k, 1, 1, 1)), (1, 1, channels, 1))
    x = ops.depthwise_conv(x, row, 1, "valid", data_format=layout)
    return ops.depthwise_conv(x, col, 1, "valid", data_format=layout)


def _ssim_maps(x, y, window, channels, layout, max_val, k1, k2):
    """The luminance and contrast-structure maps of TF's `_ssim_helper` (VALID)."""
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    # The (co)variances are shift-invariant: computed from images centred on their mean (per
    # image and channel), E[x^2] - mu^2 cancels far less in float32 (MS-SSIM of a 161x170
    # image: 1e-8 from float64, TF 3e-6); the window sums to 1, so mu = G * xc + mean.
    spatial = _spatial_axes(layout)
    m_x = ops.mean(x, axis=spatial, keepdims=True)
    m_y = ops.mean(y, axis=spatial, keepdims=True)
    xc, yc = x - m_x, y - m_y
    # One filter pass over the four statistics, stacked along the batch axis.
    stacked = ops.concatenate([xc, yc, xc * yc, ops.square(xc) + ops.square(yc)], axis=0)
    mu_xc, mu_yc, e_xy, e_sq = ops.split(_blur(stacked, window, channels, layout), 4, axis=0)
    mu_x, mu_y = mu_xc + m_x, mu_yc + m_y
    luminance = (mu_x * mu_y * 2.0 + c1) / (ops.square(mu_x) + ops.square(mu_y) + c1)
    # 2 sigma_xy + c2 over sigma_x^2 + sigma_y^2 + c2 (TF's compensation factor is 1).
    sigma_xy = e_xy - mu_xc * mu_yc
    sigma_sq = e_sq - ops.square(mu_xc) - ops.square(mu_yc)
    cs = (sigma_xy * 2.0 + c2) / (sigma_sq + c2)
    return luminance, cs


def _prepare_ssim(owner, y_true, y_pred, data_format, filter_size, levels=1):
    y_true, y_pred, out = _image_pair(owner, y_true, y_pred)
    data_format = _resolve_format(data_format)
    x, y = _to_layout(y_true, data_format), _to_layout(y_pred, data_format)
    layout = _layout()
    channels = _check_sizes(owner, static_shape(x), layout, filter_size, levels)
    return x, y, out, layout, channels


def _ssim(owner, y_true, y_pred, max_val, window, k1, k2, data_format):
    filter_size = len(window)
    x, y, out, layout, channels = _prepare_ssim(owner, y_true, y_pred, data_format, filter_size)
    luminance, cs = _ssim_maps(x, y, window, channels, layout, max_val, k1, k2)
    # The mean over pixels and channels: TF's mean over pixels, then over channels.
    return ops.cast(1.0 - ops.mean(luminance * cs, axis=(1, 2, 3)), out)


@register
def ssim(
    y_true,
    y_pred,
    *,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """`1 - SSIM` of each pair of images; see `SSIM`. Returns `(B,)`."""
    owner = "ssim"
    max_val, filter_size, filter_sigma, k1, k2 = _check_ssim_args(
        owner, max_val, filter_size, filter_sigma, k1, k2
    )
    window = _gaussian(filter_size, filter_sigma)
    return _ssim(
        owner, y_true, y_pred, max_val, window, k1, k2, _check_data_format(owner, data_format)
    )


class _SSIMBase(KlossLoss):
    per_row = True

    def _init_ssim(self, max_val, filter_size, filter_sigma, k1, k2, data_format):
        owner = type(self).__name__
        args = _check_ssim_args(owner, max_val, filter_size, filter_sigma, k1, k2)
        self.max_val, self.filter_size, self.filter_sigma, self.k1, self.k2 = args
        # Computed here, outside any traced function (torch.compile turns Python ints that
        # change between calls into symbols).
        self._window = _gaussian(self.filter_size, self.filter_sigma)
        self.data_format = _check_data_format(owner, data_format)


@register
class SSIM(_SSIMBase):
    """`1 - SSIM`, the structural similarity loss (Wang et al. 2004), per image.

    For image restoration and reconstruction, alone or next to an L1 loss. The local
    statistics use a Gaussian window of `filter_size` taps and width `filter_sigma`,
    applied as a VALID convolution (no padding), exactly as `tf.image.ssim`:

        mu_x = G * x, mu_y = G * y            (per channel, VALID)
        l  = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)
        cs = (2 (G * xy - mu_x mu_y) + c2) / (G * (x^2 + y^2) - mu_x^2 - mu_y^2 + c2)
        c1 = (k1 max_val)^2, c2 = (k2 max_val)^2
        SSIM = mean over pixels and channels of l * cs;  loss = 1 - SSIM

    Equals `1 - tf.image.ssim(y_true, y_pred, max_val, filter_size, filter_sigma, k1, k2)`.
    kornia's `ssim_loss(..., padding="valid", eps=0.0, reduction="none")` is the map
    `(1 - SSIM map) / 2`: this loss is twice its per-image mean (kornia's default
    `padding="same"` reflect-pads the image, a different value near the borders, and fixes
    `filter_sigma` at 1.5). The loss lies in `[0, 2]`: anti-correlated images have a negative
    SSIM, and two identical constant images (zero variance) give SSIM 1, loss 0, with finite
    gradients. Integer images (uint8) and 16-bit floats are computed in float32; pixel values
    are not rescaled, so uint8 images in `[0, 255]` need `max_val=255`.

    Args:
        max_val: the dynamic range of the pixel values (1.0 for images in `[0, 1]`, 255 for
            `[0, 255]`), `> 0`. Default 1.0.
        filter_size: the Gaussian window's size in pixels, `>= 1`. Default 11. Images must be
            at least this big (a `ValueError` names both sizes).
        filter_sigma: the Gaussian's standard deviation, `> 0`. Default 1.5.
        k1: the first stabilizing constant (of the means), `> 0`. Default 0.01.
        k2: the second stabilizing constant (of the variances), `> 0`. Default 0.03.
        data_format: `"channels_last"` (`(B, H, W, C)`), `"channels_first"`
            (`(B, C, H, W)`) or None (default): `keras.config.image_data_format()`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: the reference images `(B, H, W, C)` (or `(B, C, H, W)`).
        y_pred: the predicted images, the same shape.
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Returns (from `ssim`): `(B,)`.

    Example:
        >>> import numpy as np
        >>> x = np.linspace(0.0, 1.0, 64, dtype="float32").reshape(1, 8, 8, 1)
        >>> loss = kloss.SSIM(filter_size=3)
        >>> round(float(loss(x, x)), 4)
        0.0
        >>> round(float(loss(x, 1.0 - x)), 4)
        1.6503
    """

    hyperparameters = ("max_val", "filter_size", "filter_sigma", "k1", "k2", "data_format")

    def __init__(
        self,
        max_val=1.0,
        filter_size=11,
        filter_sigma=1.5,
        k1=0.01,
        k2=0.03,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self._init_ssim(max_val, filter_size, filter_sigma, k1, k2, data_format)
        super().__init__(name=name or "ssim", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _ssim(
            type(self).__name__,
            y_true,
            y_pred,
            self.max_val,
            self._window,
            self.k1,
            self.k2,
            self.data_format,
        )


# --------------------------------------------------------------------------- MS-SSIM


def _check_power_factors(owner, value):
    factors = check_vector(owner, "power_factors", value, scalar=False, positive_entry=True)
    return factors


def _downsample(x, layout):
    """TF's MS-SSIM downsampling: an odd height or width is padded with its last row or
    column (SYMMETRIC), then 2x2 average pooling."""
    h_axis, w_axis = _spatial_axes(layout)
    for axis in (h_axis, w_axis):
        if static_shape(x)[axis] % 2:
            x = ops.concatenate([x, _slice(x, axis, -1, None)], axis=axis)
    return ops.average_pool(x, 2, 2, "valid", data_format=layout)


def _positive_power(v, p):
    """`relu(v) ** p` with gradient 0 where `v <= 0` (TF: NaN there); `p == 0` gives 1."""
    if p == 0.0:
        return None
    positive = v > 0
    safe = ops.where(positive, v, ops.ones_like(v))
    return ops.where(positive, ops.power(safe, p), ops.zeros_like(v))


def _multi_scale_ssim(owner, y_true, y_pred, max_val, power_factors, window, k1, k2, data_format):
    levels = len(power_factors)
    x, y, out, layout, channels = _prepare_ssim(
        owner, y_true, y_pred, data_format, len(window), levels
    )
    spatial = _spatial_axes(layout)
    product = None
    for k, p in enumerate(power_factors):
        if k:
            x, y = _downsample(x, layout), _downsample(y, layout)
        luminance, cs = _ssim_maps(x, y, window, channels, layout, max_val, k1, k2)
        # cs at every scale but the coarsest, where it is the full SSIM (per channel).
        value = ops.mean(cs if k < levels - 1 else luminance * cs, axis=spatial)
        term = _positive_power(value, p)
        if term is not None:
            product = term if product is None else product * term
    return ops.cast(1.0 - ops.mean(product, axis=-1), out)


@register
def multi_scale_ssim(
    y_true,
    y_pred,
    *,
    max_val=1.0,
    power_factors=_MS_SSIM_WEIGHTS,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """`1 - MS-SSIM` of each pair of images; see `MultiScaleSSIM`. Returns `(B,)`."""
    owner = "multi_scale_ssim"
    max_val, filter_size, filter_sigma, k1, k2 = _check_ssim_args(
        owner, max_val, filter_size, filter_sigma, k1, k2
    )
    power_factors = _check_power_factors(owner, power_factors)
    return _multi_scale_ssim(
        owner,
        y_true,
        y_pred,
        max_val,
        power_factors,
        _gaussian(filter_size, filter_sigma),
        k1,
        k2,
        _check_data_format(owner, data_format),
    )


@register
class MultiScaleSSIM(_SSIMBase):
    """`1 - MS-SSIM`, the multi-scale structural similarity loss (Wang et al. 2003).

    SSIM's contrast-structure term at several scales: scale 0 is the image, each further
    scale halves it (an odd height or width first gets its last row or column repeated, then
    2x2 average pooling). With `cs_k` the mean contrast-structure term at scale `k` and
    `SSIM_L` the full SSIM at the coarsest scale `L - 1`, per channel (as `SSIM`, VALID):

        MS-SSIM = mean over channels of
                  prod_{k < L-1} relu(cs_k) ** power_factors[k] * relu(SSIM_L) ** power_factors[L-1]
        loss = 1 - MS-SSIM

    Equals `1 - tf.image.ssim_multiscale(y_true, y_pred, max_val, power_factors,
    filter_size, filter_sigma, k1, k2)`, in value; where a term is `<= 0`, TF's gradient is
    NaN or infinite and kloss's is 0 (the loss there is 1 whatever the term). The number of
    scales is `len(power_factors)`: the images need at least
    `(filter_size - 1) * 2 ** (L - 1) + 1` pixels in height and width (161 for the defaults;
    a `ValueError` says so). Integer and 16-bit images compute in float32.

    Args:
        max_val: the dynamic range of the pixel values, `> 0`. Default 1.0.
        power_factors: one exponent `>= 0` per scale, finest first. Default the paper's
            `(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)`.
        filter_size: the Gaussian window's size, `>= 1`. Default 11.
        filter_sigma: the Gaussian's standard deviation, `> 0`. Default 1.5.
        k1: the first stabilizing constant (of the means), `> 0`. Default 0.01.
        k2: the second stabilizing constant (of the variances), `> 0`. Default 0.03.
        data_format: `"channels_last"`, `"channels_first"` or None (default):
            `keras.config.image_data_format()`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: the reference images `(B, H, W, C)` (or `(B, C, H, W)`), H and W static.
        y_pred: the predicted images, the same shape.
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Returns (from `multi_scale_ssim`): `(B,)`.

    Example:
        >>> import numpy as np
        >>> x = np.linspace(0.0, 1.0, 256, dtype="float32").reshape(1, 16, 16, 1)
        >>> loss = kloss.MultiScaleSSIM(filter_size=3, power_factors=[0.3, 0.3, 0.4])
        >>> round(float(loss(x, x)), 4)
        0.0
        >>> round(float(loss(x, np.sqrt(x))), 4)
        0.0818
    """

    hyperparameters = (
        "max_val",
        "power_factors",
        "filter_size",
        "filter_sigma",
        "k1",
        "k2",
        "data_format",
    )

    def __init__(
        self,
        max_val=1.0,
        power_factors=_MS_SSIM_WEIGHTS,
        filter_size=11,
        filter_sigma=1.5,
        k1=0.01,
        k2=0.03,
        data_format=None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        self._init_ssim(max_val, filter_size, filter_sigma, k1, k2, data_format)
        self.power_factors = _check_power_factors(type(self).__name__, power_factors)
        super().__init__(name=name or "multi_scale_ssim", reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return _multi_scale_ssim(
            type(self).__name__,
            y_true,
            y_pred,
            self.max_val,
            self.power_factors,
            self._window,
            self.k1,
            self.k2,
            self.data_format,
        )


# --------------------------------------------------------------------------- perceptual

# keras.applications builders: (module, constructor, default layers compared).
_APPLICATIONS = {
    "vgg16": (
        "vgg16",
        "VGG16",
        ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"),
    ),
    "vgg19": (
        "vgg19",
        "VGG19",
        ("block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4"),
    ),
    "resnet50": (
        "resnet50",
        "ResNet50",
        ("conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"),
    ),
}
# Built applications, one per (name, weights): loading ImageNet weights is slow.
_BUILT = {}
# Multi-output sub-models of user models, per model and tuple of layer names.
_SUBMODELS = weakref.WeakKeyDictionary()


def _application(name, weights):
    key = (name, weights)
    if key not in _BUILT:
        module, builder, _ = _APPLICATIONS[name]
        model = getattr(keras.applications, builder)(include_top=False, weights=weights)
        model.trainable = False
        _BUILT[key] = model
    return _BUILT[key]


def _as_json(config):
    """The config as it reads back from a saved file (lists for tuples), without the
    `shared_object_id`s that saving adds, so that get_config() is the same before and after
    `model.save()` and `load_model`."""

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k != "shared_object_id"}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return strip(json.loads(json.dumps(config)))


def _check_extractor(owner, feature_extractor, weights):
    """(spec kept as the attribute, the keras.Model, the application name or None)."""
    if isinstance(feature_extractor, str):
        name = check_option(owner, "feature_extractor", feature_extractor, tuple(_APPLICATIONS))
        if weights is not None and not isinstance(weights, str):
            raise TypeError(
                f"{owner}: `weights` must be None, 'imagenet' or a path to a weights file. "
                f"Received: weights={weights!r}."
            )
        return name, _application(name, weights), name
    if isinstance(feature_extractor, dict):
        # A serialized model, as get_config() stores it (Keras consumes the dict it reads).
        feature_extractor = _as_json(feature_extractor)
        model = keras.saving.deserialize_keras_object(copy.deepcopy(feature_extractor))
    else:
        model = feature_extractor
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{owner}: `feature_extractor` must be a keras.Model, its serialized config or "
            f"one of {list(_APPLICATIONS)}. Received: feature_extractor={feature_extractor!r} "
            f"(of type {type(feature_extractor).__name__})."
        )
    model.trainable = False
    return feature_extractor, model, None


def _check_layers(owner, layers, model, name):
    if layers is None:
        return None
    if isinstance(layers, str):
        layers = [layers]
    try:
        layers = list(layers)
    except TypeError:
        layers = None
    if not layers or not all(isinstance(n, str) for n in layers):
        raise TypeError(
            f"{owner}: `layers` must be None or a non-empty list of layer names. "
            f"Received: layers={layers!r}."
        )
    names = [layer.name for layer in model.layers]
    for n in layers:
        check_option(owner, "layers", n, names)
    if not getattr(model, "inputs", None):
        raise ValueError(
            f"{owner}: `layers` needs a functional or Sequential model with known inputs "
            f"to read intermediate outputs from; {model.name!r} has none. Received: "
            f"layers={layers!r}."
        )
    return layers


def _submodel(model, layers):
    if layers is None:
        return model
    key = tuple(layers)
    cache = _SUBMODELS.setdefault(model, {})
    if key not in cache:
        outputs = [model.get_layer(n).output for n in layers]
        sub = keras.Model(model.inputs, outputs, name=f"{model.name}_features")
        sub.trainable = False
        cache[key] = sub
    return cache[key]


def _n_outputs(model):
    outputs = getattr(model, "outputs", None)
    return len(outputs) if outputs else None


def _check_layer_weights(owner, layer_weights, n_outputs):
    if layer_weights is None:
        return None
    weights = check_vector(owner, "layer_weights", layer_weights, scalar=False)
    if n_outputs is not None and len(weights) != n_outputs:
        raise ValueError(
            f"{owner}: `layer_weights` needs one weight per compared feature map: "
            f"{n_outputs} here. Received: layer_weights={layer_weights!r}."
        )
    return weights


def _feature_pair(owner, y_true, y_pred):
    """Inputs of any rank >= 2 (the extractor decides), of the same shape."""
    y_pred = ops.convert_to_tensor(y_pred)
    dtype, out = _image_dtypes(y_pred)
    y_pred = ops.cast(y_pred, dtype)
    y_true = ops.cast(ops.convert_to_tensor(y_true), dtype)
    ts, ps = static_shape(y_true), static_shape(y_pred)
    if len(ps) < 2 or not shapes_match(ts, ps):
        raise ValueError(
            f"{owner}: `y_true` and `y_pred` must be batches of the extractor's inputs of the "
            f"same shape. Received: y_true.shape={ts}, y_pred.shape={ps}."
        )
    return y_true, y_pred, out


class _Extractor:
    """A validated feature extractor: the frozen (sub-)model and its preprocessing."""

    def __init__(self, owner, feature_extractor, layers, layer_weights, weights):
        spec, model, name = _check_extractor(owner, feature_extractor, weights)
        if name is not None and layers is None:
            layers = list(_APPLICATIONS[name][2])
        self.spec = spec
        self.layers = _check_layers(owner, layers, model, name)
        self.model = _submodel(model, self.layers)
        self.layer_weights = _check_layer_weights(owner, layer_weights, _n_outputs(self.model))
        self.preprocess = None
        if name is not None:
            module = getattr(keras.applications, _APPLICATIONS[name][0])
            self.preprocess = module.preprocess_input
        self.owner = owner

    def __call__(self, y_true, y_pred):
        owner = self.owner
        y_true, y_pred, out = _feature_pair(owner, y_true, y_pred)
        images = ops.concatenate([y_true, y_pred], axis=0)  # one pass over both batches
        if self.preprocess is not None:
            images = self.preprocess(images)
        features = self.model(images, training=False)
        if isinstance(features, dict):
            features = list(features.values())
        elif not isinstance(features, (list, tuple)):
            features = [features]
        if self.layer_weights is not None and len(self.layer_weights) != len(features):
            raise ValueError(
                f"{owner}: `layer_weights` needs one weight per compared feature map: "
                f"{len(features)} here. Received: layer_weights={self.layer_weights!r}."
            )
        total = None
        for i, f in enumerate(features):
            f = ops.cast(f, y_pred.dtype)
            f_true, f_pred = ops.split(f, 2, axis=0)
            term = ops.square(f_pred - f_true)
            term = ops.mean(term, axis=tuple(range(1, len(term.shape))))
            if self.layer_weights is not None:
                term = term * self.layer_weights[i]
            total = term if total is None else total + term
        return ops.cast(total, out)


def _perceptual_fn(owner, y_true, y_pred, feature_extractor, layers, layer_weights, weights):
    return _Extractor(owner, feature_extractor, layers, layer_weights, weights)(y_true, y_pred)


@register
def perceptual(
    y_true, y_pred, *, feature_extractor, layers=None, layer_weights=None, weights="imagenet"
):
    """The perceptual (feature) distance of each pair of images; see `Perceptual`.

    Returns `(B,)`. Sub-models and named applications are built once and cached.
    """
    return _perceptual_fn(
        "perceptual", y_true, y_pred, feature_extractor, layers, layer_weights, weights
    )


@register
class Perceptual(KlossLoss):
    """Perceptual loss: the squared distance between features of a frozen network.

    For super-resolution, style transfer and image synthesis (Johnson et al. 2016): images
    are compared in the feature space of a pretrained network instead of pixel by pixel.
    With `F_l` the feature map `l` of `y_true`, `G_l` that of `y_pred`, and `w_l` its
    weight (1 by default):

        loss = sum_l w_l * mean((G_l - F_l) ** 2)

    the mean over every entry of the feature map (height, width and channels) of one image,
    so each image gets one value. Both batches go through the extractor in one call,
    `training=False` (BatchNorm in inference mode); the extractor is frozen (`trainable` set
    to False, on the model you pass too), so `model.fit` trains only the model whose output
    `y_pred` is, and gradients flow to `y_pred`.

    `feature_extractor` is:

    - a name, `"vgg16"`, `"vgg19"` or `"resnet50"`: the `keras.applications` model built
      with `include_top=False` and `weights` (default `"imagenet"`), and the application's
      `preprocess_input` applied to both images first. These expect RGB images with values
      in `[0, 255]` (ImageNet's "caffe" preprocessing: BGR, mean-subtracted) in
      `keras.config.image_data_format()`, at least 32x32. `layers=None` compares the last
      convolution of each block: VGG16 `block{1,2}_conv2`, `block{3,4,5}_conv3`; VGG19
      `block{1,2}_conv2`, `block{3,4,5}_conv4`; ResNet50 the outputs of stages 2-5.
    - any `keras.Model` (or its serialized config): images go in as they are, and
      `layers=None` compares its outputs (all of them, for a multi-output model).

    `layers` names the layers whose outputs are compared (a multi-output sub-model of a
    functional or Sequential model is built once).

    Saving: `get_config()` keeps a named extractor as its name and `weights`: loading
    rebuilds it (from the Keras cache or by download; with `weights=None`, with fresh random
    weights). A custom `keras.Model` is stored as its serialized config (architecture);
    `model.save()` of a model compiled with this loss also writes the extractor's weights
    (Keras saves the state of the compiled loss), and `keras.saving.load_model` restores
    them. `keras.losses.deserialize(loss.get_config())` alone rebuilds the architecture
    with freshly initialized weights.

    Args:
        feature_extractor: `"vgg16"`, `"vgg19"`, `"resnet50"`, a `keras.Model`, or a model
            serialized by `keras.saving.serialize_keras_object`.
        layers: None (above), or a list of layer names of the extractor.
        layer_weights: None (every feature map weighs 1), or one weight `>= 0` per compared
            feature map.
        weights: the `weights` of a named application: `"imagenet"` (default), None (random)
            or a path. Ignored for a `keras.Model`.
        reduction: `"sum_over_batch_size"` (default), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"` or `"none"`.
        name: name of the loss instance.
        dtype: dtype of the loss; 16-bit dtypes compute in float32.

    Call arguments:
        y_true: the reference images, in the extractor's input format.
        y_pred: the predicted images, the same shape.
        sample_weight: one weight per image, `(B,)` or `(B, 1)`.

    Returns (from `perceptual`): `(B,)`.

    ImageNet use (downloads the VGG16 weights once):

        loss = kloss.Perceptual("vgg16", layers=["block2_conv2", "block3_conv3"])
        model.compile(optimizer="adam", loss=loss)  # images in [0, 255], RGB

    Example:
        >>> import keras, numpy as np
        >>> inputs = keras.Input((4, 4, 1))
        >>> conv = keras.layers.Conv2D(1, 2, use_bias=False, kernel_initializer="ones")
        >>> extractor = keras.Model(inputs, conv(inputs))
        >>> loss = kloss.Perceptual(extractor)
        >>> x = np.zeros((1, 4, 4, 1), "float32")
        >>> round(float(loss(x, x + 0.5)), 4)
        4.0
    """

    hyperparameters = ("feature_extractor", "layers", "layer_weights", "weights")
    per_row = True

    def __init__(
        self,
        feature_extractor,
        layers=None,
        layer_weights=None,
        weights="imagenet",
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        owner = type(self).__name__
        extractor = _Extractor(owner, feature_extractor, layers, layer_weights, weights)
        self._extractor = extractor
        self.feature_extractor = extractor.spec
        self.layers = None if layers is None else list(extractor.layers)
        self.layer_weights = extractor.layer_weights
        self.weights = weights
        super().__init__(name=name or "perceptual", reduction=reduction, dtype=dtype)

    @property
    def extractor(self):
        """The frozen model whose outputs are compared."""
        return self._extractor.model

    def call(self, y_true, y_pred):
        return self._extractor(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        spec = self.feature_extractor
        if isinstance(spec, keras.Model):
            config["feature_extractor"] = _as_json(keras.saving.serialize_keras_object(spec))
        return config

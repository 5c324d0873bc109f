"""NumPy float64 references of the image losses, written from the formulas (Wang et al. 2003,
2004; Johnson et al. 2016), independent of the kloss code: a 2-D Gaussian window and a direct
2-D VALID correlation over sliding windows."""

import numpy as np


def _channels_last(x, data_format):
    x = np.asarray(x, np.float64)
    if data_format == "channels_first":
        return np.moveaxis(x, 1, -1)
    return x


def total_variation(y_true, y_pred, power=2, data_format=None):
    x = _channels_last(y_pred, data_format)
    dh = x[:, 1:, :, :] - x[:, :-1, :, :]
    dw = x[:, :, 1:, :] - x[:, :, :-1, :]
    f = np.abs if power == 1 else np.square
    return f(dh).sum(axis=(1, 2, 3)) + f(dw).sum(axis=(1, 2, 3))


def total_variation_grad_power2(y_pred):
    """d/dy of the power-2 total variation (channels last): each difference d = b - a
    contributes 2d to b and -2d to a."""
    x = np.asarray(y_pred, np.float64)
    g = np.zeros_like(x)
    for axis in (1, 2):
        d = np.diff(x, axis=axis)
        lead = [slice(None)] * 4
        lead[axis] = slice(1, None)
        trail = [slice(None)] * 4
        trail[axis] = slice(None, -1)
        g[tuple(lead)] += 2 * d
        g[tuple(trail)] -= 2 * d
    return g


def gaussian_window(size, sigma):
    """MATLAB's fspecial('gaussian', size, sigma): the 2-D window, normalized to sum 1."""
    r = np.arange(size) - (size - 1) / 2.0
    yy, xx = np.meshgrid(r, r, indexing="ij")
    g = np.exp(-(xx**2 + yy**2) / (2.0 * sigma**2))
    return g / g.sum()


def filter_valid(x, window):
    """sum_{a,b} window[a, b] x[i + a, j + b] over (B, H, W, C), VALID."""
    k = window.shape[0]
    patches = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    return np.einsum("bhwcij,ij->bhwc", patches, window)


def ssim_maps(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """(SSIM map, cs map) of channels-last float64 images, VALID."""
    w = gaussian_window(filter_size, filter_sigma)
    mx, my = filter_valid(x, w), filter_valid(y, w)
    sxx = filter_valid(x * x, w) - mx * mx
    syy = filter_valid(y * y, w) - my * my
    sxy = filter_valid(x * y, w) - mx * my
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    lum = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    return lum * cs, cs


def ssim(
    y_true,
    y_pred,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """1 - SSIM per image: the mean of the SSIM map over pixels, then channels."""
    x, y = _channels_last(y_true, data_format), _channels_last(y_pred, data_format)
    smap, _ = ssim_maps(x, y, max_val, filter_size, filter_sigma, k1, k2)
    return 1.0 - smap.mean(axis=(1, 2)).mean(axis=-1)


def _half(x):
    """Pad an odd height/width by repeating the last row/column, then average 2x2 blocks."""
    _, h, w, _ = x.shape
    x = np.pad(x, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="symmetric")
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def multi_scale_ssim(
    y_true,
    y_pred,
    max_val=1.0,
    power_factors=(0.0448, 0.2856, 0.3001, 0.2363, 0.1333),
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    data_format=None,
):
    """1 - MS-SSIM per image: prod_k relu(cs_k)^p_k (relu(SSIM) at the coarsest scale),
    per channel, then the mean over channels."""
    x, y = _channels_last(y_true, data_format), _channels_last(y_pred, data_format)
    levels = len(power_factors)
    out = np.ones((x.shape[0], x.shape[-1]))
    for k, p in enumerate(power_factors):
        if k:
            x, y = _half(x), _half(y)
        smap, cs = ssim_maps(x, y, max_val, filter_size, filter_sigma, k1, k2)
        v = (smap if k == levels - 1 else cs).mean(axis=(1, 2))
        out = out * np.maximum(v, 0.0) ** p
    return 1.0 - out.mean(axis=-1)


# --------------------------------------------------------------------------- perceptual


def conv2d_same(x, kernel, bias):
    """A stride-1 'same' 2-D convolution (Keras's cross-correlation), channels last."""
    kh, kw, _, _ = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    x = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    patches = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return np.einsum("bhwcij,ijco->bhwo", patches, kernel) + bias


def tiny_features(x, weights):
    """The features of the test extractor (tests/registry_image.py): conv3x3-relu,
    conv3x3-relu, 2x2 average pool, conv3x3; outputs (conv1, conv3)."""
    k1, b1, k2, b2, k3, b3 = weights
    f1 = np.maximum(conv2d_same(x, k1, b1), 0.0)
    f2 = np.maximum(conv2d_same(f1, k2, b2), 0.0)
    b, h, w, c = f2.shape
    pooled = f2.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    f3 = conv2d_same(pooled, k3, b3)
    return [f1, f3]


def perceptual(y_true, y_pred, weights, layer_weights=None, features=tiny_features):
    """sum_l w_l mean((G_l - F_l)^2) per image, from `features(x, weights)`."""
    ft = features(np.asarray(y_true, np.float64), weights)
    fp = features(np.asarray(y_pred, np.float64), weights)
    lw = [1.0] * len(ft) if layer_weights is None else layer_weights
    out = 0.0
    for w, a, b in zip(lw, ft, fp, strict=True):
        out = out + w * ((b - a) ** 2).reshape(a.shape[0], -1).mean(axis=-1)
    return out

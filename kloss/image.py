"""Image losses: total variation, SSIM, multi-scale SSIM, perceptual."""

__all__ = []

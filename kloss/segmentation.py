"""Segmentation losses: pixel-wise cross-entropy and the overlap family (Dice, Jaccard, ...)."""

__all__ = []

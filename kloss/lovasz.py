"""Lovasz losses (Berman et al. 2018): Lovasz-softmax and Lovasz-hinge."""

__all__ = []

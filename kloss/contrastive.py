"""Contrastive representation losses over in-batch similarities: NT-Xent (SimCLR), InfoNCE
(CLIP), supervised contrastive, SigLIP.
"""

__all__ = []

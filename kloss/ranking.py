"""Ranking losses over explicit pairs and triplets: contrastive, triplet, margin ranking."""

__all__ = []

"""Metric-learning losses with in-batch mining from integer labels: triplet semi-hard and hard,
lifted structure, multi-similarity, N-pairs.
"""

__all__ = []

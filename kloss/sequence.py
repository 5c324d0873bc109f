"""Sequence losses: connectionist temporal classification (CTC)."""

__all__ = []

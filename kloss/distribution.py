"""Distribution losses: earth mover's distance, Sinkhorn (entropic optimal transport)."""

__all__ = []

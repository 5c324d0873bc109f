"""Box regression losses: IoU, GIoU, DIoU, CIoU."""

__all__ = []

"""Registry entries for kloss.segmentation (see tests/entry.py)."""

ENTRIES = []

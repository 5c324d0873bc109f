"""Registry entries for kloss.image (see tests/entry.py)."""

ENTRIES = []

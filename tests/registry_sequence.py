"""Registry entries for kloss.sequence (see tests/entry.py)."""

ENTRIES = []

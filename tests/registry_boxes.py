"""Registry entries for kloss.boxes (see tests/entry.py)."""

ENTRIES = []

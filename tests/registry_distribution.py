"""Registry entries for kloss.distribution (see tests/entry.py)."""

ENTRIES = []

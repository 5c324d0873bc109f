"""Registry entries for kloss.lovasz (see tests/entry.py)."""

ENTRIES = []

"""Registry entries for kloss.adversarial (see tests/entry.py)."""

ENTRIES = []

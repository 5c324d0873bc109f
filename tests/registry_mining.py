"""Registry entries of the losses in `kloss/mining.py` (see `tests/entry.py`)."""

ENTRIES = []

"""Registry entries of the losses in `kloss/ranking.py` (see `tests/entry.py`)."""

ENTRIES = []

"""Registry entries of the losses in `kloss/contrastive.py` (see `tests/entry.py`)."""

ENTRIES = []

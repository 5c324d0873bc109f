import os

import numpy as np
import pytest

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def pytest_report_header(config):
    import keras

    return f"KERAS_BACKEND={keras.backend.backend()} keras={keras.__version__}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def autodiff():
    """Skips on the numpy backend, which has no autodiff (the forward-only leg)."""
    if BACKEND == "numpy":
        pytest.skip("numpy backend has no autodiff or training: forward-only leg")

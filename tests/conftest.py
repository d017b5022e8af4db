import os

import numpy as np
import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def root_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("ROOT") is not None
    except Exception:
        return False

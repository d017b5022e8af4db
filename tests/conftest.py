import os

import numpy as np
import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


_ROOT_OK: list[bool] = []


def root_available() -> bool:
    """PyROOT installed and able to compile the engine's C++ model (a subprocess: importing
    ROOT here would cost every test process ~0.5 GB)."""
    import importlib.util
    import subprocess
    import sys

    if not _ROOT_OK:
        ok = importlib.util.find_spec("ROOT") is not None and subprocess.run(
            [sys.executable, "-c", "import pmtgain.point.rootfit"], capture_output=True,
            timeout=300).returncode == 0
        _ROOT_OK.append(ok)
    return _ROOT_OK[0]

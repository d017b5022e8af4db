"""Thread limits, set before numpy starts: the leaf every layer may import.

- :data:`THREAD_VARS` - the variables BLAS and OpenMP read for their thread counts.
- :func:`limit_threads` - each set to 1 unless already set. With 2 worker processes of
  2 BLAS threads each, a GIN campaign on 2 cores took 1.9 s instead of 1.0 s.
- :data:`BLAS_STARTED_UNLIMITED` - numpy started before this package with none of them
  set: BLAS runs its default threads, and the pool's workers limit it where they run.
"""

from __future__ import annotations

import os
import sys

__all__ = ["THREAD_VARS", "limit_threads", "BLAS_STARTED_UNLIMITED"]

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")


def limit_threads(env=os.environ) -> dict:
    """Set every thread-count variable to 1 unless already set; returns them."""
    for var in THREAD_VARS:
        env.setdefault(var, "1")
    return {v: env[v] for v in THREAD_VARS}


BLAS_STARTED_UNLIMITED = "numpy" in sys.modules and not any(v in os.environ
                                                           for v in THREAD_VARS)

"""pmtgain: PMT gain curves from LeCroy oscilloscope waveforms.

The core is one pure function, :func:`pmtgain.point.process_point`, which turns the
``.trc`` files of one (PMT, HV) point into per-waveform charges and a summary. Executors
deliver points (:mod:`pmtgain.executors`: a local process pool; :mod:`pmtgain.condor`:
HTCondor jobs); :mod:`pmtgain.gaincurve` merges the points into gain curves.

Modules: :mod:`~pmtgain.trc` (reading/writing .trc), :mod:`~pmtgain.pulse` (pulse model
and fits), :mod:`~pmtgain.rootfit` (the same fits in ROOT), :mod:`~pmtgain.simulate`
(campaigns with known truth), :mod:`~pmtgain.campaign` (data_info), :mod:`~pmtgain.fetch`
(downloads), :mod:`~pmtgain.config` (numbers to change).
"""

import os as _os
import sys as _sys

from .parallel import THREAD_VARS as _THREAD_VARS
from .parallel import limit_threads as _limit_threads

__version__ = "0.1.0"

#: numpy (and its BLAS) started before this package, with no thread variable set: BLAS
#: runs its default threads, and the pool's workers limit it where they run
#: (threadpoolctl). Otherwise the variables below, or the user's own, already hold.
BLAS_STARTED_UNLIMITED = "numpy" in _sys.modules and not any(
    v in _os.environ for v in _THREAD_VARS)
#: one BLAS thread per process, set before numpy starts when this package is imported
#: first (the scripts, ``python -m pmtgain``): with 2 worker processes of 2 BLAS threads
#: each, a GIN campaign on 2 cores took 1.9 s instead of 1.0 s. A variable already set
#: is kept.
_limit_threads()

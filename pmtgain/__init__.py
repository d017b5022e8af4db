"""pmtgain: PMT gain curves from oscilloscope waveforms, locally or on HTCondor.

The core is one pure function, :func:`pmtgain.point.process_point`, which turns the
``.trc`` files of one (PMT, HV) point into per-flash charges and a summary. Executors
deliver points (:mod:`pmtgain.run`: a local process pool; :mod:`pmtgain.condor`: HTCondor
jobs); :func:`pmtgain.run.pipeline.merge` builds the gain curves from the saved points.

Layers, lowest first (a layer imports only the layers below it; ``tests/test_package.py``):

- base: :mod:`~pmtgain.errors` (every error class), :mod:`~pmtgain.config` (settings and
  constants), :mod:`~pmtgain._threads`, :mod:`~pmtgain.parallel` (the process pool)
- :mod:`pmtgain.io` - reading and writing ``.trc``, campaigns, downloads, safe writes
- :mod:`pmtgain.point` - the physics of one point (what an HTCondor job needs)
- :mod:`pmtgain.results` - the saved points, their reuse, the lists and the gain curves
- :mod:`pmtgain.report` - plots, per-point diagnostics, the HTML report
- :mod:`pmtgain.condor` - HTCondor submission and the queue
- :mod:`pmtgain.run` - executors, the job body and the pipeline (the policy)
- :mod:`pmtgain.sim` - simulated campaigns with known truth, and the demo
- :mod:`pmtgain.cli` - the command lines (``pmtgain``, ``analysis.py``, ``gain_curve.py``)
"""

from pmtgain._threads import limit_threads as _limit_threads

__version__ = "0.1.0"
__all__ = ["__version__"]

#: one BLAS thread per process, set before numpy starts when this package is imported
#: first (the scripts, ``python -m pmtgain``); a variable already set is kept.
_limit_threads()

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

__version__ = "0.1.0"

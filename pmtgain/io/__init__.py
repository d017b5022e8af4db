"""Input and output: what the instruments wrote and where it comes from.

What to use when
----------------
- :mod:`~pmtgain.io.trc` - one LeCroy ``.trc`` file: its header (``read_header``,
  ``describe``) and its samples in volts (``read_trc``); :mod:`~pmtgain.io.trcwrite`
  writes them (the simulator, the tests).
- :mod:`~pmtgain.io.flashes` - every flash of a point as one ``flashes x samples`` array,
  read in chunks of flat memory (``ChunkReader``); :mod:`~pmtgain.io.align` puts records
  of different trigger offsets on one time axis.
- :mod:`~pmtgain.io.campaign` - ``data_info/``: which (PMT, HV) points exist, where their
  files are, their cuts; ``file:line`` errors.
- :mod:`~pmtgain.io.fetch` - a point's files over HTTP(S) (:mod:`~pmtgain.io.http`) or
  from a local folder; :mod:`~pmtgain.io.cache` - which URL a download folder holds.
- :mod:`~pmtgain.io.safeio` - every write of the package: whole or absent, never through
  a link.

Imports only the base (:mod:`pmtgain.errors`, :mod:`pmtgain.config`).
"""

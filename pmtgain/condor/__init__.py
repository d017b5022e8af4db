"""HTCondor: submit a campaign (one job per point), follow, retrieve and resubmit it.

What to use when
----------------
- :mod:`~pmtgain.condor.submit` - submit files, one per PMT with a job per HV point,
  sent with ``-spool``; what was submitted is recorded in ``condor_clusters.json``.
- :mod:`~pmtgain.condor.queue` - ``status``, ``wait``, ``retrieve`` and ``resubmit`` of
  the recorded clusters, with the options they were submitted with.

The job body is :mod:`pmtgain.run.job` (``exec_condor.sh`` -> ``analysis_condor.py``).
``python3 -m pmtgain.condor`` is ``pmtgain condor``.
"""

"""Running an analysis: executors deliver points, the pipeline decides which.

What to use when
----------------
- :mod:`~pmtgain.run.pipeline` - ``analyse`` a campaign and ``merge`` its results: what
  the scripts call (the policy: resume, a second pass for weak points, low-light runs).
- :mod:`~pmtgain.run.executors` - one point fetched, measured and saved (``run_point``),
  every point of a campaign on a local process pool (``run_local``), the lists.
- :mod:`~pmtgain.run.job` - the body of one HTCondor job.
"""

"""The package's own error for bad input: what the command line reports in one line.

- :class:`InputError` - a file, a campaign line, a setting or a saved result that cannot
  be used, named with the reason. The command line turns it into one line and exit
  status 2 (:func:`pmtgain.console.guarded`); a point that fails with it is a failed
  point with that reason (:func:`pmtgain.executors.run_point`). Its subclasses name the
  layer: :class:`pmtgain.trc.TrcError`, :class:`pmtgain.campaign.CampaignError`,
  :class:`pmtgain.gaincurve.MixedLists`, :class:`pmtgain.console.UserError`.

Any other exception is a bug in this package, not bad input: the command line says so
in one line and shows its traceback (exit status 70); a point's log keeps it.
"""


class InputError(ValueError):
    """Bad input, named with the reason (a ValueError, for callers that catch those)."""

"""The command lines: ``pmtgain``, ``analysis.py``, ``gain_curve.py``,
``list_directories_condor.py`` and ``python3 -m pmtgain.condor``.

- :mod:`~pmtgain.cli.main` - ``pmtgain``, ``analysis.py``, ``gain_curve.py``: the parsers
  and the thin mains behind the scripts;
- :mod:`~pmtgain.cli.condor` - ``pmtgain condor`` and ``list_directories_condor.py``;
- :mod:`~pmtgain.cli.console` - one line per error, the exit statuses, a closed pipe.
"""

from pmtgain.cli.condor import condor_main, dirs_main
from pmtgain.cli.main import gain_main, main, run_analysis

__all__ = ["main", "run_analysis", "gain_main", "condor_main", "dirs_main"]

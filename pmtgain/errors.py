"""Every error class of the package (uproot's ``exceptions.py`` is the model): the leaf
module every layer may import, and what the command line catches.

Bad input, reported in one line with exit status 2 (:func:`pmtgain.cli.console.guarded`);
a point that fails with one is a failed point with that reason
(:func:`pmtgain.run.executors.run_point`):

- :class:`InputError` - a file, a campaign line, a setting or a saved result that cannot
  be used, named with the reason. Its subclasses name where:
- :class:`TrcError` - a ``.trc`` file (``"<file>: <reason>"``);
- :class:`CampaignError` - a campaign line or file (``file:line``);
- :class:`MixedLists` - per-PMT lists not written by one run;
- :class:`UserError` - a command line's own arguments.

The machine or the queue, not the input:

- :class:`Busy` - another run holds the outputs folder (exit status 2: run it later);
- :class:`LinkRefused` - a file this package writes is a link it did not make (an OSError);
- :class:`CondorError` - an HTCondor command failed or is missing.

Any other exception is a bug in this package, not bad input: the command line says so
in one line and shows its traceback (exit status 70); a point's log keeps it.
"""

from __future__ import annotations

import os

__all__ = ["InputError", "TrcError", "CampaignError", "MixedLists", "UserError", "Busy",
           "LinkRefused", "CondorError"]


class InputError(ValueError):
    """Bad input, named with the reason (a ValueError, for callers that catch those)."""


class TrcError(InputError):
    """A ``.trc`` file that cannot be read. ``str(err)`` is ``"<file>: <reason>"``."""

    def __init__(self, path: str | os.PathLike | None, reason: str):
        self.path = str(path) if path is not None else "<bytes>"
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CampaignError(InputError):
    """A campaign line or file that cannot be used (``file:line: reason``)."""


class MixedLists(InputError):
    """The per-PMT lists were not written by one run (a run killed while writing them)."""


class UserError(InputError):
    """An input problem to report in one line (exit status 2)."""


class Busy(RuntimeError):
    """Another run holds the outputs directory."""


class LinkRefused(OSError):
    """A file this package writes is a link it did not make."""


class CondorError(RuntimeError):
    """An HTCondor command failed, timed out or is not installed."""

"""A campaign's runs of other kinds than its points, each kind in files of its own with the
points' line format (:mod:`pmtgain.io.campaign`).

What to use when
----------------
- :func:`load_spe` - the low-light runs (``spe_pmt_<i>.txt``); a line may end in
  ``levels=<dir_url>[,<dir_url>...]``: the same PMT, HV and settings at other light
  levels (:func:`levels_of`), which the spectrum fit takes together.
- :func:`load_runs` - the dark runs (``dark_pmt_<i>.txt``; ``trigger=self`` for
  self-triggered records, :data:`DARK_KEYS`) and the long-record runs for afterpulses
  (``afterpulse_pmt_<i>.txt``); :func:`load_dark` the former.
- The LED-off runs (``ledoff_pmt_<i>.txt``) belong to a point or a low-light run:
  :func:`pmtgain.io.campaign.load_ledoff`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from pmtgain.config import PointSpec
from pmtgain.io.campaign import (
    SPE_PATTERN,
    distinct_folders,
    levels_of,
    load_ledoff,
    parse_campaign_file,
)
from pmtgain.kinds import DARK, SPE

__all__ = ["DARK_KEYS", "SPE_KEYS", "levels_of", "load_spe", "load_dark", "load_runs"]


#: a dark run's trigger (``trigger=``; :data:`pmtgain.point.darkrun.TRIGGERS`)
DARK_KEYS = {"trigger": ("random", "self")}
#: a low-light run's other light levels (``levels=<dir_url>[,<dir_url>...]``)
SPE_KEYS = {"levels": None}


def load_runs(path: str | os.PathLike, kind) -> list[PointSpec]:
    """The runs of ``kind`` (:data:`pmtgain.kinds.DARK`, :data:`~pmtgain.kinds.AFTERPULSE`)
    of a campaign: their files beside its data_directories files (``dark_pmt_<i>.txt``,
    ``afterpulse_pmt_<i>.txt``), the same line format; [] without any. A dark run's line
    may end in ``trigger=self`` for self-triggered records (``extra["trigger"]``,
    ``random`` without it)."""
    p = Path(path)
    d = p if p.is_dir() else p.parent
    out = []
    for f in sorted(d.glob(kind.campaign_files)):
        for pt in parse_campaign_file(f, keys=DARK_KEYS if kind is DARK else None):
            out.append(replace(pt, cut_V=None, folder=f"{pt.folder}_{kind.name}",
                               kind=kind.name))
    return sorted(distinct_folders(out), key=lambda q: (q.pmt, q.hv))


def load_dark(path: str | os.PathLike = "data_info") -> list[PointSpec]:
    """The dark runs of a campaign (:func:`load_runs`)."""
    return load_runs(path, DARK)


def load_spe(path: str | os.PathLike = "data_info") -> list[PointSpec]:
    """The low-light runs of a campaign: ``spe_pmt_<i>.txt`` beside its data_directories
    files, the same line format (``<dir_url> <pmt> <hv> <n_files>``); [] without any.
    Each run's ``kind`` is ``spe``, its ``extra["ledoff"]`` the LED-off run of its PMT
    and HV where ``ledoff_pmt_<i>.txt`` lists one, ``extra["levels"]`` its other light
    levels where the line ends in ``levels=<dir_url>[,<dir_url>...]`` (the same PMT, HV
    and settings at other LED intensities: the spectrum fit takes them together)."""
    p = Path(path)
    d = p if p.is_dir() else p.parent
    off = load_ledoff(d)
    out = []
    for f in sorted(d.glob(SPE_PATTERN)):
        for pt in parse_campaign_file(f, keys=SPE_KEYS):
            extra: dict = {}
            if (pt.pmt, pt.hv) in off:
                extra["ledoff"] = off[(pt.pmt, pt.hv)]
            if pt.extra.get("levels"):
                extra["levels"] = tuple(replace(q, folder=f"{q.folder}_spe", kind=SPE.name)
                                        for q in pt.extra["levels"])
            out.append(replace(pt, cut_V=None, folder=f"{pt.folder}_spe", kind=SPE.name,
                               extra=extra))
    return sorted(distinct_folders(out), key=lambda q: (q.pmt, q.hv))

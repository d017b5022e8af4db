"""The physics of one (PMT, HV) point: files in, charges and a summary out.

Everything an HTCondor job needs to measure a point, and nothing about where results are
kept (:mod:`pmtgain.results`) or how points are delivered (:mod:`pmtgain.run`).

What to use when
----------------
- :func:`process_point` (:mod:`~pmtgain.point.process`) - the pure function: a point's
  local files -> :class:`PointResult` (per-flash table, summary, examples).
- :func:`~pmtgain.point.spe.process_spe` - a low-light run -> the single-photoelectron
  gain and excess noise factor; :mod:`~pmtgain.point.anchor` puts every HV on that anchor.
- Stages, in the order a point passes them: :mod:`~pmtgain.point.prepare` (baselines,
  noise, the LED window), :mod:`~pmtgain.point.scan` (first pass: the mean pulse),
  :mod:`~pmtgain.point.shape` and :mod:`~pmtgain.point.placement` (where to integrate),
  :mod:`~pmtgain.point.window` (the estimator), :mod:`~pmtgain.point.measure` (second
  pass: every flash), :mod:`~pmtgain.point.charge` and :mod:`~pmtgain.point.pedestal`
  (statistics), :mod:`~pmtgain.point.photostat` (the gain in electrons).
- :mod:`~pmtgain.point.engines` - the per-flash fit engines behind one signature
  (:mod:`~pmtgain.point.pulse`, :mod:`~pmtgain.point.rootfit`); :mod:`~pmtgain.point.model`
  the pulse model and the charge's units.
"""

import importlib

__all__ = ["process_point", "PointResult"]

#: served on first use (PEP 562): importing a light module of this layer (the store reads
#: ``point.result``) does not import the whole pipeline and scipy with it
_LAZY = {"process_point": "pmtgain.point.process", "PointResult": "pmtgain.point.result"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

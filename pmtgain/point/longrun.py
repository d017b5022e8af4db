"""Long-record runs for afterpulses: LED flashes recorded >= 1 us past the pulse, a run kind
of their own (``afterpulse_pmt_<i>.txt``, :data:`pmtgain.kinds.AFTERPULSE`).

What to use when
----------------
- :func:`process_long` - one such run (files -> summary, spectra): the point's own
  processing (:func:`pmtgain.point.process.process_point`: the charge per flash, the
  photostatistics, the baseline region's dark counts) with its afterpulse counter
  (:class:`pmtgain.point.afterpulse.AfterpulseCounter`: every pulse beyond 5 noise rms
  after the LED pulse, delays histogrammed); the delay histogram is its spectra.
- :func:`with_long_runs` - the merge's step: per run the photoelectrons per flash ``mu``
  (the PMT's anchored gain at the run's HV: ``mu = |<Q>| / (G e)``, less the pulses the
  charge window holds after the LED's, :func:`window_pulses`; else the run's
  photostatistics with the PMT's F, which are also the check: the two more than
  :data:`MU_TOLERANCE` apart flag the run), the dark counts in the same region (a dark run's rate
  at the same threshold where one was taken at the PMT and HV, else the run's own baseline
  region), the afterpulses per photoelectron
  (:func:`pmtgain.point.afterpulse.afterpulse_probability`) and the delay groups
  (:func:`pmtgain.point.afterpulse.delay_groups`) in ``ap_groups``.
- Points of the gain curve whose records are long enough are searched the same way (their
  ``ap_*`` fields); a run of this kind is for a record length or light level that the
  gain points do not have.

Where it holds (``tests/point/test_longrun.py``): simulated ion groups at 300 and 1000 ns
(1 % and 2 % per photoelectron), 20 photoelectrons a flash, dark counts at 50 kHz taken
off with a dark run at the same HV: the probability within 3 sigma. The charge window of a long
record reaches over the afterpulses (``<Q>`` 3-4 % high there): the pulses counted inside
it are taken off ``mu`` (``ap_window_extra_pe``; those below the threshold are not).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pmtgain.io.readers import DEFAULT_READ, ReadSettings
from pmtgain.kinds import AFTERPULSE
from pmtgain.point.afterpulse import afterpulse_probability, delay_groups
from pmtgain.point.darkrate import amplitude_at, power_law_at, rate_curve
from pmtgain.point.photostat import E_PC
from pmtgain.point.schema import text_numbers

__all__ = ["process_long", "with_long_runs", "gain_at", "window_pulses", "LONG_COLUMNS"]

#: the anchored and the photostatistics' photoelectrons per flash may differ by this much
#: (F's and the LED's own uncertainty) before the run is flagged
MU_TOLERANCE = 0.1
#: the first columns of ``lists/afterpulse_runs.csv``
LONG_COLUMNS = ("pmt", "hv", "n_flashes", "mean_charge", "ap_region_ns", "ap_pulses",
                "afterpulse_prob", "afterpulse_prob_err", "ap_threshold_pe", "n_pe_anchored",
                "ap_mu_photostat", "ap_mu_source",
                "ap_dark_source", "ap_groups", "flag")


def process_long(files: Sequence[str | os.PathLike], *, pmt: int, hv: int,
                 read: ReadSettings = DEFAULT_READ) -> tuple[dict, dict]:
    """One long-record run: its summary (a point's, ``kind`` ``afterpulse``, ``flag``: why
    no afterpulse could be counted) and its delay histogram (``ap_delay_edges_ns``,
    ``ap_delay_counts``)."""
    from pmtgain.point.process import process_point

    s = dict(process_point(files, pmt=pmt, hv=hv, read=read).summary)
    s.update(kind=AFTERPULSE.name, flag="" if "ap_pulses" in s else
             "records too short after the LED pulse for afterpulses (at least 500 ns)")
    spectra = dict(ap_delay_edges_ns=text_numbers(s.get("ap_delay_edges_ns")),
                   ap_delay_counts=text_numbers(s.get("ap_delay_counts")))
    return s, spectra


def gain_at(pmt: int, hv: int, points: pd.DataFrame) -> float:
    """The PMT's anchored gain at ``hv`` (:mod:`pmtgain.point.anchor`): its point's there,
    else interpolated between its points as a power of the HV; NaN outside them."""
    return power_law_at(points, pmt, hv, "gain_anchored")


def window_pulses(run: dict) -> float:
    """The pulses per flash (after- and dark pulses beyond the threshold, ~1 photoelectron
    each) inside the run's charge window: on a long record the window reaches over them
    (``window_hi_rel_ns`` after the onset), so ``<Q>`` holds their charge besides the LED's
    photoelectrons; 0 where no delay histogram or window is known."""
    edges = text_numbers(run.get("ap_delay_edges_ns"))
    h = text_numbers(run.get("ap_delay_counts"))
    hi = run.get("window_hi_rel_ns")
    if not h.size or hi is None or not np.isfinite(hi) or not run.get("ap_flashes"):
        return 0.0
    mid = 0.5 * (edges[1:] + edges[:-1])
    return float(h[mid <= float(hi)].sum() / float(run["ap_flashes"]))


def _dark_at(run: dict, dark_runs: pd.DataFrame | None) -> tuple[float, float] | None:
    """The rate (and error) beyond the run's afterpulse threshold from a dark run at its
    PMT and HV, interpolated in the dark run's curve (log of the threshold); None
    without one or outside its thresholds."""
    if dark_runs is None or dark_runs.empty:
        return None
    m = dark_runs[(dark_runs.pmt == run["pmt"]) & (dark_runs.hv == run["hv"])]
    if m.empty:
        return None
    c = rate_curve(m.iloc[0].to_dict())
    x, thr = c.threshold_V.to_numpy(float), float(run["ap_threshold_V"])
    if not x.size or not x[0] <= thr <= x[-1]:
        return None
    lx = np.log(x)
    return (float(np.interp(np.log(thr), lx, c.rate_hz.to_numpy(float))),
            float(np.interp(np.log(thr), lx, c.rate_err_hz.to_numpy(float))))


def with_long_runs(runs: pd.DataFrame, points: pd.DataFrame, *,
                   enf: dict[int, float] | None = None, spe_runs: pd.DataFrame | None = None,
                   dark_runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The long-record runs with their afterpulses per photoelectron (see the module
    docstring); ``points``: the merged points (their ``gain_anchored``), ``enf``: each
    PMT's F for the photostatistics' ``mu`` where no anchored gain is known."""
    from pmtgain.point.photostat import apply_enf

    if runs.empty:
        return runs
    runs = apply_enf(runs.copy(), enf or {})
    for i, r in zip(runs.index, runs.to_dict("records"), strict=True):
        pmt, hv = int(r["pmt"]), int(r["hv"])
        g = gain_at(pmt, hv, points)
        mu = abs(float(r["mean_charge"])) / (g * E_PC) if np.isfinite(g) else np.nan
        extra = window_pulses(r)
        runs.loc[i, "ap_window_extra_pe"] = extra
        runs.loc[i, "n_pe_anchored"] = mu - extra
        runs.loc[i, "ap_mu_source"] = "anchored gain" if np.isfinite(mu) else \
            "photostatistics"
        runs.loc[i, "spe_amplitude_V"] = amplitude_at(pmt, hv, points, spe_runs)
        dark = _dark_at(r, dark_runs) if "ap_threshold_V" in r else None
        if dark is not None:
            runs.loc[i, "dark_rate_5sigma_hz"], runs.loc[i, "dark_rate_5sigma_err_hz"] = dark
        runs.loc[i, "ap_dark_source"] = "dark run" if dark is not None else \
            "its baseline region"
        # the run's own photostatistics (its light, its window, whatever the window
        # holds of the pulse: the ratio mean^2/var does not depend on it) as the check
        ps = float(r.get("n_pe", np.nan))
        runs.loc[i, "ap_mu_photostat"] = ps
        if np.isfinite(mu - extra) and np.isfinite(ps) and ps > 0 and \
                abs((mu - extra) / ps - 1) > MU_TOLERANCE:
            runs.loc[i, "flag"] = "; ".join(x for x in (str(r.get("flag") or ""), (
                f"photoelectrons per flash from the anchored gain {mu - extra:.3g} and from "
                f"its photostatistics {ps:.3g} differ by {100 * ((mu - extra) / ps - 1):+.0f}"
                " %: the windows hold different shares of the pulse (an undershoot?) or "
                "the LED is not Poisson; the afterpulses per photoelectron are as uncertain"))
                if x)
    runs = afterpulse_probability(runs)
    for i, r in zip(runs.index, runs.to_dict("records"), strict=True):
        if not isinstance(r.get("ap_delay_counts"), str):
            continue
        rate = r.get("dark_rate_5sigma_hz")
        groups = delay_groups(r, float(rate) if np.isfinite(rate) else 0.0)
        total = sum(x["pulses"] for x in groups) or 1.0
        runs.loc[i, "ap_groups"] = "; ".join(
            f"{x['delay_ns']:.0f} +- {x['delay_err_ns']:.0f} ns (rms {x['rms_ns']:.0f}, "
            f"{100 * x['pulses'] / total:.0f} %)" for x in groups)
    return runs

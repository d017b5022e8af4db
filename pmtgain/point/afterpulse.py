"""Afterpulses: pulses that follow the LED pulse by 0.1-10 us (ions fed back to the
photocathode), their number per photoelectron and their delays.

What to use when
----------------
- :class:`AfterpulseCounter` - a point's second pass counts, flash by flash, the pulses
  beyond a threshold after the LED pulse (from ``AFTER_GAP_NS`` after its window, at the
  latest ``MAX_START_NS`` after its onset, to the record's end, where that is at least
  ``MIN_REGION_NS`` long) and histograms their delays
  after the pulse's onset; its :meth:`~AfterpulseCounter.fields` are the point's ``ap_*``.
- :func:`delay_groups` - the groups of the delay spectrum (an ion species each): their
  mean delay, rms and share of the afterpulses, over the dark counts' flat floor.
- :func:`afterpulse_probability` - the merge's step: per point the afterpulses per
  photoelectron, the dark counts expected in the same region taken off, over the
  photoelectrons per flash (the low-light anchor's ``n_pe_anchored``, else the
  photostatistics' ``n_pe``).

Method. A pulse is a run of samples below ``-thr`` (``thr`` = 5 noise rms: the dark-count
rate at the same threshold, ``dark_rate_5sigma_hz`` of :mod:`pmtgain.point.darkrate`, is
what the baseline region gives); runs closer than ``MERGE_NS`` are one pulse (noise on a
pulse's edge). With ``A`` pulses over ``N`` flashes, a region of length ``T`` and the dark
rate ``r``: afterpulses per flash ``a = A/N - r T`` (Poisson error ``sqrt(A)/N``, the dark
rate's times ``T``), and per photoelectron ``P = a / mu``: of the afterpulses above the
threshold (``ap_threshold_pe`` where the single photoelectron's amplitude is known; an
outside check with a 15 % low-charge tail found 13 % of them below 5 noise rms, not
counted). Two afterpulses within
``MERGE_NS`` count once (a loss of ``~ a MERGE_NS / T``, negligible below a few per flash).
The delay spectrum is in ``AP_BIN_NS`` bins from the onset: an ion species gives a group
at its own delay (Hamamatsu, *Photomultiplier Tubes: Basics and Applications*, 4th ed.,
ch. 4: H+, He+, CH4+ ... at 0.2-2 us in a 1 kV tube).

Where it holds (``tests/point/test_afterpulse.py``): simulated afterpulses in two groups
(at 300 and 1000 ns, 1 % and 2 % per photoelectron), 20 photoelectrons a flash, single
photoelectrons 20x the noise, 2 us of record after the pulse, a dark rate of 50 kHz: P
within 3 sigma, each group's mean delay within 3 of its errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pmtgain.point.schema import numbers_text, text_numbers

__all__ = ["AfterpulseCounter", "afterpulse_probability", "delay_groups", "afterpulse_lines",
           "AFTER_GAP_NS",
           "MAX_START_NS", "MIN_REGION_NS", "MERGE_NS", "AP_BIN_NS", "AP_SIGMA"]

#: the region starts this long after the LED window (its tail and any ringing are over)
AFTER_GAP_NS = 20.0
#: ... and at the latest this long after the pulse's onset
MAX_START_NS = 100.0
#: records with less than this after the LED pulse are not searched for afterpulses
MIN_REGION_NS = 500.0
#: runs below the threshold closer than this are one pulse
MERGE_NS = 5.0
#: the delay histogram's bins
AP_BIN_NS = 20.0
#: the threshold, in the point's noise rms (the dark-count rate's ``5sigma`` threshold)
AP_SIGMA = 5.0



class AfterpulseCounter:
    """Counts the afterpulses of a point's flashes, chunk by chunk (the module docstring)."""

    def __init__(self, n_samples: int, k_window_end: int, k_onset: int, dt_ns: float,
                 noise_V: float):
        self.dt = dt_ns
        # after the window, but no later than MAX_START_NS after the onset: on long
        # records the window can reach over the afterpulses themselves (the mean record
        # is not back at its baseline while they go on)
        self.k0 = min(k_window_end + int(round(AFTER_GAP_NS / dt_ns)),
                      k_onset + int(round(MAX_START_NS / dt_ns)))
        self.k_onset = k_onset
        self.n_samples = n_samples
        self.active = (n_samples - self.k0) * dt_ns >= MIN_REGION_NS and noise_V > 0
        self.thr = AP_SIGMA * noise_V
        self.merge = max(int(round(MERGE_NS / dt_ns)), 1)
        span = (n_samples - self.k_onset) * dt_ns
        self.edges = np.arange(0.0, span + AP_BIN_NS, AP_BIN_NS)
        self.hist = np.zeros(self.edges.size - 1, np.int64)
        self.pulses = 0
        self.flashes = 0

    def add(self, y: np.ndarray, use: np.ndarray) -> np.ndarray:
        """Count the chunk's flashes ``use`` (baseline-subtracted ``y``); returns each
        flash's number of afterpulses (-1 where not counted)."""
        out = np.full(y.shape[0], -1, np.int64)
        if not self.active or not use.any():
            return out
        b = y[use, self.k0:] < -self.thr
        c = np.cumsum(b, axis=1)
        # a pulse starts where no sample of the previous `merge` is below the threshold
        before = np.zeros_like(c)
        before[:, 1:] = c[:, :-1]
        m = self.merge
        prior = before - np.concatenate([np.zeros((c.shape[0], m), c.dtype),
                                         before[:, :-m]], axis=1) if c.shape[1] > m \
            else before
        start = b & (prior == 0)
        rows, k = np.nonzero(start)
        delay = (k + self.k0 - self.k_onset) * self.dt
        self.hist += np.histogram(delay, self.edges)[0]
        n = np.bincount(rows, minlength=b.shape[0])
        out[use] = n
        self.pulses += int(n.sum())
        self.flashes += int(use.sum())
        return out

    def fields(self) -> dict:
        """The point's ``ap_*`` fields (an empty dict where the records are too short)."""
        if not self.active:
            return {}
        return dict(ap_threshold_V=self.thr, ap_flashes=self.flashes, ap_pulses=self.pulses,
                    ap_start_ns=(self.k0 - self.k_onset) * self.dt,
                    ap_region_ns=(self.n_samples - self.k0) * self.dt,
                    ap_delay_edges_ns=numbers_text(self.edges),
                    ap_delay_counts=numbers_text(self.hist))


def afterpulse_probability(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (merged points) with ``afterpulses_per_flash`` and ``afterpulse_prob`` (per
    photoelectron) and their errors where the points have ``ap_*`` fields."""
    df = df.copy()
    if "ap_pulses" not in df.columns:
        return df
    n = df["ap_flashes"].to_numpy(float)
    a = df["ap_pulses"].to_numpy(float)
    t = df["ap_region_ns"].to_numpy(float) * 1e-9
    r = df.get("dark_rate_5sigma_hz", pd.Series(np.nan, index=df.index)).to_numpy(float)
    re = df.get("dark_rate_5sigma_err_hz", pd.Series(np.nan, index=df.index)).to_numpy(float)
    r, re = np.where(np.isfinite(r), r, 0.0), np.where(np.isfinite(re), re, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = a / n - r * t
        per_err = np.hypot(np.sqrt(a) / n, re * t)
        mu = df["n_pe_anchored"].to_numpy(float) if "n_pe_anchored" in df.columns \
            else np.full(len(df), np.nan)
        if "n_pe" in df.columns:
            mu = np.where(np.isfinite(mu), mu, df["n_pe"].to_numpy(float))
        df["afterpulses_per_flash"], df["afterpulses_per_flash_err"] = per, per_err
        df["afterpulse_prob"], df["afterpulse_prob_err"] = per / mu, per_err / mu
        # the threshold in single photoelectrons, where the amplitude is known: afterpulses
        # smaller than it are not counted (nothing here corrects for them)
        amp = df["spe_amplitude_V"].to_numpy(float) if "spe_amplitude_V" in df.columns \
            else np.full(len(df), np.nan)
        df["ap_threshold_pe"] = df["ap_threshold_V"].to_numpy(float) / amp
    return df



def delay_groups(fields: dict, dark_rate_hz: float = 0.0, min_sigma: float = 5.0
                 ) -> list[dict]:
    """The groups of a point's delay spectrum: peaks of the histogram (smoothed over three
    bins) standing ``min_sigma`` of its Poisson errors above the dark counts' floor
    (``dark_rate_hz`` x flashes x bin) and above the dips beside them, the highest first,
    each with the mean delay, rms and number of afterpulses (floor taken off) within 1.25
    of the peak's full widths at half height (bins of an earlier group left to it), and
    their errors (the floor's counts in them)."""
    from scipy.signal import find_peaks

    edges = text_numbers(fields.get("ap_delay_edges_ns"))
    h = text_numbers(fields.get("ap_delay_counts"))
    if not h.size:
        return []
    x = 0.5 * (edges[1:] + edges[:-1])
    floor = max(float(dark_rate_hz), 0.0) * float(fields["ap_flashes"]) * \
        np.diff(edges) * 1e-9
    start = float(fields["ap_start_ns"])
    h = np.where(x >= start + AP_BIN_NS, h, 0.0)  # the region's first bin is partial
    sm = np.convolve(h - floor, np.ones(3) / 3, mode="same")
    noise = np.sqrt(np.maximum(np.convolve(h, np.ones(3) / 3, mode="same"), 1.0) / 3)
    # a group is a peak standing min_sigma above the floor *and* above the dips that part
    # it from its neighbours (prominence): a broad group's own ups and downs are not groups
    peaks, props = find_peaks(sm, height=min_sigma * noise,
                              prominence=min_sigma * noise, width=1)
    width = dict(zip(peaks.tolist(), props["widths"].tolist(), strict=True))
    out, taken = [], np.zeros(x.size, bool)
    for k in peaks[np.argsort(-sm[peaks])].tolist():  # the highest first
        if taken[k]:  # inside a higher group
            continue
        sel = (np.abs(x - x[k]) <= max(1.25 * width[k] * AP_BIN_NS, 1.5 * AP_BIN_NS)) \
            & ~taken
        taken |= sel
        c = np.maximum(h[sel] - floor[sel], 0.0)
        n = float(c.sum())
        if n <= 0:
            continue
        mean = float(np.sum(c * x[sel]) / n)
        rms = float(np.sqrt(max(np.sum(c * (x[sel] - mean) ** 2) / n, 0.0)))
        # the mean's error with the floor's counts in it (every count's Poisson error)
        err = float(np.sqrt(np.sum(h[sel] * (x[sel] - mean) ** 2)) / n)
        out.append(dict(delay_ns=mean, delay_err_ns=err, rms_ns=rms, pulses=n,
                        pulses_err=float(np.sqrt(h[sel].sum()))))
    return sorted(out, key=lambda g: g["delay_ns"])


def afterpulse_lines(df: pd.DataFrame, source: str = "") -> list[str]:
    """One line per PMT for the merge's output: the afterpulses per photoelectron (of
    ``source``: its long-record runs, where not its points)."""
    out = []
    if "afterpulse_prob" not in df.columns:
        return out
    for pmt, sub in df.sort_values("hv").groupby("pmt"):
        vals = ", ".join(f"{h} V {100 * p:.3g} +- {100 * e:.2g} %" for h, p, e in
                         zip(sub.hv, sub.afterpulse_prob, sub.afterpulse_prob_err,
                             strict=True) if np.isfinite(p))
        if vals:
            out.append(f"PMT {pmt}: afterpulses per photoelectron"
                       + (f" from its {source}" if source else "")
                       + f" (dark counts taken off): {vals}")
    return out

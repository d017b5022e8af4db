"""Baselines, noise, the LED window and which flashes count: the first step of every point.

What to use when
----------------
- :func:`prepare` - from the volts of every readable flash of a point to
  :class:`Prepared`: baseline-subtracted traces, the point's LED window, the mean pulse of
  every flash that counts, and the status of each flash. Every engine and the linear
  charge estimator (:mod:`pmtgain.point.charge`) start here.

No selection on a flash's own signal happens here: the LED window is found on the mean of
*all* flashes (its noise falls as 1/sqrt(n), so it stands out even where single pulses do
not), and a flash leaves the statistics only for reasons that do not depend on its LED
charge (:class:`pmtgain.point.model.Status`): a sample at the ADC's limit (``clipped``), or a
pulse in the baseline region (``pre_pulse``: a dark count or the afterpulse of an earlier
flash, more than ``pre_pulse_sigma`` times the point's noise below the baseline, on
samples that end well before the LED pulse begins). The original's cut (keep a flash whose
minimum is below ``cut_V``) is evaluated (``passed_cut``) but never removes a flash here:
see :func:`pmtgain.point.charge.cut_statistics`.

The baseline of each flash is the mean of its samples in the baseline region: from the
record start (after ``edge_samples``) to ``gap`` before the onset of the mean pulse, with
``gap = max(baseline_gap_ns, 1.5 x the mean pulse's rise from 4 % to its peak)`` so that a
flash whose onset jitters early does not leak into it. Where the pulse sits so early that
fewer than ``min_baseline_samples`` remain, the region after the pulse is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.point.model import NS, Status

__all__ = ["Prepared", "crossings", "Geometry", "locate", "Tally", "tally", "prepare",
           "pulse_snr"]


@dataclass
class Prepared:
    """Baseline-subtracted traces of a point and what every engine needs from them."""

    y: np.ndarray  # (n, N) volts - baseline
    t0_ns: np.ndarray  # (n,) time of sample 0 of each trace
    dt_ns: float
    baseline_V: np.ndarray
    noise_V: np.ndarray
    amplitude_V: np.ndarray  # baseline-subtracted minimum (negative)
    raw_min_V: np.ndarray
    kmin: np.ndarray
    status: np.ndarray  # Status per flash: OK, CLIPPED or PRE_PULSE
    k_lo: int  # LED window: samples k_lo .. k_hi-1
    k_hi: int
    k_base: int  # baseline: samples k_edge .. k_base-1
    mean_pulse: np.ndarray  # (N,) mean of y over every flash that counts
    onset_ns: float  # the point's onset (relative to t0), from the 4 % crossing of the mean
    snr: float  # |min mean pulse| / median noise: the signal of one flash
    k_edge: int = 0  # the baseline is the mean of samples k_edge .. k_base-1
    passed_cut: np.ndarray | None = None  # the original's cut (None: no cut column)
    mean_snr: float = 0.0  # |min mean pulse| / its own noise: how well the mean is measured
    noise_ref: float = 0.0  # the median noise the pre-pulse test scaled with
    # the lowest and highest sample of each flash's baseline region less its baseline (the
    # dark counts there: pmtgain.point.darkrate)
    pre_min_V: np.ndarray | None = None
    pre_max_V: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def counted(self) -> np.ndarray:
        """Flashes that enter the point's statistics."""
        return self.status == Status.OK

    @property
    def n_base(self) -> int:
        """Samples averaged into each flash's baseline."""
        return max(self.k_base - self.k_edge, 1)


def crossings(y: np.ndarray, kpk: int, thr: float) -> tuple[int, int]:
    """Last sample before the peak and first after it where ``y`` is above ``thr`` (< 0)."""
    before = np.nonzero(y[:kpk] > thr)[0]
    after = np.nonzero(y[kpk:] > thr)[0]
    k_on = int(before[-1]) if before.size else 0
    k_end = kpk + int(after[0]) if after.size else y.size - 1
    return k_on, k_end


def _robust_sigma(x: np.ndarray) -> float:
    """Noise rms of a trace from the median absolute sample-to-sample difference."""
    d = np.diff(x)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


@dataclass(frozen=True)
class Geometry:
    """Where a point's LED pulse and baseline are in its records (samples)."""

    e: int  # samples ignored at both ends for the minimum
    kpk: int  # the mean pulse's peak
    k_on: int  # its 4 % onset
    k_end: int  # its return within 4 %
    k_edge: int  # baseline: samples k_edge .. k_base-1
    k_base: int
    k_lo: int  # LED window: samples k_lo .. k_hi-1
    k_hi: int
    # samples skip_lo .. skip_hi-1 of the baseline region are left out of it (coherent
    # structure such as LED-driver pick-up: pmtgain.point.placement); none when equal
    skip_lo: int = 0
    skip_hi: int = 0

    def base_index(self) -> np.ndarray:
        """The samples each flash's baseline is the mean of."""
        k = np.arange(self.k_edge, self.k_base)
        if self.skip_hi > self.skip_lo:
            k = k[(k < self.skip_lo) | (k >= self.skip_hi)]
        return k


def locate(volts: np.ndarray, clipped: np.ndarray | None, dt_s: float,
           config: FitConfig = DEFAULT_FIT) -> Geometry:
    """The LED window and the baseline region from the mean of the flashes ``volts``
    (all of a point, or its first chunk of thousands: see the module docstring)."""
    volts = np.asarray(volts, dtype=np.float64)
    n, N = volts.shape
    dt_ns = dt_s / NS
    e = min(config.edge_samples, max(N // 10, 1))
    clip = np.zeros(n, bool) if clipped is None else np.asarray(clipped, bool)
    rows = ~clip if (~clip).any() else np.ones(n, bool)
    m0 = volts[rows].mean(axis=0)
    m0 = m0 - np.median(m0)  # its median is the mean baseline
    sig_m = max(_robust_sigma(m0), 1e-15)
    kpk = int(np.argmin(m0[e : N - e])) + e
    peak = -float(m0[kpk])
    thr = -max(config.onset_fraction * peak, 3.0 * sig_m)
    k_on, k_end = crossings(m0, kpk, thr)
    rise_ns = (kpk - k_on) * dt_ns
    gap = int(np.ceil(max(config.baseline_gap_ns, 1.5 * rise_ns) / dt_ns))
    # the baseline region: before the pulse, or after it when the pulse sits at the start
    k_edge, k_base = e, max(e + 2, k_on - gap)
    if k_base - e < config.min_baseline_samples:
        after = min(N - e - 2, k_end + max(k_end - kpk, 1) * 3 + gap)
        if (N - e) - after > k_base - e:
            k_edge, k_base = after, N - e
    k_lo = max(0, k_on - int(round(config.pre_ns / dt_ns)))
    k_hi = min(N, k_end + int(round(config.post_ns / dt_ns)) + 1)
    if k_edge > k_on:  # baseline after the pulse: the window must stop before it
        k_hi = min(k_hi, k_edge)
    return Geometry(e=e, kpk=kpk, k_on=k_on, k_end=k_end, k_edge=k_edge, k_base=k_base,
                    k_lo=k_lo, k_hi=k_hi)


def _which_count(volts: np.ndarray, clip: np.ndarray, g: Geometry, noise_ref: float | None,
                 config: FitConfig):
    """(baseline, noise, status, noise_ref) of every flash: the one place that decides
    which flashes count (see the module docstring)."""
    n = volts.shape[0]
    base = volts[:, g.k_edge:g.k_base] if g.skip_hi <= g.skip_lo else \
        volts[:, g.base_index()]
    baseline = base.mean(axis=1)
    noise = base.std(axis=1, ddof=1) if base.shape[1] > 1 else np.zeros(n)
    status = np.full(n, Status.OK, np.int8)
    if noise_ref is None:
        noise_ref = float(np.median(noise[~clip])) if (~clip).any() else \
            float(np.median(noise)) if n else 0.0
    # min(v - b) = min(v) - b exactly (rounding is monotone): no baseline-subtracted copy
    lowest = base.min(axis=1) - baseline if base.shape[1] else np.zeros(n)
    highest = base.max(axis=1) - baseline if base.shape[1] else np.zeros(n)
    status[lowest < -config.pre_pulse_sigma * noise_ref] = Status.PRE_PULSE
    status[clip] = Status.CLIPPED
    return baseline, noise, status, noise_ref, (lowest, highest)


@dataclass
class Tally:
    """The first pass over a chunk of a point (:func:`tally`): which flashes count and
    the sum of their baseline-subtracted traces, without the traces themselves."""

    status: np.ndarray
    baseline_V: np.ndarray
    noise_ref: float
    y_sum: np.ndarray  # (N,) sum of volts - baseline over the flashes that count
    n_counted: int

    @property
    def counted(self) -> np.ndarray:
        return self.status == Status.OK


def tally(volts: np.ndarray, clipped: np.ndarray | None, geometry: Geometry,
          noise_ref: float | None = None, config: FitConfig = DEFAULT_FIT) -> Tally:
    """Which flashes of ``volts`` count and the sum of their baseline-subtracted traces,
    exactly as :func:`prepare` decides it, at a fraction of its cost (one matrix-vector
    product, no copy of the traces): the shape pass of a point in chunks."""
    volts = np.asarray(volts, dtype=np.float64)
    clip = np.zeros(volts.shape[0], bool) if clipped is None else np.asarray(clipped, bool)
    baseline, _, status, noise_ref, _ = _which_count(volts, clip, geometry, noise_ref, config)
    c = status == Status.OK
    w = c.astype(np.float64)
    return Tally(status=status, baseline_V=baseline, noise_ref=noise_ref,
                 y_sum=w @ volts - float(baseline[c].sum()), n_counted=int(c.sum()))


def prepare(
    volts: np.ndarray,
    t0_s: np.ndarray,
    dt_s: float,
    cut_V: float | None,
    clipped: np.ndarray | None = None,
    config: FitConfig = DEFAULT_FIT,
    geometry: Geometry | None = None,
    noise_ref: float | None = None,
    overwrite: bool = False,
) -> Prepared:
    """Baselines, noise, the LED window and the status of every flash of ``volts``.

    ``cut_V`` (the original's cut) only fills ``passed_cut``; ``clipped`` marks flashes
    with a sample at the ADC's limit (from :func:`pmtgain.io.flashes.read_many`). For a point
    processed in chunks, ``geometry`` (:func:`locate`) and ``noise_ref`` (the median noise
    the pre-pulse test scales with) come from its first chunk, so that every chunk is
    treated alike; by default both come from ``volts`` itself. ``overwrite``: ``volts``
    (float64) may become the baseline-subtracted traces (no copy of the chunk).
    """
    volts = np.asarray(volts, dtype=np.float64)
    n, N = volts.shape
    dt_ns = dt_s / NS
    g = geometry or locate(volts, clipped, dt_s, config)
    e = g.e
    clip = np.zeros(n, bool) if clipped is None else np.asarray(clipped, bool)
    baseline, noise, status, noise_ref, extremes = _which_count(volts, clip, g, noise_ref,
                                                                 config)
    # the deepest sample (the baseline is one number per flash: the same sample in y)
    kmin = np.argmin(volts[:, e : N - e], axis=1) + e
    raw_min = volts[np.arange(n), kmin]
    amplitude = raw_min - baseline
    if overwrite:
        y = volts
        y -= baseline[:, None]
    else:
        y = volts - baseline[:, None]
    counted = status == Status.OK
    n_c = int(counted.sum())
    mean_pulse = counted.astype(np.float64) @ y / n_c if n_c else (
        y.mean(axis=0) if n else np.zeros(N))
    passed_cut = None if cut_V is None else raw_min < cut_V
    snr, mean_snr = pulse_snr(mean_pulse[g.kpk], noise_ref, n_c)
    return Prepared(
        y=y, t0_ns=np.asarray(t0_s, dtype=float) / NS, dt_ns=dt_ns, baseline_V=baseline,
        noise_V=noise, amplitude_V=amplitude, raw_min_V=raw_min, kmin=kmin, status=status,
        k_lo=g.k_lo, k_hi=g.k_hi, k_base=g.k_base, k_edge=g.k_edge, mean_pulse=mean_pulse,
        onset_ns=g.k_on * dt_ns, snr=snr, passed_cut=passed_cut, mean_snr=mean_snr,
        noise_ref=noise_ref, pre_min_V=extremes[0], pre_max_V=extremes[1],
    )


def pulse_snr(mean_pulse_at_peak: float, noise: float, n_counted: int) -> tuple[float, float]:
    """(one flash's signal to noise, the mean pulse's) from the mean pulse at its peak, the
    median noise and the number of flashes averaged. Without any noise (flat records, an
    ideal simulation) a pulse shows as anything below zero."""
    peak = -float(mean_pulse_at_peak)
    if noise > 0:
        return peak / noise, peak / (noise / np.sqrt(max(n_counted, 1)))
    return float("nan"), (float("inf") if peak > 0 else float("nan"))

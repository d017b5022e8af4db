"""Dark runs: records taken with no light, the dark-count rate counted over whole records.

What to use when
----------------
- :func:`process_dark` - one dark run (``dark_pmt_<i>.txt``: files -> :class:`DarkResult`):
  every pulse beyond a ladder of thresholds (:data:`pmtgain.point.darkrate.THRESHOLDS_SIGMA`
  times the run's noise) in the counting region of every record, the live time, the
  pulses' amplitude spectrum; its ``dark_*`` fields are the LED runs' (the same
  :func:`pmtgain.point.darkrate.rate_curve` turns them into the rate against the
  threshold, in V and, at the merge, in photoelectrons).
- :class:`DarkSettings` - how a run is counted; ``trigger`` comes from the campaign line
  (``trigger=random``, the default, or ``trigger=self``).
- The LED runs' baseline regions (:mod:`pmtgain.point.darkrate`) give the rate too, but
  GIN's ~20 ns before the pulse see ~1e-2 dark pulses in a point: upper limits. A dark run
  of 1000 records of 10 us sees ~10 pulses a kHz of dark rate.

Method. Each record's baseline is the median of its counting region and the run's noise
the median over the first chunk's records of 1.4826 x their median absolute deviation
(robust to the dark pulses themselves). A pulse is a run of samples below ``-thr0`` (the
lowest threshold); runs closer than ``merge_ns`` are one pulse (noise on its edges), whose
amplitude is its deepest sample. With ``n(thr)`` pulses deeper than ``thr`` in a live time
``T`` (records x counting region), the rate is ``r = n/T`` less the same count of the
mirrored record above ``+thr`` (white noise crosses both equally; PMT pulses are negative),
with the Poisson error ``sqrt(n_- + n_+)/T`` (one count where there is none). Two pulses
within one excursion below ``thr0`` (or ``merge_ns`` after it) count once: with ``r0`` the
rate of pulses deeper than 5 noise rms (the noise's crossings are shorter and merge with
no pulse of their own) and ``tau`` their mean length below ``thr0`` plus ``merge_ns``, the
counts are
divided by ``1 - r0 tau`` (``dark_pileup``, the first order of a dead time; 2 % at 1 MHz,
flagged above 5 %).

Quantised records. A baseline between two ADC levels sees the levels below it at other
distances than those above, so the mirror would not cancel the noise (40 % apart at 3
noise rms for an 8-bit noise of 5 steps): each sample of a quantised record gets a
uniform dither of one step (seeded: the same numbers at every run), which makes the
count against any threshold the continuous noise's, interpolated between levels.

Trigger. A random (or periodic) trigger puts no pulse anywhere in particular: the whole
record counts. A self-triggered record holds the pulse it triggered on at t = 0 and its
afterpulses after it: only the record before ``-guard_ns`` counts (at least
``MIN_REGION_NS`` of it is needed), and the records' own rate (records per second from
their trigger times, ``dark_trigger_rate_hz``) is the rate above the trigger level where
the scope's dead time between records is negligible (a lower limit otherwise).

Where it holds (``tests/point/test_darkrun.py``): simulated dark pulses (log-normal
shape, outside any model this counting uses) at 20 kHz - 2 MHz, 10 us random-trigger and
self-triggered records, 1 ns/8 bit and 0.4 ns/16 bit: the rate above 0.25 and 0.5 of a
single photoelectron's amplitude within 3 sigma of the truth; no dark pulses: 0 within 3
sigma at every threshold. A slow baseline wander larger than ~2 noise rms within a record
is not followed (one median per record).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pmtgain.errors import InputError
from pmtgain.io.flashes import ChunkReader
from pmtgain.io.readers import DEFAULT_READ, ReadSettings
from pmtgain.kinds import DARK
from pmtgain.point.darkrate import THRESHOLDS_SIGMA, rate_curve
from pmtgain.point.schema import numbers_text

__all__ = ["TRIGGERS", "DarkSettings", "DarkResult", "process_dark", "pulse_amplitudes",
           "DARK_COLUMNS", "MIN_REGION_NS"]

#: what a dark run's records were triggered by (the campaign line's ``trigger=``)
TRIGGERS = ("random", "self")
#: a self-triggered run's records need at least this long before the trigger
MIN_REGION_NS = 100.0
#: the first columns of ``lists/dark_runs.csv``
DARK_COLUMNS = ("pmt", "hv", "trigger", "n_records", "dark_live_s", "noise_V",
                "dark_rate_5sigma_hz", "dark_rate_5sigma_err_hz", "dark_trigger_rate_hz",
                "flag")


@dataclass(frozen=True)
class DarkSettings:
    """How a dark run is counted (see the module docstring)."""

    #: ``random`` (the whole record counts) or ``self`` (only before the trigger)
    trigger: str = "random"
    #: a self-triggered record counts up to this long before its trigger
    guard_ns: float = 20.0
    #: excursions below the lowest threshold closer than this are one pulse
    merge_ns: float = 5.0
    #: the thresholds, in the run's noise rms
    thresholds_sigma: tuple[float, ...] = THRESHOLDS_SIGMA
    #: records per chunk (memory stays flat at any number of records)
    chunk: int = 256

    def __post_init__(self):
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger={self.trigger!r}: choose {' or '.join(TRIGGERS)}")


@dataclass
class DarkResult:
    """A dark run's summary (one row of ``lists/dark_runs.csv``) and its amplitude
    spectrum (``amp_edges_V``, ``amp_counts_neg``, ``amp_counts_pos``)."""

    summary: dict
    spectra: dict = field(default_factory=dict)


def pulse_amplitudes(y: np.ndarray, thr: float, merge: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pulses of the rows of ``y`` (baseline-subtracted, negative pulses): the depth
    (> 0), the row and the length in samples (first to last below) of every run of
    samples below ``-thr``, runs less than ``merge`` samples apart being one."""
    n, m = y.shape
    width = m + merge + 1  # rows apart by more than `merge`: never one pulse
    flat = np.zeros((n, width))
    flat[:, :m] = y
    flat = flat.ravel()
    idx = np.flatnonzero(flat < -thr)
    if not idx.size:
        return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.r_[True, np.diff(idx) > merge]
    starts = idx[new]
    ends = idx[np.r_[new[1:], True]]
    # from one start to the next every other sample is above -thr: the minimum is the pulse's
    depth = -np.minimum.reduceat(flat, starts)
    return depth, starts // width, ends - starts + 1


def _noise(y: np.ndarray) -> tuple[float, float]:
    """The noise rms of records ``y`` and their ADC step (0 if none is seen): the rms
    about each record's median of the samples within 4 robust widths (1.4826 x the median
    absolute deviation, at least one ADC step, so that a noise of less than a step still
    has one), over the records; the dark pulses are beyond it."""
    med = np.median(y, axis=1)[:, None]
    steps = np.diff(np.unique(y[0]))
    lsb = float(steps[steps > 0].min()) if (steps > 0).any() else 0.0
    if np.unique(y[0]).size > y.shape[1] // 4:  # not on a few levels: not quantised
        lsb = 0.0
    width = max(1.4826 * float(np.median(np.abs(y - med))), lsb)
    if not width > 0:
        return float("nan"), lsb
    d = y - med
    near = np.abs(d) < 4 * width
    rms = np.sqrt(np.sum(np.where(near, d, 0.0) ** 2) / max(near.sum(), 1)) / 0.9993
    return float(rms), lsb


def _baselines(y: np.ndarray, noise: float) -> np.ndarray:
    """Each record's baseline: the mean of its samples within 4 noise rms of its median
    (a median alone sits on an ADC level, half a step from the mean of a quantised noise)."""
    d = y - np.median(y, axis=1)[:, None]
    near = np.abs(d) < 4 * noise
    return np.median(y, axis=1) + np.sum(np.where(near, d, 0.0), axis=1) / np.maximum(
        near.sum(axis=1), 1)


def _region(traces, settings: DarkSettings, name: str) -> slice:
    """The columns that count (see the module docstring)."""
    n = traces.volts.shape[1]
    if settings.trigger == "random":
        return slice(0, n)
    t0_ns = float(np.median(traces.t0_s)) * 1e9
    k_end = int(np.floor((-settings.guard_ns - t0_ns) / (traces.dt_s * 1e9)))
    if k_end * traces.dt_s * 1e9 < MIN_REGION_NS:
        raise InputError(f"{name}: a self-triggered dark run counts before its trigger; "
                         f"its records hold {max(-t0_ns, 0):.4g} ns before it (at least "
                         f"{MIN_REGION_NS + settings.guard_ns:g} ns are needed)")
    return slice(0, min(k_end, n))


def process_dark(files: Sequence[str | os.PathLike], *, pmt: int, hv: int,
                 read: ReadSettings = DEFAULT_READ,
                 settings: DarkSettings = DarkSettings()) -> DarkResult:
    """One dark run (see the module docstring). InputError when nothing is readable or
    a self-triggered record holds too little before its trigger."""
    name = f"PMT {pmt} at {hv} V (dark run)"
    reader = ChunkReader(files, chunk=settings.chunk, cache_bytes=0, read=read)
    region = noise = thr = merge = None
    neg = pos = None
    n_rec = n_clipped = 0
    covered = n_big = big_span = 0
    dither = np.random.default_rng(0)  # the same numbers at every run
    lsb = 0.0
    times: list[np.ndarray] = []
    edges = None
    h_neg = h_pos = None
    for tr in reader:
        if tr.volts.shape[0] == 0:
            continue
        if region is None:
            region = _region(tr, settings, name)
        y = tr.volts[:, region]
        if noise is None:
            noise, lsb = _noise(y)
            if not (np.isfinite(noise) and noise > 0):
                raise InputError(f"{name}: its records are flat (no noise to set the "
                                 "thresholds by)")
        y = y - _baselines(y, noise)[:, None]
        if lsb > 0:  # dithered by one ADC step: see the module docstring
            y += (dither.random(y.shape) - 0.5) * lsb
        if thr is None:
            thr = noise * np.asarray(settings.thresholds_sigma, float)
            merge = max(int(round(settings.merge_ns / (tr.dt_s * 1e9))), 1)
            neg, pos = np.zeros(thr.size, np.int64), np.zeros(thr.size, np.int64)
            edges = np.linspace(0.0, 100.0 * noise, 401)
            h_neg, h_pos = np.zeros(400, np.int64), np.zeros(400, np.int64)
        d_neg, _, span = pulse_amplitudes(y, thr[0], merge)
        d_pos, _, _ = pulse_amplitudes(-y, thr[0], merge)
        big = d_neg > 5 * noise  # pulses, not the noise's crossings: their pile-up
        n_big += int(big.sum())
        big_span += int(span[big].sum())
        neg += (d_neg[:, None] > thr[None, :]).sum(axis=0)
        pos += (d_pos[:, None] > thr[None, :]).sum(axis=0)
        h_neg += np.histogram(np.minimum(d_neg, edges[-1] * 0.9999), edges)[0]
        h_pos += np.histogram(np.minimum(d_pos, edges[-1] * 0.9999), edges)[0]
        covered += int((y < -thr[0]).sum())
        n_rec += y.shape[0]
        n_clipped += int(tr.clipped.sum())
        if tr.trigger_time_s is not None:
            times.append(np.asarray(tr.trigger_time_s, float))
    if n_rec == 0:
        why = "; ".join(f"{os.path.basename(p)}: {r}" for p, r in reader.errors[:3])
        raise InputError(f"{name}: no file could be read ({why})")
    dt_ns = float(reader.dt) * 1e9
    region_ns = (region.stop - region.start) * dt_ns
    live = n_rec * region_ns * 1e-9
    # pile-up: a pulse starting within another's excursion (or `merge` after it) is lost
    dead_s = (big_span / max(n_big, 1) + merge) * dt_ns * 1e-9
    pileup = float(min(n_big / live * dead_s, 0.5))
    fields = dict(dark_flashes=n_rec, dark_live_s=live, dark_pileup=pileup,
                  dark_thresholds_V=numbers_text(thr), dark_counts_neg=numbers_text(neg),
                  dark_counts_pos=numbers_text(pos), dark_counted="pulses")
    c = rate_curve(fields)
    five = c[np.isclose(c.threshold_V, 5 * noise)]
    t = np.concatenate(times) if times else np.zeros(0)
    t = np.unique(t[np.isfinite(t)])
    trig = float((t.size - 1) / (t[-1] - t[0])) if t.size > 1 and t[-1] > t[0] else np.nan
    flags = []
    share = covered / max(n_rec * (region.stop - region.start), 1)
    if pileup > 0.05:
        flags.append(f"pile-up {100 * pileup:.0f} % (corrected to first order)")
    if share > 0.05:
        flags.append(f"{100 * share:.0f} % of the record below {thr[0] * 1e3:.3g} mV: "
                     "pulses pile up, the rates are lower limits")
    if n_clipped:
        flags.append(f"{n_clipped} records clipped (their pulses count, deeper than "
                     "the thresholds)")
    summary = dict(pmt=int(pmt), hv=int(hv), kind=DARK.name, trigger=settings.trigger,
                   n_files=reader.n_files, n_files_unreadable=len(reader.errors),
                   n_records=n_rec, n_clipped=n_clipped, dt_ns=dt_ns,
                   record_ns=reader.npts * dt_ns, region_ns=region_ns, noise_V=noise,
                   **fields,
                   dark_rate_5sigma_hz=float(five.rate_hz.iloc[0]) if len(five) else np.nan,
                   dark_rate_5sigma_err_hz=float(five.rate_err_hz.iloc[0]) if len(five)
                   else np.nan,
                   dark_trigger_rate_hz=trig if settings.trigger == "self" else np.nan,
                   flag="; ".join(flags))
    if reader.errors:
        summary["unreadable"] = "; ".join(f"{os.path.basename(p)}: {r}"
                                          for p, r in reader.errors[:5])
    return DarkResult(summary=summary, spectra=dict(amp_edges_V=edges, amp_counts_neg=h_neg,
                                                    amp_counts_pos=h_pos))

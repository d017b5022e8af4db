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
count against any threshold the continuous noise's, interpolated between levels; where
the noise is under 6 steps that interpolation is not close enough below 5 noise rms (8
sigma off at 3 noise rms with 3 steps, outside check), and the ladder starts at 5.

Trigger. A random (or periodic) trigger puts no pulse anywhere in particular: the whole
record counts. A self-triggered record holds the pulse it triggered on at t = 0 and its
afterpulses after it: only the record before ``-guard_ns`` counts (at least
``MIN_REGION_NS`` of it), and a scope that waited there for a pulse beyond its level
recorded none of those: beyond the trigger level the rate is the triggers' own (records'
trigger times, the scope's dead time taken off) times the share of triggering pulses
deeper than the threshold, below it the triggers' rate plus the pre-trigger pulses between
the threshold and the level (:mod:`pmtgain.point.selftrigger`).

Amplitude. A pulse's depth is its deepest recorded sample, noise included: the rate is what
a discriminator at the threshold counts. Where the spectrum falls steeply (beyond ~0.7
photoelectron) and the noise is large against the single photoelectron, that is more than
the noise-free pulses would give: +23 % at 1 photoelectron with the single photoelectron 8x
the noise at 0.4 ns, +1 % at 2 ns (an outside check); at 0.25-0.5 photoelectron, in the
valley, < 1 % at 20x.

Where it holds (``tests/point/test_darkrun.py``): simulated dark pulses (log-normal shape,
outside any model this counting uses; a cascade single photoelectron with an
under-amplified share) at 20 kHz - 1 MHz, 10 us random-trigger and self-triggered records,
1 ns/8 bit and 0.4 ns/16 bit, a baseline wander of 2 noise rms over 10 us: the rate beyond
0.25-0.6 of a single photoelectron's amplitude within 3 sigma of the truth; no dark pulses:
0 within 3 sigma at every threshold, also with a noise of 3 ADC steps and the baseline
anywhere between two levels (the ladder then starts at 5 noise rms).
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
from pmtgain.point.selftrigger import level_at_trigger, self_triggered_rates, trigger_rate

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
    #: the baseline is followed in blocks of this length (a slow wander)
    baseline_block_ns: float = 500.0
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


def _noise(d: np.ndarray, lsb: float) -> float:
    """The noise rms of baseline-subtracted records ``d``: the rms of the samples within 4
    robust widths (1.4826 x the median absolute deviation, at least one ADC step ``lsb``,
    so that a noise of less than a step still has one); the dark pulses are beyond it."""
    width = max(1.4826 * float(np.median(np.abs(d))), lsb)
    if not width > 0:
        return float("nan")
    near = np.abs(d) < 4 * width
    return float(np.sqrt(np.sum(np.where(near, d, 0.0) ** 2) / max(near.sum(), 1)) / 0.9993)


def _adc_step(y: np.ndarray) -> float:
    """The ADC step of records ``y`` (0 where they are not on a few levels)."""
    u = np.unique(y[0])
    steps = np.diff(u)
    if u.size > y.shape[1] // 4 or not (steps > 0).any():
        return 0.0
    return float(steps[steps > 0].min())


def _blocks(m: int, block: int) -> np.ndarray:
    """The start of each baseline block of a record of ``m`` samples (the last one takes
    the rest)."""
    nb = max(m // max(block, 1), 1)
    return np.arange(nb) * (m // nb)


def _baselines(y: np.ndarray, noise: float | None, block: int) -> np.ndarray:
    """Each record's baseline, sample by sample: in blocks of ``block`` samples the mean
    of the samples within 4 noise rms of the block's median (the median alone where the
    noise is not known yet; a median alone sits on an ADC level, half a step from the
    mean of a quantised noise), linear between the blocks' centres (a slow wander is
    followed; a pulse of ~10 ns moves a block of 500 ns little)."""
    n, m = y.shape
    starts = _blocks(m, block)
    ends = np.r_[starts[1:], m]
    b = np.empty((n, starts.size))
    for j, (a, z) in enumerate(zip(starts, ends, strict=True)):
        seg = y[:, a:z]
        med = np.median(seg, axis=1)
        if noise is None:
            b[:, j] = med
            continue
        d = seg - med[:, None]
        near = np.abs(d) < 4 * noise
        b[:, j] = med + np.sum(np.where(near, d, 0.0), axis=1) / np.maximum(near.sum(axis=1), 1)
    if starts.size == 1:
        return np.repeat(b, m, axis=1)
    centres = 0.5 * (starts + ends - 1)
    k = np.arange(m)
    j = np.clip(np.searchsorted(centres, k) - 1, 0, starts.size - 2)
    w = np.clip((k - centres[j]) / (centres[j + 1] - centres[j]), 0.0, 1.0)
    return b[:, j] * (1 - w) + b[:, j + 1] * w


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


class _Counts:
    """The run's counts, chunk by chunk (thresholds fixed by the first chunk)."""

    def __init__(self, thr: np.ndarray, noise: float, merge: int):
        self.thr, self.noise, self.merge = thr, noise, merge
        self.neg = np.zeros(thr.size, np.int64)
        self.pos = np.zeros(thr.size, np.int64)
        self.edges = np.linspace(0.0, 100.0 * noise, 401)
        self.h_neg = np.zeros(400, np.int64)
        self.h_pos = np.zeros(400, np.int64)
        self.n_big = self.big_span = self.covered = 0
        self.level = None  # a self-triggered run's trigger level: its counts beyond it
        self.neg_level = self.pos_level = 0

    def add(self, y: np.ndarray) -> None:
        d_neg, _, span = pulse_amplitudes(y, self.thr[0], self.merge)
        d_pos, _, _ = pulse_amplitudes(-y, self.thr[0], self.merge)
        big = d_neg > 5 * self.noise  # pulses, not the noise's crossings: their pile-up
        self.n_big += int(big.sum())
        self.big_span += int(span[big].sum())
        self.neg += (d_neg[:, None] > self.thr[None, :]).sum(axis=0)
        self.pos += (d_pos[:, None] > self.thr[None, :]).sum(axis=0)
        top = self.edges[-1] * 0.9999
        self.h_neg += np.histogram(np.minimum(d_neg, top), self.edges)[0]
        self.h_pos += np.histogram(np.minimum(d_pos, top), self.edges)[0]
        self.covered += int((y < -self.thr[0]).sum())
        if self.level is not None:
            self.neg_level += int((d_neg > self.level).sum())
            self.pos_level += int((d_pos > self.level).sum())


def process_dark(files: Sequence[str | os.PathLike], *, pmt: int, hv: int,
                 read: ReadSettings = DEFAULT_READ,
                 settings: DarkSettings = DarkSettings()) -> DarkResult:
    """One dark run (see the module docstring). InputError when nothing is readable or
    a self-triggered record holds too little before its trigger."""
    name = f"PMT {pmt} at {hv} V (dark run)"
    reader = ChunkReader(files, chunk=settings.chunk, cache_bytes=0, read=read)
    selfish = settings.trigger == "self"
    region = noise = cnt = None
    block = 1
    n_rec = n_clipped = 0
    dither = np.random.default_rng(0)  # the same numbers at every run
    lsb = 0.0
    notes: list[str] = []
    times: list[np.ndarray] = []
    trig_depths: list[np.ndarray] = []
    for tr in reader:
        if tr.volts.shape[0] == 0:
            continue
        dt_ns = tr.dt_s * 1e9
        if region is None:
            region = _region(tr, settings, name)
            block = max(int(round(settings.baseline_block_ns / dt_ns)), 1)
        y = tr.volts[:, region]
        if noise is None:
            lsb = _adc_step(y)
            noise = _noise(y - _baselines(y, None, block), lsb)
            if not (np.isfinite(noise) and noise > 0):
                raise InputError(f"{name}: its records are flat (no noise to set the "
                                 "thresholds by)")
        base = _baselines(y, noise, block)
        y = y - base
        if lsb > 0:  # dithered by one ADC step: see the module docstring
            y += (dither.random(y.shape) - 0.5) * lsb
        if cnt is None:
            ladder = np.asarray(settings.thresholds_sigma, float)
            if lsb > 0 and noise < 6 * lsb:  # the mirror is not exact there
                ladder = ladder[ladder >= 5]
                notes.append(f"the noise is {noise / lsb:.1f} ADC steps: no threshold "
                             "below 5 noise rms")
            cnt = _Counts(noise * ladder, noise, max(int(round(settings.merge_ns / dt_ns)),
                                                    1))
        if selfish:  # the pulse each record triggered on, and the level it crossed
            w = tr.volts - base[:, -1:]
            k0 = region.stop
            k1 = min(k0 + int(round((settings.guard_ns + 50.0) / dt_ns)), w.shape[1])
            trig_depths.append(-w[:, k0:k1].min(axis=1))
            if cnt.level is None:
                cnt.level = float(np.nanmedian(level_at_trigger(tr.volts, tr.t0_s, tr.dt_s,
                                                                base[:, -1])))
        cnt.add(y)
        n_rec += y.shape[0]
        n_clipped += int(tr.clipped.sum())
        if tr.segment_time_s is not None:  # within each file, at full precision
            times.append(np.c_[tr.ok_index, tr.segment_time_s])
    if n_rec == 0:
        why = "; ".join(f"{os.path.basename(p)}: {r}" for p, r in reader.errors[:3])
        raise InputError(f"{name}: no file could be read ({why})")
    dt_ns = float(reader.dt) * 1e9
    region_ns = (region.stop - region.start) * dt_ns
    live = n_rec * region_ns * 1e-9
    thr = cnt.thr
    # pile-up: a pulse starting within another's excursion (or `merge` after it) is lost
    dead_s = (cnt.big_span / max(cnt.n_big, 1) + cnt.merge) * dt_ns * 1e-9
    pileup = float(min(cnt.n_big / live * dead_s, 0.5))
    fields = dict(dark_flashes=n_rec, dark_live_s=live, dark_pileup=pileup,
                  dark_thresholds_V=numbers_text(thr), dark_counts_neg=numbers_text(cnt.neg),
                  dark_counts_pos=numbers_text(cnt.pos), dark_counted="pulses")
    trig = dict(dark_trigger_rate_hz=np.nan, dark_trigger_rate_err_hz=np.nan,
                dark_dead_time_s=np.nan, dark_trigger_level_V=np.nan)
    if selfish:
        ft = np.concatenate(times) if times else np.zeros((0, 2))
        rate, rate_err, dead, n_int = trigger_rate([ft[ft[:, 0] == f, 1]
                                                    for f in np.unique(ft[:, 0])])
        trig.update(dark_trigger_rate_hz=rate, dark_trigger_rate_err_hz=rate_err,
                    dark_dead_time_s=dead, dark_trigger_level_V=cnt.level)
        if np.isfinite(rate):
            r, e = self_triggered_rates(thr, cnt.neg, cnt.pos, cnt.neg_level, cnt.pos_level,
                                        live, cnt.level, np.concatenate(trig_depths), rate,
                                        rate_err)
            fields.update(dark_counted="rates", dark_rates_hz=numbers_text(r),
                          dark_rate_errs_hz=numbers_text(e))
            wait = 1.0 / rate
            if dead > 0.2 * (dead + wait):
                notes.append(f"the scope was dead {100 * dead / (dead + wait):.0f} % of the "
                             "time between records: the rate is from the intervals beyond "
                             "the dead time")
        else:
            notes.append(f"no trigger times within sequence files ({n_int} intervals): "
                         "beyond the trigger level "
                         f"(~{cnt.level * 1e3:.3g} mV) the rates are lower limits (the "
                         "pre-trigger record of a waiting scope holds none of its pulses)")
    c = rate_curve(fields)
    five = c[np.isclose(c.threshold_V, 5 * noise)]
    flags = []
    share = cnt.covered / max(n_rec * (region.stop - region.start), 1)
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
                   adc_step_V=lsb, **fields,
                   dark_rate_5sigma_hz=float(five.rate_hz.iloc[0]) if len(five) else np.nan,
                   dark_rate_5sigma_err_hz=float(five.rate_err_hz.iloc[0]) if len(five)
                   else np.nan, **trig, note="; ".join(notes), flag="; ".join(flags))
    if reader.errors:
        summary["unreadable"] = "; ".join(f"{os.path.basename(p)}: {r}"
                                          for p, r in reader.errors[:5])
    return DarkResult(summary=summary, spectra=dict(amp_edges_V=cnt.edges,
                                                    amp_counts_neg=cnt.h_neg,
                                                    amp_counts_pos=cnt.h_pos))

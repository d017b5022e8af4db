"""Absolute gain and excess noise factor from low-light runs, without an assumed F.

What to use when
----------------
- :func:`process_spe` - one low-light run (files -> :class:`SpeResult`): the occupancy
  lambda, the mean and variance of the single-photoelectron charge, G and F, each with a
  statistical error (bootstrap over flashes) and the threshold systematic apart, a flag
  when the method does not apply, and the charge spectra of both windows.
- :func:`measured_enf` - one F per PMT from its unflagged runs (inverse-variance mean),
  what the gain in electrons of the high-light points uses unless ``enf.txt`` or
  ``--enf`` sets it by hand (CTA's F-factor calibration: the measured F with the
  high-light photostatistics, :mod:`pmtgain.point.photostat`).

Method: Saldanha et al., "Model independent approach to the single photoelectron
calibration of photomultiplier tubes", NIM A 863 (2017) 35, arXiv:1602.03150 (the XENON
calibration). Per flash, the charge ``T`` in a window around the LED pulse and ``B`` in a
window of the same length with no LED light (the pedestal: before the pulse in the same
flash, or ``T`` of an LED-off run at the same settings), each less what every record
holds there whatever the light (:func:`windows`). With a Poisson number of photoelectrons
of mean lambda,

    lambda = -ln(N_T(pedestal-like) / N_B(pedestal-like)),
    E[Psi] = (E[T] - E[B]) / lambda,
    V[Psi] = (V[T] - V[B]) / lambda - E[Psi]^2,
    G = |E[Psi]| / (e h),   F = 1 + V[Psi] / E[Psi]^2,

where "pedestal-like" means a charge above ``-threshold`` (charges are negative) and ``h``
the share of the mean pulse the window holds (at least 99.5 % where the record allows).
No shape of the single-photoelectron spectrum is assumed. The threshold is scanned from 1
to 6 pedestal rms; the value chosen is where lambda changes least between neighbours, and
the spread of G and F over thresholds within a factor 1.5 of it is the threshold
systematic. Single photoelectrons below the threshold are counted as pedestal: the
occupancy is low and G high by the share :func:`below_threshold` estimates (a gamma-shaped
single photoelectron with the measured moments, in the pedestal's noise, made
self-consistent), whose G and F are in the systematic too. A fit of the spectrum (Bellamy
et al., NIM A 339 (1994) 468) is the cross-check where the peak is resolved: its G and F
(``fit_*``), the peak-to-valley ratio and their difference in sigma are beside these
(:mod:`pmtgain.point.spefit`).

Flags (tolerances in ``docs/design.md``): the single photoelectron not resolved from the
pedestal: its mean below ``min_resolution`` (3) pedestal rms, or more than ``max_leak``
(2 %) of it below the threshold (or more than G's relative error, where that is larger);
lambda outside ``0.2 .. 3``; fewer than 100 pedestal-like flashes; a window that holds
less than 99 % of the mean pulse; a coherent structure (LED pickup) that goes on into the
LED window without an LED-off run. How much the occupancy moves from 1x to 1.5x the
threshold is reported (``occupancy_drift``), not flagged: a real spectrum's low-charge
tail always moves it somewhat.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.errors import InputError
from pmtgain.io.flashes import read_many
from pmtgain.io.readers import DEFAULT_READ, ReadSettings
from pmtgain.kinds import SPE
from pmtgain.point.model import NS, charge_pC
from pmtgain.point.photostat import E_PC
from pmtgain.point.placement import settle_baseline
from pmtgain.point.prepare import locate
from pmtgain.point.spefit import cross_check
from pmtgain.point.timing import spe_timing
from pmtgain.point.window import choose_window, flash_block_noise, mean_block_sigma

__all__ = ["SPE_COLUMNS", "OCCUPANCY_RANGE", "HOLD", "SpeResult", "SpeWindows", "windows",
           "process_spe", "below_threshold", "measured_enf"]

SPE_COLUMNS = ("pmt", "hv", "n_flashes", "occupancy", "occupancy_err", "spe_mean_pC",
               "gain", "gain_err", "enf", "enf_err", "flag")
OCCUPANCY_RANGE = (0.2, 3.0)
#: the LED window holds at least this share of the mean pulse's charge when it can
HOLD = 0.995


@dataclass
class SpeResult:
    summary: dict
    spectra: dict[str, np.ndarray] = field(default_factory=dict)  # T, B charges (pC)


def _estimate(t: np.ndarray, b: np.ndarray, thr: float) -> tuple[float, float, float]:
    """(lambda, E[Psi], V[Psi]) for one threshold (charges negative, thr > 0)."""
    n_t = np.count_nonzero(t > -thr)
    n_b = np.count_nonzero(b > -thr)
    if n_t == 0 or n_b == 0:
        return float("nan"), float("nan"), float("nan")
    lam = -math.log((n_t / t.size) / (n_b / b.size))
    if lam <= 0:
        return lam, float("nan"), float("nan")
    mean = (t.mean() - b.mean()) / lam
    var = (t.var(ddof=1) - b.var(ddof=1)) / lam - mean * mean
    return lam, mean, var


def _g_f_held(mean: float, var: float, held: float = 1.0) -> tuple[float, float]:
    """G (for the share ``held`` of each photoelectron's charge in the window) and F."""
    return abs(mean) / (E_PC * held), 1.0 + var / (mean * mean) if mean else float("nan")


@dataclass
class SpeWindows:
    """Where a low-light run's charges are summed (see :func:`windows`)."""

    led: slice  # the LED window T
    ped: slice  # the pedestal window B (same length; of the LED-off run: T itself)
    held: float  # share of the mean pulse the LED window holds
    coherent_T: float  # the background every record holds in T (V x samples)
    coherent_B: float  # the same in B
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    structure_at_T: float = -1.0  # the area of a structure going on into T (V x samples)
    mean_peak_V: float = float("nan")  # the light's mean record at its deepest (V)


def _pre_pulse(volts: np.ndarray, lo: int, hi: int, dt_ns: float, config: FitConfig):
    """The mean record, the pre-pulse region's structure and ripple
    (:func:`pmtgain.point.placement.settle_baseline`)."""
    n, N = volts.shape
    z = volts[:, lo:hi] - volts[:, lo:hi].mean(axis=1, keepdims=True)
    white = float(np.std(z)) / np.sqrt(max(n, 1))
    sig = mean_block_sigma(flash_block_noise(z, N), n, white)
    m = volts.mean(axis=0)
    found, ripple = settle_baseline(m, lo, hi, sig, dt_ns, config)
    return m, found, ripple, sig


def windows(volts: np.ndarray, dt_s: float, clipped, config: FitConfig = DEFAULT_FIT,
            off: np.ndarray | None = None) -> SpeWindows:
    """The LED window ``T`` and the pedestal window ``B`` of a run, and what every record
    holds in each whatever the light (the coherent background: baseline level, a
    trigger-locked ripple, the LED driver's pickup).

    ``T`` starts ``pre_ns`` before the mean pulse's onset and ends ``post_ns`` after it
    is back. ``B``, of the same length, lies in the pre-pulse region as near the pulse as
    possible *without* the coherent structure found there (pickup: samples where sums of
    1-16 samples of the mean record stand beyond 5 of their noise,
    :func:`pmtgain.point.window.clean_baseline`); where no such stretch is long enough it
    covers the structure, whose coherent part is then removed (a note says so). The
    coherent background of ``B`` is measured (the mean record there: no light); that of
    ``T`` is the pre-pulse level plus a ripple fitted on the structure-free pre-pulse
    samples (:func:`pmtgain.point.background.fit_ripple`) and continued over ``T``.

    With an LED-off run ``off`` (flashes x samples, same settings) ``B`` is ``T`` of its
    records, and the coherent background of each window that run's own pre-pulse level
    (the pickup and ripple inside ``T`` are then in both, and cancel)."""
    g = locate(volts, clipped, dt_s, config)
    N = volts.shape[1]
    dt_ns = dt_s / NS
    pre = int(round(config.pre_ns / dt_ns))
    start = max(g.k_on - pre, 0)
    gap = int(round(config.baseline_gap_ns / dt_ns))
    lo, hi = g.e, max(start - gap, g.e + 2)
    m, found, ripple, sig = _pre_pulse(volts, lo, hi, dt_ns, config)
    k = np.arange(N)
    use = found.mask(N) if found.bad.mean() <= 0.5 else (k >= lo) & (k < hi)
    notes, flags = [], []
    rip = ripple.at(k) if ripple is not None else np.zeros(N)
    dc = float((m - rip)[use].mean())
    mm = m - rip - dc  # the light alone, after the pre-pulse region
    if off is not None:  # exactly: less what the LED-off records hold
        m_off, found_off, _, _ = _pre_pulse(off, lo, hi, dt_ns, config)
        use_off = found_off.mask(N) if found_off.bad.mean() <= 0.5 else use
        dc_on, dc_off = float(m[use_off].mean()), float(m_off[use_off].mean())
        mm = (m - dc_on) - (m_off - dc_off)
    # T ends where the mean pulse is back at the baseline by significance (as a point's
    # window, pmtgain.point.window.choose_window: slow tails stay in), and at least post_ns
    # after the onset's crossing back
    # ... but no longer than it takes to hold HOLD of that charge: the rest of a slow
    # tail adds the noise of its length for a fraction of the charge (G is corrected for
    # what the window does not hold, F is not changed by it)
    stop = max(g.k_end, choose_window(mm, lo, hi, dt_ns, sig, config).k_stop)
    total = mm[start:stop].sum()
    cum = np.cumsum(mm[start:stop])
    enough = np.nonzero(cum <= HOLD * total)[0] if total < 0 else np.array([], int)
    end = start + (int(enough[0]) + 1 if enough.size else stop - start)
    end = max(end, g.k_end + int(round(config.post_ns / dt_ns)))
    room = start - g.e - gap if off is None else N
    length = max(min(end - start, room, N - start), 8)
    led = slice(start, start + length)
    held = float(mm[led].sum() / total) if total < 0 else float("nan")
    struct = np.zeros(N, bool)
    struct[lo:hi] = found.bad
    if struct.any():
        idx = np.nonzero(struct)[0]
        notes.append(f"coherent structure (LED pickup?) at samples {idx[0]}-{idx[-1]}")
    if off is not None:
        notes.append("pedestal: the LED window of the LED-off run")
        return SpeWindows(led, led, held, length * dc_on, length * dc_off, notes, flags,
                          mean_peak_V=float(mm[led].min()))
    # B: the latest stretch of `length` structure-free samples before T, else the latest
    ok = np.convolve(use[:hi].astype(float), np.ones(length), mode="valid") >= length - 0.5
    cand = np.nonzero(ok)[0]
    b0 = int(cand[-1]) if cand.size else max(hi - length, 0)
    if not cand.size:
        notes.append("no structure-free stretch as long as the LED window before it: "
                     "the pedestal window covers the structure, its coherent part removed")
    ped = slice(b0, b0 + length)
    if ripple is not None:
        notes.append(f"coherent ripple of {1e3 * ripple.amplitude_V:.3f} mV at "
                     f"{1e3 * ripple.freq_ghz:.1f} MHz continued over the LED window")
    coh_t = length * dc + float(rip[led].sum())
    # a structure still there in the last samples before T (the sums of the last 1, 2 and
    # 4 beyond 5 of their noise) goes on into T, by an amount nothing here measures (its
    # area before T is reported as a scale)
    tail = [abs(float(mm[hi - L:hi].sum())) > 5.0 * float(sig[i])
            for i, L in enumerate((1, 2, 4)) if i < len(sig) and hi - L >= lo]
    reach = -1.0
    if any(tail):  # however much of the region the structure covers
        sk = np.nonzero(struct)[0]
        reach = float(np.max(np.abs(np.cumsum(mm[(sk[0] if sk.size else lo):hi]))))
    return SpeWindows(led, ped, held, coh_t, float(m[ped].sum()), notes, flags, reach,
                      float(mm[led].min()))


def process_spe(files: Sequence[str | os.PathLike], *, pmt: int, hv: int,
                config: FitConfig = DEFAULT_FIT, n_boot: int = 200, seed: int = 0,
                min_resolution: float = 3.0, max_leak: float = 0.02,
                background_files: Sequence[str | os.PathLike] = (),
                read: ReadSettings = DEFAULT_READ,
                background_read: ReadSettings | None = None,
                level_files: Sequence[Sequence[str | os.PathLike]] = ()) -> SpeResult:
    """One low-light run (see the module docstring); ``background_files``: an LED-off run
    of the same PMT and settings, the pedestal when given; ``level_files``: runs of the
    same PMT and settings at other light levels (the campaign line's ``levels=``), whose
    LED windows the spectrum fit takes with this run's (one single photoelectron, an
    occupancy each). ``read``: what the files' format needs (:mod:`pmtgain.io.readers`).
    ValueError when nothing is readable."""
    traces = read_many(files, read)
    if traces.volts.shape[0] == 0:
        why = "; ".join(f"{os.path.basename(p)}: {r}" for p, r in traces.errors[:3])
        raise InputError(f"PMT {pmt} at {hv} V (low light): no file could be read ({why})")
    keep = ~traces.clipped
    v = traces.volts[keep]
    def companion(paths, what: str, how: ReadSettings) -> np.ndarray:
        """A run that goes with this one (an LED-off run, another light level): its
        readable unclipped flashes; InputError unless 100 or more at the same settings."""
        ct = read_many(paths, how)
        cv = ct.volts[~ct.clipped]
        if cv.shape[0] < 100 or cv.shape[1] != v.shape[1] or \
                not math.isclose(ct.dt_s, traces.dt_s, rel_tol=1e-6):
            raise InputError(f"PMT {pmt} at {hv} V (low light): {what} has "
                             f"{cv.shape[0]} readable unclipped flashes of {cv.shape[1]} "
                             f"samples at {ct.dt_s * 1e9:.4g} ns (the run: {v.shape[1]} at "
                             f"{traces.dt_s * 1e9:.4g} ns); at least 100 at the same "
                             "settings are needed")
        return cv

    off = companion(background_files, "the LED-off run",
                    read if background_read is None else background_read) \
        if background_files else None
    w = windows(v, traces.dt_s, None, config, off)
    k = traces.dt_s / NS
    # raw window sums less what every record holds there (the coherent background): the
    # zero-photoelectron part of T and the pedestal B then have one distribution
    t = charge_pC((v[:, w.led].sum(axis=1) - w.coherent_T) * k)
    src = off if off is not None else v
    b = charge_pC((src[:, w.ped].sum(axis=1) - w.coherent_B) * k)
    ref = float(np.median(b))
    t, b = t - ref, b - ref
    sig_b = float(b.std(ddof=1))
    more = []  # the same PMT and HV at other light levels: fitted together (spefit)
    for j, lf in enumerate(level_files, start=2):
        lv = companion(lf, f"light level {j}", read)
        more.append(charge_pC((lv[:, w.led].sum(axis=1) - w.coherent_T) * k) - ref)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = _analyse(t, b, sig_b, traces, w, k, pmt, hv, len(files), n_boot, seed,
                       min_resolution, max_leak, off is not None, more)
        tts, hist = spe_timing(v, off, w, k, traces.t0_s[keep] / NS, t, res.summary)
        res.summary.update(tts)
        res.spectra.update(hist)
    return res


def below_threshold(mean: float, var: float, thr: float, ped_rms: float,
                    occupancy: float) -> float:
    """How much too low the occupancy is (relative) at threshold ``thr`` because flashes
    with one photoelectron fall below it: the single photoelectron's charge (mean
    ``mean``, variance ``var``, both of ``|Psi|``) gamma-shaped (the multiplication
    statistics of a PMT are near gamma, Prescott 1966; a real spectrum's under-amplified
    tail adds to it) and convolved with the pedestal's Gaussian noise (``ped_rms``).
    With ``p1`` the share of one-photoelectron flashes below the threshold and ``p0`` that
    of pedestal flashes, the counted zero-photoelectron share is ``exp(-lambda)(1 +
    lambda p1/p0)``: the occupancy is low by ``ln(1 + lambda p1/p0)/lambda``, and G high
    by as much."""
    from scipy.special import ndtr
    from scipy.stats import gamma

    if not (np.isfinite(mean) and np.isfinite(var) and mean > 0 and var > 0
            and ped_rms > 0 and occupancy > 0):
        return float("nan")
    k, theta = mean * mean / var, var / mean
    # P(psi + noise < thr) = E_noise[P(psi < thr - noise)]: the gamma's cdf is finite for
    # any shape (its density is not at 0 when F > 2)
    z = np.linspace(-8.0, 8.0, 1601)
    p1 = float(np.trapezoid(np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
                            * gamma.cdf(thr - ped_rms * z, k, scale=theta), z))
    p0 = float(ndtr(thr / ped_rms))
    return float(np.log1p(occupancy * p1 / p0) / occupancy)


def _self_consistent_leak(t, b, thr, sig_b, lam0, steps: int = 6
                          ) -> tuple[float, float, float]:
    """:func:`below_threshold` where the single photoelectron's moments and the
    occupancy are those that leak itself implies: the measured ones share its bias (the
    occupancy low, E[Psi] high, V[Psi] low: a narrower spectrum, less below the
    threshold), which on an unresolved run (spe-1.5x) halves the leak found from them.
    Returns ``(leak, E[Psi], V[Psi])``, the last two at the occupancy corrected for it."""
    dm, dv = float(t.mean() - b.mean()), float(t.var(ddof=1) - b.var(ddof=1))
    leak, nan = 0.0, float("nan")
    for _ in range(steps):
        lam = lam0 / (1.0 - min(leak, 0.5))
        mean = dm / lam
        new = below_threshold(abs(mean), dv / lam - mean * mean, thr, sig_b, lam)
        if not np.isfinite(new):
            return new, nan, nan
        done = abs(new - leak) < 1e-5
        leak = new
        if done:
            break
    lam = lam0 / (1.0 - min(leak, 0.5))
    return leak, dm / lam, dv / lam - (dm / lam) ** 2


def _analyse(t, b, sig_b, traces, w: SpeWindows, k, pmt, hv, n_files, n_boot, seed,
             min_resolution, max_leak, ledoff, more=()) -> SpeResult:
    grid = np.linspace(1.0, 6.0, 26) * sig_b
    h = w.held if np.isfinite(w.held) and 0.5 < w.held <= 1.0 else 1.0

    def _g_f(m, v):  # noqa: N802 - the module's, for what the window holds
        return _g_f_held(m, v, h)

    scan = np.array([_estimate(t, b, thr) for thr in grid])
    lam = scan[:, 0]
    d = np.abs(np.diff(lam))
    ok = np.isfinite(d)
    i_best = int(np.nanargmin(np.where(ok, d, np.inf))) if ok.any() else len(grid) // 2
    thr = float(grid[i_best])
    lam0, m0, v0 = scan[i_best]
    g0, f0 = _g_f(m0, v0)
    near = (grid >= thr / 1.5) & (grid <= thr * 1.5)
    gf = np.array([_g_f(m, vv) for _, m, vv in scan[near]])
    g_sys = float(np.nanmax(np.abs(gf[:, 0] - g0))) if gf.size else float("nan")
    f_sys = float(np.nanmax(np.abs(gf[:, 1] - f0))) if gf.size else float("nan")
    l_sys = float(np.nanmax(np.abs(lam[near] - lam0))) if near.any() else float("nan")
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        i = rng.integers(0, t.size, t.size)
        j = rng.integers(0, b.size, b.size) if ledoff else i  # independent flashes
        lam_b, m_b, v_b = _estimate(t[i], b[j], thr)
        boot.append((lam_b, *_g_f(m_b, v_b)))
    boot = np.array(boot)
    err = np.nanstd(boot, axis=0, ddof=1)
    n_ped = int(np.count_nonzero(t > -thr))
    leak, m_c, v_c = _self_consistent_leak(t, b, thr, sig_b, lam0)
    # the occupancy misses the share `leak` of single photoelectrons: G and F at the
    # occupancy corrected for it are a systematic of their own, and "not resolved" where
    # it is not small (2 %) or not small against G's error
    if np.isfinite(leak):
        g_c, f_c = _g_f(m_c, v_c)
        g_sys = float(np.nanmax([g_sys, abs(g_c - g0)]))
        f_sys = float(np.nanmax([f_sys, abs(f_c - f0)]))
    flags = list(w.flags) if not ledoff else []
    reach_pC = abs(float(charge_pC(w.structure_at_T * k))) if w.structure_at_T >= 0 \
        else 0.0
    if not ledoff and w.structure_at_T >= 0:
        flags.append(f"coherent structure (LED pickup?) goes on into the LED window (its "
                     f"area before it {reach_pC:.2g} pC, a single photoelectron "
                     f"{abs(m0):.2g} pC): E[T] holds part of it; an LED-off run "
                     "(ledoff_pmt_<i>.txt) removes it")
    res = abs(m0) / sig_b if np.isfinite(m0) else float("nan")
    if not (np.isfinite(m0) and res >= min_resolution):
        flags.append(f"single photoelectron not resolved from the pedestal (its mean "
                     f"{res:.1f} pedestal rms)")
    elif not (leak <= max(max_leak, err[1] / abs(g0))):
        flags.append(f"single photoelectron not resolved from the pedestal: "
                     f"{100 * leak:.1f}% of it below the threshold ({thr / sig_b:.1f} "
                     "pedestal rms)")
    if not (OCCUPANCY_RANGE[0] <= lam0 <= OCCUPANCY_RANGE[1]):
        flags.append(f"occupancy {lam0:.2f} outside {OCCUPANCY_RANGE[0]}-"
                     f"{OCCUPANCY_RANGE[1]}")
    if n_ped < 100:
        flags.append(f"only {n_ped} pedestal-like flashes")
    if not 0.99 <= w.held <= 1.05:  # beyond 1: the record after the pulse undershoots
        flags.append(f"the LED window holds {100 * w.held:.1f}% of the mean pulse"
                     + (" (it undershoots after the window: the gain depends on the "
                        "window, anchored gains as uncertain)" if w.held > 1 else ""))
    if traces.clipped.any():
        flags.append(f"{int(traces.clipped.sum())} clipped flash(es) left out")
    lam_up = _estimate(t, b, 1.5 * thr)[0]
    summary = dict(pmt=int(pmt), hv=int(hv), kind=SPE.name, n_files=n_files,
                   n_flashes=int(t.size), occupancy=lam0, occupancy_err=float(err[0]),
                   occupancy_sys=l_sys, spe_mean_pC=float(m0), spe_var_pC2=float(v0),
                   gain=g0, gain_err=float(err[1]), gain_sys=g_sys, enf=f0,
                   enf_err=float(err[2]), enf_sys=f_sys, threshold_pC=thr,
                   pedestal_rms_pC=sig_b, window_ns=(w.led.stop - w.led.start) * k,
                   window_held=w.held, n_pedestal_like=n_ped, flag="; ".join(flags),
                   rejected_unreadable=len(traces.errors), resolution=res,
                   below_threshold=leak,
                   # the mean single photoelectron's peak: the light's mean record / lambda
                   spe_amplitude_V=abs(w.mean_peak_V) / lam0 if lam0 > 0 else float("nan"),
                   occupancy_drift=abs(lam_up - lam0) / lam0 if lam0 > 0 else float("nan"),
                   pedestal_window_ns=(w.ped.start * k, w.ped.stop * k),
                   pedestal_source="LED-off run" if ledoff else "pre-pulse window",
                   structure_before_window_pC=reach_pC,
                   window_note="; ".join(w.notes))
    summary["pedestal_window_ns"] = f"{w.ped.start * k:.4g}-{w.ped.stop * k:.4g}"
    fit, curves = cross_check(t, b, summary, E_PC * h, more=more)
    summary.update(fit)
    if fit.get("fit_threshold_bias", 0.0) > max(max_leak, err[1] / abs(g0)):
        summary["flag"] = "; ".join(x for x in (summary["flag"], (
            f"the spectrum fit puts {100 * fit['fit_below_threshold']:.1f}% of the single "
            f"photoelectron below the threshold: G ~{100 * fit['fit_threshold_bias']:.0f}% "
            "high")) if x)
    spectra = dict(T=t.astype(np.float32), B=b.astype(np.float32), **curves,
                   threshold_grid=grid, occupancy_scan=lam,
                   gain_scan=np.array([_g_f(m, vv)[0] for _, m, vv in scan]),
                   enf_scan=np.array([_g_f(m, vv)[1] for _, m, vv in scan]))
    return SpeResult(summary=summary, spectra=spectra)


def measured_enf(rows: list[dict]) -> dict[int, tuple[float, float]]:
    """F per PMT, ``(F, error)``, from its unflagged runs (inverse-variance mean; the
    threshold systematic added to each run's error in quadrature)."""
    out: dict[int, tuple[float, float]] = {}
    by_pmt: dict[int, list[tuple[float, float]]] = {}
    for r in rows:
        f, e, s = r.get("enf"), r.get("enf_err"), r.get("enf_sys") or 0.0
        if r.get("flag") or f is None or not (np.isfinite(f) and np.isfinite(e) and e > 0):
            continue
        by_pmt.setdefault(int(r["pmt"]), []).append((float(f), math.hypot(e, s)))
    for pmt, v in by_pmt.items():
        w = np.array([1 / e**2 for _, e in v])
        f = float(np.sum(w * np.array([x for x, _ in v])) / w.sum())
        out[pmt] = (f, float(1 / math.sqrt(w.sum())))
    return out

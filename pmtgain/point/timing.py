"""Transit time and its spread: when a single photoelectron's pulse arrives after the trigger.

What to use when
----------------
- :func:`arrival_times` - each flash's pulse time in a window (constant fraction of its own
  deepest point on the leading edge of the smoothed trace, linearly interpolated).
- :func:`electronics_jitter` - the spread the noise alone gives those times: the mean
  pulse, scaled to the flashes' depths, timed in pulse-free records.
- :func:`transit_spread` - a low-light run's single-photoelectron flashes (selected by
  their charge, the selection named in ``tts_selection``): the mean arrival time against
  the trigger, the transit-time spread as a histogram FWHM and as a Gaussian fit of the
  core, and that spread less the electronics' (noise) share.

Method. The LED flash and the trigger are fixed to each other, so the arrival time of a
single photoelectron spreads by the PMT's transit-time spread (TTS; Hamamatsu,
*Photomultiplier Tubes: Basics and Applications*, 4th ed., ch. 4, time characteristics)
convolved with the LED's own pulse width and the timing
error of the measurement. Flashes with one photoelectron are those whose LED-window charge
lies within ``0.5 .. 1.5`` of the single photoelectron's mean; at occupancy 1.2-1.5 about
10 % of those hold two (``tts_multi_pe_share``, flagged above 5 %): where each
photoelectron arrives on its own their pulse is the earlier of two, and an outside check
(per-photoelectron arrival times, 0.2 ns sampling, occupancy 1.2) found the spread 4.5 %
low; the simulator here gives a flash's photoelectrons one arrival time and cannot show
it. Their pulse time is the 50 % constant-fraction crossing
of their own deepest point within -8 .. +4 ns of the mean pulse's peak (no amplitude walk
to first order). The Gaussian fit (least
squares on the histogram within 2.5 rms of the median, Poisson errors) gives sigma and its
error; ``tts_sigma_corrected_ns`` removes the electronics' share in quadrature
(``timing_noise_ns``: the mean pulse injected at the timed flashes' depths into pulse-free
records of the same run and timed alike; the mean pulse carries the TTS's smearing, a
slower edge, so the share is if anything overestimated).
The time axis is that of the records (the trigger at 0: each record's trigger offset),
so the mean transit time includes every fixed delay (cables, the LED driver).

Where it holds (``tests/point/test_timing.py``, simulated low-light runs of 10000 flashes
at occupancy 1.5, a Gaussian arrival spread): 0.5 ns at 14x the noise and 0.1 ns
sampling gave 0.496 +- 0.008; 1.0 ns, 10x, 0.2 ns: 0.984 +- 0.016; 0.3 ns, 8x, 0.4 ns:
0.308 +- 0.006; 0.3 ns, 20x, 0.4 ns: 0.301; 0.6 ns, 8x, 1 ns sampling: 0.618 +- 0.012. The
mean (the 50 % point) within 0.15 ns of the truth, 0.2 ns at 1 ns sampling. Not tried: a
spread with a late tail (prepulses, late pulses), which the Gaussian core leaves out.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["arrival_times", "electronics_jitter", "multi_pe_share", "transit_spread",
           "spe_timing",
           "SINGLE_PE_RANGE", "FRACTION", "SMOOTH_NS"]

#: the charge range (in single photoelectrons' mean) of the flashes timed
SINGLE_PE_RANGE = (0.5, 1.5)
#: the constant fraction of the pulse's own depth its time is taken at
FRACTION = 0.5
#: the moving mean the traces are smoothed with before they are timed (ns)
SMOOTH_NS = 0.5


def arrival_times(y: np.ndarray, dt_ns: float, fraction: float = FRACTION,
                  smooth_ns: float = SMOOTH_NS, search: slice | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(time in ns from the window's first sample, depth in V) per row of the
    baseline-subtracted window ``y`` (negative pulses): the last crossing of ``fraction``
    of the row's deepest point before it, interpolated, on the row smoothed by a moving
    mean of ``smooth_ns`` (so that the noise moves neither the depth nor the edge much);
    NaN where there is none. ``search``: the samples the deepest point is looked for in
    (around the mean pulse's peak: a noise spike elsewhere in the window is not taken)."""
    n, m = y.shape
    w = 2 * max(int(round((smooth_ns / dt_ns - 1.0) / 2.0)), 0) + 1  # odd: centred
    if w > 1:  # moving mean over w samples, centred (the time axis is unchanged)
        c = np.cumsum(np.pad(y, ((0, 0), (w // 2 + 1, w - w // 2 - 1)), mode="edge"), axis=1)
        y = (c[:, w:] - c[:, :-w]) / w
    lo = 0 if search is None else max(search.start or 0, 0)
    k = np.argmin(y[:, lo:search.stop if search is not None else None], axis=1) + lo
    rows = np.arange(n)
    depth = -y[rows, k]
    level = -fraction * depth
    idx = np.arange(m)[None, :]
    above = (y > level[:, None]) & (idx < k[:, None])
    j = np.where(above.any(axis=1), m - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    ok = (j >= 0) & (j + 1 < m) & (depth > 0)
    jj = np.clip(j, 0, m - 2)
    y0, y1 = y[rows, jj], y[rows, jj + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (jj + (level - y0) / (y1 - y0)) * dt_ns
    return np.where(ok, t, np.nan), np.where(ok, depth, np.nan)


def electronics_jitter(noise: np.ndarray, template: np.ndarray, depths: np.ndarray,
                       dt_ns: float, search: slice | None = None) -> float:
    """The timing spread the noise and the sampling alone give (ns rms): the mean pulse
    ``template`` (depth 1) scaled to each of ``depths``, moved by a random fraction of a
    sample and added to the pulse-free records ``noise`` (flashes x the window's samples,
    baseline-subtracted; reused in turn), timed as the flashes are, against its own time:
    no light, no TTS, the same noise and sampling."""
    d = np.asarray(depths, float)
    d = d[np.isfinite(d) & (d > 0)]
    if not d.size or not noise.shape[0]:
        return float("nan")
    from scipy.interpolate import CubicSpline

    t_true, _ = arrival_times(template[None, :], dt_ns, search=search)
    rows = noise[np.arange(d.size) % noise.shape[0]]
    # at a random phase of the sampling each (as the flashes are): the template moved by
    # u samples, u uniform in 0 .. 1 (a cubic spline between its samples)
    u = np.random.default_rng(0).random(d.size)
    k = np.arange(template.size, dtype=float)
    moved = CubicSpline(k, template)(np.clip(k[None, :] - u[:, None], 0, k[-1]))
    t, _ = arrival_times(rows + d[:, None] * moved, dt_ns, search=search)
    r = t - t_true[0] - u * dt_ns
    r = r[np.isfinite(r)]
    return _core(r, dt_ns)[1] if r.size > 50 else float("nan")


def _core(t: np.ndarray, dt_ns: float):
    """(mean, sigma, sigma's error, edges, counts) of a Gaussian fitted to the core of
    ``t`` (least squares on its histogram within 2.5 rms of the median, Poisson errors;
    the robust mean and rms where the fit fails: sigma's error NaN)."""
    med = float(np.median(t))
    rms = float(1.4826 * np.median(np.abs(t - med))) or dt_ns
    # bins no finer than half a sample (finer ones show the sampling's phase), 5 per rms
    width = max(rms / 5.0, min(0.5 * dt_ns, rms / 2.0))
    edges = np.arange(med - 6 * rms, med + 6 * rms + width, width)
    h, _ = np.histogram(t, edges)
    x = 0.5 * (edges[1:] + edges[:-1])
    core = np.abs(x - med) < 2.5 * rms
    try:
        p, cov = optimize.curve_fit(_gauss, x[core], h[core], p0=[h.max(), med, rms],
                                    sigma=np.sqrt(np.maximum(h[core], 1.0)),
                                    absolute_sigma=True)
        err = float(np.sqrt(cov[2, 2])) if np.isfinite(cov[2, 2]) else float("nan")
        return float(p[1]), abs(float(p[2])), err, edges, h
    except (RuntimeError, ValueError, TypeError):  # no convergence, too few bins
        return med, rms, float("nan"), edges, h


def _gauss(x, a, mu, s):
    return a * np.exp(-0.5 * ((x - mu) / s) ** 2)


def multi_pe_share(occupancy: float, spe_mean: float, spe_var: float) -> float:
    """The share of flashes in the timed charge range that hold two or more photoelectrons
    (Poisson of mean ``occupancy``, each photoelectron a gamma of the measured mean and
    variance): their pulse is the earlier of two arrivals, which narrows the spread."""
    from scipy.stats import gamma as _gamma
    from scipy.stats import poisson

    m, v = abs(spe_mean), spe_var
    if not (np.isfinite(m) and np.isfinite(v) and m > 0 and v > 0 and occupancy > 0):
        return float("nan")
    k, th = m * m / v, v / m
    lo, hi = SINGLE_PE_RANGE[0] * m, SINGLE_PE_RANGE[1] * m
    share = [poisson.pmf(j, occupancy) * (_gamma.cdf(hi, j * k, scale=th)
                                          - _gamma.cdf(lo, j * k, scale=th))
             for j in range(1, 8)]
    return float(sum(share[1:]) / sum(share)) if sum(share) > 0 else float("nan")


def transit_spread(times_ns: np.ndarray, depths: np.ndarray, charge: np.ndarray,
                   spe_mean: float, dt_ns: float, noise: np.ndarray, template: np.ndarray,
                   search: slice | None = None, multi_share: float = float("nan")
                   ) -> tuple[dict, dict[str, np.ndarray]]:
    """The ``transit_*`` and ``tts_*`` fields of a low-light run (see the module docstring)
    from every flash's arrival time (ns, on the records' trigger axis), its depth and its
    charge (same sign as ``spe_mean``), with pulse-free records ``noise`` and the mean
    pulse ``template`` for the electronics' share (:func:`electronics_jitter`); and the
    histogram for the plot."""
    nan = float("nan")
    lo, hi = SINGLE_PE_RANGE
    r = np.asarray(charge, float) / spe_mean if spe_mean else np.full(len(charge), nan)
    sel = (r >= lo) & (r <= hi) & np.isfinite(times_ns)
    t = np.asarray(times_ns)[sel]
    out = dict(tts_n=int(sel.sum()), tts_selection=f"flashes of {lo:g}-{hi:g} single "
               f"photoelectrons' charge ({int(sel.sum())} of {len(charge)})",
               transit_mean_ns=nan, transit_mean_err_ns=nan, tts_fwhm_ns=nan,
               tts_sigma_ns=nan, tts_sigma_err_ns=nan, tts_sigma_corrected_ns=nan,
               timing_noise_ns=nan, tts_multi_pe_share=multi_share, tts_flag="")
    if t.size < 50:
        out["tts_flag"] = f"only {t.size} single-photoelectron flashes to time"
        return out, {}
    mu, sig, sig_err, edges, h = _core(t, dt_ns)
    x = 0.5 * (edges[1:] + edges[:-1])
    if not np.isfinite(sig_err):
        out["tts_flag"] = "the Gaussian fit of the arrival times failed"
    half = h >= 0.5 * h.max()
    above = np.nonzero(half)[0]
    # the FWHM between the interpolated half-height crossings on either side of the peak
    i0, i1 = int(above[0]), int(above[-1])

    def cross(a, b):  # x where h crosses half height between bins a and b
        ha, hb = h[a], h[b]
        return x[a] + (0.5 * h.max() - ha) / (hb - ha) * (x[b] - x[a]) if hb != ha else x[a]

    left = cross(i0 - 1, i0) if i0 > 0 else x[i0]
    right = cross(i1, i1 + 1) if i1 + 1 < x.size else x[i1]
    noise = electronics_jitter(noise, template, np.asarray(depths)[sel], dt_ns, search)
    # sampled more coarsely than half the spread, the times cluster at the sampling's
    # phases and a histogram's FWHM is theirs: the fit's 2.355 sigma is the one to use
    fwhm = float(right - left) if dt_ns <= 0.5 * sig else nan
    out.update(transit_mean_ns=mu, transit_mean_err_ns=sig / np.sqrt(t.size),
               tts_fwhm_ns=fwhm, tts_sigma_ns=sig, tts_sigma_err_ns=sig_err,
               timing_noise_ns=noise,
               tts_sigma_corrected_ns=float(np.sqrt(max(sig * sig - noise * noise, 0.0))))
    if multi_share > 0.05 and not out["tts_flag"]:
        out["tts_flag"] = (f"about {100 * multi_share:.0f} % of the timed flashes hold two or "
                           "more photoelectrons: where each arrives on its own the spread "
                           "comes out low by a few % (a run at occupancy <= 0.3 times single "
                           "photoelectrons alone)")
    return out, dict(tts_edges=edges, tts_counts=h.astype(float))


def spe_timing(v: np.ndarray, off: np.ndarray | None, w, k: float, t0_ns: np.ndarray,
               t: np.ndarray, run: dict) -> tuple[dict, dict]:
    """A low-light run's transit-time fields and histogram (what
    :func:`pmtgain.point.spe.process_spe` calls): its flashes ``v`` (and LED-off run
    ``off``), its windows ``w`` (:class:`pmtgain.point.spe.SpeWindows`), ``k`` ns per
    sample, each flash's sample-0 time ``t0_ns``, the LED window's charges ``t`` and the
    run's summary ``run`` (occupancy and single-photoelectron moments)."""
    base = np.median(v[:, :max(w.led.start, 2)], axis=1)[:, None]
    y = v[:, w.led] - base
    mean = y.mean(axis=0)
    kpk = int(np.argmin(mean))
    near = slice(max(kpk - int(round(8 / k)), 0), kpk + int(round(4 / k)) + 1)
    when, depth = arrival_times(y, k, search=near)
    when = when + t0_ns + w.led.start * k
    quiet = (off - np.median(off[:, :max(w.led.start, 2)], axis=1)[:, None])[:, w.led] \
        if off is not None else v[:, w.ped] - base
    lam = max(run["occupancy"], 0.05)
    return transit_spread(when, depth, t, run["spe_mean_pC"], k,
                          quiet[quiet.min(axis=1) > -0.5 * np.abs(mean.min()) / lam],
                          mean / max(-mean.min(), 1e-30), near,
                          multi_pe_share(run["occupancy"], run["spe_mean_pC"],
                                         run["spe_var_pC2"]))

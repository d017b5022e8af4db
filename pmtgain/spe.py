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
  high-light photostatistics, :mod:`pmtgain.photostat`).

Method: Saldanha et al., "Model independent approach to the single photoelectron
calibration of photomultiplier tubes", NIM A 863 (2017) 35, arXiv:1602.03150 (the XENON
calibration). Per flash, the charge ``T`` in a window around the LED pulse and ``B`` in a
window of the same length in the pre-pulse region of the same flash (no LED light: the
pedestal, with the same noise). With a Poisson number of photoelectrons of mean lambda,

    lambda = -ln(N_T(pedestal-like) / N_B(pedestal-like)),
    E[Psi] = (E[T] - E[B]) / lambda,
    V[Psi] = (V[T] - V[B]) / lambda - E[Psi]^2,
    G = |E[Psi]| / e,   F = 1 + V[Psi] / E[Psi]^2,

where "pedestal-like" means a charge above ``-threshold`` (charges are negative). No shape
of the single-photoelectron spectrum is assumed. The threshold is scanned from 1 to 6
pedestal rms: the occupancy is stable where the threshold is above most of the pedestal
and below most single photoelectrons; the value chosen is where lambda changes least
between neighbours, and the spread of G and F over thresholds within a factor 1.5 of it is
the threshold systematic. A fit of the spectrum (Bellamy et al., NIM A 339 (1994) 468) is
the cross-check where the peak is resolved; it is not done here.

Flags: the single photoelectron not resolved from the pedestal: lambda changes by more
than ``max_drift`` (1 %) when the threshold grows by half (single photoelectrons leak
below it), or their mean is below ``min_resolution`` pedestal rms; lambda outside
``0.2 .. 3`` (too few photoelectrons or too few pedestal flashes), fewer than 100
pedestal-like flashes, or a window that holds less than 99 % of the mean pulse.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import DEFAULT_FIT, FitConfig
from .flashes import read_many
from .model import NS, charge_pC
from .photostat import E_PC
from .prepare import locate

SPE_COLUMNS = ("pmt", "hv", "n_flashes", "occupancy", "occupancy_err", "spe_mean_pC",
               "gain", "gain_err", "enf", "enf_err", "flag")
OCCUPANCY_RANGE = (0.2, 3.0)


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


def _g_f(mean: float, var: float) -> tuple[float, float]:
    return abs(mean) / E_PC, 1.0 + var / (mean * mean) if mean else float("nan")


def windows(volts: np.ndarray, dt_s: float, clipped, config: FitConfig = DEFAULT_FIT
            ) -> tuple[slice, slice, float]:
    """The LED window and the pedestal window (same length, before it) of a run, and the
    share of the mean pulse the LED window holds."""
    g = locate(volts, clipped, dt_s, config)
    N = volts.shape[1]
    dt_ns = dt_s / NS
    pre = int(round(config.pre_ns / dt_ns))
    start = max(g.k_on - pre, 0)
    need = g.k_end + int(round(config.post_ns / dt_ns)) - start
    gap = int(round(config.baseline_gap_ns / dt_ns))
    length = max(min(need, start - g.e - gap, N - start), 8)
    led = slice(start, start + length)
    ped_start = max(start - length - gap, 0)
    ped = slice(ped_start, ped_start + length)
    mean = volts.mean(axis=0)
    m = mean - np.median(mean)
    total = m[start:].sum()
    held = float(m[led].sum() / total) if total < 0 else float("nan")
    return led, ped, held


def process_spe(files: Sequence[str | os.PathLike], *, pmt: int, hv: int,
                config: FitConfig = DEFAULT_FIT, n_boot: int = 200, seed: int = 0,
                min_resolution: float = 3.0, max_drift: float = 0.01) -> SpeResult:
    """One low-light run (see the module docstring). ValueError when nothing is readable."""
    traces = read_many(files)
    if traces.volts.shape[0] == 0:
        why = "; ".join(f"{os.path.basename(p)}: {r}" for p, r in traces.errors[:3])
        raise ValueError(f"PMT {pmt} at {hv} V (low light): no file could be read ({why})")
    keep = ~traces.clipped
    v = traces.volts[keep]
    led, ped, held = windows(v, traces.dt_s, None, config)
    k = traces.dt_s / NS
    # window sums, no baseline subtraction: the offset is the same in both windows and
    # cancels in E[T] - E[B]; both are referred to the pedestal's median for the counts
    t = charge_pC(v[:, led].sum(axis=1) * k)
    b = charge_pC(v[:, ped].sum(axis=1) * k)
    off = float(np.median(b))
    t, b = t - off, b - off
    sig_b = float(b.std(ddof=1))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _analyse(t, b, sig_b, traces, led, ped, held, k, pmt, hv, len(files),
                        n_boot, seed, min_resolution, max_drift)


def _analyse(t, b, sig_b, traces, led, ped, held, k, pmt, hv, n_files, n_boot, seed,
             min_resolution, max_drift) -> SpeResult:
    grid = np.linspace(1.0, 6.0, 26) * sig_b
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
        lam_b, m_b, v_b = _estimate(t[i], b[i], thr)
        boot.append((lam_b, *_g_f(m_b, v_b)))
    boot = np.array(boot)
    err = np.nanstd(boot, axis=0, ddof=1)
    n_ped = int(np.count_nonzero(t > -thr))
    lam_up = _estimate(t, b, 1.5 * thr)[0]
    drift = abs(lam_up - lam0) / lam0 if lam0 > 0 else float("inf")
    flags = []
    if not drift <= max_drift:
        flags.append(f"occupancy not stable against the threshold ({100 * drift:.1f}% "
                     "from 1x to 1.5x it): single photoelectrons not resolved from the "
                     "pedestal")
    if not (np.isfinite(m0) and abs(m0) >= min_resolution * sig_b):
        flags.append(f"single photoelectron not resolved from the pedestal (E[Psi] = "
                     f"{abs(m0) / sig_b if np.isfinite(m0) else float('nan'):.1f} pedestal "
                     "rms)")
    if not (OCCUPANCY_RANGE[0] <= lam0 <= OCCUPANCY_RANGE[1]):
        flags.append(f"occupancy {lam0:.2f} outside {OCCUPANCY_RANGE[0]}-"
                     f"{OCCUPANCY_RANGE[1]}")
    if n_ped < 100:
        flags.append(f"only {n_ped} pedestal-like flashes")
    if not held >= 0.99:
        flags.append(f"the LED window holds {100 * held:.1f}% of the mean pulse")
    if traces.clipped.any():
        flags.append(f"{int(traces.clipped.sum())} clipped flash(es) left out")
    summary = dict(pmt=int(pmt), hv=int(hv), kind="spe", n_files=n_files,
                   n_flashes=int(t.size), occupancy=lam0, occupancy_err=float(err[0]),
                   occupancy_sys=l_sys, spe_mean_pC=float(m0), spe_var_pC2=float(v0),
                   gain=g0, gain_err=float(err[1]), gain_sys=g_sys, enf=f0,
                   enf_err=float(err[2]), enf_sys=f_sys, threshold_pC=thr,
                   pedestal_rms_pC=sig_b, window_ns=(led.stop - led.start) * k,
                   window_held=held, n_pedestal_like=n_ped, flag="; ".join(flags),
                   rejected_unreadable=len(traces.errors))
    spectra = dict(T=t.astype(np.float32), B=b.astype(np.float32),
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

"""Where a point's charge is integrated: its baseline region, a coherent background, the
window and the per-flash weights, from the first pass over its flashes.

What to use when
----------------
- :func:`place` - everything between the first pass (:func:`pmtgain.point.scan.scan_point`)
  and the second (:func:`pmtgain.point.measure.measure_flashes`): a coherent ripple fitted
  and removed (:mod:`pmtgain.point.background`), coherent structure (pick-up) left out of the
  baseline region, the window (its own, or borrowed from the PMT's stronger points) and
  the :class:`pmtgain.point.window.ChargeEstimator`. Returns a :class:`Placement`.
- :func:`place_window` - the window alone, for a scan whose baseline is settled.
- :func:`settle_baseline` - a pulse-free region's pick-up and ripple (the low-light runs'
  pedestal window too, :mod:`pmtgain.point.spe`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.point.background import Ripple, fit_ripple
from pmtgain.point.prepare import Geometry
from pmtgain.point.scan import Scan
from pmtgain.point.shape import ShapeTable
from pmtgain.point.window import (
    Baseline,
    ChargeEstimator,
    Window,
    baseline_without,
    borrowed_window,
    choose_window,
    clean_baseline,
    make_estimator,
)

__all__ = ["MAX_REFITS", "Placement", "place_window", "MIN_KEPT_SHARE", "settle_baseline",
           "place"]

#: refits of a ripple without the localised structure its residual shows
MAX_REFITS = 8


@dataclass
class Placement:
    """What :func:`place` settles for a point."""

    scan: Scan  # the first pass, on the final baseline region
    window: Window
    estimator: ChargeEstimator
    ripple: Ripple | None
    ripple_err_pC: float  # the error of the ripple's sum over the window
    baseline_note: str


def place_window(scan: Scan, pmt: int, hv: int, config: FitConfig = DEFAULT_FIT,
                 shapes: ShapeTable | None = None
                 ) -> tuple[Window, np.ndarray | None, Geometry | None]:
    """The point's integration window and (borrowed) weights, and the baseline geometry
    a borrowed window needs when it differs from the scan's (then the point is scanned
    again with it). Own window where the mean pulse is at least ``min_mean_pulse_snr`` of
    its noise deep; else the PMT's template (:meth:`pmtgain.point.shape.ShapeTable.borrow`);
    else its own window, or the whole record after the baseline region when even that
    cannot be placed, flagged (``own-weak``)."""
    g = scan.geometry
    own = choose_window(scan.mean_pulse, g.k_edge, g.k_base, scan.dt_ns, scan.sigma_L,
                        config, g.e)
    if own.mean_snr >= config.min_mean_pulse_snr:
        return own, None, None
    why = (f"own mean pulse too weak to place the window ({own.mean_snr:.1f} noise rms, "
           f"< {config.min_mean_pulse_snr:g})")
    got = shapes.borrow(pmt, hv) if shapes is not None else None
    N = scan.mean_pulse.size
    if got is not None:
        tmpl, edge, edge_err, n_pts = got
        lim = g.e
        win, w = borrowed_window(tmpl, edge, edge_err, scan.t0_ns, scan.dt_ns, N, lim,
                                 own.mean_snr, f"{why}; window and weights of PMT {pmt} at "
                                 f"{tmpl.hv:g} V, edge placed from {n_pts} point(s) "
                                 f"({edge - scan.t0_ns:.1f} +- {edge_err:.1f} ns)")
        gap = max(1, int(np.ceil(config.baseline_gap_ns / scan.dt_ns)))
        k_base = max(g.e + 2, win.k_lo - gap)
        geom = None
        if not (g.k_edge < g.k_base <= win.k_lo):
            geom = replace(g, k_edge=g.e, k_base=k_base, k_lo=win.k_lo, k_hi=win.k_hi,
                           kpk=win.kpk, k_on=win.k_lo)
        return win, w, geom
    if own.mean_snr >= 0.5 * config.min_mean_pulse_snr:
        return replace(own, source="own-weak", note=f"{why}; no window table for PMT "
                       f"{pmt}: its own window"), None, None
    lo = g.k_base if g.k_base <= N // 2 else 0
    hi = N if g.k_base <= N // 2 else g.k_edge
    return replace(own, source="own-weak", k_lo=lo, k_hi=hi, k_stop=hi, k_ext=hi,
                   note=f"{why}; no window table for PMT {pmt}: the whole record after "
                   "the baseline region"), None, None


def _without_strongest_block(r: np.ndarray, use: np.ndarray, sigma_L: np.ndarray
                             ) -> np.ndarray:
    """``use`` less the block of ``L = 1, 2, 4, ... 64`` samples of ``r`` (about its
    median over ``use``) that stands furthest beyond its noise ``sigma_L``, and ``L`` more
    on either side."""
    x = np.where(use, r - np.median(r[use]), 0.0)
    cs = np.concatenate([[0.0], np.cumsum(x)])
    best, where = -1.0, (0, 0)  # (0, 0): nothing stands out, nothing is removed
    for i, s_L in enumerate(np.asarray(sigma_L, float)[:7]):
        L = 1 << i
        if L >= x.size or not s_L > 0:
            break
        z = np.abs(cs[L:] - cs[:-L]) / s_L
        j = int(np.argmax(z))
        if z[j] > best:
            best, where = float(z[j]), (max(j - L, 0), j + 2 * L)
    out = use.copy()
    out[where[0]:where[1]] = False
    return out


def _excludes(b: Baseline, k_edge: int, k_base: int) -> bool:
    """Whether ``b`` leaves a stretch of its region out (not: "baseline kept")."""
    return b.lo != k_edge or b.hi != k_base or b.skip_hi > b.skip_lo


#: a structure left out without a ripple keeps at least this share of the region (a
#: coherent ripple nobody fitted averages out over a long stretch, not over a short one)
MIN_KEPT_SHARE = 0.4


def _structure_only(m, first: Baseline, region, k_edge: int, k_base: int, sigma_L,
                    ms: int) -> Baseline:
    """No ripple: ``first`` if it left the structure out or found none; else (a structure
    whose span with its margins exceeds half the region) its most significant blocks
    left out one by one until the rest is clean, as long as ``MIN_KEPT_SHARE`` of the
    region and ``ms`` samples stay; else ``first``."""
    if not first.bad.any() or _excludes(first, k_edge, k_base):
        return first
    use = region.copy()
    floor = max(ms, int(MIN_KEPT_SHARE * (k_base - k_edge)))
    for _ in range(MAX_REFITS):
        after = clean_baseline(np.where(use, m, np.median(m[use])), k_edge, k_base,
                               sigma_L, ms)
        if not after.bad.any():
            return baseline_without(~use[k_edge:k_base], k_edge, k_base, ms)
        new = use & after.mask(m.size) if _excludes(after, k_edge, k_base) else \
            _without_strongest_block(m, use, sigma_L)
        if np.array_equal(new, use) or new.sum() < floor:
            break
        use = new
    return first


def settle_baseline(m: np.ndarray, k_edge: int, k_base: int, sigma_L: np.ndarray,
                    dt_ns: float, config: FitConfig = DEFAULT_FIT
                    ) -> tuple[Baseline, Ripple | None]:
    """The pulse-free region ``k_edge .. k_base-1`` of the mean record ``m``: a localised
    structure (pick-up) found first, without any model; a ripple must then show on the
    samples it leaves (or on all, where structure is everywhere) and leave, once removed,
    no structure on the samples it was fitted on. Where structure remains, a localised
    stretch of it is left out too, else (structure everywhere: a strong pick-up drew the
    fit) the residual's most significant block, and the ripple is fitted again, up to
    ``MAX_REFITS`` times. Returns the region less what was left out
    (:class:`pmtgain.point.window.Baseline`) and the ripple, or None."""
    sig1 = float(sigma_L[0])
    k = np.arange(m.size)
    ms = config.min_baseline_samples
    first = clean_baseline(m, k_edge, k_base, sigma_L, ms)
    region = (k >= k_edge) & (k < k_base)
    local = _excludes(first, k_edge, k_base)
    use = first.mask(k.size) if local else region
    ripple = fit_ripple(m, use, dt_ns, sig1)
    if ripple is None and local:
        # the whole region proposes a frequency, the samples the structure leaves must
        # confirm it (one trial: no look-elsewhere penalty)
        whole = fit_ripple(m, region, dt_ns, sig1)
        if whole is not None:
            ripple = fit_ripple(m, use, dt_ns, sig1, near_ghz=whole.freq_ghz)

    def residual_structure(r: Ripple, use: np.ndarray) -> Baseline:
        raw = r.at(k)
        res = m - (raw - raw[use].mean())
        # only the samples the fit used must be clean: the others stand at the median
        return clean_baseline(np.where(use, res, np.median(res[use])), k_edge, k_base,
                              sigma_L, ms)

    for _ in range(MAX_REFITS):
        if ripple is None:
            break
        after = residual_structure(ripple, use)
        if not after.bad.any():
            break
        if _excludes(after, k_edge, k_base):  # a localised stretch: leave it out too,
            new_use, near = use & after.mask(k.size), ripple.freq_ghz  # one trial
        else:
            raw = ripple.at(k)
            new_use, near = _without_strongest_block(m - raw, use, sigma_L), None
        if np.array_equal(new_use, use) or new_use.sum() < ms:
            break
        use = new_use
        ripple = fit_ripple(m, use, dt_ns, sig1, near_ghz=near)
    if ripple is not None and not np.array_equal(use, first.mask(k.size)):
        # the frequency scanned again on the samples left: a fit that began on a strong
        # pick-up may have followed it to a frequency of its own
        again = fit_ripple(m, use, dt_ns, sig1)
        ripple = again if again is not None else ripple
    if ripple is None:
        return _structure_only(m, first, region, k_edge, k_base, sigma_L, ms), None
    after = residual_structure(ripple, use)
    if after.bad.any() and not _excludes(after, k_edge, k_base):
        # it was the structure, not a ripple
        return _structure_only(m, first, region, k_edge, k_base, sigma_L, ms), None
    if after.bad.any():
        use = use & after.mask(k.size)
    return baseline_without(region[k_edge:k_base] & ~use[k_edge:k_base], k_edge, k_base,
                             ms), ripple


def place(scan: Scan, rescan: Callable[[Geometry], Scan], pmt: int, hv: int,
          config: FitConfig = DEFAULT_FIT, shapes: ShapeTable | None = None) -> Placement:
    """The point's baseline region, coherent background, window and estimator (see the
    module docstring). ``rescan(geometry)`` runs the first pass again on another baseline
    region (the chunks are cached: it costs a conversion, not a read)."""
    g = scan.geometry
    ripple, notes = None, []
    k = np.arange(scan.mean_pulse.size)
    raw = np.zeros(k.size)
    if g.k_edge <= g.k_on:  # a baseline region before the pulse: settle it
        found, ripple = settle_baseline(scan.mean_pulse, g.k_edge, g.k_base, scan.sigma_L,
                                        scan.dt_ns, config)
        if ripple is not None:
            raw = ripple.at(k)
        if found.note:
            notes.append(found.note)
        new = replace(g, k_edge=found.lo, k_base=found.hi, skip_lo=found.skip_lo,
                      skip_hi=found.skip_hi)
        if new != g:
            scan = rescan(new)

    def relative(g: Geometry) -> np.ndarray | None:
        """The ripple as each flash holds it: less its mean over the baseline samples."""
        return raw - raw[g.base_index()].mean() if ripple is not None else None

    g = scan.geometry
    bg = relative(g)
    corrected = scan if bg is None else replace(scan, mean_pulse=scan.mean_pulse - bg)
    win, weights, geom = place_window(corrected, pmt, hv, config, shapes)
    if geom is not None:  # a borrowed window needs its own baseline region
        scan = rescan(geom)
        g = scan.geometry
        bg = relative(g)
    est = make_estimator(scan.mean_pulse, win, scan.dt_ns, float(scan.sigma_L[0]), weights,
                         bg)
    r_err = 0.0
    if ripple is not None:
        w = np.zeros(k.size)
        w[win.k_lo:win.k_hi] = 1.0
        bi = g.base_index()
        w[bi] -= (win.k_hi - win.k_lo) / max(bi.size, 1)
        r_err = ripple.sum_err(w) * est.unit
        notes.insert(0, f"coherent ripple of {1e3 * ripple.amplitude_V:.3f} mV at "
                     f"{1e3 * ripple.freq_ghz:.1f} MHz removed ({est.offset_window_pC:+.4g} pC "
                     "a flash)")
    return Placement(scan=scan, window=win, estimator=est, ripple=ripple,
                     ripple_err_pC=r_err, baseline_note="; ".join(notes))

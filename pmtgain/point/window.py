"""The integration window and the per-flash weights of a point, from its own mean pulse.

What to use when
----------------
- :func:`choose_window` - where a point's pulse begins and where its mean pulse has come
  back to the baseline within its noise (slow components, reflections, ringing and
  undershoots included), from the mean of every flash that counts: no pulse model.
- :func:`borrowed_window` - the same for a point whose mean pulse is too weak to place its
  own window, from a :class:`Template` of the same PMT's stronger points.
- :func:`make_estimator` - the :class:`ChargeEstimator` of a point: the window sum
  (the mean charge) and the filtered per-flash charge (low noise), normalised so that the
  mean of the latter over the point *is* the former.
- :class:`Template` - what a strong point lends a weak one (its window and mean pulse
  relative to the leading-edge time); kept in the shape table (:mod:`pmtgain.point.shape`),
  so HTCondor jobs get it from ``shapes.csv`` as well.

The charge is what the scope recorded. A flash's charge is Q = (1/R) int V dt (R = 50 ohm)
over the window, as a sum over samples: ``W_i = dt/R * sum_k y_ik``, ``y`` the
baseline-subtracted trace. The point's ``mean_charge`` is the mean of ``W_i`` over every
flash that counts, equal to ``dt/R * sum_k m_k`` over the window, ``m`` the mean pulse:
model-free, exact for any pulse shape whose charge lies in the window.

The window. The noise of the mean pulse is measured on the flashes' baseline regions:
``sigma_L``, the rms over flashes of sums of ``L`` consecutive samples, over sqrt(n)
(:func:`flash_block_noise`: correlated noise included; a coherent background, the same in
every record, is not noise and stays visible). The window ends at the first sample after
the peak from which the sums of the next 1, 2, 4, ... samples are all within
``window_sigma`` of zero (a slow tail, a reflection or an undershoot keeps one of those
sums significant), plus a margin (``window_margin_fraction`` of the pulse's length, at
least ``window_margin_ns``); it begins likewise before the leading edge (short sums only,
so that pick-up in front of the pulse does not pull the window back), less half that
margin. The remainder beyond the window is below the noise of the mean; the window's own
uncertainty is estimated from the sum over a further half window
(``mean_charge_window_err_pC``). A longer window would only add noise: the mean charge's
error grows with the window's length (and its square, through each flash's baseline).

The per-flash weights (the optimal filter for white noise, Turin, IRE Trans. Inf. Theory
6 (1960) 311: the matched filter ``w = s``, here ``s`` = the point's own mean pulse,
non-parametric) give ``F_i = w . y_i``; the charge is ``Q_i = r F_i`` with
``r = (dt/R) sum_k m_k / (w . m)``, so that ``mean_i Q_i = mean_i W_i`` exactly, whatever
the pulse shape. The matched filter is insensitive to a flash's onset jitter to first
order (``w . m' = sum m m' = 0`` when ``m`` vanishes at the window's ends) and its noise
is that of the pulse region only, where the window sum also integrates the noise of the
tail and of its margins. Where the mean pulse is weak, its samples are smoothed and
shrunk towards zero where they are noise (``w_k = s_k s_k^2 / (s_k^2 + (2 sigma)^2)``);
any weights keep the mean exact, only the per-flash noise depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pmtgain.config import DEFAULT_FIT, PC_PER_C, R_TERMINATION_OHM, FitConfig
from pmtgain.point.model import NS

__all__ = ["Window", "Template", "ChargeEstimator", "choose_window", "borrowed_window",
           "make_estimator", "Baseline", "clean_baseline", "flash_block_noise",
           "mean_block_sigma", "leading_edge_ns", "template_of"]


@dataclass(frozen=True)
class Window:
    """A point's integration window (samples ``k_lo .. k_hi-1``) and where it came from."""

    k_lo: int
    k_hi: int
    kpk: int  # the mean pulse's deepest sample
    k_stop: int  # where the mean pulse is back at the baseline (before the margin)
    k_ext: int  # end of the further half window that estimates the window's uncertainty
    source: str  # "own", "table" (borrowed), "own-weak" (no table), "record"
    mean_snr: float  # the mean pulse's peak in its own noise rms
    tail_missing_fraction: float = 0.0  # charge after the record's end (extrapolated)
    note: str = ""
    edge_ns: float = float("nan")  # leading-edge (50 %) time, relative to sample 0
    shift_err_pC: float = 0.0  # a borrowed window's error from its interpolated position


@dataclass(frozen=True)
class Template:
    """A strong point's window and mean pulse, relative to its leading-edge time
    (:func:`leading_edge_ns`, absolute ns): what a weak point of the same PMT borrows."""

    hv: float
    edge_ns: float  # absolute time of the 50 % leading edge
    lo_rel_ns: float  # window start - edge
    hi_rel_ns: float  # window end - edge
    dt_ns: float  # sampling of ``pulse``
    pulse: np.ndarray  # mean pulse on the window, normalised to sum 1 (positive)


def flash_block_noise(z: np.ndarray, n_samples: int) -> np.ndarray:
    """rms over flashes of the sums of ``L`` consecutive samples, ``L = 1, 2, 4, ...`` up
    to ``n_samples``, from the baseline regions ``z`` (flashes x samples, each row its own
    baseline subtracted): the random noise a sum over the window meets, correlated noise
    included and a coherent background (the same in every record: ripple, pick-up)
    excluded, since it does not vary from flash to flash. Measured up to a quarter of the
    region; longer sums grow as sqrt(L) from the longest measured one."""
    scales = _scales(n_samples)
    out = np.full(scales.size, np.nan)
    z = np.asarray(z, float)
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 2:
        return out
    m = z.shape[1]
    zc = z - z.mean(axis=0)  # the coherent part out: what is the same in every flash
    cs = np.concatenate([np.zeros((z.shape[0], 1)), np.cumsum(zc, axis=1)], axis=1)
    last = None
    for i, L in enumerate(scales):
        if L <= max(m // 4, 1):
            s = cs[:, L:] - cs[:, :-L]
            out[i] = float(np.sqrt(np.mean(s * s) * z.shape[0] / (z.shape[0] - 1)))
            last = (L, out[i])
        else:
            out[i] = last[1] * np.sqrt(L / last[0])
    return out


def mean_block_sigma(noise_L: np.ndarray, n_counted: int, white: float) -> np.ndarray:
    """The noise of the mean pulse's block sums: each flash's (:func:`flash_block_noise`)
    over sqrt(n); white noise of ``white`` per sample of the mean where not measured."""
    scales = _scales(2 ** max(len(noise_L) - 1, 0))
    out = np.asarray(noise_L, float) / np.sqrt(max(n_counted, 1))
    bad = ~np.isfinite(out)
    out[bad] = white * np.sqrt(scales[bad])
    return out


def _scales(n: int) -> np.ndarray:
    s, L = [], 1
    while L <= max(n, 1):
        s.append(L)
        L *= 2
    return np.array(s, int)


def leading_edge_ns(m: np.ndarray, kpk: int, dt_ns: float, fraction: float = 0.5) -> float:
    """Time (ns from sample 0) where the mean pulse's leading edge crosses ``fraction`` of
    its peak, linearly interpolated (a constant-fraction time: independent of the
    amplitude, so it follows the transit time from one HV to the next)."""
    thr = fraction * float(m[kpk])
    above = np.nonzero(m[:kpk + 1] > thr)[0]
    if not above.size:
        return kpk * dt_ns
    k = int(above[-1])
    y0, y1 = float(m[k]), float(m[k + 1])
    f = (y0 - thr) / (y0 - y1) if y0 != y1 else 0.0
    return (k + f) * dt_ns


@dataclass(frozen=True)
class Baseline:
    """A baseline region ``lo .. hi-1`` less the stretch ``skip_lo .. skip_hi-1`` (none
    when equal), from :func:`clean_baseline`; ``bad`` marks the structure's samples."""

    lo: int
    hi: int
    skip_lo: int
    skip_hi: int
    note: str
    bad: np.ndarray

    def mask(self, n: int) -> np.ndarray:
        """The region's samples that the baseline uses, as a mask over ``n`` samples."""
        out = np.zeros(n, bool)
        out[self.lo:self.hi] = True
        out[self.skip_lo:self.skip_hi] = False
        return out


def clean_baseline(m: np.ndarray, k_edge: int, k_base: int, sigma_L: np.ndarray,
                   min_samples: int, z: float = 5.0) -> Baseline:
    """The baseline region without coherent structure (LED-driver pick-up, a reflection of
    the trigger): samples where a sum of 1-16 consecutive samples of the mean pulse is
    beyond ``z`` of its noise mark structure; the stretch from the first to the last of
    them (with a margin of the structure's own length) is left out, so that the baseline
    still spans the region (a ripple's mean over it stays small). Unchanged, with a note,
    when what is left would be shorter than ``min_samples`` or the structure covers most
    of the region (a ripple, say)."""
    seg = np.asarray(m, float)[k_edge:k_base]
    n = seg.size
    same = Baseline(k_edge, k_base, 0, 0, "", np.zeros(n, bool))
    if n < 2 * min_samples:
        return same
    # about the median: a structure with a net area shifts the mean of the whole region
    # (each flash's baseline is its mean), not its median
    seg = seg - np.median(seg)
    cs = np.concatenate([[0.0], np.cumsum(seg)])
    bad = np.zeros(n, bool)
    L = 1
    while L <= min(16, n // 4):
        s = cs[L:] - cs[:-L]
        hit = np.nonzero(np.abs(s) > z * sigma_L[int(np.log2(L))])[0]
        for k in hit:  # mark the block and half as much again on either side
            bad[max(0, k - L // 2):min(n, k + L + L // 2)] = True
        L *= 2
    return baseline_without(bad, k_edge, k_base, min_samples, max_share=0.5,
                            kept_why=" (a ripple?)")


def baseline_without(bad: np.ndarray, k_edge: int, k_base: int, min_samples: int,
                     max_share: float = 1.0, kept_why: str = "") -> Baseline:
    """The region ``k_edge .. k_base-1`` less the stretch from the first to the last of
    the samples ``bad`` marks (over the region), or the whole region, with a note, when
    fewer than ``min_samples`` would be left or the stretch spans more than ``max_share``
    of it (:func:`clean_baseline`; :func:`pmtgain.point.placement.settle_baseline`)."""
    n = k_base - k_edge
    if not bad.any():
        return Baseline(k_edge, k_base, 0, 0, "", bad)
    idx = np.nonzero(bad)[0]
    a, b = int(idx[0]), int(idx[-1]) + 1
    frac = (b - a) / n
    if n - (b - a) < min_samples or frac > max_share:
        return Baseline(k_edge, k_base, 0, 0, f"coherent structure over {100 * frac:.0f}% of "
                        f"the baseline region{kept_why}: baseline kept", bad)
    lo, hi, s_lo, s_hi = k_edge, k_base, k_edge + a, k_edge + b
    if a == 0:
        lo, s_lo, s_hi = k_edge + b, 0, 0
    elif b == n:
        hi, s_lo, s_hi = k_edge + a, 0, 0
    return Baseline(lo, hi, s_lo, s_hi, f"coherent structure ({(b - a)} samples, "
                    f"{100 * frac:.0f}% of the baseline region) left out of it (pick-up?)",
                    bad)


def _tail_missing(m: np.ndarray, k_lo: int, k_hi: int, kpk: int) -> float:
    """The share of the full charge after the record's end, from the decay of the last samples
    (two halves of the window's last fifth: an exponential continued to infinity); NaN
    when the tail does not decay."""
    M = max(8, (k_hi - kpk) // 5)
    if k_hi - kpk < 2 * M:
        return float("nan")
    s1 = float(m[k_hi - 2 * M:k_hi - M].sum())
    s2 = float(m[k_hi - M:k_hi].sum())
    total = float(m[k_lo:k_hi].sum())
    if total == 0:
        return float("nan")
    if s1 == 0 or not 0 < s2 / s1 < 1:
        return 0.0 if abs(s2) < 1e-3 * abs(total) else float("nan")
    rho = s2 / s1
    missing = s2 * rho / (1 - rho)
    frac = missing / (total + missing)
    # a tail of the pulse's own sign; an undershoot's (the other sign) is not "missing
    # charge" of this kind
    return float(frac) if 0.0 <= frac < 1.0 else float("nan")


def choose_window(mean_pulse: np.ndarray, k_edge: int, k_base: int, dt_ns: float,
                  sigma_L: np.ndarray, config: FitConfig = DEFAULT_FIT,
                  edge_samples: int = 0) -> Window:
    """The point's own integration window (see the module docstring).

    ``mean_pulse``: the mean of the baseline-subtracted flashes that count; ``k_edge ..
    k_base``: its baseline region (before or after the pulse); ``sigma_L``: the noise of
    the mean pulse's sums of ``L = 1, 2, 4, ...`` samples (:func:`mean_block_sigma`)."""
    m = np.asarray(mean_pulse, float)
    N = m.size
    after = k_edge > N // 2 and k_base >= N - edge_samples - 1  # baseline after the pulse
    lim_hi = k_edge if after else N
    lim_lo = 0 if after else k_base
    e = min(edge_samples, max((lim_hi - lim_lo) // 10, 0))
    seg = m[lim_lo + e:max(lim_hi - e, lim_lo + e + 1)]
    kpk = int(np.argmin(seg)) + lim_lo + e
    scales = _scales(N)
    sig = np.asarray(sigma_L, float)[:scales.size]
    depth = -float(m[kpk])
    # without any noise (an ideal simulation) a pulse shows as anything below zero
    mean_snr = depth / sig[0] if sig[0] > 0 else (float("inf") if depth > 0 else float("nan"))
    thr = config.window_sigma
    cs = np.concatenate([[0.0], np.cumsum(m)])
    # forward: the first k after the peak from which every sum of the next L samples
    # (k + L <= lim_hi) is within thr sigma_L of zero
    bad = np.zeros(N + 1, bool)
    for L, s_L in zip(scales, sig, strict=True):
        if L > lim_hi - kpk:
            break
        s = cs[kpk + L:lim_hi + 1] - cs[kpk:lim_hi + 1 - L]
        bad[kpk:lim_hi + 1 - L] |= np.abs(s) > thr * s_L
    ok = np.nonzero(~bad[kpk + 1:lim_hi])[0]
    k_stop = kpk + 1 + int(ok[0]) if ok.size else lim_hi
    # backward: short sums only (the leading edge is short; pick-up may sit before it)
    onset_thr = min(config.onset_fraction * float(m[kpk]), -thr * sig[0])
    before = np.nonzero(m[lim_lo:kpk] > onset_thr)[0]
    k_on = lim_lo + int(before[-1]) if before.size else lim_lo
    lb = max(4, 2 * (kpk - k_on))
    badb = np.zeros(N + 1, bool)
    for L, s_L in zip(scales, sig, strict=True):
        if L > lb or L > kpk - lim_lo:
            break
        s = cs[lim_lo + L:kpk + 1] - cs[lim_lo:kpk + 1 - L]  # block [k-L, k), k = lim_lo+L..
        badb[lim_lo + L:kpk + 1] |= np.abs(s) > thr * s_L
    okb = np.nonzero(~badb[lim_lo:min(k_on, kpk) + 1])[0]
    k_start = lim_lo + int(okb[-1]) if okb.size else lim_lo
    pre = max(2, int(np.ceil(config.window_margin_ns / dt_ns)),
              int(config.window_margin_fraction * (k_stop - k_start)) // 2)
    post = max(2, int(np.ceil(config.window_margin_ns / dt_ns)),
               int(config.window_margin_fraction * (k_stop - k_start)))
    k_lo = max(lim_lo, k_start - pre)
    k_hi = min(lim_hi, k_stop + post)
    k_ext = min(lim_hi, k_hi + max((k_hi - k_lo) // 2, 1))
    missing = _tail_missing(m, k_lo, k_hi, kpk) if k_stop >= lim_hi - 1 and not after \
        else 0.0
    return Window(k_lo=k_lo, k_hi=k_hi, kpk=kpk, k_stop=k_stop, k_ext=k_ext, source="own",
                  mean_snr=mean_snr, tail_missing_fraction=missing,
                  edge_ns=leading_edge_ns(m, kpk, dt_ns))


def borrowed_window(tmpl: Template, edge_ns: float, edge_err_ns: float, t0_ns: float,
                    dt_ns: float, n_samples: int, lim_lo: int, mean_snr: float,
                    note: str) -> tuple[Window, np.ndarray]:
    """A weak point's window and weights from ``tmpl``, placed at the interpolated
    leading-edge time ``edge_ns`` (absolute) of the weak point (``t0_ns``: its sample 0).
    Returns the window (with the error of its position, as a share of the charge in
    ``shift_err_pC`` / charge: filled in by the caller) and the weights on its samples."""
    rel0 = edge_ns - t0_ns
    k_lo = max(lim_lo, int(np.floor((rel0 + tmpl.lo_rel_ns) / dt_ns)))
    k_hi = min(n_samples, int(np.ceil((rel0 + tmpl.hi_rel_ns) / dt_ns)) + 1)
    k_hi = max(k_hi, k_lo + 2)
    t = np.arange(k_lo, k_hi) * dt_ns - rel0 - tmpl.lo_rel_ns  # on the template's axis
    tt = np.arange(tmpl.pulse.size) * tmpl.dt_ns
    w = np.interp(t, tt, tmpl.pulse, left=0.0, right=0.0) * (dt_ns / tmpl.dt_ns)
    k_ext = min(n_samples, k_hi + max((k_hi - k_lo) // 2, 1))
    kpk = k_lo + int(np.argmax(w)) if w.size else k_lo
    # the window's error from its position: the template's charge that an edge error of
    # edge_err_ns moves out of the window
    lost = 0.0
    for d in (-edge_err_ns, edge_err_ns):
        ws = np.interp(t - d, tt, tmpl.pulse, left=0.0, right=0.0) * (dt_ns / tmpl.dt_ns)
        lost = max(lost, abs(1.0 - float(ws.sum()) / max(float(w.sum()), 1e-300)))
    win = Window(k_lo=k_lo, k_hi=k_hi, kpk=kpk, k_stop=k_hi, k_ext=k_ext, source="table",
                 mean_snr=mean_snr, note=note, edge_ns=rel0, shift_err_pC=lost)
    return win, -w  # pulses are negative


@dataclass
class ChargeEstimator:
    """The window sum and the filtered charge of flashes (pC; see the module docstring).

    ``W = unit * y[:, k_lo:k_hi].sum(1) - offset_window_pC``, ``Q = y[:, k_lo:k_hi] @
    weights - offset_filter_pC``; ``ratio`` is the ``r`` that makes the mean of ``Q`` over
    the point equal that of ``W``; the offsets remove a coherent background (a ripple the
    same in every record, :mod:`pmtgain.point.background`; 0 without one)."""

    k_lo: int
    k_hi: int
    k_ext: int
    unit: float  # pC per (V x sample): dt / R
    weights: np.ndarray  # pC per V, already multiplied by ``ratio``
    ratio: float
    how: str  # how the weights were normalised
    offset_window_pC: float = 0.0
    offset_ext_pC: float = 0.0
    offset_filter_pC: float = 0.0

    def window_sum(self, y: np.ndarray) -> np.ndarray:
        return y[:, self.k_lo:self.k_hi].sum(axis=1) * self.unit - self.offset_window_pC

    def extension_sum(self, y: np.ndarray) -> np.ndarray:
        return y[:, self.k_hi:self.k_ext].sum(axis=1) * self.unit - self.offset_ext_pC

    def apply(self, y: np.ndarray) -> np.ndarray:
        return y[:, self.k_lo:self.k_hi] @ self.weights - self.offset_filter_pC

    def measure(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Q, W, extension sum)`` of every row of ``y``, the first two in one matrix
        product (one pass over the window's samples)."""
        two = np.empty((self.k_hi - self.k_lo, 2))
        two[:, 0] = self.weights
        two[:, 1] = self.unit
        qw = y[:, self.k_lo:self.k_hi] @ two
        return (qw[:, 0] - self.offset_filter_pC, qw[:, 1] - self.offset_window_pC,
                self.extension_sum(y))


def _smooth(x: np.ndarray, s: float) -> np.ndarray:
    if s <= 0 or x.size < 3:
        return x.copy()
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(x, s, mode="nearest")


def make_estimator(mean_pulse: np.ndarray, win: Window, dt_ns: float, sigma1: float,
                   weights: np.ndarray | None = None,
                   background: np.ndarray | None = None) -> ChargeEstimator:
    """The point's estimator on ``win``: matched-filter weights from ``mean_pulse`` (or
    the borrowed ``weights``), normalised so that the mean filtered charge equals the mean
    window sum (``ratio``); ``sigma1``: the noise of one sample of the mean pulse;
    ``background``: a coherent background in every baseline-subtracted flash (V, per
    sample of the record), removed from both."""
    N = len(mean_pulse)
    bg = np.zeros(N) if background is None else np.asarray(background, float)
    m = (np.asarray(mean_pulse, float) - bg)[win.k_lo:win.k_hi]
    unit = dt_ns * NS / R_TERMINATION_OHM * PC_PER_C
    s_win = float(m.sum()) * unit
    if weights is None:
        smooth = 0.0 if win.mean_snr >= 50 else 1.0
        s = _smooth(m, smooth)
        noise = sigma1 * (0.5 if smooth else 1.0)
        w = s * s * s / (s * s + (2.0 * noise) ** 2) if noise > 0 else s
    else:
        w = np.asarray(weights, float)
    f_bar = float(w @ m)
    f_err = sigma1 * float(np.sqrt(w @ w))  # white-noise error of w . m
    if abs(f_bar) > 3 * f_err and f_bar != 0:
        ratio, how = s_win / f_bar, "exact (mean filtered charge = window sum)"
    else:  # the mean pulse is too weak to fix the ratio: the template's own
        ww = float(w @ w)
        ratio = unit * float(w.sum()) / ww if ww > 0 else 0.0
        how = ("the template's own ratio (mean pulse too weak for the exact one: the "
               "filtered mean differs from the window sum)")
    wr = w * ratio
    return ChargeEstimator(
        k_lo=win.k_lo, k_hi=win.k_hi, k_ext=win.k_ext, unit=unit, weights=wr, ratio=ratio,
        how=how, offset_window_pC=float(bg[win.k_lo:win.k_hi].sum()) * unit,
        offset_ext_pC=float(bg[win.k_hi:win.k_ext].sum()) * unit,
        offset_filter_pC=float(bg[win.k_lo:win.k_hi] @ wr))


def template_of(mean_pulse: np.ndarray, win: Window, t0_ns: float, dt_ns: float,
                hv: float) -> Template | None:
    """What this (strong) point lends a weak point of its PMT."""
    m = -np.asarray(mean_pulse, float)[win.k_lo:win.k_hi]
    total = float(m.sum())
    if not total > 0 or not np.isfinite(win.edge_ns):
        return None
    edge = t0_ns + win.edge_ns
    return Template(hv=float(hv), edge_ns=edge, lo_rel_ns=t0_ns + win.k_lo * dt_ns - edge,
                    hi_rel_ns=t0_ns + (win.k_hi - 1) * dt_ns - edge, dt_ns=dt_ns,
                    pulse=m / total)

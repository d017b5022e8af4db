"""A coherent baseline ripple: the same in every record, so not noise, and not charge.

What to use when
----------------
- :func:`fit_ripple` - whether the mean pulse's pulse-free samples hold a sinusoid beyond
  their noise (a ripple locked to the trigger: a switching supply, the LED driver's
  clock; ~+-0.02 mV at ~25 MHz on a CAEN V1730 bench), and if so its frequency,
  amplitude and phase. :func:`pmtgain.point.process_point` subtracts it from the mean
  pulse before it places the window, and its integral over the window from every flash.
- :class:`Ripple` - the fit: ``at(k)`` its value at samples ``k``, ``window_err`` the
  error of its sum over samples from the fit's covariance.

Why. Each flash's baseline is the mean of its baseline region, which holds a fraction of
a ripple period; the window then integrates the ripple and ``L`` times that offset.
0.04 mV at 26 MHz moved a 2.4 pC point by 1.6 % (the ``ripple-pickup`` regime, 160 ns
window). What is the same in every flash and independent of the light adds a constant to
every flash's charge; a sinusoid fitted to the mean pulse where it holds no pulse is its
least-squares estimate (a periodogram peak refined by linear least squares in its
amplitude and phase: Lomb, Astrophys. Space Sci. 39 (1976) 447; Scargle, ApJ 263 (1982)
835). A fit is used only where the samples' chi2 without it is beyond what their noise
allows and the fit brings it back within.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Ripple", "fit_ripple"]

#: the pulse-free samples a ripple is fitted on, at most (the latest: the cost of the
#: frequency scan grows as their number squared)
MAX_FIT_SAMPLES = 4096


@dataclass(frozen=True)
class Ripple:
    """``a sin(2 pi f k dt) + b cos(2 pi f k dt)`` (V) at sample ``k``."""

    freq_ghz: float
    a_V: float
    b_V: float
    cov: np.ndarray  # of (a, b), V^2
    dt_ns: float
    chi2_ndf_before: float
    chi2_ndf_after: float

    @property
    def amplitude_V(self) -> float:
        return float(np.hypot(self.a_V, self.b_V))

    def _basis(self, k: np.ndarray) -> np.ndarray:
        ph = 2 * np.pi * self.freq_ghz * np.asarray(k, float) * self.dt_ns
        return np.stack([np.sin(ph), np.cos(ph)], axis=-1)

    def at(self, k: np.ndarray) -> np.ndarray:
        return self._basis(k) @ np.array([self.a_V, self.b_V])

    def sum_err(self, weights: np.ndarray) -> float:
        """Error of ``sum_k weights_k at(k)`` over ``k = 0 .. len-1`` (V x samples)."""
        g = np.asarray(weights, float) @ self._basis(np.arange(len(weights)))
        return float(np.sqrt(max(g @ self.cov @ g, 0.0)))


def fit_ripple(m: np.ndarray, use: np.ndarray, dt_ns: float, sigma1: float,
               false_alarm: float = 1e-3, z: float | None = None,
               near_ghz: float | None = None) -> Ripple | None:
    """The coherent ripple of the mean pulse ``m`` on its samples ``use`` (bool, the
    pulse-free ones), whose noise per sample is ``sigma1``; None where no sinusoid stands
    out of the noise. A sinusoid is taken when the best one of the frequency scan lowers
    chi2 by more than noise would at ``false_alarm`` probability over all the frequencies
    tried (the periodogram's false-alarm level, ``2 ln(M / false_alarm)`` for ``M``
    frequencies: Scargle 1982, eq. 14) and, when ``z`` is given, leaves a chi2 within
    ``z`` standard deviations of its degrees of freedom (without: a localised structure
    in the samples may remain, for the caller to find on the residual and mask).
    ``near_ghz``: test one frequency proposed elsewhere (say, by a fit that a localised
    structure spoils) instead of scanning: the false-alarm level of one trial, refined
    within a quarter of a scan step."""
    k = np.nonzero(use)[0][-MAX_FIT_SAMPLES:]  # the latest: nearest the pulse
    n = k.size
    if n < 24 or not sigma1 > 0:
        return None
    y = np.asarray(m, float)[k]
    y0 = y - y.mean()
    chi0 = float(y0 @ y0) / sigma1**2
    span = (k[-1] - k[0] + 1) * dt_ns
    # at least one period in the samples: a "ripple" of fewer is not told from a slow
    # structure, and its continuation over the window would be a guess
    f_lo, f_hi = 1.0 / span, 0.4 / dt_ns
    freqs = np.arange(f_lo, f_hi, 0.25 / span) if near_ghz is None else \
        np.array([near_ghz - 0.125 / span, near_ghz, near_ghz + 0.125 / span])
    if freqs.size == 0:
        return None
    t = k * dt_ns

    yy = float(y @ y)

    def chi2(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """chi2 and (c, a, b) of ``y ~ c + a sin + b cos`` at each frequency, from the
        normal equations' sums (blocks of frequencies: memory ~ 4 M values a block)."""
        out_c2, out_coef = np.empty(f.size), np.empty((f.size, 3))
        step = max(1, (1 << 22) // n)
        for i0 in range(0, f.size, step):
            ph = 2 * np.pi * np.outer(f[i0:i0 + step], t)
            sn, cs = np.sin(ph), np.cos(ph)
            A = np.empty((sn.shape[0], 3, 3))
            A[:, 0, 0] = n
            A[:, 0, 1] = A[:, 1, 0] = sn.sum(1)
            A[:, 0, 2] = A[:, 2, 0] = cs.sum(1)
            A[:, 1, 1] = np.einsum("fn,fn->f", sn, sn)
            A[:, 1, 2] = A[:, 2, 1] = np.einsum("fn,fn->f", sn, cs)
            A[:, 2, 2] = np.einsum("fn,fn->f", cs, cs)
            bvec = np.stack([np.full(sn.shape[0], y.sum()), sn @ y, cs @ y], axis=1)
            coef = np.linalg.solve(A + 1e-12 * np.eye(3), bvec[..., None])[..., 0]
            # the least-squares residual: y.y - b.coef
            out_c2[i0:i0 + step] = (yy - np.einsum("fi,fi->f", bvec, coef)) / sigma1**2
            out_coef[i0:i0 + step] = coef
        return out_c2, out_coef

    c2, _ = chi2(freqs)
    j = int(np.argmin(c2))
    fine = np.linspace(freqs[max(j - 1, 0)], freqs[min(j + 1, freqs.size - 1)], 41)
    c2f, coef = chi2(fine)
    i = int(np.argmin(c2f))
    best, (_, a, b) = float(c2f[i]), coef[i]
    ndf = n - 4
    level = 2.0 * np.log((1 if near_ghz is not None else max(freqs.size, 1)) / false_alarm)
    if chi0 - best < level or (z is not None and best > ndf + z * np.sqrt(2 * ndf)):
        return None  # no sinusoid above the noise, or one that does not explain it
    f = float(fine[i])
    ph = 2 * np.pi * f * t
    X = np.stack([np.ones_like(ph), np.sin(ph), np.cos(ph)], axis=-1)
    cov = np.linalg.inv(X.T @ X) * sigma1**2 * max(best / ndf, 1.0)
    return Ripple(freq_ghz=f, a_V=float(a), b_V=float(b), cov=cov[1:, 1:], dt_ns=dt_ns,
                  chi2_ndf_before=chi0 / (n - 1), chi2_ndf_after=best / ndf)

"""The pedestal: what a point's linear charge estimator gives on noise alone.

What to use when
----------------
- :class:`PedestalAccumulator` - fed every chunk of a point's flashes (the second pass,
  :func:`pmtgain.point.measure.measure_flashes`), it returns the variance (and its statistical
  error) of any linear estimator on the point's window with the point's own per-flash
  baseline subtraction: ``sigma_ped^2`` of the photostatistics (:mod:`pmtgain.point.photostat`).
- :func:`pedestal_of` - the same for flashes held in memory (:func:`pmtgain.point.charge.measure`).
- :func:`estimator_noise_kernel` - the weights of the noise covariance in that variance.

Method. A flash's charge is ``Q = u . y`` with ``y = x - b`` the record less its own
baseline ``b = a . x`` (``a``: 1/m on the m samples of the baseline region, ``u``: the
weights on the window). On noise ``n`` alone ``Q = v . n`` with ``v = u - (sum u) a``, so

    sigma_ped^2 = v^T R v = sum_l R(l) K(l),   K(l) = sum_k v_k v_{k+l}

for noise that is stationary (its covariance ``R(l)`` depends on the lag only). ``R(l)``
is needed for every lag up to the span of the baseline region and the window together,
longer than the baseline region itself, and a slow wander or a ripple of random phase has
a covariance that does not fall off with the lag: cutting it (the autocovariance of the
baseline region alone) misses their share of ``sigma_ped^2``, and a photostatistics gain
then counts the wander as signal (+34 % at 700 V in the issue-21 wander regime). Here
``R(l)`` is the covariance over flashes of each baseline-region sample with the sample
``l`` later (or earlier): outside the window where at least 16 such pairs exist, else
*anywhere* in the span. The LED's signal in the window is independent of the noise before
it, so its products with the baseline noise average to zero: they add statistical noise
only, which grows with the signal's own spread (the error below includes it; at high
light sigma_ped^2 is a small part of sigma_Q^2). The covariance
is taken over flashes (each sample less its mean over the point's flashes), so a
background the same in every record (a trigger-locked ripple, the LED driver's pickup,
the mean pulse) is not noise, exactly as the estimator's offsets remove it
(:mod:`pmtgain.point.background`).

This is the variance of *the same estimator* (same weights, same window, same baseline)
on the noise of the same records; what it assumes is stationary noise. Where the point
has LED-off runs that assumption is not needed. The error: the spread of the estimate
over 8 interleaved subsets of the flashes (delete-one jackknife; Efron & Stein, Ann.
Stat. 9 (1981) 586).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

__all__ = ["N_SUBSETS", "Pedestal", "estimator_noise_kernel", "PedestalAccumulator",
           "pedestal_of"]

#: interleaved subsets of the flashes for the jackknife error
N_SUBSETS = 8
#: at most this many rows x FFT points in one transform (memory: 16 bytes each)
_MAX_BLOCK = 1 << 22


@dataclass(frozen=True)
class Pedestal:
    """``var_pC2`` (NaN where it cannot be measured) and its statistical error."""

    var_pC2: float
    err_pC2: float
    note: str = ""


def estimator_noise_kernel(u: np.ndarray, k_lo: int, base_idx: np.ndarray, lo: int,
                           span: int) -> np.ndarray:
    """``K(l)`` for ``l = 0 .. span-1`` (lag 0 once, each other lag for both signs):
    ``sigma_ped^2 = sum_l R(l) K(l)``, ``u`` the weights on samples ``k_lo ..``, the
    baseline the mean of samples ``base_idx``, both inside ``lo .. lo+span``."""
    v = np.zeros(span)
    v[k_lo - lo:k_lo - lo + len(u)] += u
    v[np.asarray(base_idx) - lo] -= float(np.sum(u)) / len(base_idx)
    acf = np.correlate(v, v, mode="full")[span - 1:]
    acf[1:] *= 2.0
    return acf


class PedestalAccumulator:
    """The noise covariance ``R(l)`` of a point's flashes, accumulated chunk by chunk
    (see the module docstring); :meth:`variance` turns it into ``sigma_ped^2``."""

    def __init__(self, base_idx: np.ndarray, k_lo: int, k_hi: int, center: np.ndarray,
                 n_subsets: int = N_SUBSETS):
        self.base = np.asarray(base_idx, dtype=np.intp)
        self.k_lo, self.k_hi = int(k_lo), int(k_hi)
        self.lo = int(min(self.base.min(initial=k_lo), k_lo)) if self.base.size else k_lo
        self.hi = int(max(self.base.max(initial=k_hi - 1) + 1, k_hi)) if self.base.size \
            else k_hi
        self.span = self.hi - self.lo
        self.nfft = next_fast_len(2 * self.span)
        self.center = np.asarray(center, float)[self.lo:self.hi]
        self.mask = np.zeros(self.span)
        self.mask[self.base - self.lo] = 1.0
        self.k = n_subsets
        nf = self.nfft // 2 + 1
        self.out = np.ones(self.span)  # the samples outside the window
        self.out[self.k_lo - self.lo:self.k_hi - self.lo] = 0.0
        self.spec = np.zeros((n_subsets, nf), complex)  # sum conj(F[z_A]) F[z]
        self.spec_out = np.zeros((n_subsets, nf), complex)  # ... F[z outside the window]
        self.sums = np.zeros((n_subsets, self.span))
        self.n = np.zeros(n_subsets, np.int64)
        self.b_ref: float | None = None
        self.rows_seen = 0
        self.pairs_all = self._pairs(np.ones(self.span))
        self.pairs_out = self._pairs(self.out)

    def add(self, y: np.ndarray, baseline_V: np.ndarray, rows: np.ndarray) -> None:
        """Flashes ``y[rows]`` (volts less their baselines ``baseline_V``)."""
        if self.base.size < 8:
            return
        idx = np.nonzero(rows)[0]
        if idx.size == 0:
            return
        b = np.asarray(baseline_V, float)[idx]
        if self.b_ref is None:
            self.b_ref = float(np.median(b))
        sub = (self.rows_seen + np.arange(idx.size)) % self.k
        self.rows_seen += idx.size
        step = max(1, _MAX_BLOCK // self.nfft)
        for s0 in range(0, idx.size, step):
            r = idx[s0:s0 + step]
            # the raw record, less constants that keep the products small (corrected
            # exactly by the sums in _r): the scan's mean pulse and one baseline level
            z = y[r, self.lo:self.hi] - self.center + (b[s0:s0 + step] - self.b_ref)[:, None]
            fz = rfft(z, n=self.nfft, axis=1)
            fa = rfft(z * self.mask, n=self.nfft, axis=1)
            fo = rfft(z * self.out, n=self.nfft, axis=1)
            prod, prod_o = np.conj(fa) * fz, np.conj(fa) * fo
            ss = sub[s0:s0 + step]
            for j in range(self.k):
                m = ss == j
                if m.any():
                    self.spec[j] += prod[m].sum(axis=0)
                    self.spec_out[j] += prod_o[m].sum(axis=0)
                    self.sums[j] += z[m].sum(axis=0)
                    self.n[j] += int(m.sum())

    def _lagged(self, spec: np.ndarray, mu: np.ndarray, n: int, other: np.ndarray):
        """Sums over flashes and pairs (j in the baseline region, k = j +- l in
        ``other``) of the centred products, by lag l >= 0."""
        f = lambda a, b: irfft(np.conj(rfft(a, n=self.nfft)) * rfft(b, n=self.nfft),  # noqa: E731
                               n=self.nfft)
        c = irfft(spec, n=self.nfft) - n * f(mu * self.mask, mu * other)
        return self._fold(c)

    def _fold(self, a: np.ndarray) -> np.ndarray:
        """Lag l and lag -l of a circular correlation together, l = 0 .. span-1."""
        L = self.span
        return a[:L] + np.concatenate(([0.0], a[::-1][:L - 1]))

    def _pairs(self, other: np.ndarray) -> np.ndarray:
        """The number of pairs (j in the baseline region, k = j +- l in ``other``) by
        lag: the same for every subset of flashes."""
        f = irfft(np.conj(rfft(self.mask, n=self.nfft)) * rfft(other, n=self.nfft),
                  n=self.nfft)
        return self._fold(np.rint(f))

    def _r(self, keep: np.ndarray) -> np.ndarray:
        """``R(l)``, ``l = 0 .. span-1``, from the subsets ``keep``: from pairs outside the
        window where there are at least 16 (no LED signal in them), else from all."""
        n = int(self.n[keep].sum())
        mu = self.sums[keep].sum(axis=0) / n
        c_all = self._lagged(self.spec[keep].sum(axis=0), mu, n, np.ones(self.span))
        c_out = self._lagged(self.spec_out[keep].sum(axis=0), mu, n, self.out)
        n_all, n_out = self.pairs_all, self.pairs_out
        use = n_out >= 16
        c, cnt = np.where(use, c_out, c_all), np.where(use, n_out, n_all)
        return np.where(cnt > 0, c / (np.maximum(cnt, 1) * (n - 1)), 0.0)

    def variance(self, u: np.ndarray) -> Pedestal:
        """``sigma_ped^2`` of the estimator with weights ``u`` on ``k_lo .. k_lo+len(u)``
        (pC per V), and its jackknife error."""
        nan = float("nan")
        if self.base.size < 8:
            return Pedestal(nan, nan, "no baseline region of at least 8 samples")
        if int(self.n.sum()) < 3:
            return Pedestal(nan, nan, "fewer than 3 flashes")
        kern = estimator_noise_kernel(u, self.k_lo, self.base, self.lo, self.span)
        full = float(self._r(np.ones(self.k, bool)) @ kern)
        parts = []
        for j in range(self.k):
            keep = np.ones(self.k, bool)
            keep[j] = False
            if self.n[j] and self.n[keep].sum() > 2:
                parts.append(float(self._r(keep) @ kern))
        g = len(parts)
        err = float(np.sqrt((g - 1) / g * np.sum((np.array(parts) - np.mean(parts)) ** 2))) \
            if g > 1 else nan
        return Pedestal(full, err)


def pedestal_of(y: np.ndarray, baseline_V: np.ndarray, rows: np.ndarray,
                base_idx: np.ndarray, k_lo: int, u: np.ndarray,
                center: np.ndarray | None = None) -> Pedestal:
    """:class:`Pedestal` of the weights ``u`` on ``k_lo ..`` for flashes in memory."""
    if center is None:
        center = y[rows].mean(axis=0) if np.any(rows) else np.zeros(y.shape[1])
    acc = PedestalAccumulator(base_idx, k_lo, k_lo + len(u), center)
    acc.add(y, baseline_V, rows)
    return acc.variance(u)

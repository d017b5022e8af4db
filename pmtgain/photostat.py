"""Gain in electrons from photostatistics: the spread of the charge tells the gain.

What to use when
----------------
- :func:`point_moments` - per point, from the prepared waveforms and the point's pulse
  shape: the mean and the excess variance of the charge of *every* readable waveform (the
  cut is not applied: see below) and the pedestal variance. Stored in the point summary.
- :func:`gain_from_moments` - G, its uncertainty and the mean number of photoelectrons from
  those moments and an excess noise factor F; ``gain_curve.py --quantity gain`` calls it
  with the F of each PMT (``--enf``), so F can change without re-fitting.

Method (Bellamy et al., NIM A 339 (1994) 468, sec. 2; the "photostatistics" gain of CTA's
nectarchain). With a Poisson number of photoelectrons of mean mu and a single-photoelectron
charge of mean G*e and relative variance F - 1,

    <Q> = mu G e,    sigma_Q^2 - sigma_ped^2 = mu (G e)^2 F,

so that ``G = (sigma_Q^2 - sigma_ped^2) / (e <Q> F)`` and ``mu = <Q> / (G e)``, where
``F = 1 + (sigma_1/Q_1)^2`` is the excess noise factor of the PMT and sigma_ped the spread
the charge estimator gives on noise alone.

How the moments are measured here
- The charge of waveform i is a *linear* estimator: its projection on the point's mean
  pulse shape (the jitter-smeared two-exponential of :func:`pmtgain.pulse.point_shape`)
  over the fit window, scaled to the full pulse integral. Linear means noise adds
  variance exactly (no fit threshold effects), and, projected on the jitter-averaged
  shape, the mean charge is unbiased for jittered pulses.
- Every readable waveform enters, also those below the amplitude cut: the cut drops
  small pulses and would raise <Q> and lower sigma_Q (both bias G). Clipped waveforms
  and those with a pulse before the signal cannot be measured (:func:`measurable_rows`);
  they are left out and a point where they exceed ``max_lost_fraction`` is flagged
  (``gain_flag``), as is a point with mu < 10.
- sigma_ped^2 = w^T C w + (sum w)^2 var(baseline): the estimator's weights w on the noise
  autocovariance C measured in the pre-pulse region of the same waveforms (so correlated
  scope noise is accounted for), plus the error of each waveform's own baseline.
- The statistical uncertainty of G propagates the sampling errors of the variance (with
  the fourth moment), of the mean, and their covariance (third moment). F is an input:
  its uncertainty is not included.
"""

from __future__ import annotations

import numpy as np

from .config import E_CHARGE_C, PC_PER_C
from .pulse import Prepared, Shape, Status, charge_pC, pulse_smeared

E_PC = E_CHARGE_C * PC_PER_C  # the electron charge in pC
DEFAULT_ENF = 1.2  # typical of a 10-12 stage linear-focused PMT (delta_1 ~ 6: F ~ delta/(delta-1))


def _autocov(z: np.ndarray, max_lag: int) -> np.ndarray:
    """Noise autocovariance R(l), l = 0..max_lag-1, from rows of noise (one per waveform).

    Each row is centred on its own mean, which lowers every lag by about R(0)/m; that is
    added back. Lags beyond ``m // 8`` (at most 64 samples) are set to zero: their
    estimates are mostly noise, which the ~m^2 weights of a baseline variance would add up.
    """
    n, m = z.shape
    z = z - z.mean(axis=1, keepdims=True)
    keep = max(1, min(max_lag, m // 8, 64))
    # zero-padding to m + keep (not 2m) keeps the lags < keep free of wrap-around
    from scipy.fft import irfft, next_fast_len, rfft

    nfft = next_fast_len(m + keep, real=True)
    spec = rfft(z, n=nfft, axis=1)
    ac = irfft(spec.real**2 + spec.imag**2, n=nfft, axis=1)[:, :keep].mean(axis=0)
    ac /= m - np.arange(keep)
    ac[1:] += ac[0] / m  # the bias of centring each row
    r = np.zeros(max_lag)
    r[:keep] = ac
    return r


def measurable_rows(p: Prepared, pulse_in_baseline_sigma: float = 6.0) -> np.ndarray:
    """Waveforms whose charge the linear estimator can measure without a selection bias.

    Left out: clipped waveforms, and those with a pulse in the pre-pulse region (a dark
    count or afterpulse: a sample more than ``pulse_in_baseline_sigma`` times the point's
    median noise below the baseline), whose baseline and noise are spoiled. Both tests
    look only at samples outside the signal window or at the ADC range, never at the
    size of the signal itself. Waveforms whose *minimum* lies at the record edge
    (``Status.EDGE``) stay in: at low signal that minimum is a noise fluctuation that
    beat a small pulse, and dropping them removes the small charges (measured: -0.6 %
    to -0.9 % on G at 700 V for the demo's low-gain PMTs with ~1 % such waveforms).
    """
    keep = p.status != Status.CLIPPED
    base = p.y[:, p.k_edge:p.k_base]
    if base.shape[1]:
        noise = float(np.median(p.noise_V))
        keep &= ~(base.min(axis=1) < -pulse_in_baseline_sigma * noise)
    return keep


def point_moments(p: Prepared, shape: Shape | None, max_lost_fraction: float = 0.01) -> dict:
    """Moments of the linear charge estimator over every measurable waveform of a point."""
    nan = float("nan")
    out = dict(ps_mean_pC=nan, ps_var_pC2=nan, ps_ped_var_pC2=nan, ps_var_err_pC2=nan,
               ps_mean_err_pC=nan, ps_cov_pC3=nan, ps_n=0, ps_lost_fraction=nan)
    if shape is None or not np.isfinite(shape.tau_ns) or p.n < 3:
        return out
    N = p.y.shape[1]
    t = np.arange(N) * p.dt_ns
    tmpl = pulse_smeared(t, 1.0, shape.c_ns, shape.tau_s_ns, shape.tau_ns,
                         max(shape.jitter_ns, 0.0))[p.k_lo:p.k_hi]
    norm = float(tmpl @ tmpl)
    if not norm > 0:
        return out
    full = float(charge_pC(shape.tau_ns - shape.tau_s_ns))  # full integral of a=1 (V ns)
    w = tmpl / norm * full  # Q_i = w . y_i  (pC)
    measurable = measurable_rows(p)
    q = p.y[measurable, p.k_lo:p.k_hi] @ w
    n = q.size
    if n < 3:
        return out
    mean = float(q.mean())
    d = q - mean
    var = float(d @ d / (n - 1))
    m3, m4 = float(np.mean(d**3)), float(np.mean(d**4))
    var_err = float(np.sqrt(max(m4 - var * var * (n - 3) / (n - 1), 0.0) / n))
    # pedestal: the same weights on noise with the covariance of the pre-pulse region,
    # which is also the region each waveform's baseline was averaged over (prepare)
    z = p.y[measurable, p.k_edge:p.k_base]
    m = z.shape[1]
    if m < 8:
        return out
    r = _autocov(z, max(len(w), m))
    ww = np.correlate(w, w, mode="full")[len(w) - 1:]  # sum_k w_k w_{k+l}
    ped = r[0] * ww[0] + 2.0 * float(r[1:len(w)] @ ww[1:])
    lags = np.arange(1, m)
    var_b = (r[0] * m + 2.0 * float(((m - lags) * r[1:m]).sum())) / (m * m)
    ped += float(w.sum()) ** 2 * max(var_b, 0.0)
    out.update(ps_mean_pC=mean, ps_var_pC2=var, ps_ped_var_pC2=float(ped),
               ps_var_err_pC2=var_err, ps_mean_err_pC=float(np.sqrt(var / n)),
               ps_cov_pC3=m3 / n, ps_n=int(n),
               ps_lost_fraction=float(1.0 - n / p.n))
    return out


def gain_from_moments(mean_pC, var_pC2, ped_var_pC2, var_err_pC2, mean_err_pC, cov_pC3,
                      enf: float = DEFAULT_ENF):
    """G, its statistical error and mu from the moments (arrays broadcast).

    ``G = (var - ped) / (e |mean| F)``; ``mu = mean^2 F / (var - ped)``."""
    mean = np.abs(np.asarray(mean_pC, float))
    excess = np.asarray(var_pC2, float) - np.asarray(ped_var_pC2, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = excess / (E_PC * mean * enf)
        rel2 = (np.asarray(var_err_pC2, float) / excess) ** 2 \
            + (np.asarray(mean_err_pC, float) / mean) ** 2 \
            - 2.0 * np.sign(np.asarray(mean_pC, float)) * np.asarray(cov_pC3, float) \
            / (excess * mean)
        g_err = np.abs(g) * np.sqrt(np.maximum(rel2, 0.0))
        mu = mean * mean * enf / excess
    g = np.where(excess > 0, g, np.nan)
    return g, np.where(excess > 0, g_err, np.nan), np.where(excess > 0, mu, np.nan)


def flags(mu: float, lost_fraction: float, max_lost_fraction: float = 0.01) -> str:
    """Why a point's photostatistics gain deserves caution ('' if none)."""
    out = []
    if not np.isfinite(mu) and not np.isfinite(lost_fraction):
        return "not measured (no pulse shape, or fewer than 3 waveforms)"
    if not np.isfinite(mu):
        out.append("no excess variance")
    elif mu < 10:
        out.append(f"mu={mu:.1f}<10")
    if np.isfinite(lost_fraction) and lost_fraction > max_lost_fraction:
        out.append(f"{100 * lost_fraction:.1f}% clipped or pulse before signal")
    return "; ".join(out)

"""The statistics of a point's charges: moments, pedestal, the original's cut.

What to use when
----------------
- :func:`measure` - every flash's charge and the statistics over those that count, for
  one :class:`pmtgain.prepare.Prepared` in memory (the window and weights of
  :mod:`pmtgain.window`; :func:`pmtgain.point.process_point` does the same in chunks).
- :func:`charge_statistics` - mean, spread, errors and the photostatistics moments of
  the per-flash charges.
- :func:`cut_statistics` - the original's cut (keep a flash whose minimum is below
  ``cut_V``) in its own columns, with the share of flashes it removed and the bias it
  implies against the all-flash mean. It never changes ``mean_charge``.
- :func:`pedestal_variance` / :func:`pedestal_from_autocov` - the variance a linear
  estimator gives on noise alone.

Why linear. Any selection on a flash's own signal ("a pulse 5 noise rms deep", the
original's cut, "the fits that converged") removes small flashes and biases the mean up:
+11 % to +35 % at 700-800 V, x7 at 3 photoelectrons per flash (``fit-notes``). A linear
estimator applied to *every* flash has ``E[Q] = w . E[y]``: noise averages out at any
signal to noise, and only the spread grows (by exactly the pedestal variance, which is
subtracted in ``std_charge_corrected``). The field does the same: XENONnT's LED calibration
(straxen ``LEDCalibration``) integrates fixed windows on every trigger; CTA's F-factor
method (Bencheikh et al., NIM A 315 (1992) 349) uses the moments of every flash. Both
estimators of a point are linear: the window sum (the mean charge) and the filtered
charge (the per-flash charge), see :mod:`pmtgain.window`.

Pedestal variance: ``w^T C w + (sum w)^2 var(baseline)`` with ``C`` the noise
autocovariance measured in the baseline region of the same flashes (correlated scope noise
is accounted for) and ``var(baseline)`` that of each flash's own baseline mean.
"""

from __future__ import annotations

import numpy as np

from .config import DEFAULT_FIT, FitConfig
from .model import Status
from .prepare import Prepared
from .window import choose_window, flash_block_noise, make_estimator, mean_block_sigma


def _autocov(z: np.ndarray, max_lag: int) -> np.ndarray:
    """Noise autocovariance R(l), l = 0..max_lag-1, from rows of noise (one per flash).

    Each row is centred on its own mean, which lowers every lag by about R(0)/m; that is
    added back. Lags beyond ``m // 8`` (at most 64 samples) are set to zero: their
    estimates are mostly noise, which the ~m^2 weights of a baseline variance would add up.
    """
    from scipy.fft import irfft, next_fast_len, rfft

    n, m = z.shape
    z = z - z.mean(axis=1, keepdims=True)
    keep = max(1, min(max_lag, m // 8, 64))
    nfft = next_fast_len(m + keep, real=True)  # m + keep: lags < keep free of wrap-around
    spec = rfft(z, n=nfft, axis=1)
    # the mean over rows of each row's autocorrelation is the transform of the mean power
    # spectrum (linearity): one inverse transform instead of one per row
    ps = np.einsum("ij,ij->j", spec.real, spec.real) + np.einsum("ij,ij->j", spec.imag,
                                                                   spec.imag)
    ac = irfft(ps / n, n=nfft)[:keep]
    ac /= m - np.arange(keep)
    ac[1:] += ac[0] / m  # the bias of centring each row
    r = np.zeros(max_lag)
    r[:keep] = ac
    return r


def pedestal_variance(p: Prepared, w: np.ndarray, rows: np.ndarray) -> float:
    """Variance of ``w . y`` on noise alone, from the baseline region of ``rows`` (pC^2);
    NaN when that region is shorter than 8 samples."""
    z = p.y[rows, p.k_edge:p.k_base]
    m = z.shape[1]
    if m < 8 or z.shape[0] < 2:
        return float("nan")
    return pedestal_from_autocov(_autocov(z, max(len(w), m)), w, m)


def pedestal_from_autocov(r: np.ndarray, w: np.ndarray, m: int) -> float:
    """The pedestal variance from the noise autocovariance ``r`` (lags 0..) of a baseline
    region of ``m`` samples; a point in chunks averages ``r`` over them first."""
    ww = np.correlate(w, w, mode="full")[len(w) - 1:]  # sum_k w_k w_{k+l}
    ped = r[0] * ww[0] + 2.0 * float(r[1:len(w)] @ ww[1:])
    lags = np.arange(1, m)
    var_b = (r[0] * m + 2.0 * float(((m - lags) * r[1:m]).sum())) / (m * m)
    return float(ped + float(w.sum()) ** 2 * max(var_b, 0.0))


def charge_statistics(q: np.ndarray, ped_var: float) -> dict:
    """Mean, spread, errors and higher moments of the charges ``q`` of the flashes that
    count (pC). ``std_charge_corrected`` = sqrt(var - pedestal variance): the spread of the
    true charges, since the measured spread contains the noise."""
    nan = float("nan")
    n = int(q.size)
    mean = float(q.mean()) if n else nan
    var = float(q.var(ddof=1)) if n > 1 else nan
    d = q - mean if n else q
    out = dict(
        n_used=n, mean_charge=mean, std_dev_charge=float(np.sqrt(var)) if n > 1 else nan,
        sem_charge=float(np.sqrt(var / n)) if n > 1 else nan,
        median_charge=float(np.median(q)) if n else nan,
        std_fit_charge=float(np.sqrt(ped_var)) if ped_var >= 0 else nan,
        std_charge_corrected=float(np.sqrt(max(var - ped_var, 0.0))) if n > 1 else nan,
    )
    # the photostatistics moments (pmtgain.photostat): same charges, same flashes
    m3 = float(np.mean(d**3)) if n else nan
    m4 = float(np.mean(d**4)) if n else nan
    var_err = float(np.sqrt(max(m4 - var * var * (n - 3) / (n - 1), 0.0) / n)) if n > 3 else nan
    out.update(ps_mean_pC=mean, ps_var_pC2=var, ps_ped_var_pC2=ped_var,
               ps_var_err_pC2=var_err, ps_mean_err_pC=out["sem_charge"],
               ps_cov_pC3=m3 / n if n else nan, ps_n=n)
    return out


def cut_statistics(q: np.ndarray, passed: np.ndarray | None, sigma_flag: float = 3.0,
                   min_rel: float = 1e-3) -> dict:
    """The original's cut as its own numbers: mean and spread of the flashes that pass it,
    the share it removed, and its bias against the all-flash mean with the error of that
    difference: ``mean_cut - mean_all = (1 - f)(mean_pass - mean_fail)``, ``f`` the share
    passing (the two subsets are independent). ``cut_flag`` says so when the bias exceeds
    ``sigma_flag`` errors and ``min_rel`` (0.1 %) of the mean: a cut that removes one flash
    of thousands is "significant" but moves nothing."""
    nan = float("nan")
    out = dict(mean_charge_cut=nan, std_dev_charge_cut=nan, n_cut=0,
               cut_removed_fraction=nan, cut_bias_pC=nan, cut_bias_err_pC=nan,
               cut_flag="")
    if passed is None or q.size == 0:
        return out
    qp, qf = q[passed], q[~passed]
    f = qp.size / q.size
    out.update(n_cut=int(qp.size), cut_removed_fraction=float(1.0 - f))
    if qp.size:
        out["mean_charge_cut"] = float(qp.mean())
    if qp.size > 1:
        out["std_dev_charge_cut"] = float(qp.std(ddof=1))
    if qf.size == 0:
        out.update(cut_bias_pC=0.0, cut_bias_err_pC=0.0)
        return out
    if qp.size == 0:
        out["cut_flag"] = "the cut removes every flash"
        return out
    diff = (1 - f) * (qp.mean() - qf.mean())
    v_all = q.var(ddof=1) if q.size > 1 else 0.0
    vp = (qp.var(ddof=1) if qp.size > 1 else v_all) / qp.size
    vf = (qf.var(ddof=1) if qf.size > 1 else v_all) / qf.size
    err = (1 - f) * float(np.sqrt(vp + vf))
    out.update(cut_bias_pC=float(diff), cut_bias_err_pC=err)
    rel = abs(diff) / abs(q.mean()) if q.mean() != 0 else float("inf")
    if abs(diff) > sigma_flag * err and rel > min_rel:
        # in |Q|: charges are negative, so a more negative mean is a larger charge
        pct = 100 * (abs(qp.mean()) - abs(q.mean())) / abs(q.mean())
        out["cut_flag"] = (f"the cut removes {100 * (1 - f):.1f}% of the flashes and "
                           f"biases |Q| by {pct:+.1f}% "
                           f"({abs(diff) / err if err else float('inf'):.0f} sigma)")
    return out


def measure(p: Prepared, config: FitConfig = DEFAULT_FIT) -> tuple[np.ndarray, dict]:
    """Every flash's filtered charge and the statistics over those that count, in one call
    (what :func:`pmtgain.point.process_point` does, without files): ``mean_charge`` is
    the mean window sum, ``window_charge_pC`` the window sums (in ``stats``)."""
    c = p.counted
    white = p.noise_ref / np.sqrt(max(int(c.sum()), 1)) if p.noise_ref else \
        float(np.median(p.noise_V)) / np.sqrt(max(int(c.sum()), 1))
    sig = mean_block_sigma(flash_block_noise(p.y[c, p.k_edge:p.k_base], p.y.shape[1]),
                           int(c.sum()), white)
    win = choose_window(p.mean_pulse, p.k_edge, p.k_base, p.dt_ns, sig, config,
                        min(config.edge_samples, max(p.y.shape[1] // 10, 1)))
    est = make_estimator(p.mean_pulse, win, p.dt_ns, float(sig[0]))
    q = est.apply(p.y)
    w = est.window_sum(p.y)
    ped = pedestal_variance(p, est.weights, c)
    stats = charge_statistics(q[c], ped)
    n = int(c.sum())
    stats.update(mean_charge=float(w[c].mean()) if n else float("nan"),
                 sem_charge=float(w[c].std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                 mean_charge_filtered=float(q[c].mean()) if n else float("nan"),
                 ps_mean_err_pC=float(w[c].std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                 window_charge_pC=w, window=win, estimator=est,
                 tail_missing_fraction=win.tail_missing_fraction,
                 ps_clipped_fraction=float((p.status == Status.CLIPPED).mean()))
    return q, stats

"""The per-flash fit engines: each flash's charge from a fit of the pulse model.

What to use when
----------------
- :func:`fit_fast` - the default engine: all flashes of a point at once, amplitude in
  closed form and onset by template scan + Gauss-Newton, shape fixed per point.
- :func:`fit_integral` - model-free, baseline-subtracted window integral (a cross-check,
  and the fallback charge of a flash whose fit fails).
- :mod:`pmtgain.point.rootfit` - the same problems solved with ROOT's TF1 and Minuit2.

The point's mean charge does *not* come from these fits: it is the linear estimator of
:mod:`pmtgain.point.charge`, applied to every flash, whose mean is unbiased at any signal to
noise. A non-linear fit is meaningful only where each flash stands clear of the noise
(``free_onset_snr``); there it fills the per-flash table's ``fit_*`` columns and the fitted
spread. Below, choosing the best of many onsets per flash fits the noise and biases the
amplitude up, and the engines fall back to the fixed-onset template, which is
the linear estimator itself.

Why the shape is fixed per point: rise and fall are properties of the PMT and its
electronics; fitting them per flash at low signal lets them run into each other and
``a*(tau - tau_s)`` explode. With the shape fixed, the amplitude is linear (variable
projection: Golub & Pereyra, SIAM J. Numer. Anal. 10 (1973) 413), and the onset is found by
scanning shifted templates (matched filter) and refined by Gauss-Newton.

For the model, its integrals and :class:`Status` see :mod:`pmtgain.point.model`; for the
preparation :mod:`pmtgain.point.prepare`; for the point's shape :mod:`pmtgain.point.shape` (all
re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.point.model import (  # noqa: F401  (re-exported)
    NS,
    USED,
    Status,
    charge_pC,
    peak_time,
    pulse,
    pulse_integral,
    pulse_smeared,
)
from pmtgain.point.prepare import Prepared, prepare  # noqa: F401
from pmtgain.point.shape import Shape, fit_mean_pulse, point_shape, start_values  # noqa: F401

__all__ = ["FitResult", "empty_result", "window_integral_pC", "fit_integral",
           "jitter_var_rel", "fit_fast"]


# --------------------------------------------------------------------------- results
@dataclass
class FitResult:
    """Per-waveform results of one engine on one point (arrays of length n)."""

    status: np.ndarray
    charge_pC: np.ndarray
    charge_full_pC: np.ndarray
    sigma_charge_pC: np.ndarray  # the fit's own error on the charge (noise only)
    a_V: np.ndarray
    c_ns: np.ndarray  # absolute onset time
    tau_s_ns: np.ndarray
    tau_ns: np.ndarray
    chi2_ndf: np.ndarray
    n_iter: np.ndarray
    shape: Shape | None = None


def empty_result(n: int) -> dict[str, np.ndarray]:
    nan = np.full(n, np.nan)
    return dict(charge_pC=nan.copy(), charge_full_pC=nan.copy(), sigma_charge_pC=nan.copy(),
                a_V=nan.copy(), c_ns=nan.copy(), tau_s_ns=nan.copy(), tau_ns=nan.copy(),
                chi2_ndf=nan.copy(), n_iter=np.zeros(n, np.int16))


def window_integral_pC(p: Prepared) -> np.ndarray:
    """Baseline-subtracted window integral (trapezoid rule), in pC, for every trace."""
    w = p.y[:, p.k_lo : p.k_hi]
    integral = (w.sum(axis=1) - 0.5 * (w[:, 0] + w[:, -1])) * p.dt_ns
    return charge_pC(integral)


def fit_integral(p: Prepared, config: FitConfig = DEFAULT_FIT) -> FitResult:
    """Model-free charge: the trapezoid integral of the baseline-subtracted trace over the
    point's fit window. ~2x wider per-waveform spread than a fit (it integrates the noise
    of the whole window); its noise error is ``noise * dt * sqrt(W)``.
    """
    r = empty_result(p.n)
    q = window_integral_pC(p)
    used = p.status == Status.OK
    r["charge_pC"] = np.where(used, q, np.nan)
    r["charge_full_pC"] = r["charge_pC"].copy()
    width = p.k_hi - p.k_lo
    r["sigma_charge_pC"] = np.where(used, charge_pC(p.noise_V * p.dt_ns * np.sqrt(width)),
                                    np.nan)
    return FitResult(status=p.status.copy(), shape=None, **r)


def jitter_var_rel(t_w: np.ndarray, shape: Shape) -> float:
    """Relative variance of a fixed-onset amplitude caused by the onset jitter: a pulse
    shifted by d projects onto the point's template with weight rho(d); Var[rho]/E[rho]^2
    over d ~ N(0, jitter)."""
    sig = shape.jitter_ns
    if sig <= 1e-6:
        return 0.0
    d = np.linspace(-4 * sig, 4 * sig, 33)
    w = np.exp(-0.5 * (d / sig) ** 2)
    w /= w.sum()
    tmpl = pulse_smeared(t_w, 1.0, shape.c_ns, shape.tau_s_ns, shape.tau_ns, sig)
    shifted = pulse(t_w[None, :], 1.0, shape.c_ns + d[:, None], shape.tau_s_ns, shape.tau_ns)
    rho = shifted @ tmpl / (tmpl @ tmpl)
    mean = float(w @ rho)
    return float(w @ (rho - mean) ** 2) / mean**2


def _fit_fixed_onset(p, config, shape, todo, yw, t_w, status, r) -> FitResult:
    """One onset per point: every waveform is ``a`` times the point's mean-pulse template
    (the jitter-smeared pulse), ``a`` in closed form. Linear in the data, hence unbiased
    for the mean charge; the jitter adds to the per-waveform spread (``jitter_var_rel``)."""
    ts, tf, sig = shape.tau_s_ns, shape.tau_ns, shape.jitter_ns
    t0 = p.t0_ns[todo]
    t0_ref = float(np.median(t0))
    # template per distinct sample-0 time (one, for an oscilloscope at fixed settings)
    uniq, inv = np.unique(np.round(t0 - t0_ref, 6), return_inverse=True)
    fine = np.arange(t_w[0], t_w[-1] + 1e-9, min(0.01, p.dt_ns / 4))
    a = np.empty(todo.size)
    I = np.empty(todo.size)
    sgg_all = np.empty(todo.size)
    resid2 = np.empty(todo.size)
    g_sum = np.empty(todo.size)
    for u_i, shift in enumerate(uniq):
        sel = inv == u_i
        c_rel = shape.c_ns - shift
        g = pulse_smeared(t_w, 1.0, c_rel, ts, tf, sig)
        gg = float(g @ g)
        g_sum[sel] = g.sum()
        a_s = (yw[sel] @ g) / gg
        a[sel] = a_s
        sgg_all[sel] = gg
        I[sel] = np.trapezoid(pulse_smeared(fine, 1.0, c_rel, ts, tf, sig), fine)
        res = yw[sel] - a_s[:, None] * g[None, :]
        resid2[sel] = np.einsum("ij,ij->i", res, res)
    W = t_w.size
    noise = p.noise_V[todo]
    chi2_ndf = resid2 / np.maximum(noise, 1e-12) ** 2 / max(W - 1, 1)
    q = charge_pC(a * I)
    st = np.full(todo.size, Status.OK, np.int8)
    at_bound = (a >= config.a_max_V) | (a <= config.a_min_V)
    st[at_bound] = Status.AT_BOUND
    st[(chi2_ndf > config.max_chi2_ndf) & (st == Status.OK)] = Status.NOT_CONVERGED
    fallback = st != Status.OK
    if fallback.any():
        q = np.where(fallback, window_integral_pC(p)[todo], q)
    status[todo] = st
    r["charge_pC"][todo] = q
    # the full integral of the smeared pulse equals the sharp one's: a * (tau - tau_s)
    r["charge_full_pC"][todo] = np.where(fallback, q, charge_pC(a * (tf - ts)))
    # noise error: samples in the window, plus the fixed baseline's error (its mean over
    # n_base samples shifts every sample), plus the onset jitter the fixed onset ignores
    n_base = p.n_base
    var_rel = jitter_var_rel(t_w, shape)
    var_q = (I * noise) ** 2 * (1.0 / sgg_all + (g_sum / sgg_all) ** 2 / n_base)
    var_q = var_q + (a * I) ** 2 * var_rel
    r["sigma_charge_pC"][todo] = np.abs(charge_pC(np.sqrt(var_q)))
    r["a_V"][todo] = a
    r["c_ns"][todo] = shape.c_ns + t0
    r["chi2_ndf"][todo] = chi2_ndf
    r["n_iter"][todo] = 1
    return FitResult(status=status, shape=shape, **r)


class _Sums:
    """Every sum the free-onset fit needs, for any onset ``c`` in ``[c_a, c_b]``, in O(1)
    per flash.

    For ``t >= c`` the model is ``g(t - c) = A(c) E(t) - B(c) F(t)`` with
    ``E = exp(-(t - c_ref)/tau)``, ``F = exp(-(t - c_ref)/tau_s)``, ``A = exp((c - c_ref)/tau)``,
    ``B = exp((c - c_ref)/tau_s)`` (and 0 before ``c``), and its derivative
    ``g' = B F / tau_s - A E / tau``. So each sum over the samples from ``c`` to a window's
    end (``sum g y``, ``sum g' y``, ``sum g^2`` ...) is ``A`` and ``B`` times suffix sums of
    ``E y`` and ``F y`` (data) or of ``E^2``, ``E F``, ``F^2`` (data-free). The data sums are
    needed only where an onset can fall (``k_a .. k_b``): a cumulative sum over those few
    samples plus one matrix product for the rest of the window, once per flash; the onset
    scan and every Gauss-Newton step then cost O(1) per flash instead of O(window). Suffix
    sums run towards the window's start, so that the large values of ``E`` and ``F`` before
    ``c_ref`` never enter a sum that starts at or after ``c``.
    """

    def __init__(self, t_w: np.ndarray, yw: np.ndarray, c_ref: float, tau_s: float,
                 tau: float, c_a: float, c_b: float, j_hi: int):
        self.t_w, self.c_ref, self.ts, self.tf = t_w, c_ref, tau_s, tau
        W = t_w.size
        x = t_w - c_ref
        E = np.exp(np.clip(-x / tau, -745.0, 700.0))
        F = np.exp(np.clip(-x / tau_s, -745.0, 700.0))

        def suffix(v: np.ndarray) -> np.ndarray:  # S[k] = sum_{j >= k} v[j], S[W] = 0
            s = np.zeros(v.size + 1)
            s[:-1] = np.cumsum(v[::-1])[::-1]
            return s

        self.SE, self.SF = suffix(E), suffix(F)
        self.SEE, self.SEF, self.SFF = suffix(E * E), suffix(E * F), suffix(F * F)
        # data: samples k_a .. k_b-1 by a cumulative sum, k_b .. end by a matrix product
        k_a = int(np.searchsorted(t_w, c_a, side="left"))
        k_b = max(min(int(np.searchsorted(t_w, c_b, side="left")) + 1, j_hi), k_a)
        self.k_a, self.k_b, self.j_hi = k_a, k_b, j_hi
        inner = np.arange(k_b, W) < j_hi
        M = np.stack([E[k_b:], F[k_b:], E[k_b:] * inner, F[k_b:] * inner], axis=1)
        self.tail = yw[:, k_b:] @ M  # (n, 4): E y, F y to W; E y, F y to j_hi
        blk = yw[:, k_a:k_b]
        self.PE = np.zeros((yw.shape[0], k_b - k_a + 1))
        self.PF = np.zeros_like(self.PE)
        if k_b > k_a:
            self.PE[:, :-1] = np.cumsum((blk * E[k_a:k_b])[:, ::-1], axis=1)[:, ::-1]
            self.PF[:, :-1] = np.cumsum((blk * F[k_a:k_b])[:, ::-1], axis=1)[:, ::-1]

    def _at(self, c):
        """(k, A, B) of onsets ``c``: the first sample at or after c, and A(c), B(c)."""
        return (np.searchsorted(self.t_w, c, side="left"),
                np.exp((c - self.c_ref) / self.tf), np.exp((c - self.c_ref) / self.ts))

    def data(self, c, rows, end_hi: bool = False):
        """(sum g y, sum g' y) of flashes ``rows`` at onsets ``c`` (arrays of one shape
        after broadcasting), to the window's end or, ``end_hi``, to sample ``j_hi``."""
        k, A, B = self._at(c)
        k = np.clip(k, self.k_a, self.k_b) - self.k_a
        t = 2 if end_hi else 0
        sey = self.PE[rows, k] + self.tail[rows, t]
        sfy = self.PF[rows, k] + self.tail[rows, t + 1]
        return A * sey - B * sfy, B * sfy / self.ts - A * sey / self.tf

    def model(self, c, end_hi: bool = False):
        """(sum g^2, sum g g', sum g'^2, sum g) at onsets ``c`` (data-free)."""
        end = self.j_hi if end_hi else self.t_w.size
        k, A, B = self._at(c)
        k = np.minimum(k, end)
        ee = self.SEE[k] - self.SEE[end]
        ef = self.SEF[k] - self.SEF[end]
        ff = self.SFF[k] - self.SFF[end]
        ts, tf = self.ts, self.tf
        AA, AB, BB = A * A, A * B, B * B
        sgg = AA * ee - 2 * AB * ef + BB * ff
        sggp = -AA * ee / tf - BB * ff / ts + AB * ef * (1 / tf + 1 / ts)
        sgpgp = BB * ff / ts**2 - 2 * AB * ef / (tf * ts) + AA * ee / tf**2
        sg = A * (self.SE[k] - self.SE[end]) - B * (self.SF[k] - self.SF[end])
        return sgg, sggp, sgpgp, sg


def fit_fast(p: Prepared, config: FitConfig = DEFAULT_FIT, shape: Shape | None = None
             ) -> FitResult:
    """Fit every waveform of a point at once, shape fixed (see the module docstring).

    Per waveform: amplitude ``a`` in closed form; onset ``c`` free within
    ``onset_range_ns`` of the point's onset (template scan over the pulse region,
    parabolic refinement, then Gauss-Newton on (a, c) with a convergence test per
    waveform) when the point's signal to noise is at least ``free_onset_snr``, else fixed
    at the point's onset. Unweighted least squares within a waveform, as in the original.
    Every sum over samples comes from cumulative sums computed once per flash
    (:class:`_Sums`), so that the scan and the iterations cost O(1) per flash.
    """
    if shape is None:
        shape = point_shape(p, config)
    n = p.n
    r = empty_result(n)
    status = p.status.copy()
    todo = np.nonzero(status == Status.OK)[0]
    ts, tf = shape.tau_s_ns, shape.tau_ns
    r["tau_s_ns"][:] = ts
    r["tau_ns"][:] = tf
    if todo.size == 0:
        return FitResult(status=status, shape=shape, **r)
    k_lo, k_hi = p.k_lo, p.k_hi
    W = k_hi - k_lo
    t_w = np.arange(k_lo, k_hi) * p.dt_ns  # relative to each trace's sample 0
    yw = p.y[todo, k_lo:k_hi]
    if not shape.free_onset:
        return _fit_fixed_onset(p, config, shape, todo, yw, t_w, status, r)
    c_point = shape.c_ns
    t0 = p.t0_ns[todo]
    c_lo = np.maximum(config.c_min_ns, t0 + c_point - config.onset_range_ns) - t0
    c_hi = np.minimum(config.c_max_ns, t0 + c_point + config.onset_range_ns) - t0
    # 1. matched-filter scan over the pulse region (onset - range .. peak + 3 fall times)
    step = config.onset_step_ns
    offs = np.arange(-config.onset_range_ns, config.onset_range_ns + step / 2, step)
    c_grid = c_point + offs
    j_hi = min(W, int(np.searchsorted(t_w, c_point + config.onset_range_ns + 4 * tf)))
    # every onset (grid, c_lo .. c_hi) lies within c_point +- onset_range_ns
    S = _Sums(t_w, yw, c_point, ts, tf, c_grid[0], c_grid[-1], j_hi)
    rows = np.arange(todo.size)
    C = S.data(c_grid[None, :], rows[:, None], end_hi=True)[0]
    gg = S.model(c_grid, end_hi=True)[0]
    score = np.where(C < 0, C * C / gg, -np.inf)
    j = np.argmax(score, axis=1)
    jj = np.clip(j, 1, len(c_grid) - 2)
    s0, s1, s2 = score[rows, jj - 1], score[rows, jj], score[rows, jj + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        den = s0 - 2 * s1 + s2
        frac = np.where(np.isfinite(den) & (den < 0), 0.5 * (s0 - s2) / den, 0.0)
    c = np.clip(c_grid[jj] + np.clip(frac, -1, 1) * step, c_lo, c_hi)
    # 2. Gauss-Newton on the onset, amplitude projected out (variable projection)
    active = np.ones(todo.size, bool)
    iters = np.zeros(todo.size, np.int16)
    converged = np.zeros(todo.size, bool)
    # the onset is decided by the rise and the first fall times: Gauss-Newton on the samples
    # up to 4 fall times after the latest onset; the amplitude and the charge below use the
    # whole window
    for _ in range(config.max_iterations):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        ci = c[idx]
        sgy, sgpy = S.data(ci, idx, end_hi=True)
        sgg, sggp, sgpgp, _ = S.model(ci, end_hi=True)
        ai = sgy / sgg
        # residual y - a g(t - c): d/da = -g, d/dc = a g'
        s_rc = ai * (sgpy - ai * sggp)  # sum jc (y - a g), jc = a g'
        sgjc = ai * sggp
        denom = ai * ai * sgpgp - sgjc * sgjc / sgg  # Schur complement
        with np.errstate(invalid="ignore", divide="ignore"):
            dc = np.where(denom > 0, -s_rc / denom, 0.0)
        max_step = config.onset_max_step_ns
        cnew = np.clip(ci + np.clip(dc, -max_step, max_step), c_lo[idx], c_hi[idx])
        step_taken = np.abs(cnew - ci)
        c[idx] = cnew
        iters[idx] += 1
        done = step_taken < config.onset_tolerance_ns
        converged[idx[done]] = True
        active[idx[done]] = False
    # 3. amplitude, chi2, charge and its noise error at the final onset (whole window)
    sgy, _ = S.data(c, rows)
    sgg, sggp, sgpgp, sg = S.model(c)
    a = sgy / sgg
    noise = p.noise_V[todo]
    # sum (y - a g)^2 = sum y^2 - a sum g y (a = sum g y / sum g^2)
    resid2 = np.maximum(np.einsum("ij,ij->i", yw, yw) - a * sgy, 0.0)
    chi2_ndf = resid2 / np.maximum(noise, 1e-12) ** 2 / max(W - 2, 1)
    t_lo_w, t_hi_w = t_w[0], t_w[-1]
    I = pulse_integral(t_lo_w, t_hi_w, 1.0, c, ts, tf)
    q = charge_pC(a * I)
    q_full = charge_pC(a * (tf - ts))
    # linearised covariance of (a, c): sigma^2 (J^T J)^-1, propagated to Q = a I(c);
    # d/dc of integral_{max(lo,c)}^{hi} g(t-c) dt = g(lo-c) - g(hi-c)   (g(x<=0) = 0)
    dI_dc = pulse(t_lo_w, 1.0, c, ts, tf) - pulse(t_hi_w, 1.0, c, ts, tf)
    sac = -a * sggp  # sum g jc, jc = -a g' = d(model)/dc
    scc = a * a * sgpgp
    det = sgg * scc - sac * sac
    with np.errstate(invalid="ignore", divide="ignore"):  # a flat flash: det = 0
        var_a, var_c, cov_ac = scc / det, sgg / det, -sac / det
        var_q = I * I * var_a + (a * dI_dc) ** 2 * var_c + 2 * I * a * dI_dc * cov_ac
    n_base = p.n_base
    var_q = var_q + (I * sg / sgg) ** 2 / n_base  # the fixed baseline's error
    sigma_q = np.abs(charge_pC(np.sqrt(np.maximum(var_q, 0)) * noise))
    # statuses; a failed fit gets the window integral as its charge (no bias by dropping)
    st = np.full(todo.size, Status.OK, np.int8)
    at_bound = (a >= config.a_max_V) | (a <= config.a_min_V)
    at_bound |= (c <= c_lo + 1e-6) | (c >= c_hi - 1e-6)
    st[~converged] = Status.NOT_CONVERGED
    st[at_bound] = Status.AT_BOUND
    st[(chi2_ndf > config.max_chi2_ndf) & (st == Status.OK)] = Status.NOT_CONVERGED
    # a pulse that has not decayed to onset_fraction of its peak by the record's end
    t_end = (p.y.shape[1] - 1) * p.dt_ns
    peak = abs(pulse(peak_time(ts, tf), 1.0, 0.0, ts, tf))
    tail = np.abs(pulse(t_end, 1.0, c, ts, tf)) / peak
    st[(tail > config.onset_fraction) & (st == Status.OK)] = Status.EDGE
    fallback = (st == Status.NOT_CONVERGED) | (st == Status.AT_BOUND)
    if fallback.any():
        wq = window_integral_pC(p)[todo]
        q = np.where(fallback, wq, q)
        q_full = np.where(fallback, wq, q_full)
    q = np.where(st == Status.EDGE, np.nan, q)
    status[todo] = st
    r["charge_pC"][todo] = q
    r["charge_full_pC"][todo] = q_full
    r["sigma_charge_pC"][todo] = sigma_q
    r["a_V"][todo] = a
    r["c_ns"][todo] = c + t0
    r["chi2_ndf"][todo] = chi2_ndf
    r["n_iter"][todo] = iters
    return FitResult(status=status, shape=shape, **r)

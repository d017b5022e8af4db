"""The PMT pulse model, its fits, and the charge of a pulse.

What to use when
----------------
- :func:`pulse` / :func:`pulse_integral` - evaluate the model or its integral (vectorised).
- :func:`fit_mean_pulse` - the 4-parameter fit (a, c, tau_s, tau) of one trace; used on the
  mean pulse of a point to fix the point's pulse shape.
- :func:`fit_fast` - the default engine: all waveforms of a point at once, amplitude in
  closed form and onset by template scan + Gauss-Newton, shape fixed per point.
- :func:`fit_integral` - model-free, baseline-subtracted window integral (a cross-check,
  and the fallback charge of a waveform whose fit fails).
- :mod:`pmtgain.rootfit` - the same problems solved with ROOT's TF1 and Minuit2.
- :func:`prepare` - baseline, noise, cut and fit window of a point; every engine starts here.

The model (Hamamatsu, "Photomultiplier Tubes: Basics and Applications", 4th ed. 2017,
sec. 4.3.1; the two-exponential anode pulse used by the original SC_exam analysis)::

    f(t) = b                                              t <  c
    f(t) = b + a * (exp(-(t-c)/tau) - exp(-(t-c)/tau_s))  t >= c

with ``a < 0`` (negative pulses), rise ``tau_s`` and fall ``tau``. The charge into the
R = 50 ohm termination is ``Q = (1/R) * integral (f - b) dt`` (Ohm's law); over the fit
range ``[t_lo, t_hi]`` it is ``a/R * [G(t_hi - c) - G(max(t_lo, c) - c)]`` with
``G(x) = tau_s*exp(-x/tau_s) - tau*exp(-x/tau)``, and over all times ``a*(tau - tau_s)/R``.

Sign convention: charges are negative (electrons leave the anode), as in the original;
plots show ``|Q|``.

Why the fast engine fixes the shape per point: the rise and fall times are properties of
the PMT and its electronics, constant within a point; fitting them per waveform at low
signal lets them run into each other and ``a*(tau - tau_s)`` explode (see
``docs/design.md`` and ``fit-notes``). With the shape fixed, the amplitude is linear
(variable projection: Golub & Pereyra, SIAM J. Numer. Anal. 10 (1973) 413), and the
remaining onset is found by scanning shifted templates (matched filter) and refined by
Gauss-Newton. At low signal the onset is fixed at the point's onset: choosing the best of
many onsets per waveform fits the noise and biases the amplitude up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from .config import DEFAULT_FIT, PC_PER_C, R_TERMINATION_OHM, FitConfig

NS = 1e-9


class Status(IntEnum):
    """Per-waveform outcome. ``USED`` statuses enter the point's summary."""

    OK = 0
    NOT_CONVERGED = 1  # fit did not converge: charge = window integral (fallback)
    AT_BOUND = 2  # a parameter ended at its bound: charge = window integral (fallback)
    BELOW_CUT = 3  # no pulse below the cut
    CLIPPED = 4  # a sample at the ADC's limit: the pulse is saturated
    EDGE = 5  # the pulse is cut by the record edge
    UNREADABLE = 6  # the file could not be read or fetched

    @property
    def label(self) -> str:
        return self.name.lower()


USED = (Status.OK, Status.NOT_CONVERGED, Status.AT_BOUND)


def pulse(t, a, c, tau_s, tau):
    """Baseline-free model ``a*(exp(-(t-c)/tau) - exp(-(t-c)/tau_s))`` for ``t >= c``, else 0.

    All arguments broadcast; times in any one unit.
    """
    x = np.asarray(t, dtype=float) - c
    xp = np.maximum(x, 0.0)
    return np.where(x >= 0, a * (np.exp(-xp / tau) - np.exp(-xp / tau_s)), 0.0)


def _G(x, tau_s, tau):
    return tau_s * np.exp(-x / tau_s) - tau * np.exp(-x / tau)


def pulse_integral(t_lo, t_hi, a, c, tau_s, tau):
    """Integral of :func:`pulse` from ``t_lo`` to ``t_hi`` (closed form, broadcasts)."""
    lo = np.maximum(np.asarray(t_lo, float) - c, 0.0)
    hi = np.maximum(np.asarray(t_hi, float) - c, 0.0)
    return a * (_G(hi, tau_s, tau) - _G(lo, tau_s, tau))


def _emg(x, tau, sigma):
    """E[exp(-(x-d)/tau) H(x-d)] over d ~ N(0, sigma): the exponentially modified Gaussian
    (Grushka, Anal. Chem. 44 (1972) 1733), computed in log space to avoid overflow."""
    from scipy.special import log_ndtr

    return np.exp(sigma * sigma / (2 * tau * tau) - x / tau + log_ndtr(x / sigma - sigma / tau))


def pulse_smeared(t, a, c, tau_s, tau, sigma):
    """:func:`pulse` averaged over a Gaussian onset jitter of rms ``sigma``: the mean pulse
    of a point. ``sigma <= 0`` gives :func:`pulse`."""
    if sigma <= 1e-6:
        return pulse(t, a, c, tau_s, tau)
    x = np.asarray(t, dtype=float) - c
    return a * (_emg(x, tau, sigma) - _emg(x, tau_s, sigma))


def charge_pC(integral_V_ns):
    """Charge in pC of an integral of volts over ns into the 50 ohm termination."""
    return np.asarray(integral_V_ns) * NS / R_TERMINATION_OHM * PC_PER_C


# --------------------------------------------------------------------------- preparation
@dataclass
class Prepared:
    """Baseline-subtracted traces of a point and what every engine needs from them."""

    y: np.ndarray  # (n, N) volts - baseline
    t0_ns: np.ndarray  # (n,) time of sample 0 of each trace
    dt_ns: float
    baseline_V: np.ndarray
    noise_V: np.ndarray
    amplitude_V: np.ndarray  # baseline-subtracted minimum (negative)
    raw_min_V: np.ndarray
    kmin: np.ndarray
    status: np.ndarray  # Status per trace (OK until an engine decides otherwise)
    k_lo: int  # fit window: samples k_lo .. k_hi-1
    k_hi: int
    k_base: int  # baseline: samples edge .. k_base-1
    mean_pulse: np.ndarray  # (N,) mean of y over the traces that passed the cut
    onset_ns: float  # the point's onset (relative to t0), from the 4 % crossing of the mean
    snr: float  # |min mean pulse| / median noise
    k_edge: int = 0  # the baseline is the mean of samples k_edge .. k_base-1

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def passed(self) -> np.ndarray:
        return self.status == Status.OK


def _crossings(y: np.ndarray, kpk: int, frac: float) -> tuple[int, int]:
    """Last sample before the peak and first after it where ``y`` is within ``frac`` of it."""
    thr = frac * y[kpk]
    before = np.nonzero(y[:kpk] > thr)[0]
    after = np.nonzero(y[kpk:] > thr)[0]
    k_on = int(before[-1]) if before.size else 0
    k_end = kpk + int(after[0]) if after.size else y.size - 1
    return k_on, k_end


def prepare(
    volts: np.ndarray,
    t0_s: np.ndarray,
    dt_s: float,
    cut_V: float | None,
    clipped: np.ndarray | None = None,
    config: FitConfig = DEFAULT_FIT,
) -> Prepared:
    """Baselines, noise, the cut and the fit window of one point (original steps 2, 3, 5).

    The cut keeps a trace whose minimum (searched away from the edges) is below ``cut_V``
    (the original's rule); without a cut, the minimum must be 5 noise rms below the
    baseline. The baseline is the mean of the samples before the point's pulse
    (up to ``baseline_gap_ns`` before the onset of the mean pulse) and is held fixed.
    """
    volts = np.asarray(volts, dtype=np.float64)
    n, N = volts.shape
    dt_ns = dt_s / NS
    e = min(config.edge_samples, max(N // 10, 1))
    inner = volts[:, e : N - e]
    kmin = np.argmin(inner, axis=1) + e
    raw_min = inner[np.arange(n), kmin - e]
    # the point's peak position, from traces that pass the cut: robust against noise
    if cut_V is not None:
        first_pass = raw_min < cut_V
    else:
        first_pass = np.ones(n, bool)
    kpk_point = int(np.median(kmin[first_pass])) if first_pass.any() else int(np.median(kmin))
    # baseline region ends well before the mean pulse: first a provisional one from the
    # median peak, then refined with the mean pulse's onset
    lead = int(np.ceil((config.tau_start_ns * 1.0 + config.baseline_gap_ns) / dt_ns))
    k_base = max(e + 2, kpk_point - lead)
    for _ in range(2):
        base = volts[:, e:k_base]
        baseline = base.mean(axis=1)
        noise = base.std(axis=1, ddof=1) if base.shape[1] > 1 else np.zeros(n)
        y = volts - baseline[:, None]
        amplitude = y[np.arange(n), kmin]
        if cut_V is not None:
            passed = raw_min < cut_V
        else:
            passed = amplitude < -5.0 * noise
        status = np.where(passed, Status.OK, Status.BELOW_CUT).astype(np.int8)
        if clipped is not None:
            status[np.asarray(clipped, bool)] = Status.CLIPPED
        sel = status == Status.OK
        mean_pulse = y[sel].mean(axis=0) if sel.any() else np.zeros(N)
        kpk = int(np.argmin(mean_pulse[e : N - e])) + e
        k_on, k_end = _crossings(mean_pulse, kpk, config.onset_fraction)
        new_base = max(e + 2, k_on - int(np.ceil(config.baseline_gap_ns / dt_ns)))
        if new_base == k_base:
            break
        k_base = new_base
    k_lo = max(0, k_on - int(round(config.pre_ns / dt_ns)))
    k_hi = min(N, k_end + int(round(config.post_ns / dt_ns)) + 1)
    med_noise = float(np.median(noise[sel])) if sel.any() else float(np.median(noise))
    snr = float(-mean_pulse[kpk] / med_noise) if med_noise > 0 else float("inf")
    # a pulse cut by the record's edge: its minimum is too close to the start (no
    # baseline before it) or to the end (no time to decay to onset_fraction of its peak)
    decay_ns = config.tau_start_ns * np.log(1.0 / config.onset_fraction)
    edge = (kmin < e + 5) | ((N - 1 - kmin) * dt_ns < decay_ns)
    status[(status == Status.OK) & edge] = Status.EDGE
    return Prepared(
        y=y,
        t0_ns=np.asarray(t0_s, dtype=float) / NS,
        dt_ns=dt_ns,
        baseline_V=baseline,
        noise_V=noise,
        amplitude_V=amplitude,
        raw_min_V=raw_min,
        kmin=kmin,
        status=status,
        k_lo=k_lo,
        k_hi=k_hi,
        k_base=k_base,
        k_edge=e,
        mean_pulse=mean_pulse,
        onset_ns=k_on * dt_ns,
        snr=snr,
    )


# --------------------------------------------------------------------------- shape fit
@dataclass
class Shape:
    """The point's pulse shape from the 4-parameter fit of its mean pulse."""

    a_V: float
    c_ns: float  # onset relative to sample 0
    tau_s_ns: float
    tau_ns: float
    ok: bool
    message: str = ""
    jitter_ns: float = 0.0  # rms onset jitter: the mean pulse is the pulse smeared by it
    free_onset: bool = True
    extra: dict = field(default_factory=dict)
    # parameter errors of the mean-pulse fit (NaN when not estimated): see fit_mean_pulse
    c_err_ns: float = float("nan")
    tau_s_err_ns: float = float("nan")
    tau_err_ns: float = float("nan")
    jitter_err_ns: float = float("nan")


def start_values(y: np.ndarray, dt_ns: float, config: FitConfig) -> tuple[float, float]:
    """Original start values: a = 2.5 x minimum, c = last sample above 4 % before the peak."""
    e = min(config.edge_samples, max(y.size // 10, 1))
    kpk = int(np.argmin(y[e : y.size - e])) + e
    k_on, _ = _crossings(y, kpk, config.onset_fraction)
    return config.a_start_factor * float(y[kpk]), k_on * dt_ns


def fit_mean_pulse(
    y: np.ndarray, t_ns: np.ndarray, k_lo: int, k_hi: int, config: FitConfig = DEFAULT_FIT,
    c_offset_ns: float = 0.0, smeared: bool = True, traces: np.ndarray | None = None,
) -> Shape:
    """Least-squares fit of (a, c, tau_s, tau[, jitter]) to one baseline-subtracted trace.

    With ``smeared`` (the default, for a point's mean pulse) the model is
    :func:`pulse_smeared`: the mean of pulses whose onsets jitter is the pulse convolved
    with the jitter distribution, and fitting it with the sharp pulse would broaden the
    fitted rise and bias every charge computed with that shape.

    Bounds and start values of the original (config). ``c`` bounds are absolute times
    [c_min_ns, c_max_ns]; ``c_offset_ns`` converts them to the trace's relative axis.
    Solved with scipy's trust-region reflective method (bounds enforced in every step).

    Parameter errors. When ``y`` is the mean of ``traces`` (n, N), the sandwich estimator
    ``A Cov(y) A^T`` with ``A = (J^T J)^-1 J^T`` and ``Cov(y)`` = the traces' sample
    covariance / n (computed as the covariance of the projections ``J^T y_i``): the mean
    pulse fluctuates coherently (onset jitter, photoelectron statistics), not only by white
    noise, and the residuals alone underestimate the error of the onset and jitter by up
    to 30x at high signal (measured). Without ``traces``, ``s^2 (J^T J)^-1`` with ``s^2``
    the residual variance per degree of freedom (PDG, "Statistics", sec. 40.2.2).
    ``tests/test_pulse.py`` checks the errors against the scatter of the fitted shape over
    independent simulated points.
    """
    from scipy.optimize import least_squares

    dt_ns = float(t_ns[1] - t_ns[0])
    a0, c0 = start_values(y, dt_ns, config)
    c0 += float(t_ns[0])
    tt = t_ns[k_lo:k_hi]
    yy = y[k_lo:k_hi]
    scale = max(float(np.max(np.abs(yy))), 1e-12)
    lo = [config.a_min_V / scale, config.c_min_ns - c_offset_ns, config.tau_min_ns,
          config.tau_min_ns, 0.0]
    hi = [config.a_max_V / scale, config.c_max_ns - c_offset_ns, config.tau_max_ns,
          config.tau_max_ns, config.jitter_max_ns]
    x0 = np.clip([a0 / scale, c0, config.tau_s_start_ns, config.tau_start_ns,
                  config.jitter_start_ns], np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    n_par = 5 if smeared else 4

    def resid(p):
        sigma = p[4] if smeared else 0.0
        return pulse_smeared(tt, p[0], p[1], p[2], p[3], sigma) - yy / scale

    res = least_squares(resid, x0[:n_par], bounds=(lo[:n_par], hi[:n_par]), method="trf",
                        x_scale=[1, 0.5, 0.3, 1, 0.1][:n_par])
    a, c, ts, tf = res.x[:4]
    sigma = float(res.x[4]) if smeared else 0.0
    err = _errors(res, tt.size, None if traces is None else traces[:, k_lo:k_hi] / scale)
    if ts > tf:  # the model is symmetric under (tau_s, tau, a) -> (tau, tau_s, -a)
        ts, tf, a = tf, ts, -a
        err[2], err[3] = err[3], err[2]
    return Shape(a_V=a * scale, c_ns=c, tau_s_ns=ts, tau_ns=tf, ok=bool(res.success),
                 message=str(res.message), jitter_ns=sigma, c_err_ns=err[1],
                 tau_s_err_ns=err[2], tau_err_ns=err[3],
                 jitter_err_ns=err[4] if smeared else float("nan"))


def _errors(res, n: int, traces: np.ndarray | None = None) -> list[float]:
    """Standard errors of a scipy least_squares result (see fit_mean_pulse); NaN where
    the Jacobian is singular. Parameters at a bound get NaN too (no Gaussian error)."""
    J = np.asarray(res.jac, float)
    k = J.shape[1]
    out = [float("nan")] * 5
    if n <= k:
        return out
    try:
        inv = np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        return out
    if traces is not None and traces.shape[0] > k + 1:
        u = traces @ J  # J^T y_i per trace: Cov(J^T ybar) = Cov(u)/n
        cov = inv @ (np.cov(u, rowvar=False) / traces.shape[0]) @ inv
    else:
        cov = inv * (float(res.fun @ res.fun) / (n - k))
    d = np.diag(cov)
    for i in range(k):
        if d[i] >= 0 and not (res.active_mask[i] if hasattr(res, "active_mask") else 0):
            out[i] = float(np.sqrt(d[i]))
    return out


def point_shape(p: Prepared, config: FitConfig = DEFAULT_FIT) -> Shape:
    """Fit the point's mean pulse; decide whether onsets are free per waveform."""
    N = p.y.shape[1]
    t_rel = np.arange(N) * p.dt_ns
    t0 = float(np.median(p.t0_ns)) if p.n else 0.0
    averaged = np.isin(p.status, (Status.OK, Status.EDGE))  # the rows of the mean pulse
    shape = fit_mean_pulse(p.mean_pulse, t_rel, p.k_lo, p.k_hi, config, c_offset_ns=t0,
                           traces=p.y[averaged] if averaged.sum() > 6 else None)
    shape.free_onset = bool(p.snr >= config.free_onset_snr)
    return shape


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


def _empty_result(n: int) -> dict[str, np.ndarray]:
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
    r = _empty_result(p.n)
    q = window_integral_pC(p)
    used = p.status == Status.OK
    r["charge_pC"] = np.where(used, q, np.nan)
    r["charge_full_pC"] = r["charge_pC"].copy()
    width = p.k_hi - p.k_lo
    r["sigma_charge_pC"] = np.where(used, charge_pC(p.noise_V * p.dt_ns * np.sqrt(width)),
                                    np.nan)
    return FitResult(status=p.status.copy(), shape=None, **r)


def _scan_onsets(yw, t_w, shape: Shape, c_grid):
    """Matched filter: correlation of each trace with templates at onsets ``c_grid``."""
    G = pulse(t_w[None, :], 1.0, c_grid[:, None], shape.tau_s_ns, shape.tau_ns)  # (K, W)
    C = yw @ G.T  # (n, K): one matrix product for the whole point
    gg = np.einsum("kw,kw->k", G, G)
    score = np.where(C < 0, C * C / gg, -np.inf)
    return C, gg, score


def _jitter_var_rel(t_w: np.ndarray, shape: Shape) -> float:
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
    n_base = max(p.k_base - min(config.edge_samples, p.y.shape[1] // 10), 1)
    var_rel = _jitter_var_rel(t_w, shape)
    var_q = (I * noise) ** 2 * (1.0 / sgg_all + (g_sum / sgg_all) ** 2 / n_base)
    var_q = var_q + (a * I) ** 2 * var_rel
    r["sigma_charge_pC"][todo] = np.abs(charge_pC(np.sqrt(var_q)))
    r["a_V"][todo] = a
    r["c_ns"][todo] = shape.c_ns + t0
    r["chi2_ndf"][todo] = chi2_ndf
    r["n_iter"][todo] = 1
    return FitResult(status=status, shape=shape, **r)


def _basis(t_w: np.ndarray, c: np.ndarray, tau_s: float, tau: float):
    """g(t - c) and g'(t - c) for many onsets, with exp evaluated only on 1-D arrays:
    exp(-(t-c)/tau) = exp(-(t-t_w0)/tau) * exp((c-t_w0)/tau)."""
    ci = c[:, None]
    E = np.exp(-(t_w - t_w[0]) / tau)[None, :]
    F = np.exp(-(t_w - t_w[0]) / tau_s)[None, :]
    mask = t_w[None, :] >= ci
    eu = np.where(mask, np.exp((ci - t_w[0]) / tau) * E, 0.0)
    fv = np.where(mask, np.exp((ci - t_w[0]) / tau_s) * F, 0.0)
    return eu - fv, fv / tau_s - eu / tau


def fit_fast(p: Prepared, config: FitConfig = DEFAULT_FIT, shape: Shape | None = None
             ) -> FitResult:
    """Fit every waveform of a point at once, shape fixed (see the module docstring).

    Per waveform: amplitude ``a`` in closed form; onset ``c`` free within
    ``onset_range_ns`` of the point's onset (template scan over the pulse region,
    parabolic refinement, then Gauss-Newton on (a, c) with a convergence test per
    waveform) when the point's signal to noise is at least ``free_onset_snr``, else fixed
    at the point's onset. Unweighted least squares within a waveform, as in the original.
    """
    if shape is None:
        shape = point_shape(p, config)
    n = p.n
    r = _empty_result(n)
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
    C, gg, score = _scan_onsets(yw[:, :j_hi], t_w[:j_hi], shape, c_grid)
    j = np.argmax(score, axis=1)
    jj = np.clip(j, 1, len(c_grid) - 2)
    rows = np.arange(todo.size)
    s0, s1, s2 = score[rows, jj - 1], score[rows, jj], score[rows, jj + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        den = s0 - 2 * s1 + s2
        frac = np.where(np.isfinite(den) & (den < 0), 0.5 * (s0 - s2) / den, 0.0)
    c = np.clip(c_grid[jj] + np.clip(frac, -1, 1) * step, c_lo, c_hi)
    # 2. Gauss-Newton on the onset, amplitude projected out (variable projection)
    active = np.ones(todo.size, bool)
    iters = np.zeros(todo.size, np.int16)
    converged = np.zeros(todo.size, bool)
    for _ in range(config.max_iterations):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        g, gp = _basis(t_w, c[idx], ts, tf)
        yi = yw[idx]
        sgg = np.einsum("ij,ij->i", g, g)
        ai = np.einsum("ij,ij->i", g, yi) / sgg
        # residual y - a g(t - c): d/da = -g, d/dc = a g'
        jc = ai[:, None] * gp
        s_rc = np.einsum("ij,ij->i", jc, yi - ai[:, None] * g)
        sgjc = np.einsum("ij,ij->i", g, jc)
        denom = np.einsum("ij,ij->i", jc, jc) - sgjc * sgjc / sgg  # Schur complement
        with np.errstate(invalid="ignore", divide="ignore"):
            dc = np.where(denom > 0, -s_rc / denom, 0.0)
        cnew = np.clip(c[idx] + np.clip(dc, -0.25, 0.25), c_lo[idx], c_hi[idx])
        step_taken = np.abs(cnew - c[idx])
        c[idx] = cnew
        iters[idx] += 1
        done = step_taken < config.onset_tolerance_ns
        converged[idx[done]] = True
        active[idx[done]] = False
    # 3. amplitude, chi2, charge and its noise error at the final onset
    g, gp = _basis(t_w, c, ts, tf)
    sgg = np.einsum("ij,ij->i", g, g)
    a = np.einsum("ij,ij->i", g, yw) / sgg
    resid = yw - a[:, None] * g
    noise = p.noise_V[todo]
    chi2_ndf = np.einsum("ij,ij->i", resid, resid) / np.maximum(noise, 1e-12) ** 2 / max(W - 2, 1)
    t_lo_w, t_hi_w = t_w[0], t_w[-1]
    I = pulse_integral(t_lo_w, t_hi_w, 1.0, c, ts, tf)
    q = charge_pC(a * I)
    q_full = charge_pC(a * (tf - ts))
    # linearised covariance of (a, c): sigma^2 (J^T J)^-1, propagated to Q = a I(c);
    # d/dc of integral_{max(lo,c)}^{hi} g(t-c) dt = g(lo-c) - g(hi-c)   (g(x<=0) = 0)
    dI_dc = pulse(t_lo_w, 1.0, c, ts, tf) - pulse(t_hi_w, 1.0, c, ts, tf)
    jc = -a[:, None] * gp  # d(model)/dc
    sac = np.einsum("ij,ij->i", g, jc)
    scc = np.einsum("ij,ij->i", jc, jc)
    det = sgg * scc - sac * sac
    with np.errstate(invalid="ignore", divide="ignore"):
        var_a, var_c, cov_ac = scc / det, sgg / det, -sac / det
    var_q = I * I * var_a + (a * dI_dc) ** 2 * var_c + 2 * I * a * dI_dc * cov_ac
    n_base = max(p.k_base - min(config.edge_samples, p.y.shape[1] // 10), 1)
    var_q = var_q + (I * g.sum(axis=1) / sgg) ** 2 / n_base  # the fixed baseline's error
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
    peak = abs(pulse(_peak_time(ts, tf), 1.0, 0.0, ts, tf))
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


def _peak_time(tau_s: float, tau: float) -> float:
    """Time from onset to the pulse's extremum: ln(tau/tau_s) tau tau_s / (tau - tau_s)."""
    if abs(tau - tau_s) < 1e-9:
        return tau
    return float(np.log(tau / tau_s) * tau * tau_s / (tau - tau_s))

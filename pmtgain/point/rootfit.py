"""The ROOT engine: the same least-squares problems as :func:`pmtgain.point.pulse.fit_fast`,
solved with ROOT's ``TF1`` and Minuit2 (what the original analysis used).

Use it to cross-check the fast engine, or where a ROOT fit is required. It is ~100x
slower (about 1.5 ms per fit). Importing this module imports ROOT (~0.5 GB RSS, ~1 s):
import it only in the processes that fit with it (``process_point`` does so lazily).

- the mean pulse of the point: the jitter-smeared pulse, (a, c, tau_s, tau, jitter) free,
  the original's start values and bounds;
- each waveform: the pulse with the point's tau_s and tau fixed; (a, c) free when the
  point's signal to noise allows it (same rule as the fast engine), else c fixed and the
  smeared template fitted for a alone.

The model functions are C++ (declared through cling): a TF1 whose function is a Python
callable costs ~30 ms per fit, a C++ one ~1.5 ms. Fit status: Minuit2's 0 is ok; 3 ("EDM
above max") is accepted when the reduced chi2 is sane, since the parameters are then fine;
anything else is "not_converged" and the waveform gets the window-integral charge.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.point.pulse import (
    FitResult,
    Prepared,
    Shape,
    Status,
    charge_pC,
    empty_result,
    jitter_var_rel,
    pulse,
    pulse_smeared,
    window_integral_pC,
)

__all__ = ["fit_shape_root", "fit_root"]

os.environ.setdefault("ROOT_MAX_THREADS", "1")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import ROOT  # noqa: E402

ROOT.gROOT.SetBatch(True)
ROOT.gErrorIgnoreLevel = ROOT.kError
ROOT.Math.MinimizerOptions.SetDefaultMinimizer("Minuit2")
ROOT.Math.MinimizerOptions.SetDefaultPrintLevel(-1)

_CPP = r"""
#include <cmath>
namespace pmtgain {
double pulse(double* x, double* p) {           // a, c, tau_s, tau
    double t = x[0] - p[1];
    if (t < 0) return 0.0;
    return p[0] * (std::exp(-t / p[3]) - std::exp(-t / p[2]));
}
double emg(double x, double tau, double s) {   // exp(-x/tau) H(x) smeared by N(0, s)
    if (s < 1e-6) return x >= 0 ? std::exp(-x / tau) : 0.0;
    double z = x / s - s / tau;
    double phi = 0.5 * std::erfc(-z / std::sqrt(2.0));
    if (phi <= 0) return 0.0;
    return std::exp(s * s / (2 * tau * tau) - x / tau + std::log(phi));
}
double pulse_smeared(double* x, double* p) {   // a, c, tau_s, tau, jitter
    double t = x[0] - p[1];
    return p[0] * (emg(t, p[3], p[4]) - emg(t, p[2], p[4]));
}
}
"""
if not hasattr(ROOT, "pmtgain") and not ROOT.gInterpreter.Declare(_CPP):
    raise ImportError("ROOT's interpreter could not compile the pulse model (cling needs a "
                      "C++ toolchain with its headers: apt-get install g++)")


def _graph(t, y, err):
    n = len(t)
    return ROOT.TGraphErrors(n, np.ascontiguousarray(t, dtype=np.float64),
                             np.ascontiguousarray(y, dtype=np.float64),
                             np.zeros(n), np.full(n, float(err)))


def _ok(fit_status: int, chi2_ndf: float, config: FitConfig) -> bool:
    return fit_status == 0 or (fit_status == 3 and chi2_ndf < config.max_chi2_ndf)


def fit_shape_root(p: Prepared, config: FitConfig = DEFAULT_FIT) -> Shape:
    """Fit the point's mean pulse with the smeared model (ROOT/Minuit2)."""
    from pmtgain.point.pulse import start_values
    from pmtgain.point.shape import edge_times, point_shape

    N = p.y.shape[1]
    t = np.arange(N) * p.dt_ns
    t0 = float(np.median(p.t0_ns))
    a0, c0 = start_values(p.mean_pulse, p.dt_ns, config)
    lo, hi = t[p.k_lo], t[p.k_hi - 1]
    kp = int(np.argmin(p.mean_pulse[p.k_lo:p.k_hi]))
    ts0, tf0 = edge_times(p.mean_pulse[p.k_lo:p.k_hi], kp, p.dt_ns, t[p.k_lo + kp] - c0)
    j0 = max(config.jitter_start_ns, 0.1 * p.dt_ns)
    try:  # from the numpy fit of the same mean pulse: Minuit refines the same minimum
        s0 = point_shape(p, config)
        if s0.ok and all(np.isfinite([s0.a_V, s0.c_ns, s0.tau_s_ns, s0.tau_ns])):
            a0, c0, ts0, tf0, j0 = s0.a_V, s0.c_ns, s0.tau_s_ns, s0.tau_ns, s0.jitter_ns
    except (ValueError, np.linalg.LinAlgError):
        pass
    f = ROOT.TF1("pmtgain_mean", ROOT.pmtgain.pulse_smeared, lo, hi, 5)
    f.SetParameters(a0, c0, ts0, tf0, j0)
    f.SetParLimits(0, config.a_min_V, config.a_max_V)
    f.SetParLimits(1, max(config.c_min_ns - t0, lo - (hi - lo)),
                   min(config.c_max_ns - t0, hi))
    f.SetParLimits(2, config.tau_min_ns, config.tau_max_ns)
    f.SetParLimits(3, config.tau_min_ns, config.tau_max_ns)
    f.SetParLimits(4, 0.0, config.jitter_max_ns)
    err = float(np.median(p.noise_V)) / np.sqrt(max(int(p.counted.sum()), 1))
    g = _graph(t[p.k_lo:p.k_hi], p.mean_pulse[p.k_lo:p.k_hi], max(err, 1e-9))
    res = g.Fit(f, "QNSR")
    a, c, ts, tf, sig = (f.GetParameter(i) for i in range(5))
    if ts > tf:
        ts, tf, a = tf, ts, -a
    return Shape(a_V=a, c_ns=c, tau_s_ns=ts, tau_ns=tf, ok=int(res.Status()) in (0, 3),
                 message=f"Minuit2 status {int(res.Status())}", jitter_ns=abs(sig),
                 free_onset=bool(p.snr >= config.free_onset_snr))


def fit_root(p: Prepared, config: FitConfig = DEFAULT_FIT, shape: Shape | None = None
             ) -> FitResult:
    """Fit every waveform of the point with ROOT (one TF1 fit per waveform)."""
    if shape is None:
        shape = fit_shape_root(p, config)
    n = p.n
    r = empty_result(n)
    status = p.status.copy()
    ts, tf, sig = shape.tau_s_ns, shape.tau_ns, shape.jitter_ns
    r["tau_s_ns"][:] = ts
    r["tau_ns"][:] = tf
    N = p.y.shape[1]
    t = np.arange(N) * p.dt_ns
    tw = t[p.k_lo:p.k_hi]
    lo, hi = float(tw[0]), float(tw[-1])
    W = tw.size
    wq = window_integral_pC(p)
    n_base = p.n_base
    if shape.free_onset:
        f = ROOT.TF1("pmtgain_wf", ROOT.pmtgain.pulse, lo, hi, 4)
        f.FixParameter(2, ts)
        f.FixParameter(3, tf)
        n_free = 2
    else:
        f = ROOT.TF1("pmtgain_wf_fixed", ROOT.pmtgain.pulse_smeared, lo, hi, 5)
        f.FixParameter(2, ts)
        f.FixParameter(3, tf)
        f.FixParameter(4, sig)
        var_rel = jitter_var_rel(tw, shape)
        n_free = 1
    f.SetParLimits(0, config.a_min_V, config.a_max_V)
    for i in np.nonzero(status == Status.OK)[0]:
        y = p.y[i, p.k_lo:p.k_hi]
        noise = max(float(p.noise_V[i]), 1e-9)
        t0 = float(p.t0_ns[i])
        c_lo = max(config.c_min_ns, t0 + shape.c_ns - config.onset_range_ns) - t0
        c_hi = min(config.c_max_ns, t0 + shape.c_ns + config.onset_range_ns) - t0
        a0 = config.a_start_factor * float(p.amplitude_V[i])
        f.SetParameter(0, min(max(a0, config.a_min_V * 0.999), -1e-6))
        if shape.free_onset:
            f.SetParameter(1, shape.c_ns)
            f.SetParLimits(1, c_lo, c_hi)
        else:
            f.FixParameter(1, shape.c_ns - (t0 - float(np.median(p.t0_ns))))
        g = _graph(tw, y, noise)
        res = g.Fit(f, "QNSR")
        fit_status = int(res.Status())
        chi2_ndf = float(res.Chi2()) / max(W - n_free, 1)
        a, c = f.GetParameter(0), f.GetParameter(1)
        integral = f.Integral(lo, hi)
        q = float(charge_pC(integral))
        cov = res.GetCovarianceMatrix()
        var_a = cov(0, 0) if cov.GetNrows() > 0 else np.nan
        # noise error of the charge: the amplitude's (a fully correlated with Q) plus the
        # fixed baseline's, as in the fast engine
        rel = np.sqrt(max(var_a, 0)) / abs(a) if a else np.nan
        var_q = (q * rel) ** 2
        # the unit-amplitude fitted shape, vectorised (the same values as f.Eval / a)
        m = (pulse(tw, 1.0, c, ts, tf) if shape.free_onset
             else pulse_smeared(tw, 1.0, c, ts, tf, sig))
        I_unit = integral / a if a else 0.0
        var_q += float(charge_pC(I_unit * noise * m.sum() / max(m @ m, 1e-30))) ** 2 / n_base
        if not shape.free_onset:
            var_q += q * q * var_rel
        at_bound = a <= config.a_min_V * 0.9999 or a >= config.a_max_V - 1e-9
        if shape.free_onset:
            at_bound = at_bound or c <= c_lo + 1e-6 or c >= c_hi - 1e-6
        st = Status.OK
        if at_bound:
            st = Status.AT_BOUND
        elif not _ok(fit_status, chi2_ndf, config) or chi2_ndf > config.max_chi2_ndf:
            st = Status.NOT_CONVERGED
        status[i] = st
        r["charge_pC"][i] = q if st == Status.OK else wq[i]
        r["charge_full_pC"][i] = float(charge_pC(a * (tf - ts))) if st == Status.OK else wq[i]
        r["sigma_charge_pC"][i] = np.sqrt(var_q)
        r["a_V"][i] = a
        r["c_ns"][i] = c + t0
        r["chi2_ndf"][i] = chi2_ndf
        r["n_iter"][i] = 1
    return FitResult(status=status, shape=shape, **r)

"""The fit of a low-light charge spectrum: the cross-check of the model-independent gain.

What to use when
----------------
- :func:`fit_spectra` - one or several charge spectra of the same PMT at the same HV (the
  LED window of runs at different light levels, and the pedestal window) fitted together:
  one pedestal, one single-photoelectron response, one occupancy per spectrum. Returns a
  :class:`SpeFit`: the single photoelectron's mean (the gain) and excess noise factor
  with their errors, its peak, the under-amplified share, the peak-to-valley ratio, the
  goodness of fit and the fitted spectra for the plot.
- :func:`cross_check` - what :func:`pmtgain.point.spe.process_spe` calls: the run's
  spectra fitted with both response shapes, the fields of its summary (``fit_*``: G and
  F, their systematic from the response shape, the difference to the model-independent
  G and F in sigma, the peak-to-valley ratio) and the fitted curve for its plot. Its G
  and F are Saldanha's; these are beside them (:func:`spe_fit_fields`).

Model (Bellamy et al., NIM A 339 (1994) 468, with the under-amplified photoelectrons of
their background term given the single photoelectron's own share): a flash's charge is
the pedestal, Gaussian (``q0``, ``s0``), plus a Poisson number (mean ``mu``) of single
photoelectrons, each either fully amplified, Gaussian (``q1``, ``s1``) truncated at 0, or
with probability ``w`` under-amplified, exponential of mean ``a`` (photoelectrons that miss
the first dynode or scatter back from it: Bellamy's exponential background term, here a
share of each photoelectron rather than of each flash).
The sum over the number of photoelectrons is done exactly, in Fourier space (a compound
Poisson distribution: ``exp(mu (phi_1(k) - 1))`` times the pedestal's characteristic
function, on a lattice of a sixth of the narrower of pedestal and peak), so any number of
photoelectrons is included, not the first few. The likelihood is Poisson over the bins of
each spectrum (an overflow bin keeps it normalised); the minimum is found with bounds
(L-BFGS-B) and the errors are the inverse Hessian's (central differences), propagated to
the gain and F by their gradients.

The gain is the single photoelectron's *mean* charge ``(1-w) E[Gauss+] + w a`` (over e,
and over the share of the pulse the window holds): the quantity Saldanha's method measures,
so that the two compare; ``fit_gain_peak`` is the fully amplified peak ``q1`` (the gain a
Gaussian fit alone would give). F = E[x^2] / E[x]^2 of that response.

Where it holds (simulated through waveforms, ``tests/point/test_spefit.py``): single
photoelectrons of a dynode cascade (Poisson secondaries at the first dynode: neither the
fit's gamma nor its Gaussian) with an under-amplified share of 5-15 % that is gamma of
shape 1.5 (not the fit's exponential), 8-14x the noise, occupancy 1-1.5, 10000 flashes:
G within 3 sigma (statistical and shape systematic) of the truth, but low on average
(pulls -0.5 to -3.1 over three seeds, mean -1.1: about -1.5 %); F within 1.1 sigma. At 3x
the noise (unresolved for the model-independent method, which is flagged there; at 1.5x
it was 11 % high, the fit within 1 sigma) the fit's G still covers the truth with its
larger error. With an under-amplified share the model-independent G comes out high by
0.5-3.4 of its errors (its below-threshold correction assumes a gamma): the difference
in sigma shows it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import gdtr, ndtr

__all__ = ["RESPONSES", "SpeFit", "fit_spectra", "cross_check", "spe_fit_fields",
           "peak_to_valley", "response_moments", "response_below"]

_NAMES = ("q0", "s0", "q1", "s1", "w", "a")


@dataclass
class SpeFit:
    """The result of :func:`fit_spectra` (charges positive, pC)."""

    values: dict[str, float]
    errors: dict[str, float]
    mu: list[float]
    mu_err: list[float]
    mean_pC: float  # the single photoelectron's mean charge
    mean_err_pC: float
    enf: float
    enf_err: float
    peak_to_valley: float
    chi2_ndf: float
    ok: bool
    message: str = ""
    #: per spectrum: the bins' edges, the counts and the fitted counts (for the plot)
    curves: list[dict[str, np.ndarray]] = field(default_factory=list)


#: the fully amplified photoelectron's shape: Bellamy's Gaussian, or a gamma (Prescott)
RESPONSES = ("gamma", "gauss")


def response_moments(q1: float, s1: float, w: float, a: float, response: str = "gamma"
                     ) -> tuple[float, float]:
    """(E[x], E[x^2]) of the single-photoelectron response (see the module docstring)."""
    if response == "gamma":
        return (1.0 - w) * q1 + w * a, (1.0 - w) * (s1 * s1 + q1 * q1) + w * 2.0 * a * a
    al = -q1 / s1
    z = max(1.0 - ndtr(al), 1e-300)
    lam = math.exp(-0.5 * al * al) / math.sqrt(2 * math.pi) / z
    m_g = q1 + s1 * lam
    v_g = s1 * s1 * (1.0 + al * lam - lam * lam)
    m = (1.0 - w) * m_g + w * a
    ex2 = (1.0 - w) * (v_g + m_g * m_g) + w * 2.0 * a * a
    return m, ex2


def response_below(values: dict[str, float], thr: float, response: str = "gamma") -> float:
    """The share of single photoelectrons (the fitted response, no pedestal noise) below
    the charge ``thr`` (> 0): what Saldanha's threshold counts as pedestal."""
    q1, s1, w, a = (values[k] for k in ("q1", "s1", "w", "a"))
    if not (thr > 0 and q1 > 0 and s1 > 0):
        return float("nan")
    if response == "gamma":
        full = float(gdtr(q1 / (s1 * s1), (q1 / s1) ** 2, thr))
    else:
        z = max(1.0 - ndtr(-q1 / s1), 1e-300)
        full = float((ndtr((thr - q1) / s1) - ndtr(-q1 / s1)) / z)
    under = 1.0 - math.exp(-thr / a) if a > 0 else 0.0
    return (1.0 - w) * full + w * under


def _response(q1, s1, w, a, h, n, response: str = "gamma") -> np.ndarray:
    """The response's probability in each cell ``[(j - 1/2) h, (j + 1/2) h)`` (j >= 0)."""
    edges = (np.arange(n + 1) - 0.5) * h
    edges[0] = 0.0
    if response == "gamma":  # mean q1, rms s1
        g = np.diff(gdtr(q1 / (s1 * s1), (q1 / s1) ** 2, edges))
    else:
        g = np.diff(ndtr((edges - q1) / s1))
        g /= max(1.0 - ndtr(-q1 / s1), 1e-300)
    e = np.diff(-np.exp(-edges / a))
    return (1.0 - w) * g + w * e


@dataclass
class _Grid:
    x0: float  # the lattice's first point
    h: float  # its spacing
    n: int  # its length (a power of two)
    sub: int  # lattice points per bin
    nb: int  # bins before the overflow bin
    response: str = "gamma"


def _density(p: np.ndarray, mu: float, g: _Grid) -> np.ndarray:
    """Probability of each lattice point ``x0 + j h`` for occupancy ``mu``."""
    q0, s0, q1, s1, w, a = p
    f = np.fft.rfft(_response(q1, s1, w, a, g.h, g.n, g.response))
    k = 2 * np.pi * np.fft.rfftfreq(g.n, g.h)
    spec = np.exp(mu * (f - 1.0) - 0.5 * (s0 * k) ** 2 - 1j * k * (q0 - g.x0))
    return np.clip(np.fft.irfft(spec, g.n), 0.0, None)


def _expected(p, mu, g: _Grid, n_tot: int) -> np.ndarray:
    d = _density(p, mu, g)
    inside = d[: g.nb * g.sub].reshape(g.nb, g.sub).sum(axis=1)
    return n_tot * np.append(inside, max(1.0 - inside.sum(), 0.0))


def peak_to_valley(density: np.ndarray, x: np.ndarray, q0: float, q1: float) -> float:
    """The single photoelectron's peak over the valley before it, on a fitted spectrum
    (the highest point between the valley and ``q0 + 2 q1`` over the lowest between
    ``q0`` and ``q0 + q1``); NaN when there is no valley (unresolved)."""
    lo = np.nonzero((x > q0) & (x < q0 + q1))[0]
    if lo.size < 3:
        return float("nan")
    iv = lo[int(np.argmin(density[lo]))]
    if iv in (lo[0], lo[-1]):
        return float("nan")
    hi = np.nonzero((x > x[iv]) & (x < q0 + 2 * q1))[0]
    if not hi.size or density[iv] <= 0:
        return float("nan")
    return float(density[hi].max() / density[iv])


def _hessian(fun, x: np.ndarray, step: np.ndarray) -> np.ndarray:
    n = x.size
    h = np.zeros((n, n))
    f0 = fun(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = step[i]
        h[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / step[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = step[j]
            h[i, j] = h[j, i] = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej)
                                 + fun(x - ei - ej)) / (4 * step[i] * step[j])
    return h


def fit_spectra(spectra: Sequence[np.ndarray], *, pedestal: np.ndarray | None = None,
                start_q1: float, start_s1: float | None = None,
                start_mu: Sequence[float] | None = None, response: str = "gamma") -> SpeFit:
    """Fit the charge spectra ``spectra`` (positive charges, pC, one array per light
    level) together, with the pedestal window's charges ``pedestal`` (its own small
    occupancy: dark counts) when given. ``start_q1``: a first guess of the single
    photoelectron's mean (the model-independent one); ``start_mu``: of the occupancies."""
    data = [np.asarray(s, float) for s in spectra]
    if pedestal is not None:
        data.append(np.asarray(pedestal, float))
    ref = np.asarray(pedestal, float) if pedestal is not None else data[0]
    q0_0 = float(np.median(ref))
    s0_0 = float(1.4826 * np.median(np.abs(ref - q0_0))) or float(np.std(ref)) or 1e-3
    q1_0 = abs(float(start_q1))
    top = max(float(np.quantile(d, 0.999)) for d in data)
    h = min(s0_0, q1_0) / 6.0
    x0 = q0_0 - 8.0 * s0_0
    sub = 4
    nb = max(int(math.ceil((top - x0) / (sub * h))), 10)
    nb = min(nb, 600)
    sub = max(int(math.ceil((top - x0) / (nb * h))), 1)
    reach = top + 10.0 * max(s0_0, q1_0) * (1 + max(start_mu or [1.0]))
    n = 1 << int(math.ceil(math.log2(max((reach - x0) / h, nb * sub + 16))))
    n = min(n, 1 << 17)
    if response not in RESPONSES:
        raise ValueError(f"response {response!r}: one of {', '.join(RESPONSES)}")
    g = _Grid(x0=x0, h=h, n=n, sub=sub, nb=nb, response=response)
    edges = x0 - 0.5 * h + sub * h * np.arange(nb + 1)
    counts = [np.append(np.histogram(d, edges)[0], np.count_nonzero(d >= edges[-1]))
              .astype(float) for d in data]
    below = [np.count_nonzero(d < edges[0]) for d in data]
    for c, b in zip(counts, below, strict=True):
        c[0] += b
    mus0 = list(start_mu) if start_mu is not None else [1.0] * len(spectra)
    if pedestal is not None:
        mus0.append(0.01)
    p0 = np.array([q0_0, s0_0, q1_0, start_s1 or 0.5 * q1_0, 0.1, 0.25 * q1_0, *mus0])
    lo = np.array([q0_0 - 5 * s0_0, 0.2 * s0_0, 0.2 * q1_0, 0.05 * q1_0, 0.0, 0.02 * q1_0]
                  + [0.0] * len(mus0))
    hi = np.array([q0_0 + 5 * s0_0, 5 * s0_0, 5 * q1_0, 2.0 * q1_0, 0.9, 1.0 * q1_0]
                  + [10.0] * len(mus0))
    scale = np.maximum(np.abs(p0), 1e-3 * q1_0)
    scale[len(_NAMES):] = 1.0

    def nll(u: np.ndarray) -> float:
        p = u * scale
        total = 0.0
        for i, c in enumerate(counts):
            e = np.maximum(_expected(p[:6], p[6 + i], g, int(c.sum())), 1e-300)
            total += float(np.sum(e - c * np.log(e)))
        return total

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = optimize.minimize(nll, p0 / scale, method="L-BFGS-B",
                                bounds=list(zip(lo / scale, hi / scale, strict=True)),
                                options=dict(maxiter=2000))
        u = res.x
        # errors of the parameters not at a bound (one at a bound, e.g. no under-amplified
        # share, is fixed there: the likelihood's curvature is not defined across it)
        edge = (u - lo / scale < 1e-6) | (hi / scale - u < 1e-6)
        no_share = bool(edge[4])  # no under-amplified share: its mean means nothing
        edge[5] |= no_share
        step = np.maximum(1e-4, 1e-3 * np.abs(u))

        def covariance(free: np.ndarray) -> np.ndarray | None:
            """The inverse Hessian over ``free`` (the others fixed), if it is positive."""
            def nll_free(v):
                full = u.copy()
                full[free] = v
                return nll(full)

            hess = _hessian(nll_free, u[free], step[free])
            if not np.all(np.isfinite(hess)) or np.linalg.eigvalsh(hess).min() <= 0:
                return None
            out = np.zeros((u.size, u.size))
            out[np.ix_(free, free)] = np.linalg.inv(hess)
            return out

        free = np.nonzero(~edge)[0]
        cov_u, fixed_note = covariance(free), ""
        if cov_u is None:  # the under-amplified share and its mean poorly determined:
            cov_u = covariance(free[~np.isin(free, (4, 5))])  # fixed where they are
            fixed_note = "errors with the under-amplified share fixed (its curvature is " \
                "not positive)" if cov_u is not None else ""
        ok_cov = cov_u is not None
        if cov_u is None:
            cov_u = np.full((u.size, u.size), np.nan)
    p = u * scale
    cov = cov_u * np.outer(scale, scale)
    err = np.sqrt(np.abs(np.diag(cov)))

    def derived(v: np.ndarray) -> np.ndarray:
        m, ex2 = response_moments(*v[2:6], response=response)
        return np.array([m, ex2 / (m * m)])

    d0 = derived(p)
    jac = np.zeros((2, p.size))
    for i in range(2, 6):
        dv = np.zeros(p.size)
        dv[i] = max(1e-4 * abs(p[i]), 1e-9)
        jac[:, i] = (derived(p + dv) - derived(p - dv)) / (2 * dv[i])
    dcov = jac @ cov @ jac.T
    curves, chi2, ndf = [], 0.0, 0
    for i, c in enumerate(counts):
        e = _expected(p[:6], p[6 + i], g, int(c.sum()))
        use = e[:-1] > 5
        chi2 += float(np.sum((c[:-1][use] - e[:-1][use]) ** 2 / e[:-1][use]))
        ndf += int(use.sum())
        curves.append(dict(edges=edges, counts=c[:-1], fitted=e[:-1]))
    ndf -= p.size
    x = x0 + h * np.arange(n)
    pv = peak_to_valley(_density(p[:6], p[6], g), x, p[0], p[2])
    at_bound = [nm for nm, e in zip(_NAMES, edge, strict=False)
                if e and nm != "w" and not (nm == "a" and no_share)]
    msg = "" if res.success else str(res.message)
    if at_bound:
        msg = (msg + "; " if msg else "") + f"at a bound: {', '.join(at_bound)}"
    if not ok_cov:
        msg = (msg + "; " if msg else "") + "errors not estimated (Hessian not positive)"
    elif fixed_note:
        msg = (msg + "; " if msg else "") + fixed_note
    m = len(spectra)
    return SpeFit(values=dict(zip(_NAMES, map(float, p[:6]), strict=True)),
                  errors=dict(zip(_NAMES, map(float, err[:6]), strict=True)),
                  mu=[float(v) for v in p[6:6 + m]], mu_err=[float(v) for v in err[6:6 + m]],
                  mean_pC=float(d0[0]), mean_err_pC=float(np.sqrt(max(dcov[0, 0], 0))),
                  enf=float(d0[1]), enf_err=float(np.sqrt(max(dcov[1, 1], 0))),
                  peak_to_valley=pv, chi2_ndf=chi2 / max(ndf, 1),
                  ok=bool(res.success and ok_cov and not at_bound and not fixed_note),
                  message=msg,
                  curves=curves)


def cross_check(t: np.ndarray, b: np.ndarray, run: dict, e_held: float,
                more: Sequence[np.ndarray] = ()) -> tuple[dict, dict[str, np.ndarray]]:
    """The spectrum fit of one low-light run beside its model-independent numbers: the LED
    window's charges ``t`` and the pedestal window's ``b`` (negative, pC, as
    :func:`pmtgain.point.spe.process_spe` sums them), the run's summary ``run`` (its
    ``gain``, ``enf``, ``spe_mean_pC``, ``occupancy``), ``e_held`` in pC per electron.
    Fitted with the gamma response and again with Bellamy's Gaussian: the difference is
    the response shape's systematic (``fit_gain_sys``, ``fit_enf_sys``), which the
    differences in sigma include. Returns ``(fields, curves)``; the curves (bins, counts,
    fitted counts of the LED window) go with the run's spectra. ``more``: the LED
    windows of the same PMT at other light levels (same settings), fitted together
    (``fit_levels``, each level's occupancy in ``fit_occupancies``)."""
    t, b = -np.asarray(t, float), -np.asarray(b, float)
    levels = [t] + [-np.asarray(x, float) for x in more]
    lam = float(run["occupancy"])
    # each other level's occupancy to start from: its mean over the single photoelectron's
    mus = [max(lam, 0.05)] + [max(float(np.mean(x) - np.mean(b)) / abs(run["spe_mean_pC"]),
                                  0.05) for x in levels[1:]] \
        if np.isfinite(lam) and np.isfinite(run["spe_mean_pC"]) else None
    kw = dict(pedestal=b, start_q1=abs(run["spe_mean_pC"]), start_mu=mus)
    if not (np.isfinite(run["spe_mean_pC"]) and run["spe_mean_pC"] != 0):
        return dict(fit_flag="spectrum fit: no single-photoelectron mean to start from"), {}
    main = fit_spectra(levels, response="gamma", **kw)
    alt = fit_spectra(levels, response="gauss", **kw)
    g_sys = abs(alt.mean_pC - main.mean_pC) / e_held
    f_sys = abs(alt.enf - main.enf)
    # Saldanha's errors with its threshold systematic, the fit's shape systematic added
    g_err = math.hypot(run["gain_err"], run.get("gain_sys") or 0.0, g_sys)
    f_err = math.hypot(run["enf_err"], run.get("enf_sys") or 0.0, f_sys)
    out = spe_fit_fields(main, e_held, run["gain"], g_err, run["enf"], f_err)
    out.update(fit_gain_sys=g_sys, fit_enf_sys=f_sys, fit_gain_gauss=alt.mean_pC / e_held,
               fit_enf_gauss=alt.enf, fit_levels=len(levels),
               fit_occupancies=" ".join(f"{m:.5g}" for m in main.mu[:len(levels)]),
               fit_occupancy_errs=" ".join(f"{m:.3g}" for m in main.mu_err[:len(levels)]))
    if not out["fit_flag"] and abs(out["fit_gain_sigma"]) > 3:
        out["fit_flag"] = (f"the spectrum fit's gain differs from the model-independent one "
                           f"by {out['fit_gain_sigma']:+.1f} sigma")
    # what the fit's response puts below Saldanha's threshold, against Saldanha's own
    # correction (a gamma): a low-charge tail that is not gamma is missed by the latter
    below = response_below(main.values, float(run.get("threshold_pC", np.nan)))
    out["fit_below_threshold"] = below
    known = float(run.get("below_threshold") or 0.0)
    if main.ok and np.isfinite(below) and below > max(0.02, 2 * known):
        out["fit_threshold_bias"] = below - known
        out["fit_flag"] = "; ".join(x for x in (out["fit_flag"], (
            f"the fit puts {100 * below:.1f} % of the single photoelectrons below the "
            f"threshold, the model-independent correction {100 * known:.1f} %: its "
            f"occupancy low and G high by ~{100 * (below - known):.0f} %")) if x)
    c = main.curves[0]
    return out, dict(fit_edges=c["edges"], fit_counts=c["counts"], fit_fitted=c["fitted"])


def spe_fit_fields(fit: SpeFit, e_held: float, gain: float, gain_err: float, enf: float,
                   enf_err: float) -> dict:
    """The ``fit_*`` fields of a low-light run's summary: ``e_held`` = e x the share of
    the pulse the window holds (pC per electron), ``gain``/``enf`` the model-independent
    ones with their statistical errors (the difference's error is the two in quadrature:
    they share the flashes, so the difference in sigma is if anything too small)."""
    g, g_err = fit.mean_pC / e_held, fit.mean_err_pC / e_held

    def sig(a, ea, b, eb):
        d = math.hypot(ea, eb)
        return (a - b) / d if d > 0 and math.isfinite(d) else float("nan")

    return dict(fit_gain=g, fit_gain_err=g_err, fit_gain_peak=fit.values["q1"] / e_held,
                fit_enf=fit.enf, fit_enf_err=fit.enf_err, fit_occupancy=fit.mu[0],
                fit_occupancy_err=fit.mu_err[0],
                fit_under_amplified=fit.values["w"], fit_under_amplified_err=fit.errors["w"],
                fit_pedestal_rms_pC=fit.values["s0"], peak_to_valley=fit.peak_to_valley,
                fit_chi2_ndf=fit.chi2_ndf,
                fit_gain_sigma=sig(g, g_err, gain, gain_err),
                fit_enf_sigma=sig(fit.enf, fit.enf_err, enf, enf_err),
                fit_flag="" if fit.ok else f"spectrum fit: {fit.message}")

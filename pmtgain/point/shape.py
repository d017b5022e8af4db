"""The pulse shape of a point: rise, fall, onset and jitter from its mean pulse.

What to use when
----------------
- :func:`point_shape` - fit a point's mean pulse (all flashes that count, trigger-aligned)
  with the jitter-smeared two-exponential; the shape every engine and the linear charge
  estimator use.
- :func:`fit_mean_pulse` - that fit on any one trace, with errors (sandwich estimator).
- :func:`is_weak` - whether a fitted shape is too poorly measured to be trusted (the mean
  pulse of a point at very low signal or light).
- :class:`ShapeTable` / :func:`shape_from_table` - the shape of a PMT's better-measured
  points, interpolated in HV (rise and fall change slowly with HV), with only the onset
  and amplitude fitted on the weak point's own mean pulse. ``analysis.py`` builds the
  table from a first pass; HTCondor jobs read it from ``data_info/shapes.csv`` when the
  campaign carries one (``docs/design.md``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.errors import CampaignError, InputError
from pmtgain.io.safeio import atomic_path
from pmtgain.point.model import pulse_smeared
from pmtgain.point.prepare import Prepared, crossings
from pmtgain.point.window import Template

__all__ = ["Shape", "start_values", "edge_times", "fit_mean_pulse", "point_shape",
           "is_weak", "SHAPE_COLUMNS", "TEMPLATE_COLUMNS", "template_fields",
           "template_from_fields", "ShapeTable", "shape_from_table", "load_shapes"]


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
    # parameter errors of the mean-pulse fit (NaN when not estimated): see fit_mean_pulse
    c_err_ns: float = float("nan")
    tau_s_err_ns: float = float("nan")
    tau_err_ns: float = float("nan")
    jitter_err_ns: float = float("nan")
    # covariance of (c, tau_s, tau[, jitter]) in ns^2 (None when not estimated)
    cov: np.ndarray | None = None


def start_values(y: np.ndarray, dt_ns: float, config: FitConfig) -> tuple[float, float]:
    """Original start values: a = 2.5 x minimum, c = last sample above 4 % before the peak."""
    e = min(config.edge_samples, max(y.size // 10, 1))
    kpk = int(np.argmin(y[e : y.size - e])) + e
    k_on, _ = crossings(y, kpk, config.onset_fraction * float(y[kpk]))
    return config.a_start_factor * float(y[kpk]), k_on * dt_ns


def edge_times(y: np.ndarray, kp: int, dt_ns: float, rise_ns: float) -> tuple[float, float]:
    """Start values of rise and fall from a pulse's own edges: a third of the time from
    onset to peak, and the time from the peak to 1/e of it."""
    after = np.nonzero(y[kp:] > y[kp] / np.e)[0]
    fall = (after[0] if after.size else y.size - kp) * dt_ns
    rise = max(rise_ns / 3.0, 0.3 * dt_ns)
    return rise, max(fall, 2.0 * rise)


def fit_mean_pulse(
    y: np.ndarray, t_ns: np.ndarray, k_lo: int, k_hi: int, config: FitConfig = DEFAULT_FIT,
    c_offset_ns: float = 0.0, smeared: bool = True, traces: np.ndarray | None = None,
) -> Shape:
    """Least-squares fit of (a, c, tau_s, tau[, jitter]) to one baseline-subtracted trace.

    A diagnostic since analysis version 4: the rise, fall, jitter and onset it gives are
    plotted and reported, but no charge depends on it (:mod:`pmtgain.point.window`).

    With ``smeared`` (the default, for a point's mean pulse) the model is
    :func:`pulse_smeared`: the mean of pulses whose onsets jitter is the pulse convolved
    with the jitter distribution, and fitting it with the sharp pulse would broaden the
    fitted rise and bias every charge computed with that shape.

    Bounds and start values follow the data: the onset between the window's start and the
    peak (and within ``[c_min_ns, c_max_ns]``, absolute, when set; ``c_offset_ns``
    converts them to the trace's axis), rise and fall started from the trace's own edges.
    Solved with scipy's trust-region reflective method (bounds enforced in every step).

    Parameter errors. When ``y`` is the mean of ``traces`` (n, N), the sandwich estimator
    ``A Cov(y) A^T`` with ``A = (J^T J)^-1 J^T`` and ``Cov(y)`` = the traces' sample
    covariance / n (computed as the covariance of the projections ``J^T y_i``): the mean
    pulse fluctuates coherently (onset jitter, photoelectron statistics), not only by white
    noise, and the residuals alone underestimate the error of the onset and jitter by up
    to 30x at high signal (measured). Without ``traces``, ``s^2 (J^T J)^-1`` with ``s^2``
    the residual variance per degree of freedom (PDG, "Statistics", sec. 40.2.2).
    ``tests/point/test_pulse.py`` checks the errors against the scatter of the fitted shape over
    independent simulated points.
    """
    from scipy.optimize import least_squares

    dt_ns = float(t_ns[1] - t_ns[0])
    a0, c0 = start_values(y, dt_ns, config)
    c0 += float(t_ns[0])
    tt = t_ns[k_lo:k_hi]
    yy = y[k_lo:k_hi]
    scale = max(float(np.max(np.abs(yy))), 1e-12)
    kp = int(np.argmin(yy))
    t_pk = float(tt[kp])
    span = float(tt[-1] - tt[0])
    # bounds and start values from the data: the onset between the window's start (less
    # its length) and the peak, rise and fall from the mean pulse's own edges
    lo = [config.a_min_V / scale, max(config.c_min_ns - c_offset_ns, float(tt[0]) - span),
          config.tau_min_ns, config.tau_min_ns, 0.0]
    hi = [config.a_max_V / scale, min(config.c_max_ns - c_offset_ns, t_pk),
          config.tau_max_ns, config.tau_max_ns, max(config.jitter_max_ns, 5 * dt_ns)]
    ts0, tf0 = edge_times(yy, kp, dt_ns, t_pk - c0)
    x0 = np.clip([a0 / scale, min(c0, t_pk - 0.5 * dt_ns), ts0, tf0,
                  max(config.jitter_start_ns, 0.1 * dt_ns)],
                 np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    n_par = 5 if smeared else 4

    def resid(p):
        sigma = p[4] if smeared else 0.0
        return pulse_smeared(tt, p[0], p[1], p[2], p[3], sigma) - yy / scale

    res = least_squares(resid, x0[:n_par], bounds=(lo[:n_par], hi[:n_par]), method="trf",
                        x_scale=[1, 0.5, 0.3, 1, 0.1][:n_par])
    a, c, ts, tf = res.x[:4]
    sigma = float(res.x[4]) if smeared else 0.0
    covs: list = []
    err = _errors(res, tt.size, None if traces is None else traces[:, k_lo:k_hi] / scale,
                  covs)
    cov = covs[0] if covs else None
    if ts > tf:  # the model is symmetric under (tau_s, tau, a) -> (tau, tau_s, -a)
        ts, tf, a = tf, ts, -a
        err[2], err[3] = err[3], err[2]
        if cov is not None:
            perm = [0, 1, 3, 2, 4][:cov.shape[0]]
            cov = cov[np.ix_(perm, perm)]
    return Shape(a_V=a * scale, c_ns=c, tau_s_ns=ts, tau_ns=tf, ok=bool(res.success),
                 message=str(res.message), jitter_ns=sigma, c_err_ns=err[1],
                 tau_s_err_ns=err[2], tau_err_ns=err[3],
                 jitter_err_ns=err[4] if smeared else float("nan"),
                 cov=None if cov is None else cov[1:, 1:])


def _errors(res, n: int, traces: np.ndarray | None = None, cov_out: list | None = None
            ) -> list[float]:
    """Standard errors of a scipy least_squares result (see fit_mean_pulse); NaN where
    the Jacobian is singular. Parameters at a bound get NaN too (no Gaussian error).
    ``cov_out``, if given, receives the covariance matrix."""
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
    if cov_out is not None:
        cov_out.append(cov)
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
    averaged = p.counted  # the rows of the mean pulse
    shape = fit_mean_pulse(p.mean_pulse, t_rel, p.k_lo, p.k_hi, config, c_offset_ns=t0,
                           traces=p.y[averaged] if averaged.sum() > 6 else None)
    shape.free_onset = bool(p.snr >= config.free_onset_snr)
    return shape




def is_weak(shape: Shape, config: FitConfig = DEFAULT_FIT) -> str:
    """Why a fitted shape cannot be trusted ('' if it can): the fit failed, a parameter
    ended at a bound (no error), or rise or fall is known to worse than
    ``shape_max_rel_err`` (relative)."""
    if not shape.ok or not np.isfinite(shape.tau_ns):
        return "shape fit failed"
    for name, v, err in (("rise", shape.tau_s_ns, shape.tau_s_err_ns),
                         ("fall", shape.tau_ns, shape.tau_err_ns)):
        if not np.isfinite(err):
            return f"{name} time at its bound"
        if err > config.shape_max_rel_err * v:
            return f"{name} time {v:.2f} +- {err:.2f} ns"
    return ""


SHAPE_COLUMNS = ("pmt", "hv", "tau_s_ns", "tau_ns", "jitter_ns")
#: optional columns: the window and mean pulse a weak point borrows (:mod:`pmtgain.point.window`)
TEMPLATE_COLUMNS = ("edge_ns", "window_lo_rel_ns", "window_hi_rel_ns", "template_dt_ns",
                    "window_template")


def template_fields(t: Template | None) -> dict:
    """A template as summary fields (scalars and one space-separated string)."""
    if t is None:
        return {k: (float("nan") if k != "window_template" else "") for k in TEMPLATE_COLUMNS}
    return dict(edge_ns=t.edge_ns, window_lo_rel_ns=t.lo_rel_ns, window_hi_rel_ns=t.hi_rel_ns,
                template_dt_ns=t.dt_ns,
                window_template=" ".join(f"{x:.5g}" for x in t.pulse))


def template_from_fields(hv: float, d) -> Template | None:
    """The inverse of :func:`template_fields` (None when the fields are missing)."""
    try:
        vals = [float(d[k]) for k in TEMPLATE_COLUMNS[:4]]
        pulse = np.array(str(d["window_template"]).split(), float)
    except (KeyError, TypeError, ValueError):
        return None
    if not (all(np.isfinite(vals)) and vals[3] > 0 and pulse.size >= 2
            and np.all(np.isfinite(pulse)) and vals[2] > vals[1]):
        return None
    return Template(hv=float(hv), edge_ns=vals[0], lo_rel_ns=vals[1], hi_rel_ns=vals[2],
                    dt_ns=vals[3], pulse=pulse)


@dataclass
class ShapeTable:
    """Pulse shapes of well-measured points: ``rows[pmt] = [(hv, tau_s, tau, jitter)]``
    (the shape fit, a diagnostic) and ``templates[pmt]`` (their windows and mean pulses,
    which a weak point of the same PMT borrows: :meth:`borrow`)."""

    rows: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    source: str = ""
    templates: dict[int, list[Template]] = field(default_factory=dict)

    def for_pmt(self, pmt: int) -> list[tuple[float, float, float, float]]:
        return sorted(self.rows.get(int(pmt), []))

    def interpolate(self, pmt: int, hv: float) -> tuple[float, float, float] | None:
        """(tau_s, tau, jitter) at ``hv``: linear in HV between the nearest measured points,
        the nearest one outside their range; None without any."""
        rows = [r for r in self.for_pmt(pmt) if all(np.isfinite(r))]
        if not rows:
            return None
        h = np.array([r[0] for r in rows], float)
        vals = np.array([r[1:] for r in rows], float)
        return tuple(float(np.interp(hv, h, vals[:, k])) for k in range(3))

    def borrow(self, pmt: int, hv: float) -> tuple[Template, float, float, int] | None:
        """(the template of the nearest HV, the leading-edge time at ``hv`` and its error,
        the number of points behind it), or None. The edge time follows the transit time,
        ``t = a + b / sqrt(HV)`` (electron transit time in a dynode chain scales as
        ``V^-1/2``: Hamamatsu, "Photomultiplier tubes: basics and applications", 4th ed.,
        sec. 4.3.1), fitted by least squares over the PMT's templates; its error is the
        fit's residual rms (at least one sample, 2 ns with a single template)."""
        ts = sorted(self.templates.get(int(pmt), []), key=lambda t: t.hv)
        if not ts:
            return None
        near = min(ts, key=lambda t: (abs(t.hv - hv), -t.hv))
        h = np.array([t.hv for t in ts])
        e = np.array([t.edge_ns for t in ts])
        dt = max(t.dt_ns for t in ts)
        if len(ts) == 1:
            return near, float(e[0]), 2.0, 1
        X = np.column_stack([np.ones_like(h), 1.0 / np.sqrt(h)])
        coef, *_ = np.linalg.lstsq(X, e, rcond=None)
        edge = float(coef[0] + coef[1] / np.sqrt(hv))
        res = e - X @ coef
        rms = float(np.sqrt(np.sum(res**2) / (len(ts) - 2))) if len(ts) > 2 else 0.0
        return near, edge, max(rms, dt), len(ts)

    def merged(self, other: ShapeTable | None) -> ShapeTable:
        """This table, with ``other``'s PMTs where this one has none."""
        out = ShapeTable(rows={k: list(v) for k, v in self.rows.items()}, source=self.source,
                         templates={k: list(v) for k, v in self.templates.items()})
        if other is not None:
            for pmt, rows in other.rows.items():
                out.rows.setdefault(pmt, list(rows))
            for pmt, ts in other.templates.items():
                out.templates.setdefault(pmt, list(ts))
        return out

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(SHAPE_COLUMNS + TEMPLATE_COLUMNS)
            for pmt in sorted(set(self.rows) | set(self.templates)):
                tm = {t.hv: t for t in self.templates.get(pmt, [])}
                shapes = {r[0]: r for r in self.for_pmt(pmt)}
                for hv in sorted(set(tm) | set(shapes)):
                    ts, tf, jit = shapes.get(hv, (hv, np.nan, np.nan, np.nan))[1:]
                    tf_ = template_fields(tm.get(hv))
                    w.writerow([pmt, int(hv), f"{ts:.6g}", f"{tf:.6g}", f"{jit:.6g}"]
                               + [f"{tf_[k]:.6g}" if k != "window_template" else tf_[k]
                                  for k in TEMPLATE_COLUMNS])

    @classmethod
    def load(cls, path: str | os.PathLike) -> ShapeTable:
        """Read a table written by :meth:`save` (the template columns are optional: a
        table of rise and fall only lends no window); ``ValueError`` naming the file and
        line."""
        out = cls(source=str(path))
        with open(path, newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.DictReader(f), start=2):
                try:
                    vals = [float(row[c]) for c in SHAPE_COLUMNS]
                except (KeyError, TypeError, ValueError):
                    raise InputError(f"{path}:{i}: expected the columns "
                                     f"{', '.join(SHAPE_COLUMNS)} with numbers") from None
                tmpl = template_from_fields(vals[1], row)
                if tmpl is not None:
                    out.templates.setdefault(int(vals[0]), []).append(tmpl)
                if not all(np.isfinite(vals)):
                    if tmpl is None:
                        raise InputError(f"{path}:{i}: neither a shape (0 < tau_s_ns < "
                                         "tau_ns) nor a window template") from None
                    continue
                if vals[2] <= 0 or vals[3] <= vals[2]:
                    raise InputError(f"{path}:{i}: need 0 < tau_s_ns < tau_ns") from None
                out.rows.setdefault(int(vals[0]), []).append(tuple(vals[1:]))
        return out

    @classmethod
    def from_summaries(cls, summaries, source: str = "") -> ShapeTable:
        """The shapes and templates of the points whose own window was well measured."""
        out = cls(source=source)
        for s in summaries:
            if s.get("shape_source") != "own":
                continue
            v = [s.get(k) for k in ("hv", "tau_s_ns", "tau_ns", "jitter_ns")]
            try:
                ok = all(x is not None and np.isfinite(float(x)) for x in v)
            except (TypeError, ValueError):
                ok = False
            if ok and not s.get("shape_flag"):
                out.rows.setdefault(int(s["pmt"]), []).append(tuple(float(x) for x in v))
            t = template_from_fields(float(s["hv"]), s)
            if t is not None:
                out.templates.setdefault(int(s["pmt"]), []).append(t)
        return out


def shape_from_table(p: Prepared, table_shape: tuple[float, float, float],
                     config: FitConfig = DEFAULT_FIT) -> Shape:
    """The point's shape with rise, fall and jitter from ``table_shape`` and only its
    amplitude and onset fitted on its own mean pulse (a 2-parameter fit stays stable where
    the 5-parameter one does not)."""
    from scipy.optimize import least_squares

    ts, tf, jit = table_shape
    N = p.y.shape[1]
    t = np.arange(N) * p.dt_ns
    t0 = float(np.median(p.t0_ns)) if p.n else 0.0
    y = p.mean_pulse
    a0, c0 = start_values(y, p.dt_ns, config)
    tt, yy = t[p.k_lo:p.k_hi], y[p.k_lo:p.k_hi]
    scale = max(float(np.max(np.abs(yy))), 1e-12)

    def resid(q):
        return pulse_smeared(tt, q[0], q[1], ts, tf, jit) - yy / scale

    lo = [config.a_min_V / scale, config.c_min_ns - t0]
    hi = [max(config.a_max_V / scale, 1e-9), config.c_max_ns - t0]
    x0 = np.clip([a0 / scale, c0], np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    res = least_squares(resid, x0, bounds=(lo, hi), method="trf", x_scale=[1, 0.5])
    err = _errors(res, tt.size, p.y[p.counted][:, p.k_lo:p.k_hi] / scale
                  if p.counted.sum() > 4 else None)
    return Shape(a_V=float(res.x[0] * scale), c_ns=float(res.x[1]), tau_s_ns=ts, tau_ns=tf,
                 ok=bool(res.success), message="rise, fall and jitter from the shape table",
                 jitter_ns=jit, free_onset=False, c_err_ns=err[1])


def load_shapes(path: str | os.PathLike = "data_info"):
    """The campaign's pulse-shape table ``shapes.csv`` beside its data_directories files
    (a :class:`ShapeTable`), or None when it has none. ``analysis.py`` writes
    one to ``outputs/lists/shapes.csv``; copied into ``data_info/`` it gives HTCondor jobs
    of weak points the shape of their PMT's better-measured points."""
    p = Path(path)
    f = (p if p.is_dir() else p.parent) / "shapes.csv"
    if not f.is_file():
        return None
    try:
        return ShapeTable.load(f)
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{f}: cannot be read ({exc})") from None
    except ValueError as exc:
        raise CampaignError(str(exc)) from None


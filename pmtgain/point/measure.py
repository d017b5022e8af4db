"""The second pass over a point: every flash's charge, fit and table row.

What to use when
----------------
- :func:`measure_flashes` - given the point's :class:`pmtgain.point.scan.Scan` and its
  :class:`pmtgain.point.window.ChargeEstimator`, one pass over its chunks: each flash's window
  sum and filtered charge, the per-flash fit columns (engine), the noise covariance
  behind the pedestal (:mod:`pmtgain.point.pedestal`), the afterpulses after the LED pulse
  (:mod:`pmtgain.point.afterpulse`), and a few example traces for the plots.
- :class:`Measured` - what it returns: per-flash arrays over every readable flash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pmtgain.config import DEFAULT_ENGINE, DEFAULT_FIT, FitConfig
from pmtgain.io.flashes import ChunkReader
from pmtgain.point import pulse as _pulse
from pmtgain.point.afterpulse import AfterpulseCounter
from pmtgain.point.engines import engine as get_engine
from pmtgain.point.model import Status, charge_pC
from pmtgain.point.pedestal import PedestalAccumulator
from pmtgain.point.prepare import Prepared, prepare
from pmtgain.point.scan import Scan
from pmtgain.point.shape import Shape
from pmtgain.point.window import ChargeEstimator

__all__ = ["Measured", "measure_flashes"]

_FIT_KEYS = ("charge_full_pC", "a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf")


class _ExamplePicker:
    """A few flashes with their fits, for the diagnostic plots: the counted flashes of
    the first chunk nearest the 10 %, 50 % and 90 % charge quantiles, then the first fit
    fallback, the first flash of each kind that does not count (clipped, pre_pulse) and
    the first that fails the cut, wherever they are. Deterministic; bounded memory."""

    def __init__(self):
        self.rows: dict[str, list] = {k: [] for k in (
            "y", "t0_ns", "name", "status", "a_V", "c_ns", "tau_s_ns", "tau_ns",
            "chi2_ndf", "charge_pC", "window_charge_pC", "noise_V")}
        self.seen: set[str] = set()
        self.w: np.ndarray | None = None  # the chunk's window sums

    def _add(self, p, res, q, names, i, label):
        r = self.rows
        r["y"].append(p.y[i].astype(np.float32))
        r["t0_ns"].append(p.t0_ns[i])
        r["name"].append(names[i])
        r["status"].append(label)
        for k in ("a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf"):
            r[k].append(getattr(res, k)[i])
        r["charge_pC"].append(q[i])
        r["window_charge_pC"].append(self.w[i] if self.w is not None else q[i])
        r["noise_V"].append(p.noise_V[i])

    def feed(self, p: Prepared, res, q: np.ndarray, names: list[str], first: bool,
             w: np.ndarray | None = None) -> None:
        self.w = w
        counted = p.counted & np.isfinite(q)
        if first:
            u = np.nonzero(counted)[0]
            if u.size:
                order = u[np.argsort(q[u], kind="stable")]
                for f in (0.5, 0.9, 0.1):  # charges are negative: 0.9 is the smallest |Q|
                    i = int(order[min(int(round(f * (order.size - 1))), order.size - 1)])
                    self._add(p, res, q, names, i, Status.OK.label)
        cats = [(f"fit {s.label}", counted & (res.status == s))
                for s in (Status.NOT_CONVERGED, Status.AT_BOUND)]
        cats += [(s.label, p.status == s) for s in (Status.CLIPPED, Status.PRE_PULSE)]
        if p.passed_cut is not None:
            cats.append(("fails the cut", counted & ~p.passed_cut))
        for label, mask in cats:
            if label in self.seen or (label.startswith("fit") and
                                      any(x.startswith("fit") for x in self.seen)):
                continue
            hit = np.nonzero(mask)[0]
            if hit.size:
                self.seen.add(label)
                self._add(p, res, q, names, int(hit[0]), label)


def _linear_fit_result(prep: Prepared, shape: Shape, q: np.ndarray) -> _pulse.FitResult:
    """Fit columns where no per-flash fit is meaningful: the linear charge itself."""
    r = _pulse.empty_result(prep.n)
    status = np.where(prep.counted, Status.LINEAR, prep.status).astype(np.int8)
    full = float(charge_pC(shape.tau_ns - shape.tau_s_ns))
    c = prep.counted
    r["charge_pC"][c] = q[c]
    r["charge_full_pC"][c] = q[c]
    r["a_V"][c] = q[c] / full if full else np.nan
    r["c_ns"][c] = shape.c_ns + prep.t0_ns[c]
    r["tau_s_ns"][:] = shape.tau_s_ns
    r["tau_ns"][:] = shape.tau_ns
    return _pulse.FitResult(status=status, shape=shape, **r)


def _fit_chunk(p: Prepared, shape: Shape, q: np.ndarray, engine: str,
               config: FitConfig) -> _pulse.FitResult:
    """The per-flash fit columns of one chunk: the engine where each flash stands clear
    of the noise (a free onset), else the linear charge itself (the integral engine is
    linear and always runs)."""
    if not shape.free_onset and engine != "integral":
        return _linear_fit_result(p, shape, q)
    return get_engine(engine)(p, config, shape)


@dataclass
class Measured:
    """Every readable flash of a point, in reading order (see :func:`measure_flashes`)."""

    cols: dict[str, np.ndarray]  # idx, segment, trig, status, q, w, x, passed, fit_*, ...
    ped_var_pC2: float  # variance of the per-flash charge on noise alone
    ped_var_window_pC2: float  # the same for the window sum
    ped_err_pC2: float = float("nan")  # the statistical error of ped_var_pC2
    ped_note: str = ""  # why the pedestal could not be measured
    examples: dict[str, list] = field(default_factory=dict)
    per_flash: str = "filter"  # which charge is each flash's (``q``): filter or window
    afterpulses: dict = field(default_factory=dict)  # ap_* (pmtgain.point.afterpulse)


def measure_flashes(reader: ChunkReader, scan: Scan, est: ChargeEstimator, shape: Shape,
                    names: list[str], *, engine: str = DEFAULT_ENGINE, cut_V: float | None = None,
                    config: FitConfig = DEFAULT_FIT, choose: bool = True) -> Measured:
    """The second pass (see the module docstring); ``choose``: the per-flash charge is
    the quieter of the filter and the window sum (False: always the filter's, as an
    LED-off run measured with a point's estimator needs)."""
    geom = scan.geometry
    dt_s = scan.dt_ns * 1e-9
    cols: dict[str, list] = {k: [] for k in (
        "idx", "segment", "trig", "status", "q", "w", "x", "passed", "fit_status",
        *_FIT_KEYS, "amplitude_V", "baseline_V", "noise_V", "pre_min_V", "pre_max_V")}
    ped_acc = PedestalAccumulator(geom.base_index(), est.k_lo, est.k_hi, scan.mean_pulse)
    picker = _ExamplePicker()
    after = AfterpulseCounter(scan.mean_pulse.size, est.k_hi, geom.k_on, scan.dt_ns,
                              scan.noise_ref)
    first = True
    for mt in reader:
        if mt.volts.shape[0] == 0:
            continue
        p = prepare(mt.volts, mt.t0_s, dt_s, cut_V, mt.clipped, config, geom,
                    scan.noise_ref, overwrite=True)  # the chunk's volts are its own
        q, w_sum, x_sum = est.measure(p.y)
        c = p.counted
        ped_acc.add(p.y, p.baseline_V, c)
        after.add(p.y, np.ones(p.n, bool))  # every readable flash: mu is over them all
        res = _fit_chunk(p, shape, q, engine, config)
        picker.feed(p, res, q, [names[k] for k in mt.ok_index], first, w_sum)
        first = False
        cols["idx"].append(mt.ok_index)
        cols["segment"].append(mt.segment)
        cols["trig"].append(mt.trigger_time_s)
        cols["status"].append(p.status)
        cols["q"].append(q)
        cols["w"].append(w_sum)
        cols["x"].append(x_sum)
        cols["passed"].append(p.passed_cut if p.passed_cut is not None else
                              np.zeros(p.n, bool))
        cols["fit_status"].append(np.where(c, res.status, -1))
        for k in _FIT_KEYS:
            v = getattr(res, k)
            cols[k].append(np.where(c, v, np.nan) if k == "charge_full_pC" else v)
        for k in ("amplitude_V", "baseline_V", "noise_V", "pre_min_V", "pre_max_V"):
            cols[k].append(getattr(p, k))
    a = {k: np.concatenate(v) for k, v in cols.items()}
    pf = ped_acc.variance(est.weights)
    pw = ped_acc.variance(np.full(est.k_hi - est.k_lo, est.unit))
    # the per-flash charge is the quieter of the two (both have the same mean): the filter
    # where noise dominates, the window sum at high signal, where a flash's own shape
    # (onset jitter, a late photoelectron) differs from the mean pulse by more than the
    # window's noise
    c = a["status"] == Status.OK
    how = "filter"
    ped = pf
    if choose and c.sum() > 2 and np.var(a["w"][c]) < np.var(a["q"][c]):
        a["q"], ped, how = a["w"].copy(), pw, "window"
        picker.rows["charge_pC"] = list(picker.rows["window_charge_pC"])
    return Measured(cols=a, ped_var_pC2=ped.var_pC2, ped_var_window_pC2=pw.var_pC2,
                    ped_err_pC2=ped.err_pC2, ped_note=ped.note, examples=picker.rows,
                    per_flash=how, afterpulses=after.fields())

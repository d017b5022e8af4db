"""Process one (PMT, HV) point: files -> charges -> summary. The core of the package.

What to use when
----------------
- :func:`process_point` - the one pure function every executor calls (local process pool,
  HTCondor job): local ``.trc`` files in, :class:`PointResult` out. No network, no
  global state; the same inputs give the same outputs.
- :func:`summarize` - the summary of a per-waveform table (also used after merging).
- :class:`pmtgain.store.PointResult` - what it returns; ``.save`` writes the per-point
  files an executor keeps so that a re-run resumes (:mod:`pmtgain.store`).
- :func:`pick_examples` - a few waveforms of the point kept with their fits (typical,
  small, large, a fallback and one of each rejection) for the diagnostic plots; a
  result's ``examples`` (see :mod:`pmtgain.plots`).

Summary columns (charges in pC, negative as in the original; ``|Q|`` is plotted). Every
statistic is over *every flash that counts* (readable, not clipped, no pulse in the
baseline region: :mod:`pmtgain.prepare`), with the linear charge of :mod:`pmtgain.charge`;
none depends on a selection on the flash's own signal:

- ``mean_charge``, ``std_dev_charge`` (ddof=1): the original's two numbers, now per LED
  flash over all flashes; ``sem_charge`` = std/sqrt(n), ``median_charge``;
- ``mean_charge_err``: the error of the mean, sqrt(sem^2 + shape error^2), where
  ``mean_charge_shape_err_pC`` propagates the uncertainty of the point's pulse shape;
- ``std_fit_charge``: the noise of each flash's charge (pedestal rms), and
  ``std_charge_corrected`` = sqrt(std^2 - std_fit^2): the spread of the true charges;
- ``mean_charge_cut``, ``std_dev_charge_cut``, ``n_cut``, ``cut_removed_fraction``,
  ``cut_bias_pC`` +- ``cut_bias_err_pC``, ``cut_flag``: the original's cut, as its own
  numbers (:func:`pmtgain.charge.cut_statistics`); no cut column, no cut;
- ``mean_charge_fit``, ``std_dev_charge_fit``: the per-flash fit (engine), only where
  each flash stands clear of the noise (``free_onset``), for comparison;
- ``n_files`` (files; a sequence-mode file holds many flashes), ``n_flashes`` (readable),
  ``n_used`` (flashes that count), ``rejected_<reason>`` (clipped and pre_pulse flashes,
  unreadable files);
- the shape (``tau_s_ns``, ``tau_ns``, ``jitter_ns``, ``onset_ns`` with ``*_err_ns``) and
  where it came from (``shape_source``: ``own``, ``table`` or ``own-weak``, with
  ``shape_note``), ``tail_missing_fraction``, the LED window, median noise and baseline;
- photostatistics (:mod:`pmtgain.photostat`): ``ps_*`` moments, ``gain``, ``gain_err``,
  ``n_pe``, ``gain_flag``; and ``point_flag``: everything a physicist should look at.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import photostat as _photostat
from . import pulse as _pulse
from .charge import (
    _autocov,
    charge_statistics,
    cut_statistics,
    linear_estimator,
    pedestal_from_autocov,
    shape_error_pC,
)
from .config import ANALYSIS_VERSION, DEFAULT_FIT, FitConfig
from .engines import engine as get_engine
from .flashes import ChunkReader
from .model import NS, USED, Status, charge_pC
from .prepare import Prepared, locate, prepare, pulse_snr, tally
from .shape import Shape, ShapeTable, is_weak, point_shape, shape_from_table
from .store import PointResult, load_point, string_codes  # noqa: F401  (re-exported)

WAVEFORM_COLUMNS = ("file", "segment", "trigger_time_s", "status", "reason", "charge_pC",
                    "sigma_charge_pC", "passed_cut",
                    "fit_status", "fit_charge_pC", "a_V", "c_ns", "tau_s_ns", "tau_ns",
                    "chi2_ndf", "amplitude_V", "baseline_V", "noise_V")
#: flashes processed at once: memory stays flat however many a point has
CHUNK_FLASHES = 1024
#: counted flashes kept for the sandwich errors of the shape fit (a covariance estimate)
SHAPE_SAMPLE = 1000
_FIT_KEYS = ("charge_full_pC", "a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf")


def _examples(rows: dict[str, list], p0: Prepared, shape: Shape) -> dict[str, np.ndarray]:
    """The examples dict (see :func:`process_point`) from the collected rows."""
    t0 = float(np.median(p0.t0_ns)) if p0.n else 0.0
    shp = np.array([shape.a_V, shape.c_ns + t0, shape.tau_s_ns, shape.tau_ns,
                    shape.jitter_ns])
    out = {k: np.array(v) for k, v in rows.items() if k != "y"}
    out["y"] = np.array(rows["y"], dtype=np.float32).reshape(len(rows["y"]), -1)
    out["name"] = out["name"].astype(str)
    out["status"] = out["status"].astype(str)
    out.update(dt_ns=np.float64(p0.dt_ns), k_lo=np.int64(p0.k_lo), k_hi=np.int64(p0.k_hi),
               k_base=np.int64(p0.k_base), t0_point_ns=np.float64(t0),
               mean_pulse=p0.mean_pulse.astype(np.float32), shape=shp)
    return out


class _ExamplePicker:
    """A few flashes with their fits, for the diagnostic plots: the counted flashes of
    the first chunk nearest the 10 %, 50 % and 90 % charge quantiles, then the first fit
    fallback, the first flash of each kind that does not count (clipped, pre_pulse) and
    the first that fails the cut, wherever they are. Deterministic; bounded memory."""

    def __init__(self):
        self.rows: dict[str, list] = {k: [] for k in (
            "y", "t0_ns", "name", "status", "a_V", "c_ns", "tau_s_ns", "tau_ns",
            "chi2_ndf", "charge_pC", "noise_V")}
        self.seen: set[str] = set()

    def _add(self, p, res, q, names, i, label):
        r = self.rows
        r["y"].append(p.y[i].astype(np.float32))
        r["t0_ns"].append(p.t0_ns[i])
        r["name"].append(names[i])
        r["status"].append(label)
        for k in ("a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf"):
            r[k].append(getattr(res, k)[i])
        r["charge_pC"].append(q[i])
        r["noise_V"].append(p.noise_V[i])

    def feed(self, p: Prepared, res, q: np.ndarray, names: list[str], first: bool) -> None:
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


def _labels(col: pd.Series) -> np.ndarray:
    """A column's values as a numpy string array (:func:`pmtgain.store.string_codes`)."""
    uniq, codes = string_codes(col)
    return uniq[codes]


def summarize(table: pd.DataFrame, **info) -> dict:
    """Summary of a per-flash table (see the module docstring). The pedestal variance
    comes from ``info['ps_ped_var_pC2']`` (it needs the traces, not the table)."""
    st = _labels(table["status"])
    q_all = pd.to_numeric(table["charge_pC"], errors="coerce").to_numpy(float)
    counted = (st == Status.OK.label) & np.isfinite(q_all)
    q = q_all[counted]
    ped = float(info.get("ps_ped_var_pC2", float("nan")) or float("nan"))
    out = dict(info)
    out.update(charge_statistics(q, ped))
    passed = None
    if info.get("cut_V") is not None and "passed_cut" in table.columns:
        pc = table["passed_cut"].to_numpy()
        passed = pc.astype(bool) if pc.dtype == bool else \
            np.array([x is True or str(x).lower() == "true" for x in pc])
        passed = passed[counted]
    out.update(cut_statistics(q, passed, float(info.get("cut_bias_sigma", 3.0))))
    fit_st = _labels(table["fit_status"]) if "fit_status" in table else None
    unreadable = st == Status.UNREADABLE.label
    out["n_files"] = int(table["file"].nunique())
    out["n_flashes"] = int(len(table) - unreadable.sum())
    if fit_st is not None:
        fq = pd.to_numeric(table["fit_charge_pC"], errors="coerce").to_numpy(float)
        fitted = counted & np.isin(fit_st, [s.label for s in USED]) & np.isfinite(fq)
        out.update(
            n_fit_ok=int((counted & (fit_st == Status.OK.label)).sum()),
            n_fallback=int((counted & np.isin(fit_st, ["not_converged", "at_bound"])).sum()),
            mean_charge_fit=float(fq[fitted].mean()) if fitted.any() else float("nan"),
            std_dev_charge_fit=float(fq[fitted].std(ddof=1)) if fitted.sum() > 1
            else float("nan"))
    for s in (Status.CLIPPED, Status.PRE_PULSE):
        out[f"rejected_{s.label}"] = int((st == s.label).sum())
    out["rejected_unreadable"] = int(table.loc[unreadable, "file"].nunique())
    return out


def _choose_shape(prep: Prepared, pmt: int, hv: int, config: FitConfig,
                  shapes: ShapeTable | None) -> tuple[Shape, str, str]:
    """The point's shape, where it came from, and why (see :mod:`pmtgain.shape`)."""
    own = point_shape(prep, config)
    why = is_weak(own, config)
    if not why:
        return own, "own", ""
    tab = shapes.interpolate(pmt, hv) if shapes is not None else None
    if tab is not None:
        shape = shape_from_table(prep, tab, config)
        return shape, "table", f"own mean pulse too weak ({why}); rise, fall and jitter " \
            f"from {len(shapes.for_pmt(pmt))} better-measured point(s) of PMT {pmt}"
    if not np.isfinite(own.tau_ns) or not own.ok:
        shape = shape_from_table(prep, (config.tau_s_start_ns, config.tau_start_ns,
                                        config.jitter_start_ns), config)
        return shape, "default", f"{why}; no shape table: the default shape was used"
    return own, "own-weak", f"{why}; no shape table for PMT {pmt}"


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


def process_point(
    files: Sequence[str | os.PathLike],
    *,
    pmt: int,
    hv: int,
    cut_V: float | None = None,
    engine: str = "fast",
    config: FitConfig = DEFAULT_FIT,
    missing: Sequence[tuple[str, str]] = (),
    enf: float = _photostat.DEFAULT_ENF,
    shapes: ShapeTable | None = None,
    chunk: int = CHUNK_FLASHES,
) -> PointResult:
    """Read, measure and summarise the ``.trc`` files of one (PMT, HV) point.

    The point's statistics use the linear charge of every flash that counts
    (:mod:`pmtgain.charge`); ``engine`` (fast, root, integral) fills the per-flash fit
    columns where a fit is meaningful. ``shapes``: the PMT's shape table, used when the
    point's own mean pulse is too weak for its shape (:func:`pmtgain.shape.is_weak`).
    ``missing`` lists files that never arrived (``(name, reason)``, from fetching): they
    appear in the table as ``unreadable`` so that the summary accounts for every file.
    Unreadable files are reported, never raised: one bad file never loses the point.
    Raises ``ValueError`` only when no flash at all can be measured.

    Flashes are processed in chunks of ``chunk`` (:class:`pmtgain.flashes.ChunkReader`):
    the first chunk locates the LED window and sets the noise scale of the pre-pulse test;
    a first pass over all chunks builds the mean pulse of every counted flash (the shape);
    a second computes each flash's charge, fit and table row. Memory stays flat at any
    number of flashes; a point of one chunk gives the same numbers as an unchunked one.
    """
    files = [os.fspath(f) for f in files]
    names = [f.rpartition(os.sep)[2] for f in files]  # basename, at a tenth of the cost
    reader = ChunkReader(files, chunk=chunk)
    info = dict(pmt=int(pmt), hv=int(hv), engine=engine, cut_V=cut_V,
                analysis_version=ANALYSIS_VERSION, cut_bias_sigma=config.cut_bias_sigma)
    geom = noise_ref = None
    dt_s = float("nan")
    n_all = n_c = n_clip = n_pre = 0
    s_sum = None
    sample: list[np.ndarray] = []
    t0_first = None
    # pass 1: the LED window, which flashes count, the mean pulse of those that do
    for mt in reader:
        if mt.volts.shape[0] == 0:
            continue
        if geom is None:
            dt_s = mt.dt_s
            geom = locate(mt.volts, mt.clipped, dt_s, config)
        t = tally(mt.volts, mt.clipped, geom, noise_ref, config)
        if noise_ref is None:  # the first chunk's scale serves every chunk
            noise_ref, t0_first = t.noise_ref, np.asarray(mt.t0_s, float) / NS
        c = t.counted
        s_sum = t.y_sum if s_sum is None else s_sum + t.y_sum
        n_all += c.size
        n_c += t.n_counted
        n_clip += int((t.status == Status.CLIPPED).sum())
        n_pre += int((t.status == Status.PRE_PULSE).sum())
        room = SHAPE_SAMPLE - sum(len(x) for x in sample)
        if room > 0:
            sample.append(mt.volts[c][:room] - t.baseline_V[c][:room, None])
    rows_bad = [(os.path.basename(f), r) for f, r in reader.errors] + [
        (os.path.basename(n), r) for n, r in missing]
    if n_all == 0:
        reasons = "; ".join(f"{n}: {r}" for n, r in rows_bad[:3])
        raise ValueError(f"PMT {pmt} at {hv} V: none of the {len(files) + len(missing)} "
                         f"files could be read ({reasons})")
    if n_c == 0:
        raise ValueError(f"PMT {pmt} at {hv} V: no flash can be measured: of {n_all} "
                         f"readable, {n_clip} clipped at the ADC range and {n_pre} with a "
                         "pulse in the baseline region")
    mean_pulse = s_sum / n_c
    snr, mean_snr = pulse_snr(mean_pulse[geom.kpk], noise_ref, n_c)
    if not mean_snr >= config.min_mean_pulse_snr:  # also NaN: no noise, no pulse
        raise ValueError(f"PMT {pmt} at {hv} V: no LED pulse in the mean of all {n_c} "
                         f"flashes (its deepest point is {mean_snr:.1f} noise rms; flat "
                         "or empty records?)")
    ys = np.concatenate(sample)
    p0 = Prepared(y=ys, t0_ns=t0_first, dt_ns=dt_s * 1e9, baseline_V=np.zeros(len(ys)),
                  noise_V=np.full(len(ys), noise_ref), amplitude_V=np.zeros(len(ys)),
                  raw_min_V=np.zeros(len(ys)), kmin=np.zeros(len(ys), int),
                  status=np.zeros(len(ys), np.int8), k_lo=geom.k_lo, k_hi=geom.k_hi,
                  k_base=geom.k_base, k_edge=geom.k_edge, mean_pulse=mean_pulse,
                  onset_ns=geom.k_on * dt_s * 1e9, snr=snr, mean_snr=mean_snr)
    shape, source, note = _choose_shape(p0, pmt, hv, config, shapes)
    shape.free_onset = bool(source == "own" and snr >= config.free_onset_snr)
    est = linear_estimator(p0, shape)
    del sample, ys
    # pass 2: every flash's charge, fit and table row
    cols: dict[str, list] = {k: [] for k in (
        "idx", "segment", "trig", "status", "q", "passed", "fit_status", *_FIT_KEYS,
        "amplitude_V", "baseline_V", "noise_V")}
    ac_sum, ac_rows, m_base = None, 0, geom.k_base - geom.k_edge
    picker = _ExamplePicker()
    first = True
    for mt in reader:
        if mt.volts.shape[0] == 0:
            continue
        p = prepare(mt.volts, mt.t0_s, dt_s, cut_V, mt.clipped, config, geom, noise_ref,
                    overwrite=True)  # the chunk's volts are its own
        q = est.apply(p.y)
        c = p.counted
        z = p.y[c, p.k_edge:p.k_base]
        if z.shape[0] and m_base >= 8:
            ac = _autocov(z, max(len(est.weights), m_base)) * z.shape[0]
            ac_sum = ac if ac_sum is None else ac_sum + ac
            ac_rows += z.shape[0]
        res = _fit_chunk(p, shape, q, engine, config)
        chunk_names = [names[k] for k in mt.ok_index]
        picker.feed(p, res, q, chunk_names, first)
        first = False
        cols["idx"].append(mt.ok_index)
        cols["segment"].append(mt.segment)
        cols["trig"].append(mt.trigger_time_s)
        cols["status"].append(p.status)
        cols["q"].append(q)
        cols["passed"].append(p.passed_cut if p.passed_cut is not None else
                              np.zeros(p.n, bool))
        cols["fit_status"].append(np.where(c, res.status, -1))
        for k in _FIT_KEYS:
            v = getattr(res, k)
            cols[k].append(np.where(c, v, np.nan) if k == "charge_full_pC" else v)
        for k in ("amplitude_V", "baseline_V", "noise_V"):
            cols[k].append(getattr(p, k))
    a = {k: np.concatenate(v) for k, v in cols.items()}
    ped = pedestal_from_autocov(ac_sum / ac_rows, est.weights, m_base) \
        if ac_rows >= 2 else float("nan")
    labels = [s.label for s in Status]
    fit_codes = np.where(a["fit_status"] < 0, len(Status), a["fit_status"])
    n = len(a["q"])
    blank = pd.Categorical.from_codes(np.zeros(n, np.int8), [""])
    # file, status and fit status as categoricals: no Python object per row to build,
    # summarise or save (store.save_table writes the codes)
    file_col = pd.Categorical.from_codes(a["idx"], names) if len(set(names)) == len(names) \
        else np.array(names, dtype=object)[a["idx"]]
    table = pd.DataFrame({
        "file": file_col,
        "segment": a["segment"],
        "trigger_time_s": a["trig"],
        "status": pd.Categorical.from_codes(a["status"], labels),
        "reason": blank,
        "charge_pC": a["q"],
        "sigma_charge_pC": np.sqrt(max(ped, 0.0)) * a["noise_V"] / noise_ref
        if noise_ref > 0 else np.sqrt(max(ped, 0.0)),
        "passed_cut": a["passed"] if cut_V is not None else blank,
        "fit_status": pd.Categorical.from_codes(fit_codes, labels + [""]),
        "fit_charge_pC": a["charge_full_pC"],
        **{k: a[k] for k in ("a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf",
                             "amplitude_V", "baseline_V", "noise_V")},
    })
    if rows_bad:
        bad = pd.DataFrame({"file": [n for n, _ in rows_bad], "segment": 0,
                            "status": Status.UNREADABLE.label,
                            "reason": [r for _, r in rows_bad]})
        table = pd.concat([table, bad], ignore_index=True)[list(WAVEFORM_COLUMNS)]
        table = table.sort_values(["file", "segment"], kind="stable").reset_index(drop=True)
    dt = dt_s * 1e9
    t0 = float(np.median(t0_first))
    info.update(
        tau_s_ns=shape.tau_s_ns, tau_ns=shape.tau_ns, jitter_ns=shape.jitter_ns,
        tau_s_err_ns=shape.tau_s_err_ns, tau_err_ns=shape.tau_err_ns,
        jitter_err_ns=shape.jitter_err_ns, onset_err_ns=shape.c_err_ns,
        onset_ns=shape.c_ns + t0, free_onset=bool(shape.free_onset),
        shape_source=source, shape_note=note, snr=snr, mean_pulse_snr=mean_snr,
        tail_missing_fraction=est.tail_missing_fraction,
        window_lo_ns=t0 + geom.k_lo * dt, window_hi_ns=t0 + (geom.k_hi - 1) * dt,
        noise_V=noise_ref, baseline_V=float(np.median(a["baseline_V"])),
        ps_ped_var_pC2=ped, ps_clipped_fraction=n_clip / n_all,
    )
    summary = summarize(table, **info)
    shape_err = shape_error_pC(p0, shape)
    summary.update(mean_charge_shape_err_pC=shape_err,
                   mean_charge_err=float(np.hypot(summary["sem_charge"], shape_err)))
    g, g_err, mu = _photostat.gain_from_moments(
        summary["ps_mean_pC"], summary["ps_var_pC2"], ped, summary["ps_var_err_pC2"],
        summary["ps_mean_err_pC"], summary["ps_cov_pC3"], enf)
    summary.update(enf=enf, gain=float(g), gain_err=float(g_err), n_pe=float(mu),
                   gain_flag=_photostat.flags(float(mu), n_clip / n_all, float(g),
                                              float(g_err)))
    summary["point_flag"] = point_flags(summary, config)
    return PointResult(summary=summary, table=table,
                       examples=_examples(picker.rows, p0, shape))


def point_flags(s: dict, config: FitConfig = DEFAULT_FIT) -> str:
    """Everything about a point a physicist should look at ('' if nothing)."""
    out = []
    if s.get("rejected_clipped"):
        out.append(f"{s['rejected_clipped']} clipped flash(es) left out: mean biased low")
    miss = s.get("tail_missing_fraction")
    if miss is not None and np.isfinite(miss) and miss > config.max_tail_missing:
        out.append(f"record ends before the tail: {100 * miss:.1f}% of the charge "
                   "extrapolated")
    if s.get("cut_flag"):
        out.append(s["cut_flag"])
    if s.get("shape_source") in ("own-weak", "default"):
        out.append(f"pulse shape: {s.get('shape_note')}")
    snr = s.get("mean_pulse_snr")
    if snr is not None and np.isfinite(snr) and snr < 2 * config.min_mean_pulse_snr:
        out.append(f"the LED pulse is barely visible in the mean of all flashes "
                   f"({snr:.1f} noise rms)")
    return "; ".join(out)

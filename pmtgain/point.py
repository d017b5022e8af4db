"""Process one (PMT, HV) point: files -> charges -> summary. The core of the package.

What to use when
----------------
- :func:`process_point` - the one pure function every executor calls (local process pool,
  HTCondor job): local ``.trc`` files in, :class:`PointResult` out. No network, no
  global state; the same inputs give the same outputs.
- :func:`summarize` - the summary of a per-waveform table (also used after merging).
- :meth:`PointResult.save` / :func:`load_point` - the per-point files an executor writes
  (``<key>_waveforms.csv``, ``<key>_examples.npz`` and ``<key>_summary.json``) so that a
  re-run resumes.
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

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import photostat as _photostat
from . import pulse as _pulse
from .charge import (
    charge_statistics,
    cut_statistics,
    linear_estimator,
    pedestal_variance,
    shape_error_pC,
)
from .config import ANALYSIS_VERSION, DEFAULT_FIT, FitConfig
from .flashes import read_many
from .model import USED, Status, charge_pC
from .prepare import Prepared, prepare
from .shape import Shape, ShapeTable, is_weak, point_shape, shape_from_table

WAVEFORM_COLUMNS = ("file", "segment", "trigger_time_s", "status", "reason", "charge_pC",
                    "sigma_charge_pC", "passed_cut",
                    "fit_status", "fit_charge_pC", "a_V", "c_ns", "tau_s_ns", "tau_ns",
                    "chi2_ndf", "amplitude_V", "baseline_V", "noise_V")


@dataclass
class PointResult:
    summary: dict
    table: pd.DataFrame
    examples: dict[str, np.ndarray] | None = None  # see pick_examples

    @property
    def key(self) -> str:
        return f"pmt_{self.summary['pmt']}_{self.summary['hv']}"

    def save(self, directory: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<key>_waveforms.csv``, ``<key>_examples.npz`` and ``<key>_summary.json``
        atomically, the summary last (its presence means the point is done). Temporary
        names carry the process id, so concurrent runs never share one; on a failure
        (a full disk) they are removed and the OSError says which file."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        table = d / f"{self.key}_waveforms.csv"
        summ = d / f"{self.key}_summary.json"
        tag = f"{os.getpid()}.part"
        tmps = [table.with_name(f".{table.name}.{tag}"), summ.with_name(f".{summ.name}.{tag}")]
        try:
            write_csv(self.table, tmps[0])
            os.replace(tmps[0], table)
            if self.examples is not None:
                save_examples(self.examples, d / f"{self.key}_examples.npz")
            summary = dict(self.summary, table_rows=len(self.table))
            tmps[1].write_text(json.dumps(_jsonable(summary), indent=1))
            os.replace(tmps[1], summ)
        except OSError as exc:
            for t in tmps:
                t.unlink(missing_ok=True)
            raise OSError(exc.errno, f"cannot save the point in {d}: "
                          f"{exc.strerror or exc}") from None
        return table, summ


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """A plain CSV of ``df`` (shortest round-trip floats, empty for NaN): 3x faster than
    ``DataFrame.to_csv`` with a float format, which formats value by value."""
    cols = []
    for c in df.columns:
        v = df[c].to_numpy()
        if v.dtype.kind == "f":
            if np.isnan(v).any():
                cols.append(["" if x != x else repr(x) for x in v.tolist()])
            else:
                cols.append(list(map(repr, v.tolist())))
        elif v.dtype.kind in "iub":
            cols.append(list(map(str, v.tolist())))
        else:
            vals = v.tolist()
            if all(type(x) is str for x in vals) and not _SPECIAL.search("".join(vals)):
                cols.append(vals)  # nothing to quote (file names, statuses)
            else:
                cols.append([_csv_field(x) for x in vals])
    with open(path, "w", newline="") as f:
        f.write(",".join(map(_csv_field, df.columns)) + "\n")
        f.writelines(",".join(row) + "\n" for row in zip(*cols, strict=True))


_SPECIAL = re.compile(r'[,"\n\r]')


def _csv_field(x) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return ""
    s = str(x)
    if any(ch in s for ch in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out


def save_examples(examples: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write examples (see :func:`pick_examples`) to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **examples)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_examples(path: str | os.PathLike) -> dict[str, np.ndarray] | None:
    """Examples saved by :func:`save_examples`, or None if absent, empty or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            ex = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None
    return ex if "y" in ex else None


def load_point(directory: str | os.PathLike, pmt: int, hv: int) -> PointResult | None:
    """The saved result of a point, or None when it is missing or incomplete."""
    d = Path(directory)
    summ = d / f"pmt_{pmt}_{hv}_summary.json"
    table = d / f"pmt_{pmt}_{hv}_waveforms.csv"
    if not (summ.exists() and table.exists()):
        return None
    try:
        summary = json.loads(summ.read_text())
        if not isinstance(summary, dict):
            return None
        tab = pd.read_csv(table)
        # a table cut short (a crash, a full disk, a hand edit) is not a finished point
        if "table_rows" in summary and len(tab) != summary["table_rows"]:
            return None
        return PointResult(summary=summary, table=tab,
                           examples=load_examples(d / f"pmt_{pmt}_{hv}_examples.npz"))
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError):
        return None


def pick_examples(prep: Prepared, res: _pulse.FitResult, q: np.ndarray,
                  files: Sequence[str]) -> dict[str, np.ndarray]:
    """A few flashes of a point with their fits, for the diagnostic plots.

    Chosen deterministically: the counted flashes nearest the 10 %, 50 % and 90 % charge
    quantiles, then the first fit fallback and the first flash of each kind that does not
    count (clipped, pre_pulse) or fails the cut. Arrays: ``y`` (m, N) baseline-subtracted
    volts (float32), ``t0_ns`` (m,) time of sample 0, ``name`` (file), ``status``, the fit's
    ``a_V``, ``c_ns`` (absolute onset), ``tau_s_ns``, ``tau_ns``, ``chi2_ndf``, ``charge_pC``
    (the linear charge); the point's ``dt_ns``, window ``k_lo``/``k_hi``, baseline end
    ``k_base``, ``mean_pulse`` and its shape ``shape`` = (a, c_abs, tau_s, tau, jitter) in V
    and ns. The fitted pulse of example i is
    ``pulse(t0_ns[i] + k dt_ns, a_V[i], c_ns[i], tau_s_ns[i], tau_ns[i])``.
    """
    st = prep.status
    fit_st = res.status
    counted = prep.counted & np.isfinite(q)
    idx: list[int] = []
    u = np.nonzero(counted)[0]
    if u.size:
        order = u[np.argsort(q[u], kind="stable")]
        for f in (0.5, 0.9, 0.1):  # charges are negative: 0.9 is the smallest |Q|
            idx.append(int(order[min(int(round(f * (order.size - 1))), order.size - 1)]))
    labels = {}
    for s in (Status.NOT_CONVERGED, Status.AT_BOUND):
        hit = np.nonzero(counted & (fit_st == s))[0]
        if hit.size:
            idx.append(int(hit[0]))
            labels[int(hit[0])] = f"fit {s.label}"
            break
    for s in (Status.CLIPPED, Status.PRE_PULSE):
        hit = np.nonzero(st == s)[0]
        if hit.size:
            idx.append(int(hit[0]))
    if prep.passed_cut is not None:
        hit = np.nonzero(counted & ~prep.passed_cut)[0]
        if hit.size and int(hit[0]) not in idx:
            idx.append(int(hit[0]))
            labels[int(hit[0])] = "fails the cut"
    idx = list(dict.fromkeys(idx))
    sel = np.array(idx, dtype=int)
    shape = res.shape
    t0 = float(np.median(prep.t0_ns)) if prep.n else 0.0
    shp = (np.array([shape.a_V, shape.c_ns + t0, shape.tau_s_ns, shape.tau_ns,
                     shape.jitter_ns]) if shape is not None else np.full(5, np.nan))
    return dict(
        y=prep.y[sel].astype(np.float32),
        t0_ns=prep.t0_ns[sel],
        name=np.array([os.path.basename(files[i]) for i in idx], dtype=str),
        status=np.array([labels.get(i, Status(int(st[i])).label) for i in idx], dtype=str),
        a_V=res.a_V[sel], c_ns=res.c_ns[sel], tau_s_ns=res.tau_s_ns[sel],
        tau_ns=res.tau_ns[sel], chi2_ndf=res.chi2_ndf[sel], charge_pC=q[sel],
        noise_V=prep.noise_V[sel],
        dt_ns=np.float64(prep.dt_ns), k_lo=np.int64(prep.k_lo), k_hi=np.int64(prep.k_hi),
        k_base=np.int64(prep.k_base), t0_point_ns=np.float64(t0),
        mean_pulse=prep.mean_pulse.astype(np.float32), shape=shp,
    )


def summarize(table: pd.DataFrame, **info) -> dict:
    """Summary of a per-flash table (see the module docstring). The pedestal variance
    comes from ``info['ps_ped_var_pC2']`` (it needs the traces, not the table)."""
    st = table["status"].astype(str)
    q_all = pd.to_numeric(table["charge_pC"], errors="coerce").to_numpy(float)
    counted = (st == Status.OK.label).to_numpy() & np.isfinite(q_all)
    q = q_all[counted]
    ped = float(info.get("ps_ped_var_pC2", float("nan")) or float("nan"))
    out = dict(info)
    out.update(charge_statistics(q, ped))
    passed = None
    if info.get("cut_V") is not None and "passed_cut" in table.columns:
        pc = table["passed_cut"].to_numpy()
        passed = np.array([x is True or str(x).lower() == "true" for x in pc])[counted]
    out.update(cut_statistics(q, passed, float(info.get("cut_bias_sigma", 3.0))))
    fit_st = table["fit_status"].astype(str).to_numpy() if "fit_status" in table else None
    counts = st.value_counts()
    out["n_files"] = int(table["file"].nunique())
    out["n_flashes"] = int(len(table) - counts.get(Status.UNREADABLE.label, 0))
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
        out[f"rejected_{s.label}"] = int(counts.get(s.label, 0))
    out["rejected_unreadable"] = int(table.loc[st == Status.UNREADABLE.label, "file"].nunique())
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
    """
    files = [os.fspath(f) for f in files]
    traces = read_many(files)
    n_req = len(files)
    rows_bad = [(os.path.basename(p), reason) for p, reason in traces.errors] + [
        (os.path.basename(n), reason) for n, reason in missing]
    info = dict(pmt=int(pmt), hv=int(hv), engine=engine, cut_V=cut_V,
                analysis_version=ANALYSIS_VERSION, cut_bias_sigma=config.cut_bias_sigma)
    if traces.volts.shape[0] == 0:
        reasons = "; ".join(f"{n}: {r}" for n, r in rows_bad[:3])
        raise ValueError(f"PMT {pmt} at {hv} V: none of the {n_req + len(missing)} files "
                         f"could be read ({reasons})")
    if not np.isfinite(traces.volts).all():
        raise ValueError(f"PMT {pmt} at {hv} V: non-finite volts after conversion")
    prep = prepare(traces.volts, traces.t0_s, traces.dt_s, cut_V, traces.clipped, config)
    n_clip = int((prep.status == Status.CLIPPED).sum())
    n_pre = int((prep.status == Status.PRE_PULSE).sum())
    if not prep.counted.any():
        raise ValueError(f"PMT {pmt} at {hv} V: no flash can be measured: of "
                         f"{prep.n} readable, {n_clip} clipped at the ADC range and "
                         f"{n_pre} with a pulse in the baseline region")
    if not prep.mean_snr >= config.min_mean_pulse_snr:  # also NaN: no noise, no pulse
        raise ValueError(f"PMT {pmt} at {hv} V: no LED pulse in the mean of all "
                         f"{int(prep.counted.sum())} flashes (its deepest point is "
                         f"{prep.mean_snr:.1f} noise rms; flat or empty records?)")
    shape, source, note = _choose_shape(prep, pmt, hv, config, shapes)
    shape.free_onset = bool(source == "own" and prep.snr >= config.free_onset_snr)
    est = linear_estimator(prep, shape)
    q = est.apply(prep.y)
    ped = pedestal_variance(prep, est.weights, prep.counted)
    if not shape.free_onset and engine != "integral":
        res = _linear_fit_result(prep, shape, q)
    elif engine == "fast":
        res = _pulse.fit_fast(prep, config, shape)
    elif engine == "integral":
        res = _pulse.fit_integral(prep, config)
        res.shape = shape
    elif engine == "root":
        from . import rootfit  # ROOT is imported only in processes that fit with it

        res = rootfit.fit_root(prep, config, shape)
    else:
        raise ValueError(f"unknown engine {engine!r} (choose fast, root or integral)")
    med_noise = float(np.median(prep.noise_V[prep.counted]))
    sig = np.sqrt(max(ped, 0.0)) * prep.noise_V / med_noise if med_noise > 0 else \
        np.full(prep.n, np.sqrt(max(ped, 0.0)))
    fit_status = np.where(prep.counted, res.status, -1)
    names = [os.path.basename(p) for p in files]
    table = pd.DataFrame({
        "file": [names[k] for k in traces.ok_index],
        "segment": traces.segment,
        "trigger_time_s": traces.trigger_time_s,
        "status": [Status(s).label for s in prep.status],
        "reason": "",
        "charge_pC": q,
        "sigma_charge_pC": sig,
        "passed_cut": prep.passed_cut if prep.passed_cut is not None else "",
        "fit_status": ["" if s < 0 else Status(s).label for s in fit_status],
        "fit_charge_pC": np.where(prep.counted, res.charge_full_pC, np.nan),
        "a_V": res.a_V,
        "c_ns": res.c_ns,
        "tau_s_ns": res.tau_s_ns,
        "tau_ns": res.tau_ns,
        "chi2_ndf": res.chi2_ndf,
        "amplitude_V": prep.amplitude_V,
        "baseline_V": prep.baseline_V,
        "noise_V": prep.noise_V,
    })
    if rows_bad:
        bad = pd.DataFrame({"file": [n for n, _ in rows_bad], "segment": 0,
                            "status": Status.UNREADABLE.label,
                            "reason": [r for _, r in rows_bad]})
        table = pd.concat([table, bad], ignore_index=True)[list(WAVEFORM_COLUMNS)]
        table = table.sort_values(["file", "segment"], kind="stable").reset_index(drop=True)
    dt = prep.dt_ns
    t0 = float(np.median(prep.t0_ns))
    info.update(
        tau_s_ns=shape.tau_s_ns, tau_ns=shape.tau_ns, jitter_ns=shape.jitter_ns,
        tau_s_err_ns=shape.tau_s_err_ns, tau_err_ns=shape.tau_err_ns,
        jitter_err_ns=shape.jitter_err_ns, onset_err_ns=shape.c_err_ns,
        onset_ns=shape.c_ns + t0, free_onset=bool(shape.free_onset),
        shape_source=source, shape_note=note,
        snr=prep.snr, mean_pulse_snr=prep.mean_snr,
        tail_missing_fraction=est.tail_missing_fraction,
        window_lo_ns=t0 + prep.k_lo * dt, window_hi_ns=t0 + (prep.k_hi - 1) * dt,
        noise_V=med_noise, baseline_V=float(np.median(prep.baseline_V)),
        ps_ped_var_pC2=ped, ps_clipped_fraction=n_clip / prep.n,
    )
    summary = summarize(table, **info)
    shape_err = shape_error_pC(prep, shape)
    summary.update(mean_charge_shape_err_pC=shape_err,
                   mean_charge_err=float(np.hypot(summary["sem_charge"], shape_err)))
    g, g_err, mu = _photostat.gain_from_moments(
        summary["ps_mean_pC"], summary["ps_var_pC2"], ped, summary["ps_var_err_pC2"],
        summary["ps_mean_err_pC"], summary["ps_cov_pC3"], enf)
    summary.update(enf=enf, gain=float(g), gain_err=float(g_err), n_pe=float(mu),
                   gain_flag=_photostat.flags(float(mu), n_clip / prep.n, float(g),
                                              float(g_err)))
    summary["point_flag"] = point_flags(summary, config)
    return PointResult(summary=summary, table=table,
                       examples=pick_examples(prep, res, q, traces.ok_paths))


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

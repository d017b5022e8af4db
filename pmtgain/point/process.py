"""Process one (PMT, HV) point: files -> charges -> summary. The core of the package.

What to use when
----------------
- :func:`process_point` - the one pure function every executor calls (local process pool,
  HTCondor job): local ``.trc`` files in, :class:`PointResult` out. No network, no
  global state; the same inputs give the same outputs.
- :func:`summarize` - the summary of a per-waveform table (also used after merging).
- :class:`pmtgain.point.PointResult` - what it returns; its ``examples`` are a few flashes
  kept with their fits (typical, small, large, a fallback and one of each rejection) for
  the diagnostic plots. :func:`pmtgain.results.store.save_point` writes the files an
  executor keeps so that a re-run resumes.

Summary columns (every key with its unit and meaning: :mod:`pmtgain.point.schema`; charges
in pC, negative as in the original; ``|Q|`` is plotted). Every
statistic is over *every flash that counts* (readable, not clipped, no pulse in the
baseline region: :mod:`pmtgain.point.prepare`); none depends on a selection on the flash's own
signal:

- ``mean_charge``: the mean window sum, (dt/R) sum (V - baseline) over the window
  ``window_lo_ns .. window_hi_ns`` (:mod:`pmtgain.point.window`): what the scope recorded, no
  pulse model; ``sem_charge`` = std of the window sums / sqrt(n) (``std_dev_charge_window``);
- ``mean_charge_err``: the error of the mean, sqrt(sem^2 + window error^2), where
  ``mean_charge_window_err_pC`` is what a further half window holds (and, for a borrowed
  window, its position's error ``window_shift_err``, and a removed ripple's error);
- ``std_dev_charge`` (ddof=1), ``median_charge``: of the per-flash (filtered) charges,
  whose mean ``mean_charge_filtered`` equals ``mean_charge``; ``std_fit_charge``: their
  noise (pedestal rms), ``std_charge_corrected`` = sqrt(std^2 - std_fit^2): the spread of
  the true charges;
- ``mean_charge_cut``, ``std_dev_charge_cut``, ``n_cut``, ``cut_removed_fraction``,
  ``cut_bias_pC`` +- ``cut_bias_err_pC``, ``cut_flag``: the original's cut, as its own
  numbers (:func:`pmtgain.point.charge.cut_statistics`); no cut column, no cut;
- ``mean_charge_fit``, ``std_dev_charge_fit``: the per-flash fit (engine), only where
  each flash stands clear of the noise (``free_onset``), for comparison;
- ``n_files`` (files; a sequence-mode file holds many flashes), ``n_flashes`` (readable),
  ``n_used`` (flashes that count), ``rejected_<reason>`` (clipped and pre_pulse flashes,
  unreadable files);
- where the window came from (``shape_source``: ``own``, ``table`` or ``own-weak``, with
  ``shape_note``), ``baseline_note`` (a removed ripple, pick-up left out),
  ``tail_missing_fraction``, ``filter_ratio``; the diagnostic shape fit (``tau_s_ns``,
  ``tau_ns``, ``jitter_ns``, ``onset_ns`` with ``*_err_ns``, ``shape_flag``), median
  noise and baseline; a strong point's template (``edge_ns``, ``window_template``, ...);
- ``drift_*``: the block means' stability in time (:mod:`pmtgain.point.stability`);
  ``dark_*``: the baseline regions' dark counts (:mod:`pmtgain.point.darkrate`);
- photostatistics (:mod:`pmtgain.point.photostat`): ``ps_*`` moments, ``gain``, ``gain_err``,
  ``n_pe``, ``gain_flag``; and ``point_flag``: everything a physicist should look at.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pmtgain.config import ANALYSIS_VERSION, DEFAULT_ENGINE, DEFAULT_FIT, FitConfig
from pmtgain.errors import InputError
from pmtgain.io.flashes import ChunkReader
from pmtgain.io.readers import DEFAULT_READ, ReadSettings
from pmtgain.point import photostat as _photostat
from pmtgain.point.charge import charge_statistics, cut_statistics
from pmtgain.point.darkrate import dark_fields
from pmtgain.point.measure import Measured, measure_flashes
from pmtgain.point.model import USED, Status
from pmtgain.point.placement import place
from pmtgain.point.prepare import Geometry
from pmtgain.point.result import PointResult, string_codes
from pmtgain.point.scan import Scan, as_prepared, scan_point
from pmtgain.point.schema import FLASH_FIELDS
from pmtgain.point.shape import (
    Shape,
    ShapeTable,
    fit_mean_pulse,
    is_weak,
    shape_from_table,
    template_fields,
)
from pmtgain.point.stability import stability
from pmtgain.point.window import ChargeEstimator, Window, template_of

__all__ = ["WAVEFORM_COLUMNS", "CHUNK_FLASHES", "summarize", "window_statistics",
           "process_point", "point_flags"]

#: the per-flash table's columns, in order (each with its unit: :mod:`pmtgain.point.schema`)
WAVEFORM_COLUMNS = tuple(f.name for f in FLASH_FIELDS)
#: flashes processed at once: memory stays flat however many a point has
CHUNK_FLASHES = 1024


def _examples(rows: dict[str, list], scan: Scan, win: Window, shape: Shape
              ) -> dict[str, np.ndarray]:
    """The examples dict (see :func:`process_point`) from the collected rows."""
    t0 = scan.t0_ns
    shp = np.array([shape.a_V, shape.c_ns + t0, shape.tau_s_ns, shape.tau_ns,
                    shape.jitter_ns])
    out = {k: np.array(v) for k, v in rows.items() if k != "y"}
    out["y"] = np.array(rows["y"], dtype=np.float32).reshape(len(rows["y"]), -1)
    out["name"] = out["name"].astype(str)
    out["status"] = out["status"].astype(str)
    out.update(dt_ns=np.float64(scan.dt_ns), k_lo=np.int64(win.k_lo),
               k_hi=np.int64(win.k_hi), k_base=np.int64(scan.geometry.k_base),
               t0_point_ns=np.float64(t0),
               mean_pulse=scan.mean_pulse.astype(np.float32), shape=shp)
    return out


def _labels(col: pd.Series) -> np.ndarray:
    """A column's values as a numpy string array (:func:`pmtgain.point.result.string_codes`)."""
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
    out.update(window_statistics(table, counted, out))
    passed = None
    if info.get("cut_V") is not None and "passed_cut" in table.columns:
        pc = table["passed_cut"].to_numpy()
        passed = pc.astype(bool) if pc.dtype == bool else \
            np.array([x is True or str(x).lower() == "true" for x in pc])
        passed = passed[counted]
    out.update(cut_statistics(q, passed, float(info.get("cut_bias_sigma", 3.0))))
    out.update(stability(table) if "window_charge_pC" in table.columns else {})
    out.update(dark_fields(table, info.get("noise_V", np.nan),
                           info.get("baseline_region_ns", np.nan)))
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


def window_statistics(table: pd.DataFrame, counted: np.ndarray, stats: dict) -> dict:
    """The mean charge as the mean window sum over the flashes that count (model-free),
    its error from the window sums' own spread, and the window's uncertainty: the mean
    sum over a further half window beyond it (what a too-short window would miss), less
    its own noise, and for a borrowed window the share of the charge its position error
    moves out of it (``window_shift_err``)."""
    if "window_charge_pC" not in table.columns:  # a table of before version 4
        return {}
    w = pd.to_numeric(table["window_charge_pC"], errors="coerce").to_numpy(float)[counted]
    x = pd.to_numeric(table["extension_charge_pC"], errors="coerce").to_numpy(float)[counted]
    n = w.size
    nan = float("nan")
    mean = float(w.mean()) if n else nan
    sem = float(w.std(ddof=1) / np.sqrt(n)) if n > 1 else nan
    ext = float(x.mean()) if n else nan
    ext_var = float(x.var(ddof=1) / n) if n > 1 else 0.0
    win_err = float(np.sqrt(max(ext * ext - ext_var, 0.0))) if np.isfinite(ext) else 0.0
    shift = float(stats.get("window_shift_err") or 0.0) * abs(mean)
    shift = float(np.hypot(shift, float(stats.get("ripple_err_pC") or 0.0)))
    err = float(np.sqrt(sem**2 + win_err**2 + shift**2))
    return dict(mean_charge=mean, sem_charge=sem,
                std_dev_charge_window=float(w.std(ddof=1)) if n > 1 else nan,
                mean_charge_filtered=stats.get("mean_charge", nan),
                mean_charge_extension_pC=ext,
                mean_charge_window_err_pC=float(np.hypot(win_err, shift)),
                mean_charge_err=err,
                # the photostatistics' <Q> is this mean (the filter's is made equal to it),
                # so its error is this one, not the filtered charges' sem
                ps_mean_err_pC=err)


def _diagnostic_shape(scan: Scan, win: Window, pmt: int, hv: int, config: FitConfig,
                      shapes: ShapeTable | None) -> tuple[Shape, str]:
    """The two-exponential shape fit of the mean pulse (rise, fall, jitter, onset): a
    diagnostic and the template of the per-flash fit engines, never a charge. A weak point
    takes rise, fall and jitter from its PMT's table where it has them."""
    t = np.arange(scan.mean_pulse.size) * scan.dt_ns
    try:
        # over the pulse (the locating window), not the charge window's tail and margins
        hi = min(win.k_hi, max(scan.geometry.k_hi, win.kpk + 4))
        own = fit_mean_pulse(scan.mean_pulse, t, win.k_lo, hi, config,
                             c_offset_ns=scan.t0_ns,
                             traces=scan.sample if scan.sample.shape[0] > 6 else None)
    except (ValueError, np.linalg.LinAlgError) as exc:
        own = Shape(a_V=np.nan, c_ns=np.nan, tau_s_ns=np.nan, tau_ns=np.nan, ok=False,
                    message=str(exc))
    why = is_weak(own, config)
    tab = shapes.interpolate(pmt, hv) if (why and shapes is not None) else None
    if tab is not None:
        p0 = as_prepared(scan, win.k_lo, win.k_hi, win.mean_snr)
        try:
            return shape_from_table(p0, tab, config), f"{why}; rise, fall and jitter " \
                "from the shape table"
        except ValueError:
            pass
    return own, why


def process_point(
    files: Sequence[str | os.PathLike],
    *,
    pmt: int,
    hv: int,
    cut_V: float | None = None,
    engine: str = DEFAULT_ENGINE,
    config: FitConfig = DEFAULT_FIT,
    missing: Sequence[tuple[str, str]] = (),
    enf: float = _photostat.DEFAULT_ENF,
    shapes: ShapeTable | None = None,
    chunk: int = CHUNK_FLASHES,
    pedestal_files: Sequence[str | os.PathLike] = (),
    read: ReadSettings = DEFAULT_READ,
    pedestal_read: ReadSettings | None = None,
) -> PointResult:
    """Read, measure and summarise the ``.trc`` files of one (PMT, HV) point.

    Four stages: :func:`pmtgain.point.scan.scan_point` (which flashes count, their mean pulse),
    :func:`pmtgain.point.placement.place` (baseline region, coherent ripple, the integration
    window and weights: :mod:`pmtgain.point.window`),
    :func:`pmtgain.point.measure.measure_flashes` (every flash's window sum, filtered charge and
    fit), and :func:`summarize`. ``mean_charge`` is the mean window sum over every flash
    that counts; ``engine`` (fast, root, integral) fills the per-flash fit columns only.
    ``shapes``: the PMT's table of stronger points, whose window a weak point borrows.
    ``missing`` lists files that never arrived (``(name, reason)``, from fetching): they
    appear in the table as ``unreadable`` so that the summary accounts for every file.
    Unreadable files are reported, never raised: one bad file never loses the point.
    Raises ``ValueError`` only when no flash at all can be measured. Memory stays flat at
    any number of flashes (chunks of ``chunk``). ``pedestal_files``: an LED-off run of
    the point (same settings, no light): the same estimator on its flashes gives the
    pedestal (``pedestal_source``) and the LED-correlated pickup in the window
    (``led_pickup_pC``), which is removed from every flash's charge. ``read``: what the
    files' format needs (:class:`pmtgain.io.readers.ReadSettings`; any format of
    :mod:`pmtgain.io.readers`), ``pedestal_read`` the LED-off run's (default: ``read``).
    """
    files = [os.fspath(f) for f in files]
    names = [f.rpartition(os.sep)[2] for f in files]  # basename, at a tenth of the cost
    reader = ChunkReader(files, chunk=chunk, read=read)
    scan = scan_point(reader, config, pmt=pmt, hv=hv, missing=missing)

    def again(geom: Geometry) -> Scan:  # the first pass with another baseline region
        out = scan_point(reader, config, geom, pmt=pmt, hv=hv, missing=missing)
        out.errors = scan.errors
        return out

    pl = place(scan, again, pmt, hv, config, shapes)
    scan, win, est = pl.scan, pl.window, pl.estimator
    shape, shape_why = _diagnostic_shape(scan, win, pmt, hv, config, shapes)
    shape.free_onset = bool(win.source == "own" and not shape_why and shape.ok
                            and -scan.mean_pulse[win.kpk] > config.free_onset_snr
                            * scan.noise_ref)
    meas = measure_flashes(reader, scan, est, shape, names, engine=engine, cut_V=cut_V,
                           config=config)
    led_off = _led_off(pedestal_files, scan, est, shape, meas, config,
                       read if pedestal_read is None else pedestal_read) \
        if pedestal_files else None
    rows_bad = scan.errors + [(os.path.basename(n), r) for n, r in missing]
    table = _table(meas, names, rows_bad, scan, cut_V)
    info = _info(scan, win, est, shape, shape_why, pmt, hv, engine, cut_V, config, meas)
    if led_off is not None:  # (_info read the LED-off pedestal from meas already)
        info.update(led_off)
    info.update(baseline_note=pl.baseline_note, ripple_err_pC=pl.ripple_err_pC,
                ripple_V=pl.ripple.amplitude_V if pl.ripple else 0.0,
                ripple_mhz=1e3 * pl.ripple.freq_ghz if pl.ripple else float("nan"),
                background_offset_pC=est.offset_window_pC)
    summary = summarize(table, **info)
    g, g_err, mu = _photostat.gain_from_moments(
        summary["ps_mean_pC"], summary["ps_var_pC2"], meas.ped_var_pC2,
        summary["ps_var_err_pC2"], summary["ps_mean_err_pC"], summary["ps_cov_pC3"], enf,
        meas.ped_err_pC2)
    clip_frac = scan.n_clipped / scan.n_all
    summary.update(enf=enf, gain=float(g), gain_err=float(g_err), n_pe=float(mu),
                   gain_flag=_photostat.gain_flag(float(mu), clip_frac, float(g),
                                                  float(g_err), meas.ped_note or ""))
    if led_off is not None:  # the pickup's error is common to every flash of the point
        summary["mean_charge_err"] = float(np.hypot(summary["mean_charge_err"],
                                                    led_off["led_pickup_err_pC"]))
    summary["point_flag"] = point_flags(summary, config)
    return PointResult(summary=summary, table=table,
                       examples=_examples(meas.examples, scan, win, shape))


def _led_off(files, scan: Scan, est: ChargeEstimator, shape: Shape, meas: Measured,
             config: FitConfig, read: ReadSettings) -> dict:
    """The point's estimator on its LED-off run: its mean in each charge (the pickup the
    LED driver leaves in every record, light or not) is removed from ``meas`` in place,
    its variance is the pedestal (no stationarity needed). ValueError naming the run when
    it has fewer than 100 flashes that count."""
    files = [os.fspath(f) for f in files]
    names = [f.rpartition(os.sep)[2] for f in files]
    linear = dataclasses.replace(shape, free_onset=False)  # no per-flash fit wanted
    off = measure_flashes(ChunkReader(files, read=read), scan, est, linear, names,
                          engine=DEFAULT_ENGINE, config=config, choose=False)
    c = off.cols["status"] == Status.OK
    n = int(c.sum())
    if n < 100:
        raise InputError(f"the LED-off run ({os.path.dirname(files[0]) or '.'}) has {n} "
                         "flashes that count; at least 100 are needed")
    pick_q, pick_w = float(off.cols["q"][c].mean()), float(off.cols["w"][c].mean())
    # the per-flash charge of the point: the filter's, or the window sum (meas.per_flash)
    src = off.cols["w"] if meas.per_flash == "window" else off.cols["q"]
    var = float(np.var(src[c], ddof=1))
    meas.cols["q"] = meas.cols["q"] - (pick_w if meas.per_flash == "window" else pick_q)
    meas.cols["w"] = meas.cols["w"] - pick_w
    pick_x = float(off.cols["x"][c].mean())  # the further half window's (its error term)
    meas.cols["x"] = meas.cols["x"] - pick_x
    meas.ped_var_pC2, meas.ped_err_pC2 = var, var * float(np.sqrt(2.0 / (n - 1)))
    meas.ped_note = ""
    return dict(pedestal_source=f"LED-off run ({n} flashes)", led_pickup_pC=pick_w,
                led_pickup_err_pC=float(off.cols["w"][c].std(ddof=1) / np.sqrt(n)),
                led_pickup_filter_pC=pick_q)


def _table(meas: Measured, names: list[str], rows_bad: list[tuple[str, str]], scan: Scan,
           cut_V: float | None) -> pd.DataFrame:
    """The per-flash table (``WAVEFORM_COLUMNS``), unreadable files as rows of their own."""
    a = meas.cols
    labels = [s.label for s in Status]
    fit_codes = np.where(a["fit_status"] < 0, len(Status), a["fit_status"])
    n = len(a["q"])
    blank = pd.Categorical.from_codes(np.zeros(n, np.int8), [""])
    ped = meas.ped_var_pC2
    # file, status and fit status as categoricals: no Python object per row to build,
    # summarise or save (store.save_table writes the codes)
    file_col = pd.Categorical.from_codes(a["idx"], names) if len(set(names)) == len(names) \
        else np.array(names, dtype=object)[a["idx"]]
    nref = scan.noise_ref
    table = pd.DataFrame({
        "file": file_col,
        "segment": a["segment"],
        "trigger_time_s": a["trig"],
        "status": pd.Categorical.from_codes(a["status"], labels),
        "reason": blank,
        "charge_pC": a["q"],
        "window_charge_pC": a["w"],
        "extension_charge_pC": a["x"],
        "sigma_charge_pC": np.sqrt(max(ped, 0.0)) * a["noise_V"] / nref
        if nref > 0 else np.full(n, np.sqrt(max(ped, 0.0))),
        "passed_cut": a["passed"] if cut_V is not None else blank,
        "fit_status": pd.Categorical.from_codes(fit_codes, labels + [""]),
        "fit_charge_pC": a["charge_full_pC"],
        **{k: a[k] for k in ("a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf",
                             "amplitude_V", "baseline_V", "noise_V", "pre_min_V",
                             "pre_max_V")},
    })
    if rows_bad:
        bad = pd.DataFrame({"file": [n for n, _ in rows_bad], "segment": 0,
                            "status": Status.UNREADABLE.label,
                            "reason": [r for _, r in rows_bad]})
        table = pd.concat([table, bad], ignore_index=True)[list(WAVEFORM_COLUMNS)]
        table = table.sort_values(["file", "segment"], kind="stable").reset_index(drop=True)
    return table


def _info(scan: Scan, win: Window, est: ChargeEstimator, shape: Shape, shape_why: str,
          pmt: int, hv: int, engine: str, cut_V: float | None, config: FitConfig,
          meas: Measured) -> dict:
    """The point's summary fields that do not come from the per-flash table."""
    dt, t0 = scan.dt_ns, scan.t0_ns
    snr = -float(scan.mean_pulse[win.kpk]) / scan.noise_ref if scan.noise_ref > 0 \
        else float("nan")
    tmpl = template_of(scan.mean_pulse, win, t0, dt, hv) if win.source == "own" else None
    return dict(
        pmt=int(pmt), hv=int(hv), engine=engine, cut_V=cut_V,
        analysis_version=ANALYSIS_VERSION, cut_bias_sigma=config.cut_bias_sigma,
        tau_s_ns=shape.tau_s_ns, tau_ns=shape.tau_ns, jitter_ns=shape.jitter_ns,
        tau_s_err_ns=shape.tau_s_err_ns, tau_err_ns=shape.tau_err_ns,
        jitter_err_ns=shape.jitter_err_ns, onset_err_ns=shape.c_err_ns,
        onset_ns=shape.c_ns + t0, free_onset=bool(shape.free_onset),
        shape_source=win.source, shape_note=win.note, shape_flag=shape_why,
        snr=snr, mean_pulse_snr=win.mean_snr,
        # the mean pulse's highest sample after the baseline region, in the same noise:
        # positive pulses (an inverting amplifier, a dynode) show here, not in mean_snr
        positive_pulse_snr=float(np.max(scan.mean_pulse[scan.geometry.k_base:],
                                        initial=0.0) / scan.sigma_L[0])
        if scan.sigma_L[0] > 0 else float("nan"),
        tail_missing_fraction=win.tail_missing_fraction,
        window_lo_ns=t0 + win.k_lo * dt, window_hi_ns=t0 + (win.k_hi - 1) * dt,
        window_ext_hi_ns=t0 + (win.k_ext - 1) * dt, window_shift_err=win.shift_err_pC,
        filter_ratio=est.ratio, filter_normalisation=est.how, per_flash_charge=meas.per_flash,
        noise_V=scan.noise_ref, baseline_V=float(np.median(meas.cols["baseline_V"])),
        baseline_region_ns=scan.geometry.base_index().size * dt,
        ps_ped_var_pC2=meas.ped_var_pC2, ped_var_window_pC2=meas.ped_var_window_pC2,
        ps_ped_err_pC2=meas.ped_err_pC2, pedestal_note=meas.ped_note,
        pedestal_source="records (pulse-free samples)", led_pickup_pC=float("nan"),
        ps_clipped_fraction=scan.n_clipped / scan.n_all, **meas.afterpulses,
        **template_fields(tmpl),
    )


def point_flags(s: dict, config: FitConfig = DEFAULT_FIT) -> str:
    """Everything about a point a physicist should look at ('' if nothing)."""
    out = []
    if s.get("rejected_clipped"):
        out.append(f"{s['rejected_clipped']} clipped flash(es) left out: mean biased low")
    miss = s.get("tail_missing_fraction")
    if miss is not None and not np.isfinite(miss):
        out.append("the record ends while the mean pulse is still far from the baseline "
                   "(the tail does not decay within the record)")
    elif miss is not None and miss > config.max_tail_missing:
        out.append(f"record ends before the tail: about {100 * miss:.1f}% of the charge "
                   "lies after it (not in mean_charge, which is what was recorded)")
    if s.get("cut_flag"):
        out.append(s["cut_flag"])
    if s.get("drift_flag"):
        out.append(s["drift_flag"])
    snr = s.get("mean_pulse_snr")
    pos = s.get("positive_pulse_snr")
    weak = snr is None or not np.isfinite(snr) or snr < 0.5 * config.min_mean_pulse_snr
    if weak and pos is not None and np.isfinite(pos) and pos >= config.min_mean_pulse_snr:
        out.append(f"the pulses are positive (the mean of all flashes peaks {pos:.0f} noise "
                   "rms above the baseline): PMT anode pulses are negative; invert the "
                   "signal (an inverting amplifier? a dynode output?)")
    elif weak:
        out.append("no LED pulse in the mean of all flashes"
                   + (f" ({snr:.1f} noise rms)" if snr is not None and np.isfinite(snr)
                      else " (flat or empty records?)"))
    elif snr < 2 * config.min_mean_pulse_snr:
        out.append(f"the LED pulse is barely visible in the mean of all flashes "
                   f"({snr:.1f} noise rms)")
    note = str(s.get("baseline_note") or "")
    if "coherent" in note:
        out.append(f"coherent background in the baseline region ({note}): a residue of "
                   "it is integrated with the pulse")
    if s.get("shape_source") in ("own-weak", "table"):
        out.append(f"integration window: {s.get('shape_note')}")
    if s.get("filter_normalisation", "exact").startswith("the template"):
        out.append(f"per-flash charges: {s['filter_normalisation']}")
    return "; ".join(out)

"""Executors deliver (PMT, HV) points: fetch the files, call the pure
:func:`pmtgain.point.process_point`, save the result. The analysis does not know where it
runs (coffea's processor/executor split).

What to use when
----------------
- :func:`run_point` - one point, in this process, with a :class:`~pmtgain.run.task.Task`:
  what an HTCondor job and every pool worker run. Writes the point's files and its log
  where the task's :class:`~pmtgain.results.layout.Layout` says.
- :func:`run_local` - all points in a process pool sized to the machine, with a progress
  bar; points already done are skipped (resume), ``force`` redoes them. A thin map: the
  pipeline decides which points and how many passes.
- :func:`write_lists` - the per-PMT tables ``pmt_<i>_data_list.{pkl,csv}`` (the original's
  columns ``mean_charge``, ``std_dev_charge``, ``hv`` first, then the new ones).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re

from pmtgain.parallel import default_jobs, parallel_map

__all__ = ["ORIGINAL_COLUMNS", "LIST_NAME", "PointOutcome", "run_point", "stale_reason",
           "run_local", "saved_outcomes", "summaries_frame", "write_lists", "crashed"]

# a log write that fails (a full disk) must not print a traceback per message: the point's
# own failure says what happened, in one line
logging.raiseExceptions = False

import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pmtgain.config import PointSpec  # noqa: E402
from pmtgain.errors import InputError  # noqa: E402
from pmtgain.io.campaign import local_dir, read_settings, redact  # noqa: E402
from pmtgain.io.fetch import (  # noqa: E402
    fetch_point,
    is_remote,
    is_transient,
    source_is,
)
from pmtgain.io.safeio import atomic_path, open_append, write_atomic  # noqa: E402
from pmtgain.kinds import AFTERPULSE, DARK, GAIN, SPE, kind_of  # noqa: E402
from pmtgain.point.process import process_point  # noqa: E402
from pmtgain.point.schema import column_order  # noqa: E402
from pmtgain.results import store  # noqa: E402
from pmtgain.results.layout import Layout  # noqa: E402
from pmtgain.results.store import load_point  # noqa: E402
from pmtgain.run.task import DEFAULT_TASK, Task  # noqa: E402

ORIGINAL_COLUMNS = ["mean_charge", "std_dev_charge", "hv"]
#: the per-PMT lists write_lists writes (and removes when their PMT has no result)
LIST_NAME = re.compile(r"pmt_\d+_data_list\.(json|pkl|csv)")


@dataclass
class PointOutcome:
    pmt: int
    hv: int
    ok: bool
    summary: dict | None = None
    error: str = ""
    skipped: bool = False
    seconds: float = 0.0
    transient: int = 0  # files whose fetch failed for a reason that may go away
    kind: str = "gain"  # what the line measures (pmtgain.kinds): named where it failed

    @property
    def what(self) -> str:
        """``PMT <i> at <hv> V`` and, for a run of its own kind, which."""
        run = {"spe": "low-light run", "dark": "dark run", "afterpulse": "long-record run"}
        return f"PMT {self.pmt} at {self.hv} V" + (f" ({run[self.kind]})" if self.kind in run
                                                    else "")


def _point_logger(log_path: Path, verbose: bool) -> logging.Logger:
    logger = logging.getLogger(f"pmtgain.point.{log_path.stem}.{os.getpid()}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    h = logging.StreamHandler(open_append(log_path))  # never through a planted link
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(h)
    return logger


def run_point(point: PointSpec, task: Task = DEFAULT_TASK) -> PointOutcome:
    """Fetch, process and save one point (``csv``: the per-flash table also as CSV).
    Never raises: a failure is an outcome."""
    t0 = time.perf_counter()
    kind = kind_of(point)
    data_dir, engine, config, verbose = task.data_dir, task.engine, task.config, task.verbose
    fetch_workers = task.fetch_workers
    log_path = task.layout.log(point.pmt, point.hv, kind)
    try:
        logger = _point_logger(log_path, verbose)
    except OSError as exc:  # a full disk, or a link planted where the log goes
        return PointOutcome(point.pmt, point.hv, False,
                            error=f"cannot write its log: {exc.strerror or exc}")
    logger.info("PMT %d at %d V: %d files from %s (engine %s, cut %s V)", point.pmt,
                point.hv, point.n_files, redact(point.dir_url), engine, point.cut_V)
    transient = 0
    try:
        def on_file(name, outcome):  # --verbose: every file, as it arrives
            if outcome in ("fetched", "cached"):
                logger.debug("%s %s", name, outcome)
            else:
                logger.warning("%s not available: %s", name, outcome)

        rep = fetch_point(point, local_dir(data_dir, point), workers=fetch_workers,
                          on_file=on_file if verbose else None)
        if not verbose:  # a call per file costs more than reading a local one
            for name, reason in rep.failed:
                logger.warning("%s not available: %s", name, reason)
        logger.info("files: %d fetched, %d already complete, %d failed", rep.fetched,
                    rep.cached, rep.n_failed)
        transient = sum(1 for _, reason in rep.failed if is_transient(reason))
        if kind is SPE:
            return _finish_spe(point, rep, task, logger, t0, transient)
        if kind is DARK:
            return _finish_dark(point, rep, task, logger, t0, transient)
        if kind is AFTERPULSE:
            return _finish_long(point, rep, task, logger, t0, transient)
        if kind is not GAIN:
            raise InputError(f"a {kind.name} run is measured with the point it belongs to")
        off_files, off_transient = _led_off_files(point, data_dir, fetch_workers, logger)
        transient += off_transient  # an LED-off file that may still come: redo the point
        res = process_point(rep.paths, pmt=point.pmt, hv=point.hv, cut_V=point.cut_V,
                            engine=engine, config=config, missing=rep.failed,
                            shapes=task.shapes, pedestal_files=off_files,
                            read=read_settings(point), pedestal_read=_off_read(point))
        if is_remote(point.dir_url) and not source_is(local_dir(data_dir, point),
                                                       point.dir_url):
            raise InputError("its files were replaced while they were read, by a run of "
                             "another dir_url on the same data folder: give each campaign "
                             "its own --data-dir, and run again")
        used = _as_used(point, str(res.summary.get("pedestal_source") or ""))
        res.summary.update(n_fetched=rep.fetched, n_cached=rep.cached,
                           n_fetch_failed=rep.n_failed, n_fetch_transient=transient,
                           dir_url=redact(point.dir_url),
                           inputs=store.encode_inputs(store.inputs_of(used, engine, config)))
        if verbose:
            for row in res.table.itertuples():
                logger.debug("%s %s charge %.6g pC %s", row.file, row.status, row.charge_pC,
                             row.reason or "")
        bad = res.table[res.table.status == "unreadable"]
        for row in bad.itertuples():
            logger.warning("%s unreadable: %s", row.file, row.reason)
        store.save_point(res, task.layout.points, csv=task.csv)
        s = res.summary
        logger.info("done: %d of %d flashes used, mean charge %.5g pC, std %.4g pC "
                    "(left out: clipped %d, pulse in the baseline region %d, unreadable %d);"
                    " shape: %s %s", s["n_used"], s["n_flashes"], s["mean_charge"],
                    s["std_dev_charge"], s["rejected_clipped"], s["rejected_pre_pulse"],
                    s["rejected_unreadable"], s["shape_source"], s.get("shape_note", ""))
        if s.get("cut_V") is not None:
            logger.info("the cut (%s V) keeps %d flashes: mean %.5g pC (%s)", s["cut_V"],
                        s["n_cut"], s["mean_charge_cut"], s["cut_flag"] or "no bias")
        if s.get("point_flag"):
            logger.warning("flag: %s", s["point_flag"])
        return PointOutcome(point.pmt, point.hv, True, summary=s,
                            seconds=time.perf_counter() - t0, transient=transient)
    except (InputError, OSError, MemoryError) as exc:  # bad input or the machine: one line
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = _without_where(msg, point.pmt, point.hv)  # the caller names the point
        logger.error("failed: %s", msg)
        return PointOutcome(point.pmt, point.hv, False, error=msg,
                            seconds=time.perf_counter() - t0, transient=transient)
    except Exception as exc:  # a bug: its traceback in the point's log, one line here
        logger.exception("internal error (a bug in pmtgain)")
        msg = (f"internal error (a bug in pmtgain, not your input): {type(exc).__name__}: "
               f"{(str(exc).splitlines() or [''])[0][:200]}; the traceback is in "
               f"{log_path}")
        return PointOutcome(point.pmt, point.hv, False, error=msg,
                            seconds=time.perf_counter() - t0, transient=transient)
    finally:
        for h in logger.handlers:
            h.close()
            if isinstance(h, logging.StreamHandler):
                h.stream.close()  # a StreamHandler leaves its stream open: the log file
        logger.handlers.clear()


def _without_where(msg: str, pmt: int, hv: int) -> str:
    """``msg`` without a leading "PMT p at hv V: " (or "... V (low light): ")."""
    for head in (f"PMT {pmt} at {hv} V: ", f"PMT {pmt} at {hv} V (low light): ",
                 f"PMT {pmt} at {hv} V (dark run): "):
        if msg.startswith(head):
            return msg[len(head):]
    return msg


def _led_off_files(point: PointSpec, data_dir, fetch_workers: int, logger
                   ) -> tuple[list, int]:
    """The local files of the point's LED-off run (``extra["ledoff"]``), fetched like any
    point's, and how many of its files failed for a reason that may go; ([], 0) without
    one."""
    off = point.extra.get("ledoff")
    if off is None:
        return [], 0
    return _fetch_beside(off, data_dir, fetch_workers, logger, "LED-off run")


def _fetch_beside(q: PointSpec, data_dir, fetch_workers: int, logger, what: str
                  ) -> tuple[list, int]:
    """The local files of a run that goes with a point (its LED-off run, a low-light
    run's other light level), fetched like any point's and logged as ``what``, and how
    many of its files failed for a reason that may go."""
    rep = fetch_point(q, local_dir(data_dir, q), workers=fetch_workers)
    logger.info("%s: %d fetched, %d already complete, %d failed from %s", what,
                rep.fetched, rep.cached, rep.n_failed, redact(q.dir_url))
    return rep.paths, sum(1 for _, why in rep.failed if is_transient(why))


def _off_read(point: PointSpec):
    """What the format of the point's LED-off run needs (None without one)."""
    off = point.extra.get("ledoff")
    return None if off is None else read_settings(off)


def _as_used(point: PointSpec, pedestal_source: str) -> PointSpec:
    """``point`` as its analysis used it: without its LED-off run when that run could not
    be used (its files did not arrive), so that the saved inputs say so and a later run
    with the LED-off run available redoes the point."""
    if point.extra.get("ledoff") is None or pedestal_source.startswith("LED-off"):
        return point
    return replace(point, extra={k: v for k, v in point.extra.items() if k != "ledoff"})


def _finish_spe(point, rep, task: Task, logger, t0, transient) -> PointOutcome:
    """A low-light run (:mod:`pmtgain.point.spe`): measured, saved under ``<lists>/spe/``."""
    from pmtgain.point.spe import process_spe

    off_files, off_transient = _led_off_files(point, task.data_dir, task.fetch_workers, logger)
    transient += off_transient
    levels = []  # the same PMT and HV at other light levels (levels=)
    for j, q in enumerate(point.extra.get("levels") or (), start=2):
        paths, n_transient = _fetch_beside(q, task.data_dir, task.fetch_workers, logger,
                                           f"light level {j}")
        transient += n_transient
        levels.append(paths)
    res = process_spe(rep.paths, pmt=point.pmt, hv=point.hv, background_files=off_files,
                      read=read_settings(point), background_read=_off_read(point),
                      level_files=levels)
    s = res.summary
    if point.extra.get("ledoff") is not None:
        s["ledoff_dir_url"] = redact(point.extra["ledoff"].dir_url)
    s.update(n_fetch_failed=rep.n_failed, n_fetch_transient=transient,
             dir_url=redact(point.dir_url), analysis_version=store.ANALYSIS_VERSION,
             inputs=store.encode_inputs(store.inputs_of(
                 _as_used(point, str(s.get("pedestal_source") or "")), None)))
    store.save_spe(task.layout.spe, s, res.spectra)
    logger.info("low-light run: occupancy %.3f +- %.3f, G %.4g +- %.2g (threshold %.2g), "
                "F %.3f +- %.3f (threshold %.2g)%s", s["occupancy"], s["occupancy_err"],
                s["gain"], s["gain_err"], s["gain_sys"], s["enf"], s["enf_err"],
                s["enf_sys"], f"; flag: {s['flag']}" if s["flag"] else "")
    if "fit_gain" in s:
        logger.info("spectrum fit: G %.4g +- %.2g (shape %.2g, %+.1f sigma from the above), "
                    "F %.3f +- %.3f (shape %.2g, %+.1f sigma), peak-to-valley %.3g%s",
                    s["fit_gain"], s["fit_gain_err"], s["fit_gain_sys"], s["fit_gain_sigma"],
                    s["fit_enf"], s["fit_enf_err"], s["fit_enf_sys"], s["fit_enf_sigma"],
                    s["peak_to_valley"], f"; {s['fit_flag']}" if s["fit_flag"] else "")
    if np.isfinite(s.get("tts_sigma_ns", np.nan)):
        logger.info("transit time %.3f ns after the trigger, spread %.3f +- %.3f ns rms "
                    "(%.3f less the noise's %.3f), FWHM %.3g ns; %s", s["transit_mean_ns"],
                    s["tts_sigma_ns"], s["tts_sigma_err_ns"], s["tts_sigma_corrected_ns"],
                    s["timing_noise_ns"], s["tts_fwhm_ns"], s["tts_selection"])
    return PointOutcome(point.pmt, point.hv, True, summary=s,
                        seconds=time.perf_counter() - t0, transient=transient)


def _with_missing(flag: str, n_failed: int, n_files: int) -> str:
    """A run's flag with the files that could not be fetched (their reasons: the log)."""
    if not n_failed:
        return flag
    return "; ".join(x for x in (flag, f"{n_failed} of {n_files} files could not be fetched "
                                       "(see the log)") if x)


def _finish_dark(point, rep, task: Task, logger, t0, transient) -> PointOutcome:
    """A dark run (:mod:`pmtgain.point.darkrun`): counted, saved under ``<lists>/dark/``."""
    from pmtgain.point.darkrun import DarkSettings, process_dark

    trigger = point.extra.get("trigger", "random")
    res = process_dark(rep.paths, pmt=point.pmt, hv=point.hv, read=read_settings(point),
                       settings=DarkSettings(trigger=trigger))
    s = res.summary
    s.update(n_fetch_failed=rep.n_failed, n_fetch_transient=transient,
             dir_url=redact(point.dir_url), analysis_version=store.ANALYSIS_VERSION,
             inputs=store.encode_inputs(store.inputs_of(point, None)),
             flag=_with_missing(s["flag"], rep.n_failed, point.n_files))
    store.save_spe(task.layout.runs(DARK), s, res.spectra)
    logger.info("dark run (%s trigger): %d records of %.4g us counted (%.4g s live), noise "
                "%.3g mV; rate beyond 5 noise rms %.4g +- %.2g Hz%s", trigger, s["n_records"],
                s["region_ns"] / 1e3, s["dark_live_s"], s["noise_V"] * 1e3,
                s["dark_rate_5sigma_hz"], s["dark_rate_5sigma_err_hz"],
                f"; flag: {s['flag']}" if s["flag"] else "")
    return PointOutcome(point.pmt, point.hv, True, summary=s,
                        seconds=time.perf_counter() - t0, transient=transient)


def _finish_long(point, rep, task: Task, logger, t0, transient) -> PointOutcome:
    """A long-record run (:mod:`pmtgain.point.longrun`): saved under ``<lists>/afterpulse/``."""
    from pmtgain.point.longrun import process_long

    s, spectra = process_long(rep.paths, pmt=point.pmt, hv=point.hv, read=read_settings(point))
    s.update(n_fetch_failed=rep.n_failed, n_fetch_transient=transient,
             dir_url=redact(point.dir_url), analysis_version=store.ANALYSIS_VERSION,
             inputs=store.encode_inputs(store.inputs_of(point, None)),
             flag=_with_missing(s["flag"], rep.n_failed, point.n_files))
    store.save_spe(task.layout.runs(AFTERPULSE), s, spectra)
    if s["flag"]:
        logger.warning("long-record run: %s", s["flag"])
    else:
        logger.info("long-record run: %d flashes, %d pulses beyond %.3g mV in %.4g us after "
                    "the LED pulse", s["ap_flashes"], s["ap_pulses"], s["ap_threshold_V"] * 1e3,
                    s["ap_region_ns"] / 1e3)
    return PointOutcome(point.pmt, point.hv, True, summary=s,
                        seconds=time.perf_counter() - t0, transient=transient)


stale_reason = store.stale_reason  # the one rule


def run_local(points: list[PointSpec], task: Task = DEFAULT_TASK, *, jobs: int | None = None,
              force: bool = False, progress: bool = True) -> list[PointOutcome]:
    """Every point in a process pool sized to the machine, with a progress bar; a point
    saved earlier and still valid (:func:`pmtgain.results.store.stale_reason`) is kept
    (resume) unless ``force``. The policy around it (which points, a second pass for
    weak ones) is the pipeline's."""
    outcomes: list[PointOutcome] = []
    todo = []
    stale: dict[str, int] = {}
    for p in points:
        done = None if force else load_point(task.layout.points, p.pmt, p.hv)
        why = (stale_reason(done.summary, p, task.engine, task.config) if done is not None
               else "no result")
        if why is None:
            outcomes.append(PointOutcome(p.pmt, p.hv, True, summary=done.summary,
                                         skipped=True))
        else:
            todo.append(p)
            if done is not None:
                stale[why] = stale.get(why, 0) + 1
    for why, k in stale.items():
        print(f"redoing {k} point(s) saved earlier: {why}")
    jobs = jobs or default_jobs()
    n_wf = 0

    def postfix(out: PointOutcome) -> dict:
        nonlocal n_wf
        n_wf += (out.summary or {}).get("n_flashes", 0)
        return dict(flashes=n_wf, failed=sum(not o.ok for o in outcomes) + (not out.ok))

    for out in parallel_map(functools.partial(run_point, task=task), [(p,) for p in todo],
                            jobs=jobs, desc=f"analysing ({min(jobs, len(todo))} processes)",
                            unit="point", progress=progress, postfix=postfix,
                            on_crash=crashed):
        outcomes.append(out)
    outcomes.sort(key=lambda o: (o.pmt, o.hv))
    return outcomes


def saved_outcomes(points: list[PointSpec], task: Task) -> list[PointOutcome]:
    """The saved, still valid results of ``points`` (others are left out)."""
    out = []
    for p in points:
        done = load_point(task.layout.points, p.pmt, p.hv)
        if done is not None and stale_reason(done.summary, p, task.engine,
                                             task.config) is None:
            out.append(PointOutcome(p.pmt, p.hv, True, summary=done.summary, skipped=True))
    return out


def summaries_frame(summaries: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(summaries)
    if df.empty:
        return df
    cols = column_order(df.columns, first=tuple(ORIGINAL_COLUMNS))
    return df[cols].sort_values(["pmt", "hv"]).reset_index(drop=True)


def write_lists(outcomes: list[PointOutcome], layout: Layout,
                enf: dict[int, float] | None = None,
                campaign: list[PointSpec] | None = None) -> list[Path]:
    """``pmt_<i>_data_list.pkl`` and ``.csv`` per PMT, one row per HV point; the gain in
    electrons with each PMT's excess noise factor in ``enf`` (others: the default F) and
    anchored on its low-light run (:mod:`pmtgain.point.anchor`)."""
    from pmtgain.point.anchor import with_gains

    lists_dir = layout.lists
    lists_dir.mkdir(parents=True, exist_ok=True)
    df = with_gains(summaries_frame([o.summary for o in outcomes if o.ok and o.summary]),
                    enf or {}, store.load_spe_runs(layout.spe))
    written = []
    _write_failed(outcomes, layout.failed,
                  None if campaign is None else {(p.pmt, p.hv) for p in campaign})
    # one set: every list of this call carries the same id, and lists of PMTs this call
    # does not write are removed, so a merge can tell a set cut short by a kill from a
    # whole one (gaincurve.collect refuses a mixed set)
    list_set = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    keep = set() if df.empty else {f"pmt_{int(p)}_data_list{ext}" for p in set(df.pmt)
                                   for ext in (".json", ".pkl", ".csv")}
    for f in lists_dir.glob("pmt_*_data_list.*"):
        if LIST_NAME.fullmatch(f.name) and f.name not in keep:
            f.unlink(missing_ok=True)
    if df.empty:
        return written
    df = df.assign(list_set=list_set)
    for pmt, sub in df.groupby("pmt"):
        sub = sub.reset_index(drop=True)
        pkl = layout.pmt_list(pmt, "pkl")
        store.write_json_records(sub, pkl.with_suffix(".json"))  # what the merge reads
        with atomic_path(pkl) as tmp:
            sub.to_pickle(tmp)  # the original's format, for users who load it
        with atomic_path(pkl.with_suffix(".csv")) as tmp:
            sub.to_csv(tmp, index=False, float_format="%.9g")
        written.append(pkl)
    return written


def crashed(item: tuple, why: str) -> PointOutcome:
    """The outcome of a point whose worker process died (:func:`parallel_map`'s
    ``on_crash``)."""
    return PointOutcome(item[0].pmt, item[0].hv, False, error=why)


def _write_failed(outcomes: list[PointOutcome], path: Path,
                  campaign: set[tuple[int, int]] | None = None) -> None:
    """``failed.json``: the points without a result and why, merged with the entries of
    points this run did not touch (a run on some PMTs keeps the others' reasons) that are
    still in the ``campaign`` (a line removed from it is forgotten)."""
    ran = {(o.pmt, o.hv) for o in outcomes}
    try:
        old = [e for e in json.loads(path.read_text()) if (e["pmt"], e["hv"]) not in ran
               and (campaign is None or (e["pmt"], e["hv"]) in campaign)]
    except (OSError, ValueError, KeyError, TypeError):
        old = []
    new = [dict(pmt=o.pmt, hv=o.hv, error=str(o.error)) for o in outcomes if not o.ok]
    entries = sorted(old + new, key=lambda e: (e["pmt"], e["hv"]))
    write_atomic(path, json.dumps(entries, indent=1))

"""The typed pipeline: analyse a campaign, merge the results. What the scripts call.

What to use when
----------------
- :func:`analyse` - every point of a campaign on this machine (fetch, measure, save,
  resume), the per-PMT lists, then :func:`merge` unless told not to.
  :class:`AnalysisOptions` holds every setting with its default.
- :func:`merge` - the saved results (``lists`` from :func:`analyse`, or ``condor_lists``
  from HTCondor jobs) into gain curves, tables and, with ``plots``, the diagnostics and
  ``outputs/report.html``. :class:`MergeOptions` holds its settings.

``analysis.py``, ``gain_curve.py``, ``pmtgain report`` and the demo call these directly
(:mod:`pmtgain.cli.main` turns command lines into options); nothing here reads ``sys.argv``.
Messages go to ``say`` (stdout) and ``warn`` (stderr), one line each.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.errors import InputError
from pmtgain.io.safeio import atomic_path, write_atomic
from pmtgain.kinds import AFTERPULSE, DARK, RUNS, SPE
from pmtgain.results.layout import Layout
from pmtgain.run.options import AnalysisOptions, MergeOptions
from pmtgain.run.task import Task

__all__ = ["AnalysisOptions", "RunResult", "analyse", "write_spe_list", "enf_per_pmt",
           "MergeOptions", "MergeResult", "merge"]


def _say(msg: str) -> None:
    print(msg, flush=True)


def _warn(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class RunResult:
    """What :func:`analyse` did: one outcome per selected point (see
    :class:`pmtgain.run.executors.PointOutcome`), and the merge's result."""

    outcomes: list = field(default_factory=list)
    merged: MergeResult | None = None
    #: the outcomes of the campaign's runs of their own kinds, by kind ("spe", "dark")
    runs: dict = field(default_factory=dict)

    @property
    def failed(self) -> list:
        return [o for o in self.outcomes if not o.ok]

    @property
    def done(self) -> list:
        return [o for o in self.outcomes if o.ok]

    @property
    def incomplete(self) -> list:
        """Points saved without some files that failed for a reason that may pass
        (network, disk): the next run fetches them again."""
        return [o for o in self.done if not o.skipped and o.summary
                and o.summary.get("n_fetch_transient")]

    @property
    def exit_status(self) -> int:
        return 1 if self.failed or self.incomplete else 0


def analyse(campaign: str | Path, options: AnalysisOptions | None = None, *,
            pmts: list[int] | None = None, hvs: list[int] | None = None,
            say: Callable[[str], None] = _say, warn: Callable[[str], None] = _warn
            ) -> RunResult:
    """Analyse the points of ``campaign`` (a data_info directory or one
    data_directories file) selected by ``pmts``/``hvs``. Raises
    :class:`pmtgain.io.campaign.CampaignError` for a bad campaign, ``ValueError`` when no
    point matches, :class:`pmtgain.results.lock.Busy` when another run holds the outputs."""
    from pmtgain.io.campaign import load_campaign, load_enf, select
    from pmtgain.io.runfiles import load_runs, load_spe
    from pmtgain.point.shape import load_shapes
    from pmtgain.results.lock import exclusive
    from pmtgain.run.executors import saved_outcomes, write_lists
    from pmtgain.run.runs import run_kind

    o = options or AnalysisOptions()
    every = load_campaign(campaign)
    points = select(every, pmts, hvs)
    enf = load_enf(campaign)
    shapes = load_shapes(campaign)
    if not points:
        raise InputError("no point matches --pmt/--hv")
    out = Path(o.outputs)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --outputs names a file, not a directory")
    task = o.task(shapes)
    lay = task.layout
    with exclusive(out, "analysis.py"):
        lay.lists.mkdir(parents=True, exist_ok=True)
        write_atomic(lay.run_record, json.dumps(
            {"data_info": str(Path(campaign).resolve()), "engine": o.engine}))
        say(f"{len(points)} points, {sum(p.n_files for p in points)} files; logs in "
            f"{lay.logs}")
        try:
            outcomes = _measure(points, task, o)
        except KeyboardInterrupt:
            kept = saved_outcomes(points, task)
            write_lists(kept + saved_outcomes([p for p in every if p not in points], task),
                        lay, enf, every)
            warn(f"interrupted: {len(kept)} of {len(points)} points are finished and saved "
                 "in the lists; run the same command again to do the rest (finished points "
                 "are kept)")
            raise
        res = RunResult(outcomes=outcomes)
        say(f"{len(res.done)} points done ({sum(x.skipped for x in outcomes)} from an "
            f"earlier run), {len(res.failed)} failed")
        for kind in RUNS:  # low-light, dark and long-record runs: kinds of their own
            load = load_spe if kind is SPE else functools.partial(load_runs, kind=kind)
            runs = [p for p in load(campaign) if not pmts or p.pmt in pmts]
            if runs:
                outs = run_kind(runs, kind, task, jobs=o.jobs, force=o.force,
                                progress=o.progress, say=say)
                res.runs[kind.name] = outs
                res.outcomes += [x for x in outs if not x.ok]
        enf = enf_per_pmt(lay, enf_file=enf)[0]
        # the lists hold every point of the campaign with a valid saved result, not only
        # the ones this run selected (--pmt/--hv)
        write_lists(outcomes + saved_outcomes([p for p in every if p not in points], task),
                    lay, enf, every)
        for x in res.done:
            if x.summary.get("rejected_unreadable"):
                say(f"  PMT {x.pmt} {x.hv} V: {x.summary['rejected_unreadable']} of "
                    f"{x.summary['n_files']} files unreadable or not fetched (see the log)")
            if x.summary.get("point_flag"):
                say(f"  PMT {x.pmt} {x.hv} V flagged: {x.summary['point_flag']}")
        if o.merge and (res.done or o.plots):  # with plots, a report even if all failed
            res.merged = merge(MergeOptions(outputs=out, source="lists",
                                            data_info=str(campaign), plots=o.plots,
                                            jobs=o.jobs, progress=o.progress),
                               say=say, warn=warn)
        for x in res.failed:
            warn(f"FAILED {x.what}: {x.error}")
        for x in res.incomplete:
            warn(f"INCOMPLETE PMT {x.pmt} at {x.hv} V: {x.summary['n_fetch_transient']} "
                 "files failed for a reason that may pass (network, disk) and are not in "
                 "its result yet: run the same command again to fetch them")
        return res


def _measure(points: list, task: Task, o: AnalysisOptions) -> list:
    """The points, in two passes: a point whose own mean pulse is too weak to place its
    integration window (``shape_source`` ``own-weak``) is redone with the window and
    weights of its PMT's well-measured points (the shape table, merged over the
    campaign's ``data_info/shapes.csv``), which is also written to ``lists/shapes.csv``
    for HTCondor jobs."""
    from pmtgain.point.shape import ShapeTable
    from pmtgain.run.executors import run_local

    outcomes = run_local(points, task, jobs=o.jobs, force=o.force, progress=o.progress)
    good = [x.summary for x in outcomes if x.ok and x.summary]
    table = ShapeTable.from_summaries(good, source="this campaign's well-measured points")
    table = table.merged(task.shapes)
    if table.rows or table.templates:
        task.layout.lists.mkdir(parents=True, exist_ok=True)
        table.save(task.layout.shapes)
    weak = {(x.pmt, x.hv) for x in outcomes if x.ok and x.summary
            and x.summary.get("shape_source") == "own-weak" and table.templates.get(x.pmt)}
    if not weak:
        return outcomes
    print(f"redoing {len(weak)} point(s) whose own mean pulse is too weak to place their "
          "integration window, with the window of their PMT's better-measured points")
    again = run_local([p for p in points if (p.pmt, p.hv) in weak],
                      replace(task, shapes=table), jobs=o.jobs, force=True,
                      progress=o.progress)
    redone = {(x.pmt, x.hv): x for x in again}
    return [redone.get((x.pmt, x.hv), x) for x in outcomes]


def write_spe_list(layout: Layout, runs: pd.DataFrame | None = None) -> Path | None:
    """``lists/spe.csv`` (:func:`pmtgain.run.runs.write_run_list`)."""
    from pmtgain.run.runs import write_run_list

    return write_run_list(layout, SPE, runs)


def enf_per_pmt(layout: Layout, *, enf_file: dict[int, float],
                flags: dict[int, float] | None = None
                ) -> tuple[dict[int, float], dict[int, str], pd.DataFrame]:
    """F per PMT and where it came from: ``--enf`` over ``enf.txt`` over the PMT's
    measured F from its unflagged low-light runs (:func:`pmtgain.point.spe.measured_enf`);
    PMTs in none of them get the default at the merge. Also the runs themselves."""
    from pmtgain.point.spe import measured_enf
    from pmtgain.results.store import load_spe_runs

    runs = load_spe_runs(layout.spe)
    measured = measured_enf(runs.to_dict("records")) if not runs.empty else {}
    enf = {p: f for p, (f, _) in measured.items()}
    where = {p: f"low-light run, +- {e:.3f}" for p, (_, e) in measured.items()}
    for p, f in enf_file.items():
        enf[p], where[p] = f, "enf.txt"
    for p, f in (flags or {}).items():
        enf[p], where[p] = f, "--enf"
    return enf, where, runs


@dataclass
class MergeResult:
    """The merged points (``df``), the fits per PMT (``table``), the points without a
    result (``missing``), the files written, and the exit status."""

    df: pd.DataFrame
    table: pd.DataFrame | None = None
    missing: list = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    exit_status: int = 0


def merge(options: MergeOptions | None = None, *, say: Callable[[str], None] = _say,
          warn: Callable[[str], None] = _warn) -> MergeResult:
    """Build the gain curves from saved results (see the module docstring). Raises
    ``FileNotFoundError`` when there are no results, :class:`pmtgain.io.campaign.CampaignError`
    for a bad ``enf.txt``."""
    from pmtgain.errors import CampaignError
    from pmtgain.io.campaign import enf_path, is_enf, load_campaign, load_enf
    from pmtgain.point.afterpulse import afterpulse_lines, afterpulse_probability
    from pmtgain.point.anchor import led_excess, with_gains
    from pmtgain.point.darkrate import dark_lines, dark_run_lines, with_dark_rates, with_dark_runs
    from pmtgain.point.longrun import with_long_runs
    from pmtgain.point.photostat import DEFAULT_ENF
    from pmtgain.report.plots import gain_curves
    from pmtgain.results.gaincurve import build, collect
    from pmtgain.results.store import load_spe_runs
    from pmtgain.run.runs import write_run_list

    o = options or MergeOptions()
    bad = [f"{p}:{f:g}" for p, f in o.enf.items() if not is_enf(f)]
    if bad:
        raise InputError(f"--enf {' '.join(bad)}: F = 1 + (sigma_1/Q_1)^2 is at least 1 "
                         "(typical 1.1-1.5)")
    out = Path(o.outputs)
    lay = Layout.merged(out, o.source)
    source = lay.source
    df = collect(lay)
    say(f"merging {out / source} ({'the HTCondor jobs' if source != 'lists' else 'analysis.py'}"
        f"): {len(df)} point(s) of {df.pmt.nunique() if len(df) else 0} PMT(s)")
    info = o.data_info
    if info is None:
        run = lay.run_record
        try:
            info = json.loads(run.read_text())["data_info"] if run.exists() else "data_info"
        except (ValueError, KeyError, TypeError):
            info = "data_info"
    expected = None
    try:
        pts = load_campaign(info)
        expected = [(p.pmt, p.hv) for p in pts if p.pmt in set(df.pmt)] \
            if source == "lists" else [(p.pmt, p.hv) for p in pts]
    except CampaignError:
        pass
    enf_file = load_enf(info)
    merged, where, spe_runs = enf_per_pmt(lay, enf_file=enf_file, flags=o.enf)
    if not spe_runs.empty:
        write_spe_list(lay, spe_runs)
    enf: dict[int, float] = {}
    if not df.empty:
        pmts = sorted(int(p) for p in set(df.pmt))
        enf = {p: merged.get(p, DEFAULT_ENF) for p in pmts}
        if o.quantity == "gain" or o.plots:
            src = {p: where.get(p, "default").replace("enf.txt", enf_path(info).name)
                   for p in pmts}
            say("excess noise factor F: " + ", ".join(
                f"PMT {p} {enf[p]:.4g} ({src[p]})" for p in pmts))
    df = with_gains(df, enf, spe_runs)
    df, dark = with_dark_rates(df)
    dark_runs = load_spe_runs(lay.runs(DARK), DARK)
    if not dark_runs.empty:  # their own rates, in the same table
        dark_runs, run_curves = with_dark_runs(dark_runs, df, spe_runs)
        write_run_list(lay, DARK, dark_runs)
        dark = pd.concat([dark.assign(source="LED runs' baseline regions") if not dark.empty
                          else dark, run_curves], ignore_index=True)
    df.attrs["dark_runs"] = dark_runs
    df = afterpulse_probability(df)
    long_runs = with_long_runs(load_spe_runs(lay.runs(AFTERPULSE), AFTERPULSE), df, enf=enf,
                               spe_runs=spe_runs, dark_runs=dark_runs)
    if not long_runs.empty:
        write_run_list(lay, AFTERPULSE, long_runs)
    df.attrs["long_runs"] = long_runs
    df.attrs["dark"] = dark
    fits, table, missing = build(df, expected, o.target, o.quantity)
    warnings = []  # besides the points' own flags: for the console and the report
    excess = led_excess(df, spe_runs) if not df.empty else {}
    for pmt, b in excess.items():
        line = (f"PMT {pmt}: photostatistics / anchored gain = {b['ratio']:.4f} +- "
                f"{b['ratio_err']:.4f}: {b['note']}")
        if b["note"].startswith("WARNING"):
            warnings.append(line)
        elif o.quantity == "gain":
            say(line)
    for kind, runs in (("dark run", dark_runs), ("long-record run", long_runs)):
        for r in runs.to_dict("records") if "flag" in runs.columns else ():
            if isinstance(r.get("flag"), str) and r["flag"]:
                warnings.append(f"PMT {r['pmt']} at {r['hv']} V ({kind}): {r['flag']}")
    for line in warnings:
        warn(line)
    df.attrs["warnings"] = warnings
    if o.quantity == "gain" and not df.empty:
        for pmt, b in excess.items():
            sel = table.pmt == pmt
            for k in ("ratio", "ratio_err", "led_excess_rms", "led_excess_rms_limit"):
                table.loc[sel, "ps_over_anchor" if k == "ratio" else
                          "ps_over_anchor_err" if k == "ratio_err" else k] = b[k]
    res = MergeResult(df=df, table=table, missing=missing)
    df.attrs["spe"] = spe_runs
    if df.empty:  # every point failed: say why, and still write the report if asked
        _print_missing(df, missing, warn, out, source)
        if o.plots:
            _report(o, df, out, source, missing, info, say, warn)
        n = len(set(missing) | {(p, h) for p, h, _ in df.attrs["failed"]})
        warn(f"gain_curve.py: error: no point has a result in {out / source} ({n} failed "
             "or missing, listed above)")
        res.exit_status = 1
        return res
    # whole or not at all: a kill or a full disk mid-write leaves the previous files
    png, csv = lay.gain_curves("png", o.quantity), lay.gain_curves("csv", o.quantity)
    with atomic_path(png) as tmp:
        gain_curves(df, fits, tmp, o.quantity)
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    res.written += [png, csv]
    if not dark.empty:  # (an HTCondor merge may have no lists/ of its own yet)
        lay.dark_list.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(lay.dark_list) as tmp:
            dark.to_csv(tmp, index=False, float_format="%.6g")
        res.written.append(lay.dark_list)
        say(f"dark-count rates against the threshold in {lay.dark_list}")
    for line in dark_lines(df) + (dark_run_lines(dark_runs) if not dark_runs.empty else []) \
            + afterpulse_lines(df) + afterpulse_lines(long_runs, "long-record runs"):
        say(line)
    cols = ["pmt", "hv", "n_used", "n_files", "mean_charge", "std_dev_charge", "sem_charge"]
    if o.quantity == "gain":
        cols += ["gain", "gain_err", "gain_scale_err", "n_pe", "enf", "gain_anchored",
                 "gain_anchored_err", "gain_anchored_scale_err", "ps_over_anchor",
                 "gain_flag"]
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        say(df[[c for c in cols if c in df.columns]].to_string(index=False,
                                                               float_format="%.5g"))
        say("")
        show = [c for c in ("pmt", "n_points", "q0_at_1000V", "q0_err", "q0_scale_err",
                            "b", "b_err", "chi2_ndf", "hv_for_target", "hv_for_target_err",
                            "hv_for_target_scale_err", "missing_hv")
                if c in table.columns]
        say(table[show].to_string(index=False, float_format="%.4g"))
        if o.quantity == "gain" and "curve" in table.columns:
            for r in table.to_dict("records"):
                what = "the HV for the target and the fit" if o.target is not None \
                    else "the fit"
                say(f"PMT {r['pmt']}: {what} from the gain {r.get('curve')}")
    _print_missing(df, missing, warn, out, source)
    say(f"wrote {png} and {csv}")
    if o.reference is not None:
        res.written.append(_compare_reference(df, Path(o.reference), lay, say, warn))
    drifting = df[df["drift_flag"].fillna("").astype(str) != ""] \
        if "drift_flag" in df.columns else df.iloc[:0]
    for r in drifting.to_dict("records"):
        warn(f"PMT {r['pmt']} at {r['hv']} V: {r['drift_flag']}")
    if o.plots:
        res.written.append(_report(o, df, out, source, missing, info, say, warn))
    return res


def _compare_reference(df: pd.DataFrame, ref: Path, lay: Layout, say, warn) -> Path:
    """The points of ``df`` also in the reference campaign's results (its lists, or its
    HTCondor results), compared (:func:`pmtgain.point.stability.compare_points`); written
    to ``outputs/repeated_points.csv``. InputError when the reference holds no results."""
    from pmtgain.point.stability import compare_points
    from pmtgain.results.gaincurve import collect

    try:
        old = collect(Layout.merged(ref, None))
    except FileNotFoundError as exc:
        raise InputError(f"--reference {ref}: no results there ({exc})") from None
    both = compare_points(df, old)
    both.attrs["reference"] = str(ref)
    df.attrs["repeated"] = both
    with atomic_path(lay.repeated) as tmp:
        both.to_csv(tmp, index=False, float_format="%.6g")
    if both.empty:
        warn(f"--reference {ref}: no (PMT, HV) point measured in both campaigns")
        return lay.repeated
    chi2 = float(np.sum(both["diff_sigma"] ** 2))
    say(f"{len(both)} point(s) also in {ref}: chi2 {chi2:.1f} for {len(both)} "
        f"(largest {float(np.max(np.abs(both['diff_sigma']))):.1f} sigma); in "
        f"{lay.repeated}")
    for r in both[np.abs(both["diff_sigma"]) >= 3].to_dict("records"):
        warn(f"PMT {r['pmt']} at {r['hv']} V differs from {ref}: "
             f"{100 * r['diff_rel']:+.2f} % ({r['diff_sigma']:+.1f} sigma)")
    return lay.repeated


def _print_missing(df, missing, warn, out: Path, source: str) -> None:
    reasons = {(p, h): r for p, h, r in df.attrs.get("failed", [])}
    if source == "condor_lists" and set(missing) - set(reasons):
        from pmtgain.condor.queue import missing_reasons

        reasons.update(missing_reasons(out, set(missing) - set(reasons)))
    for pmt, hv in sorted(set(missing) | set(reasons)):
        why = f": {reasons[(pmt, hv)]}" if (pmt, hv) in reasons else " has no result"
        warn(f"missing: PMT {pmt} at {hv} V{why}")


def _report(o: MergeOptions, df, out: Path, source: str, missing, info, say, warn) -> Path:
    from pmtgain.report.page import make_report

    gain_t = o.target if o.quantity == "gain" else None
    charge_t = o.target if o.quantity == "charge" else None
    path, done = make_report(df, Layout(out, source), missing=missing, target=gain_t,
                             target_charge=charge_t, campaign=str(info), jobs=o.jobs,
                             progress=o.progress)
    for (pmt, hv), err in sorted(done.errors.items()):
        warn(f"no diagnostic plot for PMT {pmt} at {hv} V: {err}")
    say(f"diagnostics in {out / 'plots'} ({done.drawn} drawn, {done.kept} up to "
        f"date); report: {path} (open {path.resolve().as_uri()})")
    return path

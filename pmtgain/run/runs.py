"""A campaign's runs of their own kinds (:data:`pmtgain.kinds.RUNS`: low-light runs, dark
runs, long-record runs), beside its points: measured in the pool, reused by the one rule, listed.

What to use when
----------------
- :func:`run_kind` - the campaign's runs of one kind (``load_spe`` / ``load_dark``'s lines)
  measured on this machine: a saved run is reused when :func:`pmtgain.results.store.
  stale_reason` allows, the rest go to the process pool (:func:`pmtgain.run.executors.
  run_point`); its list written; a line per run said.
- :func:`write_run_list` - ``lists/spe.csv``, ``dark_runs.csv``, ``afterpulse_runs.csv``: a
  row per saved run (of this machine's runs or of the HTCondor jobs'), key columns first.
- :func:`run_line` - the one line a run's result is told in.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from pmtgain.io.safeio import atomic_path
from pmtgain.kinds import AFTERPULSE, DARK, SPE, Kind
from pmtgain.results.layout import Layout

__all__ = ["run_kind", "write_run_list", "run_line", "list_path"]


def list_path(layout: Layout, kind: Kind) -> Path:
    """Where ``kind``'s list goes: ``lists/spe.csv``, ``lists/dark_runs.csv``,
    ``lists/afterpulse_runs.csv``."""
    return {SPE: layout.spe_list, DARK: layout.dark_runs_list}.get(
        kind, layout.afterpulse_runs_list)


def _columns(kind: Kind) -> tuple[str, ...]:
    if kind is SPE:
        from pmtgain.point.spe import SPE_COLUMNS

        return SPE_COLUMNS
    if kind is DARK:
        from pmtgain.point.darkrun import DARK_COLUMNS

        return DARK_COLUMNS
    from pmtgain.point.longrun import LONG_COLUMNS

    return LONG_COLUMNS


def write_run_list(layout: Layout, kind: Kind = SPE, runs: pd.DataFrame | None = None
                   ) -> Path | None:
    """``kind``'s list: one row per run, its key columns first (``runs``, or the ones
    saved in ``layout``); None without any."""
    from pmtgain.results.store import load_spe_runs

    df = load_spe_runs(layout.runs(kind), kind) if runs is None else runs
    if df.empty:
        return None
    first = [c for c in _columns(kind) if c in df.columns]
    df = df[first + [c for c in df.columns if c not in first]].sort_values(["pmt", "hv"])
    path = list_path(layout, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    return path


def run_line(kind: Kind, s: dict) -> str:
    """A run's result in one line."""
    where = f"PMT {s['pmt']} {s['hv']} V"
    flag = f" (flag: {s['flag']})" if s.get("flag") else ""
    if kind is AFTERPULSE:
        if s.get("flag"):
            return f"  long-record run {where}: {s['flag']}"
        return (f"  long-record run {where}: {s['ap_flashes']} flashes, {s['ap_pulses']} "
                f"pulses in {s['ap_region_ns'] / 1e3:.3g} us after the LED pulse (per "
                "photoelectron: gain_curve.py)")
    if kind is DARK:
        return (f"  dark run {where} ({s['trigger']} trigger): {s['n_records']} records, "
                f"{s['dark_live_s']:.3g} s live; beyond 5 noise rms "
                f"{s['dark_rate_5sigma_hz']:.4g} +- {s['dark_rate_5sigma_err_hz']:.2g} Hz"
                + flag)
    return (f"  low-light run {where}: occupancy {s['occupancy']:.3f}, G {s['gain']:.4g} "
            f"+- {s['gain_err']:.2g}, F {s['enf']:.3f} +- {s['enf_err']:.3f}" + flag)


def run_kind(runs: list, kind: Kind, task, *, jobs: int | None = None, force: bool = False,
             progress: bool = True, say=print) -> list:
    """``runs`` (campaign lines of ``kind``) measured on this machine, in the pool; their
    list written; the outcomes (:class:`pmtgain.run.executors.PointOutcome`)."""
    from pmtgain.parallel import parallel_map
    from pmtgain.results import store
    from pmtgain.run.executors import PointOutcome, crashed, run_point

    fn = functools.partial(run_point, task=task)
    outs, todo = [], []
    for p in runs:  # a saved run is reused by the same rule as a point
        s = None if force else store.load_spe_summary(task.layout.runs(kind), p.pmt, p.hv,
                                                      kind)
        if s is not None and store.stale_reason(s, p, None) is None:
            outs.append(PointOutcome(p.pmt, p.hv, True, summary=s, skipped=True))
        else:
            todo.append(p)
    desc = {SPE: "low-light runs", DARK: "dark runs"}.get(kind, "long-record runs")
    say(f"{len(runs)} {desc if len(runs) > 1 else desc[:-1]}, "
        f"{sum(p.n_files for p in runs)} files")
    outs += parallel_map(fn, [(p,) for p in todo], jobs=jobs, unit="run", desc=desc,
                         progress=progress, on_crash=crashed)
    for x in outs:
        x.kind = kind.name
    write_run_list(task.layout, kind)
    for x in sorted(outs, key=lambda x: (x.pmt, x.hv)):
        if x.ok:
            say(run_line(kind, x.summary))
    return outs

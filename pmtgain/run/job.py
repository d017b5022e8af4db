"""The body of one HTCondor job: fetch, measure and summarise one (PMT, HV) point.

What to use when
----------------
- :func:`main` - ``analysis_condor.py``'s command line (the thin door HTCondor runs).
- :func:`run_job` - the same from Python, typed: one point, the job's outputs
  (:data:`pmtgain.results.store.JOB_OUTPUTS`) in the working directory, the exit status.

The job always leaves every output: ``pmt_summary.json`` (what the merge reads),
``pmt_data_list.pkl`` (the original's one-row DataFrame, for users who load it; never read
back), ``pmt_flashes.npz`` (the per-flash table) and ``pmt_examples.npz``; on failure
the summary carries
``error`` and NaN charges. HTCondor holds a job whose listed output is missing before its
exit policy is consulted. The point's line of ``data_directories_pmt_<pmt>.txt`` (here or
under data_info/, transferred by the submit file) gives its ``files=`` and format
settings, and its cut when cut_V is not given; a
``shapes.csv`` in the sandbox gives weak points the shape of better-measured ones.

Exit status: 0 done; 75 retryable (files failed for network reasons: HTCondor runs the
job again while retries remain; on the last attempt the point is processed with what
arrived, and a point of which nothing arrived is held with the reason and the number of
attempts); 65 permanent (bad arguments, no readable file). On 65 inside a job the one-line
reason is set as the job attribute ``PmtgainError`` (condor_chirp), which the submit file
uses as hold reason.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pmtgain.config import DEFAULT_ENGINE  # light: the job names a broken Python first

__all__ = ["last_attempt", "attempts", "tell_condor", "write_outputs", "write_failure",
           "main", "run_job"]

EX_DATAERR, EX_TEMPFAIL = 65, 75


def _job_ad() -> dict[str, str]:
    """The running job's ClassAd (HTCondor writes it to $_CONDOR_JOB_AD), or {}."""
    path = os.environ.get("_CONDOR_JOB_AD")
    ad = {}
    if path and Path(path).exists():
        for line in Path(path).read_text(errors="replace").splitlines():
            k, sep, v = line.partition(" = ")
            if sep:
                ad[k.strip()] = v.strip()
    return ad


def last_attempt() -> bool:
    """True outside HTCondor, or when no retry is left (OnExitRemove: NumJobCompletions >
    JobMaxRetries)."""
    ad = _job_ad()
    try:
        return int(ad.get("NumJobCompletions", 0)) >= int(ad["JobMaxRetries"])
    except (KeyError, ValueError):
        return True


def attempts() -> int:
    """How many times HTCondor has started this job (1 outside HTCondor)."""
    try:
        return int(_job_ad().get("NumJobCompletions", 0)) + 1
    except ValueError:
        return 1


def tell_condor(reason: str) -> None:
    """Set PmtgainError in the job ad, so that the hold reason is the job's own words."""
    if "_CONDOR_JOB_AD" not in os.environ:
        return
    chirp = shutil.which("condor_chirp") or "/usr/libexec/condor/condor_chirp"
    value = '"' + reason.replace("\\", "\\\\").replace('"', '\\"')[:500] + '"'
    try:
        subprocess.run([chirp, "set_job_attr", "PmtgainError", value], timeout=60,
                       capture_output=True)
    except (OSError, subprocess.SubprocessError):
        pass


def write_outputs(df) -> None:
    """The job's one-row summary as JSON (read by the merge) and as the original pickle."""
    from pmtgain.results.store import write_json_records

    write_json_records(df, "pmt_summary.json")
    df.to_pickle("pmt_data_list.pkl")


def write_failure(pmt: int, hv: int, n_files: int, error: str, retryable: bool) -> None:
    import numpy as np
    import pandas as pd

    nan = float("nan")
    write_outputs(pd.DataFrame([dict(mean_charge=nan, std_dev_charge=nan, hv=hv, pmt=pmt,
                                     n_files=n_files, n_used=0, error=error,
                                     retryable=retryable)]))
    from pmtgain.results.store import save_table

    save_table(pd.DataFrame({"file": [], "status": [], "charge_pC": [], "reason": []}),
               "pmt_flashes.npz")
    with open("pmt_examples.npz", "wb") as f:
        np.savez(f)


def main(argv=None) -> int:
    from pmtgain.config import ENGINES

    ap = argparse.ArgumentParser(prog="analysis_condor.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("dir_url")
    ap.add_argument("pmt", type=int)
    ap.add_argument("hv", type=int)
    ap.add_argument("n_files", type=int)
    ap.add_argument("cut_V", nargs="?", default="none",
                    help="amplitude cut in volts, or 'none'")
    ap.add_argument("--engine", default=DEFAULT_ENGINE, choices=ENGINES)
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--kind", default="gain", choices=("gain", "spe", "dark", "afterpulse"),
                    help="what the line measures: gain (data_directories_pmt_<i>.txt), "
                         "spe (a low-light run, spe_pmt_<i>.txt: G and F without an "
                         "assumed F), dark (a dark run, dark_pmt_<i>.txt: the dark-count "
                         "rate), afterpulse (a long-record run, afterpulse_pmt_<i>.txt)")
    ap.add_argument("--spe", action="store_true", help="the same as --kind spe")
    try:
        args = ap.parse_args(argv)
        cut = None if args.cut_V.lower() in ("none", "nan", "") else float(args.cut_V)
    except SystemExit as exc:
        return EX_DATAERR if exc.code else 0
    except ValueError:
        print(f"analysis_condor.py: error: cut_V {args.cut_V!r} is not a number",
              file=sys.stderr)
        return EX_DATAERR
    return run_job(args.dir_url, args.pmt, args.hv, args.n_files, cut, engine=args.engine,
                   data_dir=args.data_dir, kind="spe" if args.spe else args.kind)


def _campaign_line(name: str, hv: int, keys: dict | None = None):
    """The line at ``hv`` of campaign file ``name`` (in the sandbox or under data_info/):
    a PointSpec, None without the file or the line, False (reported) when it is bad.
    ``keys``: the kind's own ``key=value`` fields (a dark run's ``trigger=``)."""
    from pmtgain.errors import CampaignError
    from pmtgain.io.campaign import parse_campaign_file

    info = next((p for p in (Path(name), Path("data_info") / name) if p.exists()), None)
    if info is None:
        return None
    try:
        return next((p for p in parse_campaign_file(info, keys=keys) if p.hv == hv), None)
    except CampaignError as exc:
        print(f"analysis_condor.py: error: {exc}", file=sys.stderr)
        return False


def run_job(dir_url: str, pmt: int, hv: int, n_files: int, cut: float | None, *,
            engine: str = DEFAULT_ENGINE, data_dir: str = "data", kind: str = "gain") -> int:
    """One point in the job's working directory; returns the exit status (module
    docstring). ``kind`` ``spe`` (a low-light run) or ``dark`` (a dark run): a run of its
    own kind (outputs ``pmt_summary.json``, ``pmt_spectra.npz``)."""
    if kind != "gain":
        return _run_job(kind, dir_url, pmt, hv, n_files, data_dir)
    from pmtgain.config import PointSpec
    from pmtgain.io.campaign import folder_of
    from pmtgain.results.layout import Layout
    from pmtgain.run.executors import run_point, summaries_frame
    from pmtgain.run.task import Task

    # the point's campaign line: its cut, files= and format settings
    line = _campaign_line(f"data_directories_pmt_{pmt}.txt", hv)
    if line is False:
        return EX_DATAERR
    if cut is None and line is not None:
        cut = line.cut_V
    point = PointSpec(pmt=pmt, hv=hv, n_files=n_files, dir_url=dir_url,
                      cut_V=cut, folder=folder_of(dir_url, hv, pmt),
                      files=line.files if line else (), read=line.read if line else ())
    shapes = None
    if Path("shapes.csv").is_file():  # transferred when the campaign carries one
        from pmtgain.point.shape import ShapeTable

        try:
            shapes = ShapeTable.load("shapes.csv")
        except ValueError as exc:
            print(f"analysis_condor.py: error: {exc}", file=sys.stderr)
            return EX_DATAERR
    final = last_attempt()
    task = Task(layout=Layout(Path(".")), data_dir=Path(data_dir), engine=engine,
                shapes=shapes)
    out = run_point(point, task)
    log = task.layout.log(pmt, hv)
    if log.exists():
        print(log.read_text(), end="")
    where = f"PMT {pmt} at {hv} V"
    if not out.ok:
        retryable = out.transient > 0 and not final
        write_failure(pmt, hv, n_files, out.error, retryable)
        if retryable:
            print(f"analysis_condor.py: {where}: network trouble, retryable: {out.error}",
                  file=sys.stderr)
            return EX_TEMPFAIL
        # the last attempt: held, in the job's own words (not "completed, exit 75")
        why = (f"{out.error} (after {attempts()} attempts)" if out.transient
               else out.error)
        print(f"analysis_condor.py: {where} failed: {why}", file=sys.stderr)
        tell_condor(f"{where}: {why}")
        return EX_DATAERR
    if out.transient and not final:
        write_failure(pmt, hv, n_files,
                      f"{out.transient} files failed for network reasons", True)
        print(f"analysis_condor.py: {where}: {out.transient} files failed for network "
              "reasons; asking HTCondor to run the job again", file=sys.stderr)
        return EX_TEMPFAIL
    write_outputs(summaries_frame([out.summary]))
    saved = task.layout.point(pmt, hv)
    saved["table"].replace("pmt_flashes.npz")
    saved["examples"].replace("pmt_examples.npz")
    return 0


def _run_job(kind_name: str, dir_url: str, pmt: int, hv: int, n_files: int,
             data_dir: str) -> int:
    """A run of its own kind (:data:`pmtgain.kinds.RUNS`): a low-light or a dark run."""
    from dataclasses import replace

    from pmtgain.config import PointSpec
    from pmtgain.io.campaign import folder_of
    from pmtgain.io.runfiles import DARK_KEYS, SPE_KEYS
    from pmtgain.kinds import DARK, KINDS, SPE
    from pmtgain.results.layout import Layout
    from pmtgain.run.executors import run_point
    from pmtgain.run.task import Task

    kind = KINDS[kind_name]
    keys = {DARK: DARK_KEYS, SPE: SPE_KEYS}.get(kind)
    # its files=, format settings and trigger
    line = _campaign_line(kind.campaign_files.replace("*", str(pmt)), hv, keys)
    if line is False:
        return EX_DATAERR
    extra = dict(line.extra) if line else {}
    if kind is DARK:
        extra.setdefault("trigger", "random")
    if extra.get("levels"):  # fetched into the job's own data folder, as its files
        extra["levels"] = tuple(replace(q, folder=q.folder + "_spe", kind=kind.name)
                                for q in extra["levels"])
    point = PointSpec(pmt=pmt, hv=hv, n_files=n_files, dir_url=dir_url,
                      folder=folder_of(dir_url, hv, pmt) + f"_{kind.name}", kind=kind.name,
                      files=line.files if line else (), read=line.read if line else (),
                      extra=extra)
    task = Task(layout=Layout(Path(".")), data_dir=Path(data_dir))
    out = run_point(point, task)
    what = {"dark": "dark run", "afterpulse": "long-record run"}.get(kind.name, "low light")
    where = f"PMT {pmt} at {hv} V ({what})"
    if not out.ok:
        write_failure(pmt, hv, n_files, out.error, out.transient > 0)
        Path("pmt_spectra.npz").write_bytes(b"")
        print(f"analysis_condor.py: {where} failed: {out.error}", file=sys.stderr)
        tell_condor(f"{where}: {out.error}")
        return EX_TEMPFAIL if out.transient and not last_attempt() else EX_DATAERR
    saved = task.layout.spe_run(pmt, hv, kind)
    saved["summary"].replace("pmt_summary.json")
    saved["spectra"].replace("pmt_spectra.npz")
    return 0

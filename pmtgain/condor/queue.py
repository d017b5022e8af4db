"""HTCondor after submission: progress, retrieval and resubmission of recorded clusters.

What to use when
----------------
- ``pmtgain condor status`` / :func:`status` - per PMT: idle, running, done, held (with
  the hold reasons), and which points have a valid result in ``outputs/condor_lists``.
- ``pmtgain condor wait`` / :func:`wait` - block (with a progress bar) until every
  recorded job is done or held.
- ``pmtgain condor retrieve`` / :func:`retrieve` - ``condor_transfer_data`` for every
  recorded cluster, then ``condor_rm`` of the completed spooled jobs (they stay in the
  queue, state Completed, until removed).
- ``pmtgain condor resubmit`` / :func:`resubmit` - a new cluster with only the points
  whose result is missing, failed or stale (:func:`pmtgain.results.store.stale_reason`, the rule
  ``analysis.py`` uses); held jobs of those points are removed first.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pmtgain.condor.submit import (
    CLUSTERS_FILE,
    JOB_STATUS,
    CondorError,
    SubmitOptions,
    read_records,
    run_condor,
    write_and_submit,
)
from pmtgain.config import PointSpec
from pmtgain.io.campaign import campaign_files, parse_campaign_file
from pmtgain.results import store

__all__ = ["status", "wait", "retrieve", "resubmit", "missing_reasons"]

# -- progress, retrieval, resubmission --------------------------------------------------

def _where(recs: list[dict], opts: SubmitOptions) -> dict[tuple, list[int]]:
    """The recorded clusters by the (schedd, pool) each was submitted to, unless the user
    names another now (``opts.explicit``)."""
    out: dict[tuple, list[int]] = {}
    for r in recs:
        o = SubmitOptions.remembered(r, opts)
        out.setdefault((o.schedd, o.pool), []).append(r["cluster"])
    return out


def _loc(schedd, pool) -> list[str]:
    return SubmitOptions(schedd=schedd, pool=pool).location_args()


def _jobs(opts: SubmitOptions, recs: list[dict]) -> list[dict]:
    """Job ads (queue, then history) of the recorded clusters, each asked of its own
    schedd."""
    ads: dict[tuple[int, int], dict] = {}
    for (schedd, pool), clusters in _where(recs, opts).items():
        ads.update(_jobs_at(SubmitOptions(schedd=schedd, pool=pool), clusters))
    return sorted(ads.values(), key=lambda a: (a.get("PmtgainPMT", 0), a.get("HV", 0)))


def _jobs_at(opts: SubmitOptions, clusters: list[int]) -> dict[tuple[int, int], dict]:
    if not clusters:
        return {}
    constraint = " || ".join(f"ClusterId == {c}" for c in clusters)
    attrs = ("ClusterId,ProcId,JobStatus,HoldReason,HoldReasonCode,ExitCode,PmtgainPMT,HV,"
             "NumJobStarts")
    ads: dict[tuple[int, int], dict] = {}
    for cmd in (["condor_history", *opts.location_args(), "-constraint", constraint,
                 "-json", "-attributes", attrs],
                ["condor_q", *opts.location_args(), "-constraint", constraint, "-json",
                 "-attributes", attrs]):
        r = run_condor(cmd, check=False)
        if r.returncode != 0 and cmd[0] == "condor_q":
            msg = (r.stderr or r.stdout).strip().splitlines()
            raise CondorError(f"condor_q failed: {msg[-1] if msg else r.returncode}")
        text = r.stdout.strip()
        for ad in (json.loads(text) if text else []):
            ads[(ad["ClusterId"], ad["ProcId"])] = ad  # the queue's view wins
    return ads


def _state(ad: dict) -> str:
    """What a job ad means to a shifter: idle, running, done, failed, held, ..."""
    s = JOB_STATUS.get(ad.get("JobStatus"), "?")
    if s == "held" and ad.get("HoldReasonCode") == 16:  # -spool: inputs still coming
        return "idle"
    if s == "done" and ad.get("ExitCode", 0) != 0:
        return "failed"
    return s


def _results(outputs: Path, points: list[PointSpec] | None = None,
             engine: str | None = None) -> dict[tuple[int, int], str | None]:
    """(pmt, hv) -> None if a result in condor_lists is still valid, else why not: the
    job's error, why its file cannot be read, or (given ``points`` and ``engine``) why it
    is stale (:func:`pmtgain.results.store.stale_reason`, the rule analysis.py uses too)."""
    from pmtgain.results.gaincurve import collect
    from pmtgain.results.layout import Layout

    try:
        df = collect(Layout(Path(outputs), "condor_lists"))
    except FileNotFoundError:
        return {}
    rows = {(int(r["pmt"]), int(r["hv"])): r for r in df.to_dict("records")}
    found: dict[tuple[int, int], str | None] = dict.fromkeys(rows)
    if points is not None and engine is not None:
        for p in points:
            if (p.pmt, p.hv) in rows:
                found[(p.pmt, p.hv)] = store.stale_reason(rows[(p.pmt, p.hv)], p, engine,
                                                          check_ledoff=False)
    found.update({(p, h): reason for p, h, reason in df.attrs["failed"]})
    return found


def status(outputs: Path, opts: SubmitOptions, out=sys.stdout) -> int:
    outputs = Path(outputs)
    recs = read_records(outputs)
    if not recs:
        print(f"no clusters recorded in {outputs / CLUSTERS_FILE} "
              "(source submit_condor_jobs.sh first)", file=out)
        return 1
    ads = _jobs(opts, recs)
    results = _results(outputs)
    by_pmt: dict[int, dict[str, int]] = {}
    held = []
    for ad in ads:
        s = _state(ad)
        by_pmt.setdefault(ad.get("PmtgainPMT", -1), {}).setdefault(s, 0)
        by_pmt[ad.get("PmtgainPMT", -1)][s] += 1
        if s == "held":
            held.append(ad)
    print(f"{'PMT':>4} {'idle':>5} {'running':>8} {'done':>5} {'failed':>7} {'held':>5} "
          f"{'results':>8}", file=out)
    for pmt in sorted(by_pmt):
        c = by_pmt[pmt]
        n_res = sum(1 for (p, _), e in results.items() if p == pmt and e is None)
        print(f"{pmt:>4} {c.get('idle', 0):>5} {c.get('running', 0) + c.get('transferring', 0):>8}"
              f" {c.get('done', 0):>5} {c.get('failed', 0):>7} {c.get('held', 0):>5}"
              f" {n_res:>8}", file=out)
    for ad in held:
        print(f"held: PMT {ad.get('PmtgainPMT')} at {ad.get('HV')} V (job {ad['ClusterId']}."
              f"{ad['ProcId']}): {ad.get('HoldReason', '')}", file=out)
    for (pmt, hv), err in sorted(results.items()):
        if err:
            print(f"failed: PMT {pmt} at {hv} V: {err}", file=out)
    return 0


def wait(outputs: Path, opts: SubmitOptions, timeout: float = 3600, poll: float = 2.0,
         progress: bool = True) -> dict[str, int]:
    """Block until every job of the recorded clusters is done or held (not merely held
    while its input is spooled). Shows a progress bar; returns the final counts."""
    from tqdm import tqdm

    recs = read_records(Path(outputs))
    if not recs:
        raise CondorError(f"no clusters recorded in {Path(outputs) / CLUSTERS_FILE}")
    t_end = time.monotonic() + timeout
    bar = None
    while True:
        counts: dict[str, int] = {}
        for ad in _jobs(opts, recs):
            st = _state(ad)
            counts[st] = counts.get(st, 0) + 1
        total = sum(counts.values())
        finished = sum(counts.get(k, 0) for k in ("done", "failed", "held", "removed"))
        if progress and bar is None and total:
            bar = tqdm(total=total, unit="job", desc="condor", file=sys.stderr,
                       disable=None)  # no bar when stderr is not a terminal (logs)
        if bar is not None:
            bar.n = finished
            bar.set_postfix({k: v for k, v in counts.items() if v}, refresh=True)
        if total and finished == total:
            break
        if time.monotonic() > t_end:
            if bar is not None:
                bar.close()
            raise CondorError(f"not finished after {timeout:.0f} s: {counts}")
        time.sleep(poll)
    if bar is not None:
        bar.close()
    return counts


def retrieve(outputs: Path, opts: SubmitOptions, out=sys.stdout) -> int:
    """``condor_transfer_data`` for every recorded cluster with finished jobs, then
    ``condor_rm`` of its completed jobs. Returns the number of clusters transferred."""
    queued_done: list[tuple[int, list[str]]] = []
    for (schedd, pool), clusters in _where(read_records(Path(outputs)), opts).items():
        # spooled jobs that completed stay in the queue until removed
        ids = " || ".join(f"ClusterId == {c}" for c in clusters)
        r = run_condor(["condor_q", *_loc(schedd, pool), "-constraint",
                  f"({ids}) && JobStatus == 4", "-af", "ClusterId"])
        queued_done += [(c, _loc(schedd, pool)) for c in sorted({int(c) for c in
                                                                  r.stdout.split()})]
    for c, loc in queued_done:
        run_condor(["condor_transfer_data", *loc, str(c)])
        run_condor(["condor_rm", *loc, "-constraint", f"ClusterId == {c} && JobStatus == 4"],
             check=False)
        print(f"cluster {c}: outputs transferred, completed jobs removed from the queue",
              file=out)
    if not queued_done:
        print("nothing to transfer (no completed jobs waiting in the queue)", file=out)
    else:
        print("next: python3 gain_curve.py --plots  (curves, diagnostics, "
              "outputs/report.html)", file=out)
    return len(queued_done)


def resubmit(project: Path, data_info: Path, outputs: Path, opts: SubmitOptions,
             dry_run: bool = False, out=sys.stdout) -> list[dict]:
    """Submit again only the points without a good result and not idle or running."""
    project, outputs = Path(project).resolve(), Path(outputs).resolve()
    # the points' clusters: a PMT's low-light, dark and long-record runs are clusters of
    # their own kind (their own submit files), never resubmitted or removed here
    recs = [r for r in read_records(outputs) if r.get("kind", "gain") == "gain"]
    given = opts

    def of_pmt(pmt: int) -> SubmitOptions:
        """The options of the PMT's newest cluster (image, resources, attributes, engine,
        schedd), with what the user gives now in their place."""
        mine = [r for r in recs if r.get("pmt") == pmt]
        return SubmitOptions.remembered(mine[-1] if mine else (recs[-1] if recs else None),
                                        given)

    results: dict = {}
    for f in campaign_files(data_info):  # each PMT's results judged with its own engine
        pts = parse_campaign_file(f)
        if pts:
            results.update({k: v for k, v in _results(outputs, pts, of_pmt(pts[0].pmt)
                                                       .engine).items()
                            if k[0] == pts[0].pmt})
    ads = _jobs(opts, recs)
    loc_of = {c: _loc(s, p) for (s, p), cs in _where(recs, opts).items() for c in cs}
    active = {(a.get("PmtgainPMT"), a.get("HV")) for a in ads
              if _state(a) in ("idle", "running", "transferring")}
    held = [a for a in ads if _state(a) == "held"]
    new = []
    for f in campaign_files(data_info):
        points = [p for p in parse_campaign_file(f)
                  if results.get((p.pmt, p.hv), "missing") is not None
                  and (p.pmt, p.hv) not in active]
        if not points:
            continue
        pmt = points[0].pmt
        opts = of_pmt(pmt)
        for a in held:
            if a.get("PmtgainPMT") == pmt and a.get("HV") in {p.hv for p in points}:
                if not dry_run:
                    run_condor(["condor_rm", *loc_of.get(a["ClusterId"], opts.location_args()),
                          f"{a['ClusterId']}.{a['ProcId']}"], check=False)
        n = sum(1 for r in recs if r["pmt"] == pmt)
        rec = write_and_submit(pmt, points, project=project, outputs=outputs, info_file=f,
                                opts=opts, name=f"analysis_pmt_{pmt}_resubmit{n}.sub",
                                dry_run=dry_run, out=out)
        if rec:
            new.append(rec)
    if not new and not dry_run:
        print("every point has a result or a job in the queue: nothing to resubmit", file=out)
    return new




def missing_reasons(outputs: Path, points: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Why each of ``points`` has no result in ``condor_lists``, where HTCondor knows:
    the hold reason of its job in the queue (asked of each recorded cluster's schedd, if
    the condor tools are here), else the last line its job wrote to
    ``condor_errors/pmt_<i>_<hv>_analysis.error``. What ``gain_curve.py`` prints for a
    missing point."""
    import shutil

    from pmtgain.results.gaincurve import job_said

    out: dict[tuple[int, int], str] = {}
    for pmt, hv in points:
        said = job_said(Path(outputs), pmt, hv)
        if said:
            out[(pmt, hv)] = f"its job said: {said}"
    try:
        recs = read_records(Path(outputs))
    except ValueError:  # a broken record: the reasons above are all there is
        recs = []
    if recs and shutil.which("condor_q"):
        for (schedd, pool), clusters in _where(recs, SubmitOptions()).items():
            ids = " || ".join(f"ClusterId == {c}" for c in clusters)
            try:
                r = run_condor(["condor_q", *_loc(schedd, pool), "-constraint",
                          f"({ids}) && JobStatus == 5", "-af:t", "PmtgainPMT", "HV",
                          "HoldReason"], check=False, timeout=30)
            except CondorError:
                continue
            for line in r.stdout.splitlines():
                f = line.split("\t", 2)
                if len(f) == 3 and f[0].isdigit() and f[1].isdigit() \
                        and (int(f[0]), int(f[1])) in points:
                    out[(int(f[0]), int(f[1]))] = f"its job is held: {f[2]}"
    return out

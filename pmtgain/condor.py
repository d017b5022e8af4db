"""HTCondor: submit files, submission, progress, retrieval and resubmission.

What to use when
----------------
- ``source submit_condor_jobs.sh`` (users) or :func:`submit_campaign` - one submit file
  per PMT (``analysis_pmt_<i>.sub``, one job per HV point), submitted with ``-spool``;
  the cluster IDs are printed and recorded in ``outputs/condor_clusters.json``.
- :func:`submit_description` - the text of one submit file (plain, readable, editable).
- ``pmtgain condor status`` / :func:`status` - per PMT: idle, running, done, held (with
  the hold reasons), and which points have a result in ``outputs/condor_lists``.
- ``pmtgain condor wait`` / :func:`wait` - block (with a progress bar) until every
  recorded job is done or held.
- ``pmtgain condor retrieve`` / :func:`retrieve` - ``condor_transfer_data`` for every
  recorded cluster, then ``condor_rm`` of the completed spooled jobs (they stay in the
  queue, state Completed, until removed).
- ``pmtgain condor resubmit`` / :func:`resubmit` - a new cluster with only the points
  that failed or have no result; held jobs of those points are removed first.

Knobs (environment variables; the ``submit`` command also takes them as flags)::

    PMTGAIN_SCHEDD      condor -name   (remote schedd)       default: local
    PMTGAIN_POOL        condor -pool   (central manager)     default: local
    PMTGAIN_IMAGE       +SingularityImage, Requirements = HasSingularity
    PMTGAIN_REQUEST_CPUS / _MEMORY / _DISK                  default: 1 / 1 GB / 2 GB
    PMTGAIN_EXTRA_ATTRS  extra job attributes, ';'-separated: +CygnoUser = "me";+OWNER = "condor"
    PMTGAIN_ENGINE       fit engine: fast, root, integral     default: fast
    PMTGAIN_MAX_RETRIES  retries of a transient (network) failure   default: 3
    PMTGAIN_JOB_PYTHON   interpreter the job runs               default: python3 (image)

Exit policy, measured on HTCondor 23.9 (see ``docs/design.md``): the job always leaves
its two output files (a missing listed output holds the job before any exit policy
applies); exit 75 (network) is retried up to ``max_retries``; exit 65 (bad input) holds
the job with the job's own one-line error as hold reason (set through ``condor_chirp``).

The HTCondor command-line tools are used rather than the Python bindings: they are
what CYGNO users already run in their submit container, they take ``-name``/``-pool``
as given, and the PyPI bindings (25.x, ``htcondor2``) are refused by 23.x daemons until
the user fetches a token (``../shared/reference/environment.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import store
from .campaign import CampaignError, campaign_files, parse_campaign_file
from .config import PointSpec

ROOT_FILES = ("analysis_condor.py", "exec_condor.sh")
CLUSTERS_FILE = "condor_clusters.json"
INPUT_LIMIT_BYTES = 10 * 1024 * 1024  # the CYGNO queue's advice for uploads
JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "done", 5: "held",
              6: "transferring", 7: "suspended"}


class CondorError(RuntimeError):
    pass


@dataclass
class SubmitOptions:
    """What goes into a submit file besides the points."""

    schedd: str | None = None
    pool: str | None = None
    image: str | None = None
    request_cpus: int = 1
    request_memory: str = "1 GB"
    request_disk: str = "2 GB"
    extra_attrs: list[str] = field(default_factory=list)
    engine: str = "fast"
    max_retries: int = 3
    job_python: str | None = None

    @classmethod
    def from_env(cls, env=os.environ) -> SubmitOptions:
        extra = [a.strip() for a in env.get("PMTGAIN_EXTRA_ATTRS", "").split(";")
                 if a.strip()]
        return cls(
            schedd=env.get("PMTGAIN_SCHEDD") or None,
            pool=env.get("PMTGAIN_POOL") or None,
            image=env.get("PMTGAIN_IMAGE") or None,
            request_cpus=int(env.get("PMTGAIN_REQUEST_CPUS", 1)),
            request_memory=env.get("PMTGAIN_REQUEST_MEMORY", "1 GB"),
            request_disk=env.get("PMTGAIN_REQUEST_DISK", "2 GB"),
            extra_attrs=extra,
            engine=env.get("PMTGAIN_ENGINE", "fast"),
            max_retries=int(env.get("PMTGAIN_MAX_RETRIES", 3)),
            job_python=env.get("PMTGAIN_JOB_PYTHON") or None,
        )

    def location_args(self) -> list[str]:
        """``-name``/``-pool`` for every condor command."""
        args = []
        if self.schedd:
            args += ["-name", self.schedd]
        if self.pool:
            args += ["-pool", self.pool]
        return args


def _item(p: PointSpec) -> str:
    cut = "none" if p.cut_V is None else repr(float(p.cut_V))
    return f"    {p.dir_url} {p.pmt} {p.hv} {p.n_files} {cut}"


def submit_description(pmt: int, points: list[PointSpec], *, project: Path,
                       outputs: Path, info_file: Path, opts: SubmitOptions) -> str:
    """The submit file of one PMT: one job per point, every path absolute."""
    project, outputs = project.resolve(), outputs.resolve()
    info_rel = info_file.resolve()
    inputs = [project / "analysis_condor.py", project / "pmtgain", info_rel]
    shapes = info_rel.parent / "shapes.csv"
    if shapes.is_file():  # the shape of better-measured points, for weak ones (shape.py)
        inputs.append(shapes)
    key = f"pmt_{pmt}_$(hv)"
    attrs = list(opts.extra_attrs)
    lines = [
        f"# pmtgain: PMT {pmt}, {len(points)} HV points from {info_file}",
        "# written by submit_condor_jobs.sh; edit freely, then: condor_submit -spool <this file>",
        "universe                = vanilla",
        f"executable              = {project / 'exec_condor.sh'}",
        "arguments               = $(dir_url) $(i_pmt) $(hv) $(n_files) $(cut_V)"
        f" --engine {opts.engine}",
        f"initialdir              = {outputs / 'condor_logs'}",
        f"output                  = ../condor_outputs/{key}_analysis.out",
        f"error                   = ../condor_errors/{key}_analysis.error",
        f"log                     = {key}_analysis.log",
        "",
        "should_transfer_files   = YES",
        "when_to_transfer_output = ON_EXIT",
        f"transfer_input_files    = {', '.join(str(p) for p in inputs)}",
        f"transfer_output_files   = {', '.join(store.JOB_OUTPUTS)}",
        f'transfer_output_remaps = "{store.job_remaps(pmt, "$(hv)")}"',
        "",
        f"request_cpus            = {opts.request_cpus}",
        f"request_memory          = {opts.request_memory}",
        f"request_disk            = {opts.request_disk}",
        "",
        "# exit 75: network trouble, run again; exit 65: bad input, hold with the job's reason",
        f"max_retries             = {opts.max_retries}",
        "on_exit_hold            = ExitCode =?= 65",
        "on_exit_hold_reason     = ifThenElse(isString(PmtgainError), PmtgainError, "
        f'"bad input (exit 65): see condor_errors/pmt_{pmt}_" + string(HV) + "_analysis.error")',
        "on_exit_hold_subcode    = 65",
        "+WantIOProxy            = true",
        "+PmtgainPMT             = " + str(pmt),
        "+HV                     = $(hv)",
    ]
    env = ["OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1"]
    if opts.job_python:
        env.append(f"PMTGAIN_JOB_PYTHON={opts.job_python}")
    lines.append(f'environment             = "{" ".join(env)}"')
    if opts.image:
        lines += [f'+SingularityImage        = "{opts.image}"',
                  "requirements            = HasSingularity"]
    lines += attrs
    lines += ["", "queue dir_url, i_pmt, hv, n_files, cut_V from ("]
    lines += [_item(p) for p in points]
    lines += [")", ""]
    return "\n".join(lines)


def input_size(project: Path) -> int:
    """Bytes every job uploads: the job script, the package, one campaign file."""
    total = (project / "analysis_condor.py").stat().st_size
    for f in (project / "pmtgain").rglob("*.py"):
        total += f.stat().st_size
    return total


# -- running condor commands -------------------------------------------------------------

def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise CondorError(f"{cmd[0]}: not found (is HTCondor installed and on PATH?)") from None
    if check and r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        raise CondorError(f"{' '.join(cmd[:2])} failed: {msg[-1] if msg else r.returncode}")
    return r


def _records(outputs: Path) -> list[dict]:
    f = outputs / CLUSTERS_FILE
    return json.loads(f.read_text()) if f.exists() else []


def _record(outputs: Path, rec: dict) -> None:
    recs = _records(outputs) + [rec]
    tmp = outputs / (CLUSTERS_FILE + ".tmp")
    tmp.write_text(json.dumps(recs, indent=1))
    tmp.replace(outputs / CLUSTERS_FILE)


def submit_file(sub: Path, opts: SubmitOptions) -> int:
    """``condor_submit -spool -terse``; returns the cluster ID."""
    r = _run(["condor_submit", "-spool", "-terse", *opts.location_args(), str(sub)])
    first = r.stdout.strip().split()[0] if r.stdout.strip() else ""
    try:
        return int(first.split(".")[0])
    except ValueError:
        raise CondorError(f"condor_submit {sub}: unexpected answer {r.stdout!r}") from None


def _write_and_submit(pmt, points, *, project, outputs, info_file, opts, name, dry_run,
                      out=sys.stdout) -> dict | None:
    text = submit_description(pmt, points, project=project, outputs=outputs,
                              info_file=info_file, opts=opts)
    sub = project / name
    sub.write_text(text)
    if dry_run:
        print(f"PMT {pmt}: wrote {sub.name} ({len(points)} jobs), not submitted", file=out)
        return None
    cluster = submit_file(sub, opts)
    rec = dict(cluster=cluster, pmt=pmt, hv=[p.hv for p in points], submit_file=str(sub),
               schedd=opts.schedd, pool=opts.pool, submitted=time.strftime("%Y-%m-%d %H:%M:%S"))
    _record(outputs, rec)
    print(f"PMT {pmt}: {len(points)} jobs submitted as cluster {cluster} ({sub.name})",
          file=out)
    return rec


def submit_campaign(project: Path, data_info: Path, outputs: Path, opts: SubmitOptions,
                    pmts: list[int] | None = None, dry_run: bool = False) -> list[dict]:
    """One submit file per PMT of ``data_info``, each submitted with ``-spool``."""
    project, outputs = Path(project).resolve(), Path(outputs).resolve()
    for f in ROOT_FILES:
        if not (project / f).exists():
            raise CondorError(f"{project / f}: missing (run from the project directory)")
    for d in ("condor_lists", "condor_outputs", "condor_logs", "condor_errors"):
        (outputs / d).mkdir(parents=True, exist_ok=True)
    size = input_size(project)
    if size > INPUT_LIMIT_BYTES:
        print(f"warning: each job uploads {size / 1e6:.1f} MB (CYGNO asks for < 10 MB)",
              file=sys.stderr)
    recs = []
    for f in campaign_files(data_info):
        points = parse_campaign_file(f)
        if not points:
            continue
        pmt = points[0].pmt
        if pmts and pmt not in pmts:
            continue
        rec = _write_and_submit(pmt, points, project=project, outputs=outputs, info_file=f,
                                opts=opts, name=f"analysis_pmt_{pmt}.sub", dry_run=dry_run)
        if rec:
            recs.append(rec)
    if recs:
        print("clusters: " + " ".join(str(r["cluster"]) for r in recs)
              + f"  (recorded in {outputs / CLUSTERS_FILE})")
        print("next: pmtgain condor status; when done: condor_transfer_data <cluster> "
              "(or pmtgain condor retrieve); python3 gain_curve.py --plots")
    return recs


# -- progress, retrieval, resubmission --------------------------------------------------

def _jobs(opts: SubmitOptions, clusters: list[int]) -> list[dict]:
    """Job ads (queue, then history) of the given clusters."""
    if not clusters:
        return []
    constraint = " || ".join(f"ClusterId == {c}" for c in clusters)
    attrs = ("ClusterId,ProcId,JobStatus,HoldReason,HoldReasonCode,ExitCode,PmtgainPMT,HV,"
             "NumJobStarts")
    ads: dict[tuple[int, int], dict] = {}
    for cmd in (["condor_history", *opts.location_args(), "-constraint", constraint,
                 "-json", "-attributes", attrs],
                ["condor_q", *opts.location_args(), "-constraint", constraint, "-json",
                 "-attributes", attrs]):
        r = _run(cmd, check=False)
        if r.returncode != 0 and cmd[0] == "condor_q":
            msg = (r.stderr or r.stdout).strip().splitlines()
            raise CondorError(f"condor_q failed: {msg[-1] if msg else r.returncode}")
        text = r.stdout.strip()
        for ad in (json.loads(text) if text else []):
            ads[(ad["ClusterId"], ad["ProcId"])] = ad  # the queue's view wins
    return sorted(ads.values(), key=lambda a: (a.get("PmtgainPMT", 0), a.get("HV", 0)))


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
    is stale (:func:`pmtgain.store.stale_reason`, the rule analysis.py uses too)."""
    from .gaincurve import collect

    try:
        df = collect(outputs, "condor_lists")
    except FileNotFoundError:
        return {}
    rows = {(int(r["pmt"]), int(r["hv"])): r for r in df.to_dict("records")}
    found: dict[tuple[int, int], str | None] = dict.fromkeys(rows)
    if points is not None and engine is not None:
        for p in points:
            if (p.pmt, p.hv) in rows:
                found[(p.pmt, p.hv)] = store.stale_reason(rows[(p.pmt, p.hv)], p.cut_V, engine)
    found.update({(p, h): reason for p, h, reason in df.attrs["failed"]})
    return found


def status(outputs: Path, opts: SubmitOptions, out=sys.stdout) -> int:
    outputs = Path(outputs)
    recs = _records(outputs)
    if not recs:
        print(f"no clusters recorded in {outputs / CLUSTERS_FILE} "
              "(source submit_condor_jobs.sh first)", file=out)
        return 1
    ads = _jobs(opts, [r["cluster"] for r in recs])
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

    clusters = [r["cluster"] for r in _records(Path(outputs))]
    if not clusters:
        raise CondorError(f"no clusters recorded in {Path(outputs) / CLUSTERS_FILE}")
    t_end = time.monotonic() + timeout
    bar = None
    while True:
        counts: dict[str, int] = {}
        for ad in _jobs(opts, clusters):
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
    clusters = [r["cluster"] for r in _records(Path(outputs))]
    queued_done: list[int] = []
    if clusters:  # spooled jobs that completed stay in the queue until removed
        ids = " || ".join(f"ClusterId == {c}" for c in clusters)
        r = _run(["condor_q", *opts.location_args(), "-constraint",
                  f"({ids}) && JobStatus == 4", "-af", "ClusterId"])
        queued_done = sorted({int(c) for c in r.stdout.split()})
    for c in queued_done:
        _run(["condor_transfer_data", *opts.location_args(), str(c)])
        _run(["condor_rm", *opts.location_args(), "-constraint",
              f"ClusterId == {c} && JobStatus == 4"], check=False)
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
    every = [p for f in campaign_files(data_info) for p in parse_campaign_file(f)]
    results = _results(outputs, every, opts.engine)
    recs = _records(outputs)
    ads = _jobs(opts, [r["cluster"] for r in recs])
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
        for a in held:
            if a.get("PmtgainPMT") == pmt and a.get("HV") in {p.hv for p in points}:
                if not dry_run:
                    _run(["condor_rm", *opts.location_args(),
                          f"{a['ClusterId']}.{a['ProcId']}"], check=False)
        n = sum(1 for r in recs if r["pmt"] == pmt)
        rec = _write_and_submit(pmt, points, project=project, outputs=outputs, info_file=f,
                                opts=opts, name=f"analysis_pmt_{pmt}_resubmit{n}.sub",
                                dry_run=dry_run, out=out)
        if rec:
            new.append(rec)
    if not new and not dry_run:
        print("every point has a result or a job in the queue: nothing to resubmit", file=out)
    return new


# -- command line ------------------------------------------------------------------------

def _add_common(p: argparse.ArgumentParser) -> None:
    d = SubmitOptions.from_env()
    p.add_argument("--outputs", default="outputs", help="default: %(default)s")
    p.add_argument("--data-info", default="data_info", help="default: %(default)s")
    p.add_argument("--project", default=".",
                   help="directory with exec_condor.sh, analysis_condor.py, pmtgain/")
    p.add_argument("--name", dest="schedd", default=d.schedd, help="schedd (condor -name)")
    p.add_argument("--pool", default=d.pool, help="central manager (condor -pool)")


def parser() -> argparse.ArgumentParser:
    d = SubmitOptions.from_env()
    ap = argparse.ArgumentParser(
        prog="pmtgain condor",
        description="Submit the campaign to HTCondor, watch it, bring results back.",
        epilog="Typical shift: python3 list_directories_condor.py; source "
        "submit_condor_jobs.sh; pmtgain condor status; pmtgain condor retrieve; "
        "pmtgain condor resubmit (if some points failed); python3 gain_curve.py --plots "
        "(gain curves, diagnostics and outputs/report.html)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("submit", help="write analysis_pmt_<i>.sub per PMT and submit (-spool)")
    _add_common(s)
    s.add_argument("--pmt", type=int, nargs="+", help="only these PMTs")
    s.add_argument("--image", default=d.image, help="container image (+SingularityImage)")
    s.add_argument("--request-cpus", type=int, default=d.request_cpus)
    s.add_argument("--request-memory", default=d.request_memory)
    s.add_argument("--request-disk", default=d.request_disk)
    s.add_argument("--extra-attr", action="append", default=list(d.extra_attrs),
                   metavar='"+Attr = value"', help="extra job attribute (repeatable)")
    s.add_argument("--engine", default=d.engine, choices=["fast", "root", "integral"])
    s.add_argument("--max-retries", type=int, default=d.max_retries)
    s.add_argument("--job-python", default=d.job_python,
                   help="interpreter on the execute node (default: python3 of the image)")
    s.add_argument("--dry-run", action="store_true", help="write the submit files only")
    for name, h in (("status", "jobs per PMT: idle, running, done, held (with reasons)"),
                    ("wait", "block until every recorded job is done or held"),
                    ("retrieve", "condor_transfer_data for all recorded clusters, then "
                     "remove the completed jobs"),
                    ("resubmit", "submit again the points that failed or have no result")):
        p = sub.add_parser(name, help=h)
        _add_common(p)
        if name == "resubmit":
            p.add_argument("--dry-run", action="store_true")
        if name == "wait":
            p.add_argument("--timeout", type=float, default=3600, help="seconds")
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    opts = SubmitOptions.from_env()
    opts.schedd, opts.pool = args.schedd, args.pool
    if args.cmd == "submit":
        opts.image, opts.engine = args.image, args.engine
        opts.request_cpus, opts.request_memory = args.request_cpus, args.request_memory
        opts.request_disk, opts.extra_attrs = args.request_disk, args.extra_attr
        opts.max_retries, opts.job_python = args.max_retries, args.job_python
    try:
        if args.cmd == "submit":
            recs = submit_campaign(Path(args.project), Path(args.data_info),
                                   Path(args.outputs), opts, args.pmt, args.dry_run)
            return 0 if recs or args.dry_run else 1
        if args.cmd == "status":
            return status(Path(args.outputs), opts)
        if args.cmd == "wait":
            counts = wait(Path(args.outputs), opts, args.timeout)
            print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())))
            return 0
        if args.cmd == "retrieve":
            retrieve(Path(args.outputs), opts)
            return 0
        if args.cmd == "resubmit":
            resubmit(Path(args.project), Path(args.data_info), Path(args.outputs), opts,
                     args.dry_run)
            return 0
    except (CondorError, CampaignError, OSError) as exc:
        print(f"pmtgain condor: error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())


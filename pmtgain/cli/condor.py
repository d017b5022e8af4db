"""The HTCondor command lines: ``list_directories_condor.py`` and ``pmtgain condor``
(also ``python3 -m pmtgain.condor``, what ``submit_condor_jobs.sh`` runs).

- :func:`dirs_main` - the campaign's folders (-> :func:`pmtgain.condor.submit.make_folders`);
- :func:`condor_main` - ``submit | status | wait | retrieve | resubmit``
  (-> :mod:`pmtgain.condor.submit`, :mod:`pmtgain.condor.queue`), each remembering the
  options given at submission.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pmtgain.cli.console import guarded
from pmtgain.config import ENGINES

__all__ = ["dirs_main", "condor_parser", "condor_main"]


# ------------------------------------------------------------ list_directories_condor.py
def dirs_main(argv: list[str] | None = None) -> int:
    """``list_directories_condor.py``: the folders of a campaign, before submitting it."""
    ap = argparse.ArgumentParser(
        prog="list_directories_condor.py",
        description="Create data/<folder>/<hv>/ and outputs/{condor_lists,condor_outputs,"
                    "condor_logs,condor_errors} for every point of the campaign in "
                    "data_info/. Running it twice changes nothing.")
    ap.add_argument("--data-info", default="data_info", help="the campaign (default: %(default)s)")
    ap.add_argument("--data-dir", default="data", help="downloads (default: %(default)s)")
    ap.add_argument("--outputs", default="outputs", help="results (default: %(default)s)")
    args = ap.parse_args(argv)

    def go() -> int:
        from pmtgain.condor.submit import make_folders

        by_pmt = make_folders(Path(args.data_info), Path(args.data_dir), Path(args.outputs))
        for pmt, hvs in by_pmt.items():
            print(f"PMT {pmt}: {len(hvs)} HV points: {' '.join(map(str, hvs))}")
        print(f"directories ready under {args.data_dir}/ and {args.outputs}/")
        return 0

    return guarded("list_directories_condor.py", go)


# ---------------------------------------------------------------------- pmtgain condor
def _add_condor_common(p: argparse.ArgumentParser) -> None:
    from pmtgain.condor.submit import SubmitOptions

    d = SubmitOptions.from_env()
    p.add_argument("--outputs", default="outputs", help="default: %(default)s")
    p.add_argument("--data-info", default="data_info", help="default: %(default)s")
    p.add_argument("--project", default=".",
                   help="directory with exec_condor.sh, analysis_condor.py, pmtgain/")
    p.add_argument("--name", dest="schedd", default=None,
                   help=f"schedd (condor -name); default: $PMTGAIN_SCHEDD, else the one each "
                   f"cluster was submitted to, else local ({d.schedd or 'local'} now)")
    p.add_argument("--pool", default=None,
                   help="central manager (condor -pool); default: $PMTGAIN_POOL, else the "
                   "one each cluster was submitted to, else local")


def condor_parser() -> argparse.ArgumentParser:
    from pmtgain.condor.submit import SubmitOptions

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
    _add_condor_common(s)
    s.add_argument("--pmt", type=int, nargs="+", help="only these PMTs")
    s.add_argument("--image", default=d.image, help="container image (+SingularityImage)")
    s.add_argument("--request-cpus", type=int, default=d.request_cpus)
    s.add_argument("--request-memory", default=d.request_memory)
    s.add_argument("--request-disk", default=d.request_disk)
    s.add_argument("--extra-attr", action="append", default=list(d.extra_attrs),
                   metavar='"+Attr = value"', help="extra job attribute (repeatable)")
    s.add_argument("--engine", default=d.engine, choices=ENGINES)
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
        _add_condor_common(p)
        if name == "resubmit":
            p.add_argument("--dry-run", action="store_true")
        if name == "wait":
            p.add_argument("--timeout", type=float, default=3600, help="seconds")
    return ap


def condor_main(argv=None) -> int:
    """``pmtgain condor ...`` / ``python3 -m pmtgain.condor ...``: every failure one line
    (:func:`pmtgain.cli.console.guarded`; a condor command that fails: exit 2)."""
    args = condor_parser().parse_args(argv)
    return guarded("pmtgain condor", _condor, args)


def _condor(args) -> int:
    from pmtgain.condor.queue import resubmit, retrieve, status, wait
    from pmtgain.condor.submit import SubmitOptions, submit_campaign
    from pmtgain.errors import CampaignError, CondorError

    opts = SubmitOptions.from_env()
    # a flag given now overrides the environment and what the clusters' records remember
    given = {k: getattr(args, k) for k in ("schedd", "pool") if getattr(args, k) is not None}
    if args.cmd == "submit":
        given.update(image=args.image, engine=args.engine, request_cpus=args.request_cpus,
                     request_memory=args.request_memory, request_disk=args.request_disk,
                     extra_attrs=args.extra_attr, max_retries=args.max_retries,
                     job_python=args.job_python)
    for k, v in given.items():
        setattr(opts, k, v)
    opts.explicit = opts.explicit | {k for k in ("schedd", "pool") if k in given}
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
    except (CondorError, CampaignError) as exc:
        print(f"pmtgain condor: error: {exc}", file=sys.stderr)
        return 2
    return 2

#!/usr/bin/env python3
"""Create data/<folder>/<hv>/ and outputs/{condor_lists,condor_outputs,condor_logs,
condor_errors} for every point of the campaign in data_info/. Running it twice changes
nothing."""
import argparse
import sys
from pathlib import Path

from pmtgain.campaign import load_campaign, local_dir
from pmtgain.console import guarded

CONDOR_DIRS = ("condor_lists", "condor_outputs", "condor_logs", "condor_errors")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-info", default="data_info")
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--outputs", default="outputs")
    args = ap.parse_args(argv)
    return guarded("list_directories_condor.py", _make, args)


def _make(args) -> int:
    points = load_campaign(args.data_info)
    for p in points:
        local_dir(args.data_dir, p).mkdir(parents=True, exist_ok=True)
    for d in CONDOR_DIRS:
        (Path(args.outputs) / d).mkdir(parents=True, exist_ok=True)
    by_pmt: dict[int, list[int]] = {}
    for p in points:
        by_pmt.setdefault(p.pmt, []).append(p.hv)
    for pmt, hvs in by_pmt.items():
        print(f"PMT {pmt}: {len(hvs)} HV points: {' '.join(map(str, hvs))}")
    print(f"directories ready under {args.data_dir}/ and {args.outputs}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

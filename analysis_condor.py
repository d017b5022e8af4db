#!/usr/bin/env python3
"""One HTCondor job: fetch, fit and summarise one (PMT, HV) point.

    analysis_condor.py <dir_url> <pmt> <hv> <n_files> [cut_V] [--engine fast|root|integral]

Writes ``pmt_data_list.pkl`` (the original's one-row DataFrame: mean_charge,
std_dev_charge, hv, ... ) and ``pmt_waveforms.csv`` in the working directory. Without
cut_V, the cut is looked up in ``data_info/data_directories_pmt_<pmt>.txt`` if present.
Exit status: 0 done; 75 retryable (no file could be fetched: network); 65 permanent (bad
input: arguments, no readable file).
"""
import argparse
import sys

EX_DATAERR, EX_TEMPFAIL = 65, 75


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir_url")
    ap.add_argument("pmt", type=int)
    ap.add_argument("hv", type=int)
    ap.add_argument("n_files", type=int)
    ap.add_argument("cut_V", type=float, nargs="?")
    ap.add_argument("--engine", default="fast", choices=["fast", "root", "integral"])
    ap.add_argument("--data-dir", default="data")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return EX_DATAERR if exc.code else 0
    from pathlib import Path

    from pmtgain.campaign import CampaignError, folder_of, parse_campaign_file
    from pmtgain.config import PointSpec
    from pmtgain.executors import run_point, summaries_frame

    cut = args.cut_V
    info = Path("data_info") / f"data_directories_pmt_{args.pmt}.txt"
    if cut is None and info.exists():
        try:
            cut = next((p.cut_V for p in parse_campaign_file(info) if p.hv == args.hv), None)
        except CampaignError as exc:
            print(f"analysis_condor.py: error: {exc}", file=sys.stderr)
            return EX_DATAERR
    point = PointSpec(pmt=args.pmt, hv=args.hv, n_files=args.n_files, dir_url=args.dir_url,
                      cut_V=cut, folder=folder_of(args.dir_url, args.hv, args.pmt))
    out = run_point(point, data_dir=args.data_dir, lists_dir=".", logs_dir=".",
                    engine=args.engine, verbose=False)
    print(Path(f"pmt_{args.pmt}_{args.hv}V.log").read_text(), end="")
    if not out.ok:
        print(f"analysis_condor.py: PMT {args.pmt} at {args.hv} V failed: {out.error}",
              file=sys.stderr)
        network = "none of the" in out.error and ("connection" in out.error
                                                   or "timed out" in out.error
                                                   or "HTTP 5" in out.error)
        return EX_TEMPFAIL if network else EX_DATAERR
    summaries_frame([out.summary]).to_pickle("pmt_data_list.pkl")
    key = f"pmt_{args.pmt}_{args.hv}"
    Path("points", f"{key}_waveforms.csv").replace("pmt_waveforms.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())

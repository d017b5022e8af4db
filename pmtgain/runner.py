"""The work behind the user's scripts ``analysis.py`` and ``gain_curve.py``: argument
parsing and reporting, kept here so the scripts stay thin and testable."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import ENGINES


def analysis_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="analysis.py",
        description="Analyse a PMT campaign on this machine: fetch each (PMT, HV) point's "
        ".trc files, measure the charge of every flash, and write the per-point charges and "
        "the gain curves. Every flash counts: mean_charge and std_dev_charge are over all "
        "readable flashes (a linear estimator on the point's pulse shape, unbiased at any "
        "signal to noise); only clipped flashes and those with a pulse in the baseline "
        "region are left out, and counted. The cut column of data_info (the original's "
        "rule: keep a flash whose minimum is below cut_V) never changes them: it fills its "
        "own columns mean_charge_cut, std_dev_charge_cut, n_cut, with the share it removed "
        "and the bias it implies (flagged above 3 sigma). All points run in parallel; a "
        "re-run resumes (finished points are skipped unless their cut, the engine or the "
        "analysis version changed).",
        epilog="Outputs: outputs/lists/pmt_<i>_data_list.{pkl,csv} (one row per HV point), "
        "outputs/lists/points/ (per-flash tables), outputs/lists/shapes.csv (the pulse "
        "shapes of the well-measured points: copy it to data_info/ for HTCondor jobs of weak "
        "points), outputs/logs/pmt_<i>_<hv>V.log, outputs/gain_curves.{png,csv}. "
        "Try 'python3 analysis.py --demo' first.",
    )
    p.add_argument("--verbose", action="store_true", help="log every file in the point logs")
    p.add_argument("--data-info", default="data_info",
                   help="campaign: a data_info directory or one data_directories file "
                   "(default: data_info, the GIN campaign); an enf.txt beside it gives "
                   "each PMT's excess noise factor for the gain in electrons")
    p.add_argument("--data-dir", default="data", help="local copies of remote files (data)")
    p.add_argument("--outputs", default="outputs", help="results and logs (outputs)")
    p.add_argument("--pmt", type=int, nargs="+", metavar="N", help="only these PMTs")
    p.add_argument("--hv", type=int, nargs="+", metavar="V", help="only these HV points")
    p.add_argument("--engine", choices=ENGINES, default="fast",
                   help="the per-flash fit in the table's fit_* columns, where each flash "
                   "stands clear of the noise: fast (default): vectorised fit; root: PyROOT "
                   "TF1/Minuit2 (pip install .[root]); integral: model-free window integral."
                   " The point's mean never depends on it")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes (default: one per core)")
    p.add_argument("--fetch-workers", type=int, default=32,
                   help="parallel downloads per point (default 32)")
    p.add_argument("--force", action="store_true", help="redo points already done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--plots", action="store_true",
                   help="also draw the diagnostics (outputs/plots/) and write the campaign "
                   "report outputs/report.html (see gain_curve.py --help)")
    p.add_argument("--demo", action="store_true",
                   help="run on the built-in simulated demo campaign (served on loopback "
                   "HTTP; outputs in demo/outputs, with the report), then compare with the "
                   "simulation's truth")
    return p


def run_analysis(argv=None) -> int:
    args = analysis_parser().parse_args(argv)
    if args.demo:
        from .demo import run_demo

        return run_demo(argparse.Namespace(workdir="demo", n=None, jobs=args.jobs,
                                           engine=args.engine, force=args.force,
                                           progress=not args.no_progress))
    from .campaign import CampaignError, load_campaign, load_enf, load_shapes, select
    from .executors import run_local, write_lists

    try:
        points = select(load_campaign(args.data_info), args.pmt, args.hv)
        enf = load_enf(args.data_info)
        shapes = load_shapes(args.data_info)
    except CampaignError as exc:
        print(f"analysis.py: error: {exc}", file=sys.stderr)
        return 2
    if not points:
        print("analysis.py: error: no point matches --pmt/--hv", file=sys.stderr)
        return 2
    out = Path(args.outputs)
    (out / "lists").mkdir(parents=True, exist_ok=True)
    (out / "lists" / "run.json").write_text(json.dumps(
        {"data_info": str(Path(args.data_info).resolve()), "engine": args.engine}))
    print(f"{len(points)} points, {sum(p.n_files for p in points)} files; logs in "
          f"{out / 'logs'}")
    outcomes = run_local(points, data_dir=args.data_dir, outputs=out, engine=args.engine,
                         jobs=args.jobs, verbose=args.verbose, force=args.force,
                         progress=not args.no_progress, fetch_workers=args.fetch_workers,
                         shapes=shapes)
    write_lists(outcomes, out / "lists", enf)
    failed = [o for o in outcomes if not o.ok]
    skipped = sum(o.skipped for o in outcomes)
    done = [o for o in outcomes if o.ok]
    print(f"{len(done)} points done ({skipped} from an earlier run), {len(failed)} failed")
    partial = [o for o in done if o.summary.get("rejected_unreadable")]
    for o in partial:
        print(f"  PMT {o.pmt} {o.hv} V: {o.summary['rejected_unreadable']} of "
              f"{o.summary['n_files']} files unreadable or not fetched (see the log)")
    if done or args.plots:  # with --plots, a report even when every point failed
        gain_main(["--outputs", str(out), "--data-info", args.data_info]
                  + (["--plots"] if args.plots else [])
                  + (["--no-progress"] if args.no_progress else [])
                  + (["--jobs", str(args.jobs)] if args.jobs else []))
    for o in failed:
        print(f"FAILED PMT {o.pmt} at {o.hv} V: {o.error}", file=sys.stderr)
    return 1 if failed else 0


def gain_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gain_curve.py",
        description="Merge the per-point results into gain curves: |mean charge| against HV "
        "per PMT with a weighted power-law fit |Q| = a V^b, written to "
        "outputs/gain_curves.png and outputs/gain_curves.csv.",
        epilog="With --plots: per point a diagnostic page (charge histogram with mean and "
        "sigma, example waveforms with their fitted pulses and fit range, residuals, "
        "outcome of every file) in outputs/plots/pmt_<i>/pmt_<i>_<hv>V.png, per PMT the "
        "pulse shape against HV, and outputs/report.html: one self-contained page with "
        "the problems first, the curves, the tables and every point's page. Open it in a "
        "browser, or: pmtgain report --screenshot report.png",
    )
    p.add_argument("--source", choices=["lists", "condor_lists"], default=None,
                   help="lists (analysis.py) or condor_lists (HTCondor jobs); default: "
                   "condor_lists if it holds results, else lists")
    p.add_argument("--outputs", default="outputs")
    p.add_argument("--data-info", default=None,
                   help="campaign whose points are expected (default: the one analysis.py "
                   "recorded, else data_info); missing points are named")
    p.add_argument("--target", type=float, default=None, metavar="Q",
                   help="value to reach (|charge| in pC, or gain with --quantity gain): "
                   "the HV that gives it, per PMT, with its error (equalisation table)")
    p.add_argument("--quantity", choices=["charge", "gain"], default="charge",
                   help="charge: |mean charge| in pC (the original's); gain: electrons per "
                   "photoelectron from photostatistics (G = (var_Q - var_ped)/(e <Q> F))")
    p.add_argument("--enf", nargs="+", default=[], metavar="PMT:F",
                   help="excess noise factor F = 1 + (sigma_1/Q_1)^2 per PMT for the gain, "
                   "e.g. 1:1.2 2:1.25; overrides the campaign's enf.txt ('<pmt> <F>' "
                   "lines beside data_directories_pmt_*.txt); default 1.2")
    p.add_argument("--plots", action="store_true",
                   help="draw the diagnostics and write outputs/report.html (see below)")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes drawing the diagnostics (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def gain_main(argv=None) -> int:
    args = gain_parser().parse_args(argv)
    try:
        enf_flags = {int(k): float(v) for k, v in (e.split(":") for e in args.enf)}
    except ValueError:
        print(f"gain_curve.py: error: --enf takes PMT:F pairs, got {' '.join(args.enf)}",
              file=sys.stderr)
        return 2
    from .campaign import is_enf

    bad = [f"{p}:{f:g}" for p, f in enf_flags.items() if not is_enf(f)]
    if bad:
        print(f"gain_curve.py: error: --enf {' '.join(bad)}: F = 1 + (sigma_1/Q_1)^2 is "
              "at least 1 (typical 1.1-1.5)", file=sys.stderr)
        return 2
    import pandas as pd

    from .campaign import CampaignError, enf_path, load_campaign, load_enf
    from .gaincurve import apply_enf, build, collect
    from .plots import gain_curves

    out = Path(args.outputs)
    source = args.source
    if source is None:
        source = "condor_lists" if list((out / "condor_lists").glob("pmt_*_data_list.pkl")) \
            else "lists"
    try:
        df = collect(out, source)
    except FileNotFoundError as exc:
        print(f"gain_curve.py: error: {exc}", file=sys.stderr)
        return 2
    info = args.data_info
    if info is None:
        run = out / "lists" / "run.json"
        info = json.loads(run.read_text())["data_info"] if run.exists() else "data_info"
    expected = None
    try:
        pts = load_campaign(info)
        expected = [(p.pmt, p.hv) for p in pts if p.pmt in set(df.pmt)] if source == "lists" \
            else [(p.pmt, p.hv) for p in pts]
    except CampaignError:
        pass
    try:
        enf_file = load_enf(info)
    except CampaignError as exc:
        print(f"gain_curve.py: error: {exc}", file=sys.stderr)
        return 2
    enf: dict[int, float] = {}
    if not df.empty:
        from .photostat import DEFAULT_ENF

        merged = {**enf_file, **enf_flags}
        pmts = sorted(int(p) for p in set(df.pmt))
        enf = {p: merged.get(p, DEFAULT_ENF) for p in pmts}
        if args.quantity == "gain" or args.plots:
            src = {p: "--enf" if p in enf_flags else enf_path(info).name if p in enf_file
                   else "default" for p in pmts}
            print("excess noise factor F: " + ", ".join(
                f"PMT {p} {enf[p]:g} ({src[p]})" for p in pmts))
    df = apply_enf(df, enf)
    fits, table, missing = build(df, expected, args.target, args.quantity)
    if df.empty:  # every point failed: say why, and still write the report if asked
        _print_missing(df, missing)
        if args.plots:
            _report(args, df, out, source, missing, info)
        print(f"gain_curve.py: error: no point has a result in {out / source} "
              f"({len(set(missing) | {(p, h) for p, h, _ in df.attrs['failed']})} "
              "failed or missing, listed above)", file=sys.stderr)
        return 1
    stem = "gain_curves" if args.quantity == "charge" else "gain_curves_electrons"
    gain_curves(df, fits, out / f"{stem}.png", args.quantity)
    table.to_csv(out / f"{stem}.csv", index=False, float_format="%.6g")
    cols = ["pmt", "hv", "n_used", "n_files", "mean_charge", "std_dev_charge", "sem_charge"]
    if args.quantity == "gain":
        cols += ["gain", "gain_err", "n_pe", "enf", "gain_flag"]
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(df[[c for c in cols if c in df.columns]].to_string(index=False,
                                                                 float_format="%.5g"))
        print()
        show = [c for c in ("pmt", "n_points", "q0_at_1000V", "q0_err", "b", "b_err",
                            "chi2_ndf", "hv_for_target", "hv_for_target_err", "missing_hv")
                if c in table.columns]
        print(table[show].to_string(index=False, float_format="%.4g"))
    _print_missing(df, missing)
    print(f"wrote {out / (stem + '.png')} and {out / (stem + '.csv')}")
    if args.plots:
        _report(args, df, out, source, missing, info)
    return 0


def _print_missing(df, missing) -> None:
    reasons = {(p, h): r for p, h, r in df.attrs.get("failed", [])}
    for pmt, hv in sorted(set(missing) | set(reasons)):
        why = f": {reasons[(pmt, hv)]}" if (pmt, hv) in reasons else " has no result"
        print(f"missing: PMT {pmt} at {hv} V{why}", file=sys.stderr)


def _report(args, df, out: Path, source: str, missing, info) -> None:
    from .report import make_report

    gain_t = args.target if args.quantity == "gain" else None
    charge_t = args.target if args.quantity == "charge" else None
    path, done = make_report(df, out, source, missing=missing, target=gain_t,
                             target_charge=charge_t, campaign=str(info), jobs=args.jobs,
                             progress=not args.no_progress)
    for (pmt, hv), err in sorted(done.errors.items()):
        print(f"no diagnostic plot for PMT {pmt} at {hv} V: {err}", file=sys.stderr)
    print(f"diagnostics in {out / 'plots'} ({done.drawn} drawn, {done.kept} up to "
          f"date); report: {path} (open {path.resolve().as_uri()})")

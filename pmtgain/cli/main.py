"""Every command line of the project: the parsers and the thin mains behind the scripts.

- :func:`run_analysis` - ``analysis.py`` (-> :func:`pmtgain.run.pipeline.analyse`);
- :func:`gain_main` - ``gain_curve.py`` (-> :func:`pmtgain.run.pipeline.merge`);
- :func:`main` - the ``pmtgain`` command (also ``python -m pmtgain``); its ``condor``
  commands and ``list_directories_condor.py`` are in :mod:`pmtgain.cli.condor`:

    pmtgain inspect FILE [--json]        header and shape of a waveform file (any format)
    pmtgain export FILE --csv OUT        segment,time_s,volts rows
    pmtgain simulate OUTDIR [...]        a campaign with known truth (GIN layout)
    pmtgain demo [...]                   the whole local pipeline on a simulated campaign
    pmtgain report [--screenshot PNG]    diagnostics + outputs/report.html (+ a screenshot)
    pmtgain condor ...                   HTCondor: submit | status | wait | retrieve | resubmit

Errors in the input are one line on stderr naming the file and the reason, exit status 2;
a failure of the machine (a full or unwritable disk) one line and exit status 1; Ctrl-C
says what was kept and exits 130; a closed pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pmtgain.cli.console import guarded
from pmtgain.config import DEFAULT_ENGINE, ENGINES
from pmtgain.errors import UserError
from pmtgain.results.layout import SOURCES

__all__ = ["REGIME_NAMES", "build_parser", "positive_int", "analysis_parser",
           "run_analysis", "gain_parser", "parse_enf", "gain_main", "main"]


def _read_settings(args):
    """``--format`` and ``--set key=value`` as ReadSettings (a campaign line's fields)."""
    from pmtgain.io.readers import ReadSettings

    pairs = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set {item!r}: expected key=value")
        pairs[key] = value
    if args.format:
        pairs["format"] = args.format
    try:
        return ReadSettings.from_fields(pairs)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _inspect(args) -> int:
    from pmtgain.io.readers import describe

    info = describe(args.file, _read_settings(args))
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    width = max(len(k) for k in info)
    for k, v in info.items():
        if isinstance(v, list) and len(v) > 6:
            v = f"[{', '.join(f'{x:g}' for x in v[:3])}, ... {len(v)} values]"
        print(f"{k:<{width}}  {v}")
    return 0


def _export(args) -> int:
    from pmtgain.io.readers import export_csv

    n = export_csv(args.file, args.csv, _read_settings(args))
    print(f"wrote {args.csv} ({n} rows)", file=sys.stderr)
    return 0


REGIME_NAMES = ("low-signal", "cut-80", "low-light", "slow-pulses", "wander-dark", "sampling",
                "clipping", "dynamic-range", "lognormal", "two-component", "reflection",
                "undershoot", "ringing", "coarse-slow", "ripple-pickup", "real-like")


def _simulate(args) -> int:
    from pmtgain.sim.regimes import REGIMES
    from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

    source = REGIMES[args.regime][0] if args.regime else DEMO_PMTS
    pmts = [p for p in source if not args.pmts or p.pmt in args.pmts]
    if not pmts:
        raise UserError(f"--pmts {args.pmts}: the simulator knows PMTs 1-4")
    if args.segments < 1 or args.n < 1:
        raise UserError("--n and --segments must be at least 1")
    try:
        out = simulate_campaign(args.outdir, pmts=pmts, hv=args.hv, n=args.n, seed=args.seed,
                                base_url=args.base_url, progress=True,
                                segments=args.segments)
    except OSError as exc:
        raise UserError(f"{args.outdir}: cannot write the campaign "
                        f"({exc.strerror or exc})") from None
    print(f"campaign written to {out} (data_info/ and truth/ inside)")
    return 0


def _demo(args) -> int:
    from pmtgain.run.pipeline import AnalysisOptions
    from pmtgain.sim.demo import run_demo

    return run_demo(args.workdir, args.n, AnalysisOptions(
        jobs=args.jobs, engine=args.engine, progress=not args.no_progress, force=args.force))


def _report(args) -> int:
    from pmtgain.report.browser import screenshot
    from pmtgain.run.pipeline import MergeOptions, merge

    rc = merge(MergeOptions(outputs=args.outputs, source=args.source,
                            data_info=args.data_info, target=args.target, quantity="gain",
                            enf=parse_enf(args.enf), plots=True, jobs=args.jobs,
                            progress=not args.no_progress)).exit_status
    if rc == 0 and args.screenshot:
        png = screenshot(Path(args.outputs) / "report.html", args.screenshot,
                         height=args.height)
        print(f"screenshot of the report (top {args.height} px): {png}")
    return rc


def _format_arguments(s) -> None:
    s.add_argument("--format", help="the file's format (default: from its first bytes or "
                   "extension): trc, root, wavedump, wavedump_ascii, isf, hdf5, npy")
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="what the format lacks, as in a campaign line (dt_ns=2, "
                   "volts_per_code=0.000122, tree=t1, branch=wf0, ...); repeatable")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pmtgain",
        description="PMT gain curves from LeCroy .trc waveforms (see README.md).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("inspect", help="print the header and shape of a waveform file "
                       "(.trc, ROOT, WaveDump, .isf, HDF5, .npy)")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    _format_arguments(s)
    s.set_defaults(func=_inspect)
    s = sub.add_parser("export", help="write a waveform file as CSV (segment,time_s,volts)")
    s.add_argument("file")
    s.add_argument("--csv", required=True, metavar="OUT")
    _format_arguments(s)
    s.set_defaults(func=_export)
    s = sub.add_parser(
        "simulate",
        help="write a simulated campaign with known truth in the GIN layout",
        description="Simulate PMT waveforms (Poisson photoelectrons, gain law, excess noise, "
        "two-exponential pulse, jitter, noise, 8-bit ADC) and write them as .trc files: "
        "OUTDIR/<PMT folder>/<hv>/Autosave/C1--n16deg--NNNNN.trc, plus OUTDIR/data_info and "
        "OUTDIR/truth (true mean and std of the charge per point).",
    )
    s.add_argument("outdir")
    s.add_argument("--pmts", type=int, nargs="+", metavar="N", help="PMTs (1-4; default all)")
    s.add_argument("--hv", type=int, nargs="+", metavar="V",
                   help="HV points (default 700 800 ... 1400)")
    s.add_argument("--n", type=int, default=200,
                   help="flashes per point (default 200; one file each without --segments)")
    s.add_argument("--segments", type=int, default=1, metavar="K",
                   help="write sequence-mode files of K flashes each (default 1: one flash "
                   "per file)")
    s.add_argument("--regime", choices=sorted(REGIME_NAMES),
                   help="PMTs of a validation regime instead of the demo's: "
                   + ", ".join(sorted(REGIME_NAMES)))
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--base-url", help="dir_url prefix written to data_info (default: the "
                   "absolute local path)")
    s.set_defaults(func=_simulate)
    s = sub.add_parser(
        "demo",
        help="simulate a campaign, serve it on loopback HTTP, analyse it, plot the curves",
    )
    s.add_argument("--workdir", default="demo", help="where the demo campaign and its "
                   "outputs go (default ./demo)")
    s.add_argument("--n", type=positive_int, default=None,
                   help="files per point (default: 150-8000, more where the pulse is small)")
    s.add_argument("--jobs", type=positive_int, default=None)
    s.add_argument("--engine", default=DEFAULT_ENGINE, choices=ENGINES)
    s.add_argument("--force", action="store_true", help="redo points already done")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=_demo)
    s = sub.add_parser(
        "report",
        help="diagnostic plots and the self-contained campaign report (outputs/report.html)",
        description="Merge the results (as gain_curve.py), draw every point's diagnostic "
        "page and every PMT's shape against HV, and write outputs/report.html. With "
        "--screenshot, also a PNG of the page from headless Chromium.",
    )
    s.add_argument("--outputs", default="outputs")
    s.add_argument("--source", choices=SOURCES, default=None)
    s.add_argument("--data-info", default=None)
    s.add_argument("--target", type=float, default=None, metavar="G",
                   help="gain to reach: the HV per PMT in the fit table")
    s.add_argument("--jobs", type=positive_int, default=None)
    s.add_argument("--enf", nargs="+", metavar="PMT:F", default=[],
                   help="excess noise factor per PMT (overrides data_info/enf.txt)")
    s.add_argument("--screenshot", metavar="PNG", help="write a screenshot of the report")
    s.add_argument("--height", type=int, default=2400,
                   help="screenshot height in pixels (default 2400)")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=_report)
    sub.add_parser("condor", add_help=False,
                   help="HTCondor: submit | status | retrieve | resubmit "
                   "(see: pmtgain condor --help)")
    return p


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} is not at least 1")
    return v


def analysis_parser() -> argparse.ArgumentParser:
    from pmtgain.run.options import AnalysisOptions

    d = AnalysisOptions()  # every default from the options the pipeline uses
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
        epilog="Outputs: outputs/lists/pmt_<i>_data_list.{pkl,csv,json} (one row per HV "
        "point; the pickle is the original's format, never read back), "
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
    p.add_argument("--data-dir", default=str(d.data_dir),
                   help="local copies of remote files (default: %(default)s)")
    p.add_argument("--outputs", default=str(d.outputs),
                   help="results and logs (default: %(default)s)")
    p.add_argument("--pmt", type=int, nargs="+", metavar="N", help="only these PMTs")
    p.add_argument("--hv", type=int, nargs="+", metavar="V", help="only these HV points")
    p.add_argument("--engine", choices=ENGINES, default=d.engine,
                   help="the per-flash fit in the table's fit_* columns, where each flash "
                   "stands clear of the noise (default: %(default)s): fast: vectorised fit; "
                   "root: PyROOT "
                   "TF1/Minuit2 (pip install .[root]); integral: model-free window integral."
                   " The point's mean never depends on it")
    p.add_argument("--jobs", type=positive_int, default=d.jobs,
                   help="processes (default: one per core)")
    p.add_argument("--fetch-workers", type=positive_int, default=d.fetch_workers,
                   help="parallel downloads per point (default %(default)s)")
    p.add_argument("--force", action="store_true", help="redo points already done")
    p.add_argument("--csv-tables", action="store_true",
                   help="also write each point's per-flash table as CSV "
                   "(outputs/lists/points/pmt_<i>_<hv>_waveforms.csv; the typed "
                   "pmt_<i>_<hv>_flashes.npz is always written: ~20x faster)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--plots", action="store_true",
                   help="also draw the diagnostics (outputs/plots/) and write the campaign "
                   "report outputs/report.html (see gain_curve.py --help)")
    p.add_argument("--demo", action="store_true",
                   help="run on the built-in simulated demo campaign (served on loopback "
                   "HTTP; outputs in demo/outputs, with the report), then compare with the "
                   "simulation's truth")
    return p


def run_analysis(argv: list[str] | None = None) -> int:
    """``analysis.py``: the options from the command line, then
    :func:`pmtgain.run.pipeline.analyse` (or the demo)."""
    args = analysis_parser().parse_args(argv)
    from pmtgain.run.pipeline import AnalysisOptions, analyse

    opts = AnalysisOptions(data_dir=args.data_dir, outputs=args.outputs, engine=args.engine,
                           jobs=args.jobs, verbose=args.verbose, force=args.force,
                           progress=not args.no_progress, fetch_workers=args.fetch_workers,
                           plots=args.plots, csv_tables=args.csv_tables)
    if args.demo:
        from pmtgain.sim.demo import run_demo

        return guarded("analysis.py", run_demo, "demo", None, opts)
    return guarded("analysis.py", lambda: analyse(args.data_info, opts, pmts=args.pmt,
                                                   hvs=args.hv).exit_status)


def gain_parser() -> argparse.ArgumentParser:
    from pmtgain.run.options import MergeOptions

    d = MergeOptions()  # every default from the options the merge uses
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
    p.add_argument("--source", choices=SOURCES, default=d.source,
                   help="lists (analysis.py) or condor_lists (HTCondor jobs); default: "
                   "condor_lists if it holds results, else lists")
    p.add_argument("--outputs", default=str(d.outputs), help="default: %(default)s")
    p.add_argument("--data-info", default=d.data_info,
                   help="campaign whose points are expected (default: the one analysis.py "
                   "recorded, else data_info); missing points are named")
    p.add_argument("--target", type=float, default=d.target, metavar="Q",
                   help="value to reach (|charge| in pC, or gain with --quantity gain): "
                   "the HV that gives it, per PMT, with its error (equalisation table)")
    p.add_argument("--quantity", choices=["charge", "gain"], default=d.quantity,
                   help="charge: |mean charge| in pC (the original's); gain: electrons per "
                   "photoelectron from photostatistics (G = (var_Q - var_ped)/(e <Q> F))")
    p.add_argument("--enf", nargs="+", default=[], metavar="PMT:F",
                   help="excess noise factor F = 1 + (sigma_1/Q_1)^2 per PMT for the gain, "
                   "e.g. 1:1.2 2:1.25; overrides the campaign's enf.txt ('<pmt> <F>' "
                   "lines beside data_directories_pmt_*.txt); default 1.2")
    p.add_argument("--plots", action="store_true",
                   help="draw the diagnostics and write outputs/report.html (see below)")
    p.add_argument("--jobs", type=positive_int, default=d.jobs,
                   help="processes drawing the diagnostics (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--reference", metavar="OUTPUTS", default=d.reference,
                   help="an earlier campaign's outputs folder: every (PMT, HV) measured in "
                   "both is compared, the difference in its errors, in "
                   "outputs/repeated_points.csv (a tube or LED that changed between them)")
    return p


def parse_enf(pairs: list[str]) -> dict[int, float]:
    """``['1:1.2', '2:1.25']`` -> {1: 1.2, 2: 1.25}; UserError naming the bad pair."""
    out = {}
    for e in pairs:
        try:
            k, v = e.split(":")
            out[int(k)] = float(v)
        except ValueError:
            raise UserError(f"--enf takes PMT:F pairs, got {e!r}") from None
    return out


def gain_main(argv: list[str] | None = None) -> int:
    """``gain_curve.py``: the options from the command line, then
    :func:`pmtgain.run.pipeline.merge`."""
    args = gain_parser().parse_args(argv)
    from pmtgain.run.pipeline import MergeOptions, merge

    def go() -> int:
        return merge(MergeOptions(outputs=args.outputs, source=args.source,
                                  data_info=args.data_info, target=args.target,
                                  quantity=args.quantity, enf=parse_enf(args.enf),
                                  plots=args.plots, jobs=args.jobs,
                                  progress=not args.no_progress,
                                  reference=args.reference)).exit_status

    return guarded("gain_curve.py", go)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["condor"]:
        from pmtgain.cli.condor import condor_main

        return condor_main(argv[1:])
    args = build_parser().parse_args(argv)
    return guarded("pmtgain", args.func, args)


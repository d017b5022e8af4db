"""The ``pmtgain`` command: inspect and export .trc files, simulate campaigns, run the demo.

    pmtgain inspect FILE [--json]        header and shape of a .trc file
    pmtgain export FILE --csv OUT        segment,time_s,volts rows
    pmtgain simulate OUTDIR [...]        a campaign with known truth (GIN layout)
    pmtgain demo [...]                   the whole local pipeline on a simulated campaign
    pmtgain report [--screenshot PNG]    diagnostics + outputs/report.html (+ a screenshot)
    pmtgain condor ...                   HTCondor: submit | status | wait | retrieve | resubmit

Errors in the input are one line on stderr naming the file and the reason, exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from .trc import TrcError, read_trc


class UserError(Exception):
    """An input problem to report in one line (exit status 2)."""


def _inspect(args) -> int:
    tr = read_trc(args.file)
    h = tr.header
    info = {
        "file": str(args.file),
        "instrument": h.instrument,
        "template": h.template,
        "bits": h.bits,
        "nominal_bits": h.nominal_bits,
        "little_endian": h.little_endian,
        "segments": h.segments,
        "points_per_segment": h.points_per_segment,
        "dt_s": h.horiz_interval,
        "t0_s": float(tr.trigger_offsets[0]),
        "vertical_gain": h.vertical_gain,
        "vertical_offset": h.vertical_offset,
        "vertical_unit": h.vertical_unit,
        "horizontal_unit": h.horizontal_unit,
        "trigger_time": h.trigger_time,
        "trigger_times_s": [float(x) for x in tr.trigger_times],
        "trigger_offsets_s": [float(x) for x in tr.trigger_offsets],
        "user_text_bytes": h.user_text_bytes,
        "ris_time_bytes": h.ris_time_bytes,
        "record_type": h.record_type,
        "volts_min": float(tr.volts.min()),
        "volts_max": float(tr.volts.max()),
    }
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
    tr = read_trc(args.file)
    t = tr.time
    out = Path(args.csv)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["segment", "time_s", "volts"])
        for k in range(tr.volts.shape[0]):
            for ti, vi in zip(t[k], tr.volts[k], strict=True):
                w.writerow([k, repr(float(ti)), repr(float(vi))])
    print(f"wrote {out} ({tr.volts.size} rows)", file=sys.stderr)
    return 0


REGIME_NAMES = ("low-signal", "cut-80", "low-light", "slow-pulses", "wander-dark", "sampling",
                "clipping", "dynamic-range")


def _simulate(args) -> int:
    from .simulate import DEMO_PMTS, REGIMES, simulate_campaign

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
    from .demo import run_demo

    return run_demo(args)


def _report(args) -> int:
    from .report import screenshot
    from .runner import gain_main

    argv = ["--outputs", args.outputs, "--plots", "--quantity", "gain"]
    for opt in ("source", "data_info", "target", "jobs"):
        v = getattr(args, opt)
        if v is not None:
            argv += [f"--{opt.replace('_', '-')}", str(v)]
    if args.enf:
        argv += ["--enf", *args.enf]
    if args.no_progress:
        argv.append("--no-progress")
    rc = gain_main(argv)
    if rc == 0 and args.screenshot:
        png = screenshot(Path(args.outputs) / "report.html", args.screenshot,
                         height=args.height)
        print(f"screenshot of the report (top {args.height} px): {png}")
    return rc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pmtgain",
        description="PMT gain curves from LeCroy .trc waveforms (see README.md).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("inspect", help="print the header and shape of a .trc file")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_inspect)
    s = sub.add_parser("export", help="write a .trc file as CSV (segment,time_s,volts)")
    s.add_argument("file")
    s.add_argument("--csv", required=True, metavar="OUT")
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
    s.add_argument("--n", type=int, default=150, help="files per point (default 150)")
    s.add_argument("--jobs", type=int, default=None)
    s.add_argument("--engine", default="fast", choices=["fast", "root", "integral"])
    s.set_defaults(func=_demo)
    s = sub.add_parser(
        "report",
        help="diagnostic plots and the self-contained campaign report (outputs/report.html)",
        description="Merge the results (as gain_curve.py), draw every point's diagnostic "
        "page and every PMT's shape against HV, and write outputs/report.html. With "
        "--screenshot, also a PNG of the page from headless Chromium.",
    )
    s.add_argument("--outputs", default="outputs")
    s.add_argument("--source", choices=["lists", "condor_lists"], default=None)
    s.add_argument("--data-info", default=None)
    s.add_argument("--target", type=float, default=None, metavar="G",
                   help="gain to reach: the HV per PMT in the fit table")
    s.add_argument("--jobs", type=int, default=None)
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["condor"]:
        from .condor import main as condor_main

        return condor_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TrcError as exc:
        print(f"pmtgain: error: {exc}", file=sys.stderr)
        return 2
    except (UserError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"pmtgain: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pmtgain: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

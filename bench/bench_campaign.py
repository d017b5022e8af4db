"""A GIN-size simulated campaign (the real table's 69 points and 30,528 files) analysed from
local disk with analysis.py's executor, against only reading the same files; one run.

    python bench/bench_campaign.py [--jobs 2] [--scale 1.0] [--plots]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

GIN = Path(__file__).resolve().parents[1] / "data_info"  # the real campaign table


def _read_only(files: list[str]) -> int:
    from pmtgain.flashes import read_many

    return read_many(files).volts.shape[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of files per point")
    ap.add_argument("--plots", action="store_true",
                    help="also time the diagnostics and the report of the whole campaign")
    args = ap.parse_args()
    from pmtgain.campaign import load_campaign
    from pmtgain.executors import run_local
    from pmtgain.simulate import demo_pmt, simulate_campaign

    gin = load_campaign(GIN)
    with tempfile.TemporaryDirectory() as tmp:
        counts = {(p.pmt, p.hv): max(2, int(p.n_files * args.scale)) for p in gin}
        pmts = []
        for k in sorted({p.pmt for p in gin}):
            hv = tuple(sorted(p.hv for p in gin if p.pmt == k))
            folder = next(p.folder for p in gin if p.pmt == k)
            pmts.append(replace(demo_pmt(k), folder=folder, hv_values=hv))
        t = time.perf_counter()
        simulate_campaign(Path(tmp) / "camp", pmts, n=counts, seed=7)
        t_sim = time.perf_counter() - t
        points = load_campaign(Path(tmp) / "camp" / "data_info")
        groups = [sorted(str(p) for p in Path(pt.dir_url).glob("*.trc")) for pt in points]
        n_files = sum(len(g) for g in groups)
        t = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            n_read = sum(pool.map(_read_only, groups))
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        out = run_local(points, data_dir=Path(tmp) / "data", outputs=Path(tmp) / "out",
                        jobs=args.jobs, progress=False)
        t_full = time.perf_counter() - t
        t_plots = report_mb = None
        if args.plots:
            from pmtgain.executors import write_lists
            from pmtgain.gaincurve import collect
            from pmtgain.report import make_report

            write_lists(out, Path(tmp) / "out" / "lists")
            t = time.perf_counter()
            path, _ = make_report(collect(Path(tmp) / "out"), Path(tmp) / "out",
                                  jobs=args.jobs, progress=False)
            t_plots = time.perf_counter() - t
            report_mb = path.stat().st_size / 1e6
    assert n_read == n_files and all(o.ok for o in out)
    print(f"{len(points)} points, {n_files} files (simulated in {t_sim:.1f} s), "
          f"{args.jobs} processes")
    print(f"{'step':<44}{'seconds':>9}{'x read-only':>13}")
    print(f"{'read only (read_many per point)':<44}{t_read:>9.2f}{1:>13.2f}")
    print(f"{'analysis (fetch check + fit + save + logs)':<44}{t_full:>9.2f}"
          f"{t_full / t_read:>13.2f}")
    if t_plots is not None:
        print(f"{'--plots: diagnostics + report.html':<44}{t_plots:>9.2f}"
              f"{t_plots / t_read:>13.2f}   (report {report_mb:.1f} MB)")


if __name__ == "__main__":
    main()

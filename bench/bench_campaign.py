"""A GIN-size simulated campaign (the real table's 69 points and 30,528 files) analysed from
local disk with analysis.py's executor, against only reading the same files; one run.

    python bench/bench_campaign.py [--jobs 2] [--scale 1.0] [--small 0.1] [--repeat 5] [--plots]

Printed: both at ``--scale`` and at ``--small`` of the files per point, and the marginal
ratio (analysis(scale) - analysis(small)) / (read(scale) - read(small)), which cancels
start-up and per-point fixed costs (the goal: <= 3). ``--repeat`` rounds, each
reading and analysing both sizes (the analysis into a fresh outputs folder): the
differences are taken within a round and their median counts, so that a slow spell of
this shared machine hits both terms of a difference.
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
    from pmtgain.io.flashes import read_many

    return read_many(files).volts.shape[0]


def _campaign(tmp: Path, gin, scale: float):
    """A GIN-layout campaign with ``scale`` of each point's files: (points, files per
    point, the PMTs' shapes)."""
    from pmtgain.io.campaign import load_campaign
    from pmtgain.point.shape import ShapeTable
    from pmtgain.sim.simulate import demo_pmt, simulate_campaign

    counts = {(p.pmt, p.hv): max(2, int(p.n_files * scale)) for p in gin}
    pmts = []
    for k in sorted({p.pmt for p in gin}):
        hv = tuple(sorted(p.hv for p in gin if p.pmt == k))
        folder = next(p.folder for p in gin if p.pmt == k)
        pmts.append(replace(demo_pmt(k), folder=folder, hv_values=hv))
    simulate_campaign(tmp / "camp", pmts, n=counts, seed=7)
    points = load_campaign(tmp / "camp" / "data_info")
    # the PMTs' shapes for the points too weak for their own (as data_info/shapes.csv
    # gives HTCondor jobs): no second pass, whose cost would depend on how many points
    # are weak at each size and spoil the marginal
    shapes = ShapeTable({m.pmt: [(hv, m.tau_s_ns, m.tau_ns, m.jitter_ns)
                                 for hv in m.hv_values] for m in pmts}, "simulated")
    groups = [sorted(str(p) for p in Path(pt.dir_url).glob("*.trc")) for pt in points]
    return points, groups, shapes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of files per point")
    ap.add_argument("--small", type=float, default=0.1,
                    help="the smaller campaign of the marginal (fraction of files)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="rounds (each: read and analyse both sizes)")
    ap.add_argument("--plots", action="store_true",
                    help="also time the diagnostics and the report of the whole campaign")
    ap.add_argument("--json", action="store_true", help="also a last line of JSON")
    args = ap.parse_args()
    import numpy as np

    from pmtgain.io.campaign import load_campaign
    from pmtgain.results.layout import Layout
    from pmtgain.run.executors import run_local
    from pmtgain.run.task import Task

    gin = load_campaign(GIN)
    sizes = (args.small, args.scale)
    reads: dict[float, list[float]] = {x: [] for x in sizes}
    fulls: dict[float, list[float]] = {x: [] for x in sizes}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        camps = {x: _campaign(tmp / f"size{k}", gin, x) for k, x in enumerate(sizes)}
        n = {x: sum(len(g) for g in camps[x][1]) for x in sizes}
        for i in range(args.repeat):  # rounds: a slow spell hits both sizes of a round
            for x in sizes:
                points, groups, shapes = camps[x]
                t = time.perf_counter()
                with ProcessPoolExecutor(args.jobs) as pool:
                    n_read = sum(pool.map(_read_only, groups))
                reads[x].append(time.perf_counter() - t)
                t = time.perf_counter()
                task = Task(layout=Layout(tmp / f"out{x}_{i}"), data_dir=tmp / "data",
                            shapes=shapes)
                out = run_local(points, task, jobs=args.jobs, progress=False)
                fulls[x].append(time.perf_counter() - t)
                assert n_read == n[x] and all(o.ok for o in out)
        t_plots = report_mb = None
        if args.plots:
            from pmtgain.report.page import make_report
            from pmtgain.results.gaincurve import collect
            from pmtgain.results.layout import Layout

            o = tmp / f"out{args.scale}_0"
            t = time.perf_counter()
            path, _ = make_report(collect(Layout(o)), Layout(o), jobs=args.jobs,
                                  progress=False)
            t_plots = time.perf_counter() - t
            report_mb = path.stat().st_size / 1e6
    s1, s2 = sizes
    for x in sizes:
        print(f"{n[x]} files: read-only runs " + " ".join(f"{v:.2f}" for v in reads[x])
              + " s; analysis runs " + " ".join(f"{v:.2f}" for v in fulls[x]) + " s")
    # the marginal: the median over rounds of (large - small), for each step
    dr = float(np.median(np.subtract(reads[s2], reads[s1])))
    df = float(np.median(np.subtract(fulls[s2], fulls[s1])))
    r2, f2 = float(np.median(reads[s2])), float(np.median(fulls[s2]))
    n1, n2 = n[s1], n[s2]
    print(f"{len(gin)} points, {n2} files (and {n1} for the marginal), {args.jobs} processes;"
          f" medians over {args.repeat} rounds")
    print(f"{'step':<44}{'seconds':>9}{'x read-only':>13}")
    print(f"{'read only (read_many per point)':<44}{r2:>9.2f}{1:>13.2f}")
    print(f"{'analysis (fetch check + measure + save)':<44}{f2:>9.2f}{f2 / r2:>13.2f}")
    label = f"marginal: analysis / read, {n1} -> {n2} files"
    print(f"{label:<44}{df:>9.2f}{df / dr:>13.2f}   (goal <= 3)")
    per = 1e6 * args.jobs / (n2 - n1)
    print(f"{'  per extra file and process: analysis, read':<44}"
          f"{per * df:>7.1f} us, {per * dr:.1f} us")
    if t_plots is not None:
        print(f"{'--plots: diagnostics + report.html':<44}{t_plots:>9.2f}"
              f"{t_plots / r2:>13.2f}   (report {report_mb:.1f} MB)")
    if args.json:
        import json

        print(json.dumps(dict(n_small=n1, n_large=n2, read_s=r2, analysis_s=f2,
                              marginal=df / dr)))


if __name__ == "__main__":
    main()

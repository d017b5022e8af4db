"""Every simulated regime against its truth: the table regime x PMT of the worst
|deviation|/tolerance of the mean charge and the worst photostatistics pull.

    python bench/regimes.py [--n 2000] [--regime low-light ...] [--points]

A ratio <= 1 means every point of that PMT is within max(0.3 %, 3 standard errors) of the
true mean over all flashes; points flagged for clipping are shown apart (their mean is
known to be low and says so). Pulls are over the points without a gain flag.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # devtools/ is not installed
from devtools.validate import check_regime  # noqa: E402
from pmtgain.sim.regimes import REGIMES  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="flashes per point (2000)")
    ap.add_argument("--regime", nargs="+", default=list(REGIMES), choices=list(REGIMES))
    ap.add_argument("--points", action="store_true", help="print every point too")
    args = ap.parse_args(argv)
    rows = []
    t0 = time.perf_counter()
    for name in args.regime:
        rows += check_regime(name, n=args.n)
    df = pd.DataFrame(rows)
    if args.points:
        with pd.option_context("display.width", 200, "display.max_rows", None):
            print(df[["regime", "pmt", "hv", "deviation", "tolerance", "ratio", "pull",
                      "filter_noise_ratio", "window_ns", "gain_pull", "n_pe",
                      "shape_source", "gain_flag", "point_flag"]].to_string())
    print(f"\n{len(df)} points, {args.n} flashes each, {time.perf_counter() - t0:.0f} s")
    print("worst |deviation|/tolerance of the mean and worst |pull| (deviation / "
          "mean_charge_err; unclipped points) | median noise of the per-flash charge over "
          "the window sum's | worst |gain pull| (points without a gain flag) | clipped "
          "points flagged")
    out = []
    for (reg, pmt), g in df.groupby(["regime", "pmt"], sort=False):
        clean = g[g.n_clipped == 0]
        unflagged = g[g.gain_flag == ""]
        clipped = g[g.n_clipped > 0]
        out.append(dict(
            regime=reg, pmt=pmt,
            worst_ratio=f"{clean.ratio.max():.2f}" if len(clean) else "-",
            worst_pull=f"{clean.pull.abs().max():.2f}" if len(clean) else "-",
            filter_noise=f"{clean.filter_noise_ratio.median():.2f}" if len(clean) else "-",
            worst_gain_pull=f"{unflagged.gain_pull.abs().max():.2f}" if len(unflagged)
            else "-",
            flagged=f"{len(unflagged)}/{len(g)} unflagged",
            clipped=(f"{int(clipped.point_flag.str.contains('clipped').sum())}/"
                     f"{len(clipped)}") if len(clipped) else "-"))
    print(pd.DataFrame(out).to_string(index=False))
    bad = df[(df.n_clipped == 0) & ((df.ratio > 1) | (df.pull.abs() > 3))]
    pulls = df[df.gain_flag == ""].gain_pull.abs()
    print(f"\nall unclipped points within tolerance and |pull| < 3: {len(bad) == 0}; "
          f"unflagged gain pulls within 3 sigma: {int((pulls < 3).sum())}/{len(pulls)} "
          f"(rms {np.sqrt(np.mean(df[df.gain_flag == ''].gain_pull ** 2)):.2f})")
    return 0 if bad.empty else 1


if __name__ == "__main__":
    raise SystemExit(main())

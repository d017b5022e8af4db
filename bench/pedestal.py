"""The pedestal against its truth under a slow wander: sigma_ped^2 of a point's estimator
(:mod:`pmtgain.point.pedestal`, from the LED run's own records) beside the variance of the same
estimator on noise-only records of the same wander, and the photostatistics gain pull.

    python bench/pedestal.py [--period 400] [--wander 1e-3] [--n 3000]

Issue 21's case: 1 mV (or 0.5 mV), 400 ns +- 50 %, random phase per trigger. The ratio
column is estimate / noise-only truth (1 within the quoted error and the truth's own
sampling error, about sqrt(2/n)).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.config import DEFAULT_FIT
from pmtgain.io.flashes import ChunkReader
from pmtgain.point.measure import measure_flashes
from pmtgain.point.placement import place
from pmtgain.point.process import _diagnostic_shape, process_point
from pmtgain.point.scan import scan_point
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def one(p, hv: int, n: int) -> dict:
    span = max(p.range_factor * abs(p.mean_peak_V(hv)), 40 * p.noise_V)
    p = replace(p, range_V=span)  # the same scope range for the noise-only records
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        truth = write_point(d1, p, hv, n, seed=5)
        write_point(d2, replace(p, mu_pe=1e-9), hv, n, seed=6)
        f1 = sorted(map(str, Path(d1).glob("*.trc")))
        f2 = sorted(map(str, Path(d2).glob("*.trc")))
        r1 = ChunkReader(f1)
        scan = scan_point(r1, DEFAULT_FIT, pmt=p.pmt, hv=hv)
        pl = place(scan, lambda g: scan_point(r1, DEFAULT_FIT, g, pmt=p.pmt, hv=hv),
                   p.pmt, hv, DEFAULT_FIT, None)
        shape, _ = _diagnostic_shape(pl.scan, pl.window, p.pmt, hv, DEFAULT_FIT, None)
        names = [Path(f).name for f in f2]
        m1 = measure_flashes(r1, pl.scan, pl.estimator, shape, [Path(f).name for f in f1])
        m2 = measure_flashes(ChunkReader(f2), pl.scan, pl.estimator, shape, names,
                             choose=False)
        c = m2.cols["status"] == 0
        noise = m2.cols["w"][c] if m1.per_flash == "window" else m2.cols["q"][c]
        s = process_point(f1, pmt=p.pmt, hv=hv, enf=p.enf).summary
    g_true = p.gain(hv) * truth["record_charge_scale"]
    true_var = float(np.var(noise, ddof=1))
    return dict(pmt=p.pmt, hv=hv, ped_pC2=m1.ped_var_pC2, ped_err_pC2=m1.ped_err_pC2,
                noise_only_pC2=true_var, ratio=m1.ped_var_pC2 / true_var,
                gain_pull=(s["gain"] - g_true) / s["gain_err"], gain_flag=s["gain_flag"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", type=float, default=400.0, help="wander period, ns (400)")
    ap.add_argument("--wander", type=float, default=1e-3, help="wander amplitude, V (1e-3)")
    ap.add_argument("--n", type=int, default=3000, help="flashes per point (3000)")
    ap.add_argument("--hv", type=int, nargs="+", default=[700, 1000])
    args = ap.parse_args(argv)
    rows = [one(replace(p, wander_V=args.wander, wander_period_ns=args.period), hv, args.n)
            for p in DEMO_PMTS for hv in args.hv]
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 160):
        print(df.to_string(index=False, float_format="%.4g"))
    dev = (df.ped_pC2 - df.noise_only_pC2).abs() / np.hypot(
        df.ped_err_pC2, df.noise_only_pC2 * np.sqrt(2 / args.n))
    print(f"\npedestal within 3 combined errors of the noise-only truth: "
          f"{int((dev < 3).sum())}/{len(df)}; |gain pull| < 3: "
          f"{int((df.gain_pull.abs() < 3).sum())}/{len(df)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every simulated low-light regime against its truth, over several seeds: the pulls of G
and F (statistical and threshold systematic in quadrature) and the flags.

    python bench/spe_regimes.py [--seeds 5] [--regime spe-14x ...]

A regime whose single photoelectron is resolved (every one but spe-1.5x) must never be
flagged (a false flag); spe-1.5x must always be. Pulls are over the unflagged runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.point.spe import process_spe
from pmtgain.sim.simspe import SPE_REGIMES, write_ledoff, write_spe_run

UNRESOLVED = {"spe-1.5x"}


def run_one(name: str, seed: int) -> dict:
    p, hv, n, ledoff = SPE_REGIMES[name]
    with tempfile.TemporaryDirectory() as d:
        truth = write_spe_run(Path(d) / "on", p, hv, n, seed=seed)
        bg = []
        if ledoff:
            write_ledoff(Path(d) / "off", p, hv, n, seed=seed + 1000)
            bg = sorted((Path(d) / "off").glob("*.trc"))
        s = process_spe(sorted((Path(d) / "on").glob("*.trc")), pmt=p.pmt, hv=hv,
                        background_files=bg).summary
    g = p.gain(hv) * truth["record_charge_scale"]
    return dict(regime=name, seed=seed, gain_dev_pct=100 * (s["gain"] / g - 1),
                gain_pull=(s["gain"] - g) / np.hypot(s["gain_err"], s["gain_sys"]),
                enf=s["enf"], enf_pull=(s["enf"] - p.enf) / np.hypot(s["enf_err"],
                                                                   s["enf_sys"]),
                flagged=bool(s["flag"]), flag=s["flag"][:60])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="runs per regime (5)")
    ap.add_argument("--regime", nargs="+", default=list(SPE_REGIMES),
                    choices=list(SPE_REGIMES))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    df = pd.DataFrame([run_one(r, 100 + k) for r in args.regime for k in range(args.seeds)])
    out = []
    for reg, g in df.groupby("regime", sort=False):
        u = g[~g.flagged]
        resolved = reg not in UNRESOLVED
        out.append(dict(
            regime=reg, runs=len(g),
            worst_gain_pull=f"{u.gain_pull.abs().max():.2f}" if len(u) else "-",
            rms_gain_pull=f"{np.sqrt(np.mean(u.gain_pull ** 2)):.2f}" if len(u) else "-",
            worst_enf_pull=f"{u.enf_pull.abs().max():.2f}" if len(u) else "-",
            rms_enf_pull=f"{np.sqrt(np.mean(u.enf_pull ** 2)):.2f}" if len(u) else "-",
            flagged=int(g.flagged.sum()),
            false_flags=int(g.flagged.sum()) if resolved else 0,
            missed_flags=0 if resolved else int((~g.flagged).sum())))
    print(f"{len(df)} runs in {time.perf_counter() - t0:.0f} s")
    print(pd.DataFrame(out).to_string(index=False))
    bad = [o for o in out if o["false_flags"] or o["missed_flags"]
           or (o["worst_gain_pull"] != "-" and float(o["worst_gain_pull"]) > 3)
           or (o["worst_enf_pull"] != "-" and float(o["worst_enf_pull"]) > 3)]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

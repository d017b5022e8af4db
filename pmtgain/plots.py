"""Plots people would rather look at than read: the gain curves.

- :func:`gain_curves` - ``|Q|`` (or gain) against HV per PMT, log y axis, error bars,
  fitted power laws, one colour per PMT; written to ``outputs/gain_curves.png``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def gain_curves(df: pd.DataFrame, fits: dict, path: str | os.PathLike,
                quantity: str = "charge", title: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    col = "mean_charge" if quantity == "charge" else "gain"
    for i, (pmt, sub) in enumerate(df.groupby("pmt")):
        c = colours[i % len(colours)]
        y = np.abs(sub[col].to_numpy(float))
        yerr = sub["std_dev_charge"].to_numpy(float) if quantity == "charge" \
            else sub["gain_err"].to_numpy(float)
        label = f"PMT {pmt}"
        fit = fits.get(int(pmt))
        if fit is not None:
            label += f": b = {fit.b:.2f} ± {fit.b_err:.2f}"
        ax.errorbar(sub.hv, y, yerr=yerr, fmt="o", ms=4, capsize=2, color=c, label=label)
        if fit is not None:
            v = np.linspace(sub.hv.min() * 0.97, sub.hv.max() * 1.03, 200)
            ax.plot(v, fit(v), "-", lw=1.2, color=c, alpha=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("HV [V]")
    ax.set_ylabel("|mean charge| [pC]" if quantity == "charge"
                  else "gain [electrons per photoelectron] (photostatistics)")
    ax.set_title(title or "PMT gain curves (points: mean ± std; lines: a·V^b fits)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

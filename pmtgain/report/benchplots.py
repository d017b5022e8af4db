"""Plots of what a test bench measures besides the gain curve.

What to use when
----------------
- :func:`spe_spectrum` - a low-light run: the charge spectra of its LED and pedestal
  windows with the threshold and the spectrum fit, the occupancy against the threshold,
  and the single photoelectrons' arrival times with the transit-time spread's fit.
- :func:`dark_rates` - one PMT's dark-count rate against the threshold (photoelectrons
  where its low-light run gives the amplitude, else volts), one curve per HV.
- :func:`afterpulse_delays` - one PMT's afterpulse delay spectra, per HV, per flash, with
  the dark counts' floor and the afterpulses per photoelectron.

Like :mod:`pmtgain.report.plots` (whose palette and helpers these share), each takes a
path or a binary file object and closes its figure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

import numpy as np
import pandas as pd

from pmtgain.point.schema import text_numbers
from pmtgain.report.plots import CYCLE, pyplot, save_figure

__all__ = ["spe_spectrum", "dark_rates", "afterpulse_delays"]


def spe_spectrum(run: Mapping, spectra: Mapping, path: str | os.PathLike | IO[bytes]) -> None:
    """A low-light run: the charge spectra of the LED and pedestal windows with the chosen
    threshold and the spectrum fit, the occupancy against the threshold (the stability
    check) and the single photoelectrons' arrival times (the transit-time spread)."""
    plt = pyplot()
    timed = "tts_counts" in spectra
    fig, axes = plt.subplots(1, 3 if timed else 2, figsize=(12.4 if timed else 8.8, 3.4),
                             dpi=100, gridspec_kw=dict(width_ratios=[1.6, 1, 1][:3 if timed
                                                                                 else 2]))
    ax, axs = axes[0], axes[1]
    if timed:
        _arrival_panel(axes[2], run, spectra)
    t, b = -np.asarray(spectra["T"], float), -np.asarray(spectra["B"], float)
    lo, hi = np.percentile(np.concatenate([t, b]), [0.2, 99.8])
    bins = np.linspace(lo, hi, 120)
    ax.hist(b, bins=bins, histtype="step", color="#868e96", label="pedestal window")
    ax.hist(t, bins=bins, histtype="step", color="#1c7ed6", label="LED window")
    ax.axvline(run["threshold_pC"], color="k", ls="--", lw=1, label="threshold")
    if "fit_fitted" in spectra:  # the spectrum fit (pmtgain.point.spefit), its own bins
        e = np.asarray(spectra["fit_edges"], float)
        scale = (bins[1] - bins[0]) / (e[1] - e[0])
        f = np.asarray(spectra["fit_fitted"], float) * scale
        f = np.where(f >= 0.3, f, np.nan)  # not the model's tails far below one flash
        ax.plot(0.5 * (e[1:] + e[:-1]), f, color="#c92a2a", lw=1,
                label=f"fit: G = {run.get('fit_gain', float('nan')):.3g}, F = "
                f"{run.get('fit_enf', float('nan')):.3f}, P/V = "
                f"{run.get('peak_to_valley', float('nan')):.2g}")
    ax.set_yscale("log")
    ax.set_xlabel("|charge| [pC]")
    ax.set_ylabel("flashes")
    ax.set_title(f"PMT {run['pmt']} at {run['hv']} V: λ = {run['occupancy']:.3f}, "
                 f"G = {run['gain']:.3g}, F = {run['enf']:.3f}", fontsize=9)
    ax.legend(fontsize=7)
    grid = np.asarray(spectra["threshold_grid"], float)
    axs.plot(grid / run["pedestal_rms_pC"], spectra["occupancy_scan"], "o-", ms=3)
    axs.axvline(run["threshold_pC"] / run["pedestal_rms_pC"], color="k", ls="--", lw=1)
    axs.set_xlabel("threshold [pedestal rms]")
    axs.set_ylabel("occupancy λ")
    axs.set_title("stability against the threshold", fontsize=9)
    axs.grid(alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.88, wspace=0.3)
    save_figure(fig, path)
    plt.close(fig)


def _arrival_panel(ax, run: Mapping, spectra: Mapping) -> None:
    """The single photoelectrons' arrival times with the Gaussian of the fit."""
    e, h = np.asarray(spectra["tts_edges"], float), np.asarray(spectra["tts_counts"], float)
    x = 0.5 * (e[1:] + e[:-1])
    ax.step(x, h, where="mid", color="#1c7ed6", lw=1)
    mu, sig = run.get("transit_mean_ns", np.nan), run.get("tts_sigma_ns", np.nan)
    if np.isfinite(mu) and np.isfinite(sig) and sig > 0:
        g = h.sum() * (e[1] - e[0]) / (sig * np.sqrt(2 * np.pi)) * \
            np.exp(-0.5 * ((x - mu) / sig) ** 2)
        ax.plot(x, g, color="#c92a2a", lw=1)
    ax.set_xlabel("arrival time after the trigger [ns]")
    ax.set_ylabel("single-photoelectron flashes")
    ax.set_title(f"TTS σ {run.get('tts_sigma_ns', np.nan):.3g} ns "
                 f"({run.get('tts_sigma_corrected_ns', np.nan):.3g} less noise), "
                 f"FWHM {run.get('tts_fwhm_ns', np.nan):.3g}", fontsize=8)


def dark_rates(curves: pd.DataFrame, path: str | os.PathLike | IO[bytes], pmt: int,
               dpi: int = 80) -> None:
    """One PMT's dark-count rate against the threshold, per HV (:mod:`pmtgain.point.darkrate`);
    rates consistent with 0 are drawn at their 2-sigma upper limit (open markers)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=dpi)
    sub = curves[curves.pmt == pmt]
    pe = bool(np.isfinite(sub.threshold_pe.to_numpy(float)).all()) if len(sub) else False
    if len(sub) and "source" not in sub.columns:
        sub = sub.assign(source="")
    for i, ((hv, src), c) in enumerate(sub.fillna({"source": ""}).groupby(["hv", "source"])):
        x = c.threshold_pe.to_numpy(float) if pe else 1e3 * c.threshold_V.to_numpy(float)
        r, e = c.rate_hz.to_numpy(float), c.rate_err_hz.to_numpy(float)
        col = CYCLE[i % len(CYCLE)]
        seen = r > 2 * e
        run = str(src).startswith("dark run")
        ax.errorbar(x[seen], r[seen], yerr=e[seen], fmt="s-" if run else "o-", ms=3,
                    color=col, label=f"{hv} V" + (" dark run" if run else ""))
        ax.plot(x[~seen], np.maximum(r[~seen], 0) + 2 * e[~seen], "v", mfc="none",
                color=col, ms=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("threshold [photoelectrons]" if pe else "threshold [mV]")
    ax.set_ylabel("dark-count rate [Hz]")
    ax.set_title(f"PMT {pmt}: pulses with no light (o: before the LED pulse, "
                 "\u25a1: dark runs)", fontsize=8)
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.grid(alpha=0.3, which="both")
    if len(sub):
        ax.legend(fontsize=7, ncol=2)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.9)
    save_figure(fig, path)
    plt.close(fig)


def afterpulse_delays(df: pd.DataFrame, path: str | os.PathLike | IO[bytes], pmt: int,
                      dpi: int = 80) -> None:
    """One PMT's afterpulse delays (:mod:`pmtgain.point.afterpulse`): per HV the pulses per
    flash and ns against the delay after the onset, the dark floor dashed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 3.8), dpi=dpi)
    sub = df[(df.pmt == pmt)].sort_values("hv")
    for i, r in enumerate(sub.to_dict("records")):
        if not isinstance(r.get("ap_delay_counts"), str):
            continue
        e, h = text_numbers(r["ap_delay_edges_ns"]), text_numbers(r["ap_delay_counts"])
        w = np.diff(e) * float(r["ap_flashes"])
        col = CYCLE[i % len(CYCLE)]
        p, pe = r.get("afterpulse_prob", np.nan), r.get("afterpulse_prob_err", np.nan)
        lab = f"{r['hv']} V" + (" long-record run" if r.get("kind") == "afterpulse" else "") \
            + (f": {100 * p:.2g} ± {100 * pe:.1g} % per p.e." if np.isfinite(p) else "")
        ax.step(0.5 * (e[1:] + e[:-1]) / 1e3, h / w, where="mid", color=col, lw=1, label=lab)
        dark = r.get("dark_rate_5sigma_hz", np.nan)
        if np.isfinite(dark):
            ax.axhline(dark * 1e-9, color=col, ls="--", lw=0.8)
    ax.set_xlabel("delay after the LED pulse's onset [µs]")
    ax.set_ylabel("pulses per flash per ns")
    ax.set_title(f"PMT {pmt}: afterpulses (dashed: the dark counts' floor)", fontsize=9)
    ax.grid(alpha=0.3)
    if len(sub):
        ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
    save_figure(fig, path)
    plt.close(fig)

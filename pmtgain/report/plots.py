"""Plots people would rather look at than read.

What to use when
----------------
- :func:`gain_curves` - ``|Q|`` (or gain) against HV per PMT, log y axis, error bars,
  fitted power laws, one colour per PMT; written to ``outputs/gain_curves.png``.
- :func:`point_diagnostics` - one (PMT, HV) point on one page: the charge histogram with
  mean and sigma marked, example waveforms with their fitted pulses and the fit range,
  the fit residuals, the count of waveforms per outcome (used, fallback, rejected by
  reason) and the mean charge of consecutive blocks of flashes against their time (the
  stability test). Needs the point's summary, per-waveform table and examples
  (``PointResult.examples``).
- :func:`shape_vs_hv` - one PMT's fitted rise time, fall time, onset and onset jitter
  against HV, with their errors: the pulse shape should change smoothly with HV; a jump
  much larger than the errors marks a bad fit.

All take a path or a binary file object (the HTML report embeds them from memory) and
close their figures. :mod:`pmtgain.report.page` renders them for a whole run, in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO

import numpy as np
import pandas as pd

from pmtgain.point.pulse import Status, pulse, pulse_smeared
from pmtgain.point.stability import blocks

__all__ = ["OUTCOME_COLOURS", "OUTCOMES", "CYCLE", "RawImage", "pyplot", "save_figure",
           "gain_curves", "point_diagnostics", "shape_vs_hv"]

OUTCOME_COLOURS = {"ok": "#2b8a3e", "not_converged": "#e8a317", "at_bound": "#d9480f",
                   "below_cut": "#868e96", "clipped": "#c2255c", "edge": "#5f3dc4",
                   "unreadable": "#212529", "pre_pulse": "#1c7ed6", "linear": "#2b8a3e",
                   "fails_cut": "#868e96"}
#: the outcomes of a flash, as the outcome panel shows them
OUTCOMES = {"ok": "counted", "fails_cut": "counted, fails the cut", "clipped":
            "left out: clipped", "pre_pulse": "left out: pulse in the baseline region",
            "unreadable": "left out: unreadable / not fetched"}
CYCLE = ("#1c7ed6", "#2b8a3e", "#e67700", "#ae3ec9", "#c92a2a", "#0b7285", "#5c940d",
          "#495057")


class RawImage:
    """A destination for the figures that keeps the rendered pixels (RGB, uint8) instead
    of a PNG: :mod:`pmtgain.report.page` quantises them to a palette itself, and skipping
    matplotlib's own PNG encoding saves a compression and a decoding per figure."""

    pixels: np.ndarray | None = None


def save_figure(fig, path) -> None:
    if isinstance(path, RawImage):
        fig.canvas.draw()
        path.pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    else:
        fig.savefig(path, format="png")


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def gain_curves(df: pd.DataFrame, fits: dict, path: str | os.PathLike | IO[bytes],
                quantity: str = "charge", title: str | None = None) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    from pmtgain.results.gaincurve import gain_column

    anchored_any = False
    for i, (pmt, sub) in enumerate(df.groupby("pmt")):
        c = colours[i % len(colours)]
        col = "mean_charge" if quantity == "charge" else gain_column(sub)
        y = np.abs(sub[col].to_numpy(float))
        yerr = sub["std_dev_charge"].to_numpy(float) if quantity == "charge" \
            else sub[f"{col}_err"].to_numpy(float)
        label = f"PMT {pmt}"
        if col == "gain_anchored":  # the photostatistics gains beside it, open
            anchored_any = True
            label += f" (anchored at {int(sub.anchor_hv.iloc[0])} V)"
            ax.errorbar(sub.hv, sub.gain, yerr=sub.gain_err, fmt="o", mfc="none", ms=5,
                        capsize=2, color=c, alpha=0.6, label=f"PMT {pmt} photostatistics")
        fit = fits.get(int(pmt))
        if fit is not None:
            label += f": b = {fit.b:.2f} ± {fit.b_err:.2f}"
        ax.errorbar(sub.hv, y, yerr=yerr, fmt="o", ms=4, capsize=2, color=c, label=label)
        if fit is not None:
            v = np.linspace(sub.hv.min() * 0.97, sub.hv.max() * 1.03, 200)
            ax.plot(v, fit(v), "-", lw=1.2, color=c, alpha=0.8)
        spe = df.attrs.get("spe")
        if quantity == "gain" and spe is not None and len(spe):
            runs = spe[(spe.pmt == pmt)]
            for r in runs.to_dict("records"):  # the absolute anchor: a low-light run
                err = np.hypot(r["gain_err"], r.get("gain_sys") or 0.0)
                ax.errorbar([r["hv"]], [r["gain"]], yerr=[err], fmt="*" if not r["flag"]
                            else "x", ms=11, color=c, mec="k", capsize=3,
                            label=f"PMT {pmt} low-light run" + (" (flagged)" if r["flag"]
                                                                 else ""))
    ax.set_yscale("log")
    ax.set_xlabel("HV [V]")
    what = "anchored on the single photoelectron (filled), photostatistics (open)" \
        if anchored_any else "photostatistics"
    ax.set_ylabel("|mean charge| [pC]" if quantity == "charge"
                  else "gain [electrons per photoelectron]")
    ax.set_title(title or ("PMT gain curves (points: mean ± std; lines: a·V^b fits)"
                           if quantity == "charge" else
                           f"PMT gain, {what}; lines: a·V^b fits"), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=9)
    else:
        ax.text(0.5, 0.5, "no point has a result", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _example_model(ex: Mapping, i: int, t_abs: np.ndarray) -> np.ndarray | None:
    a, c, ts, tf = (float(ex[k][i]) for k in ("a_V", "c_ns", "tau_s_ns", "tau_ns"))
    if not all(np.isfinite([a, c, ts, tf])):
        return None
    return pulse(t_abs, a, c, ts, tf)


def point_diagnostics(summary: Mapping, table: pd.DataFrame, examples: Mapping | None,
                      path: str | os.PathLike | IO[bytes], dpi: int = 80) -> None:
    """The diagnostic page of one point (see the module docstring)."""
    plt = pyplot()
    fig = plt.figure(figsize=(11, 10), dpi=dpi)
    grid = fig.add_gridspec(3, 2, height_ratios=(1, 1, 0.8))
    axs = np.array([[fig.add_subplot(grid[i, j]) for j in range(2)] for i in range(2)])
    pmt, hv = summary.get("pmt"), summary.get("hv")
    cut = summary.get("cut_V")
    cut_txt = "no cut" if cut is None or not np.isfinite(cut) else f"cut {1e3 * cut:.3g} mV"
    fig.suptitle(f"PMT {pmt} at {hv} V  ({summary.get('engine', '?')} engine, {cut_txt}, "
                 f"{summary.get('n_used', 0)} of {summary.get('n_flashes', 0)} flashes used)",
                 fontsize=12)
    _charge_histogram(axs[0, 0], summary, table)
    _examples_panel(axs[0, 1], axs[1, 0], summary, examples)
    _outcomes_panel(axs[1, 1], table)
    _stability_panel(fig.add_subplot(grid[2, :]), summary, table)
    # fixed margins: tight_layout measured every label and took 40 % of the drawing time;
    # the wide gap between the columns holds the outcome panel's labels
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.06, top=0.93, wspace=0.62,
                        hspace=0.36)
    save_figure(fig, path)
    plt.close(fig)


def _passed_cut(table: pd.DataFrame) -> np.ndarray | None:
    if "passed_cut" not in table.columns:
        return None
    v = table["passed_cut"].astype(str).str.lower().to_numpy()
    if not np.isin(v, ["true", "false"]).any():
        return None
    return v == "true"


def _charge_histogram(ax, summary: Mapping, table: pd.DataFrame) -> None:
    st = table["status"].astype(str)
    q = pd.to_numeric(table.get("charge_pC"), errors="coerce").to_numpy(float)
    used = (st == Status.OK.label).to_numpy() & np.isfinite(q)
    qa = -q  # |Q| of negative pulses; the sign convention is kept in the tables
    if used.sum() < 2:
        ax.text(0.5, 0.5, "fewer than 2 counted flashes", ha="center", transform=ax.transAxes)
        ax.set_title("charge")
        return
    bins = np.histogram_bin_edges(qa[used], bins=min(60, max(10, int(used.sum() ** 0.5))))
    passed = _passed_cut(table)
    if passed is not None:
        ok, fail = used & passed, used & ~passed
        ax.hist([qa[ok], qa[fail]], bins=bins, stacked=True, histtype="stepfilled",
                color=[OUTCOME_COLOURS["ok"], OUTCOME_COLOURS["fails_cut"]],
                label=[f"pass the cut ({ok.sum()})", f"fail the cut ({fail.sum()})"])
    else:
        ax.hist(qa[used], bins=bins, histtype="stepfilled", color=OUTCOME_COLOURS["ok"],
                label=f"every counted flash ({used.sum()})")
    m = -float(summary.get("mean_charge", np.nan))
    sd = float(summary.get("std_dev_charge", np.nan))
    if np.isfinite(m):
        ax.axvline(m, color="k", lw=1.8, zorder=5, label=f"mean {m:.4g} pC")
        if np.isfinite(sd):
            for x in (m - sd, m + sd):
                ax.axvline(x, color="k", ls="--", lw=1.2, zorder=5)
            ax.plot([], [], "k--", lw=1.2, label=f"mean ± σ, σ = {sd:.3g} pC")
    mc = -float(summary.get("mean_charge_cut", np.nan) or np.nan)
    if passed is not None and np.isfinite(mc):
        ax.axvline(mc, color=OUTCOME_COLOURS["fails_cut"], lw=1.8, ls=":", zorder=5,
                   label=f"mean with the cut {mc:.4g} pC")
    g = summary.get("gain")
    if g is not None and np.isfinite(g):
        ax.plot([], [], " ", label=f"G = {g:.3g} ± {summary.get('gain_err', np.nan):.2g}, "
                f"μ = {summary.get('n_pe', np.nan):.3g} pe")
    ax.set_xlabel("|charge| [pC]")
    ax.set_ylabel("flashes")
    ax.set_title("charge of every counted flash (linear estimator)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # room for the legend
    ax.legend(fontsize=7, loc="upper left", ncol=2)


def _examples_panel(ax, axr, summary: Mapping, ex: Mapping | None) -> None:
    ax.set_title("example waveforms and fitted pulses")
    axr.set_title("residuals in the integration window (data - fit)")
    if not ex or len(ex.get("y", ())) == 0:
        for a in (ax, axr):
            a.text(0.5, 0.5, "no examples saved for this point", ha="center",
                   transform=a.transAxes)
        return
    y = np.asarray(ex["y"], float)
    dt = float(ex["dt_ns"])
    k = np.arange(y.shape[1])
    k_lo, k_hi = int(ex["k_lo"]), int(ex["k_hi"])
    t0p = float(ex["t0_point_ns"])
    lo, hi = t0p + k_lo * dt, t0p + (k_hi - 1) * dt
    ax.axvspan(lo, hi, color="#4dabf7", alpha=0.12, label="integration window")
    axr.axvspan(lo, hi, color="#4dabf7", alpha=0.12)
    for i in range(y.shape[0]):
        st = str(ex["status"][i])
        col = CYCLE[i % len(CYCLE)]
        t = float(ex["t0_ns"][i]) + k * dt
        q = float(ex["charge_pC"][i])
        lab = f"{ex['name'][i]} ({st}" + (f", {-q:.3g} pC)" if np.isfinite(q) else ")")
        ax.plot(t, 1e3 * y[i], lw=0.6, color=col, alpha=0.45, label=lab)
        model = _example_model(ex, i, t)
        if model is not None:
            ax.plot(t, 1e3 * model, "-", lw=2.0, color=col, zorder=4)
            w = slice(k_lo, k_hi)
            axr.plot(t[w], 1e3 * (y[i, w] - model[w]), lw=0.6, color=col, alpha=0.45)
    shp = np.asarray(ex.get("shape", np.full(5, np.nan)), float)
    mp = np.asarray(ex.get("mean_pulse", ()), float)
    if mp.size and np.all(np.isfinite(shp)):
        t = t0p + k * dt
        fit = pulse_smeared(t, *shp)
        w = slice(k_lo, k_hi)
        axr.plot(t[w], 1e3 * (mp[w] - fit[w]), color="k", lw=1.8, zorder=4,
                 label="mean pulse - its shape fit")
        axr.legend(fontsize=8, loc="lower right")
    ax.plot([], [], "k-", lw=2.0, label="fitted pulse (thick)")
    pad = 0.5 * (hi - lo)
    for a in (ax, axr):
        a.set_xlim(lo - pad, hi + pad)
        a.set_xlabel("time [ns]")
    ax.set_ylabel("baseline-subtracted signal [mV]")
    axr.set_ylabel("residual [mV]")
    axr.axhline(0, color="k", lw=0.5)
    lo_y, hi_y = ax.get_ylim()
    ax.set_ylim(lo_y, hi_y + 0.7 * (hi_y - lo_y))  # the legend goes above the pulses
    ax.legend(fontsize=7, loc="upper right")




def _stability_panel(ax, summary: Mapping, table: pd.DataFrame) -> None:
    """|mean charge| of consecutive blocks of flashes against time, with the point's mean
    and its drift test (:mod:`pmtgain.point.stability`)."""
    if "window_charge_pC" not in table.columns:
        ax.set_axis_off()
        return
    b = blocks(table)
    if not b.n.size:
        ax.text(0.5, 0.5, "too few flashes for a stability test", ha="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    timed = b.time_source == "trigger times"
    x = b.time_s / 60.0 if timed else b.time_s
    xerr = 0.5 * b.span_s / 60.0 if timed else 0.5 * b.span_s
    flag = bool(summary.get("drift_flag"))
    ax.errorbar(x, np.abs(b.mean_pC), yerr=b.err_pC, xerr=xerr, fmt="o", ms=4,
                color="#c92a2a" if flag else "#1c7ed6", capsize=2)
    m = summary.get("mean_charge")
    if m is not None and np.isfinite(m):
        ax.axhline(abs(m), color="#495057", lw=1, ls="--", label="point's mean")
    ax.set_xlabel("time since the first flash (min)" if timed else
                  "flash number (the files hold no times)")
    ax.set_ylabel("|mean charge| of the block (pC)")
    z = [summary.get("drift_chi2_sigma"), summary.get("drift_slope_sigma")]
    txt = "stability: " + ("DRIFT, " if flag else "") + (
        f"chi2/ndf {summary.get('drift_chi2_ndf', float('nan')):.2f} ({z[0]:.1f} sigma), "
        f"slope {z[1]:.1f} sigma, first to last "
        f"{100 * summary.get('drift_first_last', float('nan')):+.1f} %"
        if all(v is not None and np.isfinite(v) for v in z) else "not tested")
    ax.set_title(txt, fontsize=10, color="#c92a2a" if flag else "#212529")
    ax.legend(fontsize=8, loc="best")


def _outcomes_panel(ax, table: pd.DataFrame) -> None:
    st = table["status"].astype(str).to_numpy()
    passed = _passed_cut(table)
    if passed is not None:
        st = np.where((st == "ok") & ~passed, "fails_cut", st)
    counts = pd.Series(st).value_counts()
    labels = list(OUTCOMES)
    vals = [int(counts.get(lab, 0)) for lab in labels]
    ypos = np.arange(len(labels))[::-1]
    ax.barh(ypos, vals, color=[OUTCOME_COLOURS[lab] for lab in labels])
    ax.set_yticks(ypos, [OUTCOMES[lab] for lab in labels], fontsize=8)
    total = max(sum(vals), 1)
    for y_, v in zip(ypos, vals, strict=True):
        ax.text(v, y_, f" {v} ({100 * v / total:.1f} %)", va="center", fontsize=8)
    ax.set_xlim(0, max(vals) * 1.35 + 1)
    ax.set_xlabel("flashes")
    ax.set_title("outcome of every file")
    reasons = table.loc[table["status"].astype(str) == "unreadable", "reason"] \
        if "reason" in table.columns else pd.Series(dtype=str)
    if len(reasons):
        top = reasons.astype(str).str.slice(0, 70).value_counts().head(2)
        ax.text(0.99, 0.02, "\n".join(f"{n}x {r}" for r, n in top.items()), fontsize=6,
                ha="right", va="bottom", transform=ax.transAxes)


def shape_vs_hv(df: pd.DataFrame, path: str | os.PathLike | IO[bytes], pmt: int | None = None,
                dpi: int = 80) -> None:
    """Rise time, fall time, onset and onset jitter of one PMT's points against HV."""
    plt = pyplot()
    d = df.sort_values("hv")
    fig, axs = plt.subplots(1, 3, figsize=(12, 3.6), dpi=dpi)
    hv = d["hv"].to_numpy(float)

    def col(name):
        return d[name].to_numpy(float) if name in d.columns else np.full(len(d), np.nan)

    kw = dict(capsize=2, ms=4)
    axs[0].errorbar(hv, col("tau_s_ns"), col("tau_s_err_ns"), fmt="o-", label="rise τ_s", **kw)
    axs[0].errorbar(hv, col("jitter_ns"), col("jitter_err_ns"), fmt="s--",
                    label="onset jitter (rms)", **kw)
    axs[0].set_ylabel("[ns]")
    axs[0].set_title("rise time and onset jitter")
    axs[1].errorbar(hv, col("tau_ns"), col("tau_err_ns"), fmt="o-", color="C1",
                    label="fall τ", **kw)
    axs[1].set_ylabel("[ns]")
    axs[1].set_title("fall time")
    axs[2].errorbar(hv, col("onset_ns"), col("onset_err_ns"), fmt="o-", color="C2",
                    label="onset", **kw)
    lo, hi = col("window_lo_ns"), col("window_hi_ns")
    if np.isfinite(lo).any():
        axs[2].fill_between(hv, lo, hi, color="#4dabf7", alpha=0.15, label="fit range")
    axs[2].set_ylabel("time [ns]")
    axs[2].set_title("pulse onset: transit time + fixed delays")
    for a in axs:
        a.set_xlabel("HV [V]")
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8)
    fig.suptitle(f"PMT {pmt if pmt is not None else d['pmt'].iloc[0]}: fitted pulse shape "
                 "against HV", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)

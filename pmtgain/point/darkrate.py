"""Dark counts: the rate of pulses with no light, against the threshold and the HV.

What to use when
----------------
- :func:`dark_fields` - a point's ``dark_*`` summary fields from its per-flash table: the
  flashes' baseline regions (before the LED pulse: no light) counted at thresholds of
  :data:`THRESHOLDS_SIGMA` times the point's noise.
- :func:`rate_curve` - those counts as the rate against the threshold (V, and in
  photoelectrons when the single photoelectron's amplitude is known), with errors; also
  a dark run's (:mod:`pmtgain.point.darkrun`: ``dark_counted="pulses"``, every pulse
  over the live time).
- :func:`pe_rates` - the rate at the thresholds people quote (0.25 and 0.5 photoelectrons
  of amplitude), interpolated on the curve.
- :func:`with_dark_runs` - the same for the dark runs (:mod:`pmtgain.point.darkrun`), the
  amplitude at each run's HV from the points or low-light runs (:func:`amplitude_at`).
- :func:`with_dark_rates` - the merge's step: every point's rates in photoelectrons (the
  single photoelectron's amplitude from the PMT's low-light run, scaled to each HV as the
  gain: :func:`pmtgain.point.anchor.anchor_gains`) and the curves of all points.

Method. Each flash's baseline region (``baseline_region_ns`` long, the samples its
baseline is the mean of) either holds a pulse beyond a threshold ``thr`` or not: with
``N`` flashes of which ``n(thr)`` go below ``-thr``, the Poisson rate of pulses is
``r = -ln(1 - n/N) / T`` (``T`` the region's length; a pulse per region at most is seen,
the logarithm counts the rest). Noise also crosses a threshold; it crosses ``+thr`` as
often as ``-thr`` (white noise is symmetric, PMT pulses are negative), so the rate
``r(+thr)`` from the highest samples is subtracted (the mirror method). The error is the
two binomial errors in quadrature, ``sqrt(p / (N (1 - p))) / T`` each (with one count
where there is none). Every readable,
unclipped flash counts, the ``pre_pulse`` ones included (they hold the dark pulses).

Where it holds: simulated dark pulses at a known rate, 1-3 MHz over 1-2 us of
pre-trigger record, recovered within 3 sigma at thresholds from 0.2 to 0.5 of a single
photoelectron's amplitude (``tests/point/test_darkrate.py``). A real GIN record has
~20 ns before the pulse: at a dark rate of 1 kHz a point of 500 flashes sees 1e-2 pulses,
so the LED runs give upper limits; dedicated dark runs (random triggers, long records)
are what measures the rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pmtgain.point.schema import numbers_text, text_numbers

__all__ = ["THRESHOLDS_SIGMA", "PE_THRESHOLDS", "dark_fields", "rate_curve", "pe_rates",
           "with_dark_rates", "dark_lines", "amplitude_at", "power_law_at", "with_dark_runs",
           "dark_run_lines"]

#: the thresholds the baseline regions are counted at, in the point's noise rms
THRESHOLDS_SIGMA = (3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0)
#: the thresholds of the lists, in single photoelectrons' amplitude
PE_THRESHOLDS = (0.25, 0.5)




def dark_fields(table: pd.DataFrame, noise_V: float, region_ns: float) -> dict:
    """The ``dark_*`` fields of a point: ``dark_live_s`` (flashes x region), the
    thresholds (V) and the counts below ``-thr`` and above ``+thr`` at each, as
    space-separated lists, and the rate at 5 noise rms (``dark_rate_5sigma_hz``)."""
    if "pre_min_V" not in table.columns or not (np.isfinite(noise_V) and noise_V > 0
                                                 and region_ns > 0):
        return {}
    st = table["status"].astype(str).to_numpy()
    lo = pd.to_numeric(table["pre_min_V"], errors="coerce").to_numpy(float)
    hi = pd.to_numeric(table["pre_max_V"], errors="coerce").to_numpy(float)
    use = np.isin(st, ["ok", "pre_pulse"]) & np.isfinite(lo) & np.isfinite(hi)
    thr = noise_V * np.array(THRESHOLDS_SIGMA)
    neg = [(lo[use] < -t).sum() for t in thr]
    pos = [(hi[use] > t).sum() for t in thr]
    n = int(use.sum())
    out = dict(dark_flashes=n, dark_live_s=n * region_ns * 1e-9,
               dark_thresholds_V=numbers_text(thr), dark_counts_neg=numbers_text(neg),
               dark_counts_pos=numbers_text(pos))
    c = rate_curve(out, region_ns)
    five = c[np.isclose(c.threshold_V, 5 * noise_V)]
    out.update(dark_rate_5sigma_hz=float(five.rate_hz.iloc[0]) if len(five) else np.nan,
               dark_rate_5sigma_err_hz=float(five.rate_err_hz.iloc[0]) if len(five)
               else np.nan)
    return out


def rate_curve(fields: dict, region_ns: float | None = None,
               spe_amplitude_V: float | None = None) -> pd.DataFrame:
    """The rate against the threshold from a point's ``dark_*`` fields: ``threshold_V``,
    ``threshold_pe`` (with the single photoelectron's mean amplitude, else NaN),
    ``rate_hz``, ``rate_err_hz``, the counts; empty without the fields."""
    thr = text_numbers(fields.get("dark_thresholds_V"))
    if not thr.size:
        return pd.DataFrame(columns=["threshold_V", "threshold_pe", "rate_hz",
                                     "rate_err_hz", "n_below", "n_above"])
    n = float(fields["dark_flashes"])
    neg, pos = text_numbers(fields["dark_counts_neg"]), text_numbers(fields["dark_counts_pos"])
    if fields.get("dark_counted") == "rates":  # a self-triggered dark run's, as they are
        rn, en = text_numbers(fields["dark_rates_hz"]), text_numbers(fields["dark_rate_errs_hz"])
        rp = ep = np.zeros(rn.size)
    elif fields.get("dark_counted") == "pulses":  # a dark run: every pulse over the live time
        live = float(fields["dark_live_s"])
        k = 1.0 / (1.0 - float(fields.get("dark_pileup") or 0.0))  # pulses lost in others
        rn, rp = k * neg / live, pos / live
        en, ep = np.sqrt(np.maximum(neg, 1.0)) / live, np.sqrt(pos) / live
    else:  # flashes with at least one: the Poisson logarithm counts the rest
        t = (region_ns if region_ns is not None
             else float(fields["baseline_region_ns"])) * 1e-9

        def r(k):  # (rate, error); no count has the error of one
            p = np.minimum(k / n, 1 - 1e-12)
            pe = np.minimum(np.maximum(k, 1.0) / n, 1 - 1e-12)
            return -np.log1p(-p) / t, np.sqrt(pe / (n * (1 - pe))) / t

        (rn, en), (rp, ep) = r(neg), r(pos)
    amp = spe_amplitude_V if spe_amplitude_V is not None and np.isfinite(spe_amplitude_V) \
        and spe_amplitude_V > 0 else np.nan
    return pd.DataFrame(dict(threshold_V=thr, threshold_pe=thr / amp, rate_hz=rn - rp,
                             rate_err_hz=np.hypot(en, ep), n_below=neg, n_above=pos))


def pe_rates(curve: pd.DataFrame, thresholds_pe=PE_THRESHOLDS) -> dict:
    """``dark_rate_<x>pe_hz`` and its ``_err_hz`` at each threshold (``0p25`` for 0.25),
    interpolated linearly in log(threshold) between the two nearest points of the curve;
    NaN outside it or without photoelectron thresholds."""
    out = {}
    x = curve["threshold_pe"].to_numpy(float) if len(curve) else np.zeros(0)
    for want in thresholds_pe:
        key = f"dark_rate_{want:g}".replace(".", "p") + "pe"
        rate = err = np.nan
        if x.size and np.all(np.isfinite(x)) and x[0] <= want <= x[-1]:
            j = int(np.clip(np.searchsorted(x, want), 1, x.size - 1))
            f = (np.log(want) - np.log(x[j - 1])) / (np.log(x[j]) - np.log(x[j - 1]))
            r, e = curve["rate_hz"].to_numpy(float), curve["rate_err_hz"].to_numpy(float)
            rate = float((1 - f) * r[j - 1] + f * r[j])
            err = float((1 - f) * e[j - 1] + f * e[j])  # the two are correlated
        out[f"{key}_hz"], out[f"{key}_err_hz"] = rate, err
    return out


def with_dark_rates(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``df`` (the merged points) with :func:`pe_rates`' columns, and every point's
    curve in one long table (``pmt``, ``hv`` and :func:`rate_curve`'s columns)."""
    df = df.copy()
    curves = []
    for i, r in zip(df.index, df.to_dict("records"), strict=True):
        if not isinstance(r.get("dark_thresholds_V"), str):
            continue
        c = rate_curve(r, spe_amplitude_V=r.get("spe_amplitude_V"))
        for k, v in pe_rates(c).items():
            df.loc[i, k] = v
        c.insert(0, "hv", int(r["hv"]))
        c.insert(0, "pmt", int(r["pmt"]))
        c["live_s"] = r.get("dark_live_s")
        curves.append(c)
    return df, (pd.concat(curves, ignore_index=True) if curves else pd.DataFrame())


def power_law_at(d: pd.DataFrame | None, pmt: int, hv: int, column: str,
                 exact_only: bool = False) -> float:
    """``column`` of ``pmt`` at ``hv`` in ``d`` (rows with ``pmt``, ``hv``; only finite,
    positive values): the row's at that HV, else (unless ``exact_only``) interpolated
    between the rows as a power of the HV (log-log); NaN outside them or without any."""
    if d is None or d.empty or column not in d.columns:
        return float("nan")
    d = d[d.pmt == pmt][["hv", column]].astype(float)
    d = d[np.isfinite(d[column]) & (d[column] > 0)].sort_values("hv")
    at = d[d.hv == hv]
    if len(at):
        return float(at[column].iloc[0])
    if exact_only or len(d) < 2 or not d.hv.iloc[0] <= hv <= d.hv.iloc[-1]:
        return float("nan")
    return float(np.exp(np.interp(np.log(hv), np.log(d.hv), np.log(d[column]))))


def amplitude_at(pmt: int, hv: int, points: pd.DataFrame, spe_runs: pd.DataFrame | None
                 ) -> float:
    """A single photoelectron's amplitude (V) of ``pmt`` at ``hv``: the merged point's at
    that HV, else the PMT's low-light run's there, else interpolated between its points
    as a power of the HV (log-log; NaN outside them)."""
    for d, exact in ((points, True), (spe_runs, True), (points, False)):
        amp = power_law_at(d, pmt, hv, "spe_amplitude_V", exact_only=exact)
        if np.isfinite(amp):
            return amp
    return float("nan")


def with_dark_runs(runs: pd.DataFrame, points: pd.DataFrame,
                   spe_runs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dark runs (:mod:`pmtgain.point.darkrun`'s summaries) with the single
    photoelectron's amplitude at their HV (:func:`amplitude_at`) and :func:`pe_rates`'
    columns, and their curves in one long table (``source`` "dark run")."""
    runs = runs.copy()
    curves = []
    for i, r in zip(runs.index, runs.to_dict("records"), strict=True):
        amp = amplitude_at(int(r["pmt"]), int(r["hv"]), points, spe_runs)
        runs.loc[i, "spe_amplitude_V"] = amp
        c = rate_curve(r, spe_amplitude_V=amp)
        for k, v in pe_rates(c).items():
            runs.loc[i, k] = v
        c.insert(0, "hv", int(r["hv"]))
        c.insert(0, "pmt", int(r["pmt"]))
        c["live_s"] = r.get("dark_live_s")
        c["source"] = f"dark run ({r.get('trigger', 'random')} trigger)"
        curves.append(c)
    return runs, (pd.concat(curves, ignore_index=True) if curves else pd.DataFrame())


def dark_run_lines(runs: pd.DataFrame) -> list[str]:
    """One line per PMT with dark runs: the rate at 0.25 photoelectron (0.5 where 0.25 is
    below the lowest threshold; 5 noise rms where the amplitude is not known) at each HV."""
    out = []
    for pmt, sub in runs.sort_values("hv").groupby("pmt"):
        key, at = "dark_rate_5sigma", "5 noise rms"  # where no photoelectron threshold is
        for k, name in (("dark_rate_0p25pe", "0.25"), ("dark_rate_0p5pe", "0.5")):
            if f"{k}_hz" in sub.columns and np.isfinite(sub[f"{k}_hz"].to_numpy(float)).all():
                key, at = k, f"{name} photoelectron"
                break
        vals = ", ".join(f"{h} V {x:.4g} +- {y:.2g}" for h, x, y in
                         zip(sub.hv, sub[f"{key}_hz"], sub[f"{key}_err_hz"], strict=True))
        out.append(f"PMT {pmt}: dark-count rate from its dark runs at {at} (Hz): {vals}")
    return out


def dark_lines(df: pd.DataFrame) -> list[str]:
    """One line per PMT for the merge's output: its points' rate at 0.25 photoelectron
    (at 5 noise rms where the amplitude is not known), or, where no point sees any beyond
    3 sigma (GIN's ~20 ns before the pulse), the best limit."""
    out = []
    for pmt, sub in df.sort_values("hv").groupby("pmt"):
        key = "dark_rate_0p25pe"
        if f"{key}_hz" not in sub.columns or not np.isfinite(
                sub[f"{key}_hz"].to_numpy(float)).any():
            key = "dark_rate_5sigma"
        if f"{key}_hz" not in sub.columns:
            continue
        r, e = sub[f"{key}_hz"].to_numpy(float), sub[f"{key}_err_hz"].to_numpy(float)
        at = "0.25 photoelectron" if key.endswith("0p25pe") else "5 noise rms"
        seen = np.isfinite(r) & (r > 3 * e)
        if not seen.any():  # short pre-pulse regions: one line, the best limit
            if np.isfinite(e).any():
                out.append(f"PMT {pmt}: no dark counts seen before the LED pulse at {at} "
                           f"(below ~{3 * float(np.nanmin(e)):.2g} Hz, 3 sigma)")
            continue
        vals = ", ".join(f"{h} V {x:.3g} +- {y:.2g}" for h, x, y in
                         zip(sub.hv, r, e, strict=True) if np.isfinite(x))
        out.append(f"PMT {pmt}: dark counts before the LED pulse at {at} (Hz): {vals}")
    return out

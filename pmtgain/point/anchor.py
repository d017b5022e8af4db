"""The gain in electrons at every HV anchored on the single photoelectron, beside the
photostatistics one, and what their ratio measures.

What to use when
----------------
- :func:`anchor_gains` - a campaign's points (one row per PMT and HV) and its low-light
  runs in, the same points out with the anchored gain, its errors (per point, and the
  anchor's correlated scale apart), the photoelectrons per flash of the LED setting, the
  photostatistics/anchor ratio, and the photostatistics gain's own scale error (that of
  F). ``lists/pmt_<i>_data_list.*`` and ``gain_curve.py --quantity gain`` use it.
- :func:`led_excess` - per PMT, what the ratio says of the LED: its intensity's rms
  beyond Poisson, where the data allow.
- :func:`choose_anchor` - the low-light run a PMT's curve is anchored on.

Method. A low-light run at HV ``V0`` gives the gain ``G_spe(V0)`` without an assumed F
(:mod:`pmtgain.point.spe`, Saldanha et al. 2017). The high-light points of the same PMT are
taken at one LED setting: the same mean number of photoelectrons ``mu`` per flash at
every HV. With the high-light point at ``V0``,

    mu = |<Q>(V0)| / (e G_spe(V0)),     G(V) = |<Q>(V)| / (e mu)
                                         = G_spe(V0) |<Q>(V)| / |<Q>(V0)|:

no F and no assumption that the LED is Poissonian. Errors: per point, that of ``<Q>(V)``;
the scale common to every point of the PMT (``gain_anchored_scale_err``), that of
``G_spe`` (statistical and threshold systematic) and of ``<Q>(V0)``, in quadrature (at
``V0`` itself that point's error is in both: conservative by at most sqrt 2 there).

The photostatistics gain ``G_ps = (sigma_Q^2 - sigma_ped^2) / (e <Q> F)`` assumes
Poisson light; with an LED whose intensity varies from flash to flash by a relative rms
``B`` (Bencheikh et al., NIM A 315 (1992) 349: the F-factor method's LED term),
``sigma_Q^2 = sigma_ped^2 + F e G <Q> + B^2 <Q>^2``, so that

    R = G_ps / G = (F_true / F) (1 + B^2 mu / F_true):

``R`` (``ps_over_anchor``) is a check of F and of the LED. Where F is the anchor run's
own, ``B^2 = (R F - F_spe) / mu`` (:func:`led_excess`). F's error is a scale of the
photostatistics gains (``gain_scale_err``), not a per-point error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pmtgain.point.photostat import E_PC

__all__ = ["ANCHOR_COLUMNS", "choose_anchor", "anchor_gains", "led_excess", "enf_errors",
           "with_gains"]

ANCHOR_COLUMNS = ("gain_anchored", "gain_anchored_err", "gain_anchored_scale_err",
                  "anchor_hv", "n_pe_anchored", "ps_over_anchor", "ps_over_anchor_err",
                  "gain_scale_err", "spe_amplitude_V")


def _q_err(d: pd.DataFrame) -> np.ndarray:
    for c in ("mean_charge_err", "sem_charge"):
        if c in d.columns:
            return d[c].to_numpy(float)
    return np.full(len(d), np.nan)


def _text(x) -> str:
    """A flag as text: '' for None or NaN (a missing value in a CSV)."""
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def choose_anchor(points: pd.DataFrame, runs: pd.DataFrame) -> dict | None:
    """The unflagged low-light run of one PMT with a high-light point at its HV (the one
    of least relative error; points without a flag first), or None."""
    if runs is None or runs.empty:
        return None
    best = None
    for r in runs.to_dict("records"):
        if _text(r.get("flag")) or not np.isfinite(r.get("gain", np.nan)):
            continue
        at = points[points.hv == r["hv"]]
        if at.empty or not np.isfinite(at.mean_charge.iloc[0]):
            continue
        q0, qe = abs(float(at.mean_charge.iloc[0])), float(_q_err(at)[0])
        g_tot = float(np.hypot(r.get("gain_err", np.nan), r.get("gain_sys") or 0.0))
        rel = float(np.hypot(g_tot / r["gain"], qe / q0 if np.isfinite(qe) else 0.0))
        clean = not _text(at["point_flag"].iloc[0] if "point_flag" in at.columns else "")
        key = (not clean, rel)
        if best is None or key < best[0]:
            best = (key, dict(hv=int(r["hv"]), gain=float(r["gain"]), gain_tot_err=g_tot,
                              enf=float(r.get("enf", np.nan)),
                              enf_err=float(np.hypot(r.get("enf_err", np.nan),
                                                     r.get("enf_sys") or 0.0)),
                              q0=q0, q0_err=qe, rel_scale=rel,
                              amplitude_V=float(r.get("spe_amplitude_V", np.nan))))
    return None if best is None else best[1]


def anchor_gains(df: pd.DataFrame, runs: pd.DataFrame | None,
                 enf_err: dict[int, float] | None = None) -> pd.DataFrame:
    """``df`` with :data:`ANCHOR_COLUMNS` (see the module docstring); ``enf_err``: the
    error of each PMT's F where it is known (measured), for ``gain_scale_err``."""
    df = df.copy()
    for c in ANCHOR_COLUMNS:
        df[c] = np.nan
    if df.empty:
        return df
    for pmt, sub in df.groupby("pmt"):
        sel = df.pmt == pmt
        if "gain" in df.columns and enf_err and int(pmt) in enf_err:
            f = df.loc[sel, "enf"].to_numpy(float)
            df.loc[sel, "gain_scale_err"] = df.loc[sel, "gain"].to_numpy(float) * \
                enf_err[int(pmt)] / f
        a = choose_anchor(sub, runs[runs.pmt == pmt] if runs is not None and not runs.empty
                          else None)
        if a is None:
            continue
        q = np.abs(sub.mean_charge.to_numpy(float))
        qe = _q_err(sub)
        g = a["gain"] * q / a["q0"]
        mu = a["q0"] / (E_PC * a["gain"])
        df.loc[sel, "gain_anchored"] = g
        df.loc[sel, "gain_anchored_err"] = g * qe / q
        df.loc[sel, "gain_anchored_scale_err"] = g * a["rel_scale"]
        df.loc[sel, "anchor_hv"] = a["hv"]
        df.loc[sel, "n_pe_anchored"] = mu
        # the single photoelectron's peak at each HV: the anchor's, scaled as the gain
        df.loc[sel, "spe_amplitude_V"] = a["amplitude_V"] * q / a["q0"]
        if "gain" in df.columns:
            gp = sub.gain.to_numpy(float)
            gpe = sub.gain_err.to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = gp / g
                df.loc[sel, "ps_over_anchor"] = r
                df.loc[sel, "ps_over_anchor_err"] = np.abs(r) * np.hypot(gpe / gp, qe / q)
    return df


def led_excess(df: pd.DataFrame, runs: pd.DataFrame | None) -> dict[int, dict]:
    """Per PMT with an anchor whose F is measured: ``B^2`` from the inverse-variance mean
    of ``R`` over its points (the module docstring), its error, ``B`` where ``B^2`` is
    more than 2 of its errors above 0 (else an upper limit at 2 errors), and a note."""
    out: dict[int, dict] = {}
    if "ps_over_anchor" not in df.columns:
        return out
    for pmt, sub in df.groupby("pmt"):
        a = choose_anchor(sub, runs[runs.pmt == pmt] if runs is not None and not runs.empty
                          else None)
        r = sub.ps_over_anchor.to_numpy(float)
        e = sub.ps_over_anchor_err.to_numpy(float)
        flags = sub["gain_flag"].map(_text) if "gain_flag" in sub.columns else ""
        ok = np.isfinite(r) & np.isfinite(e) & (e > 0) & (np.asarray(flags) == "")
        if a is None or not ok.any() or not np.isfinite(a["enf"]):
            continue
        w = 1 / e[ok] ** 2
        rm, re_ = float(np.sum(w * r[ok]) / w.sum()), float(1 / np.sqrt(w.sum()))
        f_used = float(sub.enf.iloc[0])
        mu = a["q0"] / (E_PC * a["gain"])
        b2 = (rm * f_used - a["enf"]) / mu
        # the anchor's scale enters through mu (B^2 = G_ps F e/<Q> - F_spe/mu): its error
        # is common to the points, so it is added once, not averaged down
        b2_err = float(np.sqrt((re_ * f_used) ** 2 + a["enf_err"] ** 2
                               + (a["enf"] * a["rel_scale"]) ** 2)) / mu
        sig = b2 > 2 * b2_err
        note = (f"LED intensity {100 * np.sqrt(b2):.1f}% rms beyond Poisson" if sig else
                f"no LED excess seen (B < {100 * np.sqrt(max(b2, 0) + 2 * b2_err):.1f}%)")
        if b2 < -3 * b2_err:  # an LED can only add variance: the two gains disagree
            note = (f"WARNING: photostatistics below the anchored gain by {100 * (1 - rm):.0f}"
                    f" % ({-b2 / b2_err:.0f} sigma beyond what an LED can do): F too high, or "
                    "the windows of the points and of the low-light run hold different "
                    "shares of the pulse (an undershoot, a reflection): the anchored gains "
                    "are as uncertain")
        out[int(pmt)] = dict(
            ratio=rm, ratio_err=re_, led_excess_b2=b2, led_excess_b2_err=b2_err,
            led_excess_rms=float(np.sqrt(b2)) if sig else float("nan"),
            led_excess_rms_limit=float(np.sqrt(max(b2, 0) + 2 * b2_err)), note=note)
    return out


def enf_errors(runs: pd.DataFrame | None, enf: dict[int, float]) -> dict[int, float]:
    """The error of each PMT's F in ``enf`` where it is the one measured from its
    low-light runs (:func:`pmtgain.point.spe.measured_enf`); an F set by hand has none known."""
    from pmtgain.point.spe import measured_enf

    if runs is None or runs.empty:
        return {}
    m = measured_enf(runs.to_dict("records"))
    return {p: e for p, (f, e) in m.items() if p in enf and abs(enf[p] - f) < 1e-9 * f}


def with_gains(df: pd.DataFrame, enf: dict[int, float], runs: pd.DataFrame | None
               ) -> pd.DataFrame:
    """The gains in electrons of every point: photostatistics with each PMT's F in
    ``enf`` (:func:`pmtgain.point.photostat.apply_enf`) and anchored (:func:`anchor_gains`)."""
    from pmtgain.point.photostat import apply_enf

    return anchor_gains(apply_enf(df, enf), runs, enf_errors(runs, enf))

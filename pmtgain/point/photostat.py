"""Gain in electrons from photostatistics: the spread of the charge tells the gain.

What to use when
----------------
- the moments (``ps_*`` in a point's summary, computed by :func:`pmtgain.point.process_point`):
  the mean and the excess variance of the charge of *every* flash that counts (the cut is
  not applied: see below) and the pedestal variance.
- :func:`gain_from_moments` - G, its uncertainty and the mean number of photoelectrons from
  those moments and an excess noise factor F; ``gain_curve.py --quantity gain`` calls it
  with the F of each PMT (``--enf``), so F can change without re-fitting;
  :func:`apply_enf` does it for a table of points.

Method (Bellamy et al., NIM A 339 (1994) 468, sec. 2; the "photostatistics" gain of CTA's
nectarchain). With a Poisson number of photoelectrons of mean mu and a single-photoelectron
charge of mean G*e and relative variance F - 1,

    <Q> = mu G e,    sigma_Q^2 - sigma_ped^2 = mu (G e)^2 F,

so that ``G = (sigma_Q^2 - sigma_ped^2) / (e <Q> F)`` and ``mu = <Q> / (G e)``, where
``F = 1 + (sigma_1/Q_1)^2`` is the excess noise factor of the PMT and sigma_ped the spread
the charge estimator gives on noise alone.

How the moments are measured here
- The charges are those of the point's linear estimator (:mod:`pmtgain.point.charge`) over every
  flash that counts: linear means noise adds variance exactly (no threshold effects of a
  fit), and no flash is selected on its own signal (a cut drops small flashes and would
  raise <Q> and lower sigma_Q, both biasing G). Clipped flashes cannot be measured: a
  point with any is flagged, since dropping them removes the largest charges. Flashes
  with a pulse in the baseline region (dark counts) leave for a reason independent of the
  LED and bias nothing.
- sigma_ped^2 is :mod:`pmtgain.point.pedestal`: the variance of the same estimator (weights,
  window, per-flash baseline) on the noise of the same flashes, from the noise covariance
  at every lag the estimator spans (wander and ripple of random phase included); its
  statistical error enters G's.
- The statistical uncertainty of G propagates the sampling errors of the variance (with
  the fourth moment), of the mean, and their covariance (third moment). F is an input:
  its uncertainty is not included. The method holds at any mean number of photoelectrons
  mu (compound Poisson: var = mu E[q_1^2]); at low mu only its statistical error grows.
  A point is flagged where the excess variance is not significant (below 3 of its
  errors) or mu < 0.5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pmtgain.config import E_CHARGE_C, PC_PER_C

__all__ = ["E_PC", "DEFAULT_ENF", "gain_from_moments", "flags", "gain_flag", "apply_enf"]

E_PC = E_CHARGE_C * PC_PER_C  # the electron charge in pC
DEFAULT_ENF = 1.2  # typical of a 10-12 stage linear-focused PMT (delta_1 ~ 6: F ~ delta/(delta-1))


def gain_from_moments(mean_pC, var_pC2, ped_var_pC2, var_err_pC2, mean_err_pC, cov_pC3,
                      enf: float = DEFAULT_ENF, ped_err_pC2=0.0):
    """G, its statistical error and mu from the moments (arrays broadcast).

    ``G = (var - ped) / (e |mean| F)``; ``mu = mean^2 F / (var - ped)``. ``ped_err_pC2``:
    the pedestal's own statistical error (independent of the charges' moments: it comes
    from the noise, :mod:`pmtgain.point.pedestal`); NaN counts as 0."""
    mean = np.abs(np.asarray(mean_pC, float))
    excess = np.asarray(var_pC2, float) - np.asarray(ped_var_pC2, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = excess / (E_PC * mean * enf)
        pe = np.nan_to_num(np.asarray(ped_err_pC2, float), nan=0.0)
        rel2 = ((np.asarray(var_err_pC2, float) ** 2 + pe ** 2) / excess ** 2) \
            + (np.asarray(mean_err_pC, float) / mean) ** 2 \
            - 2.0 * np.sign(np.asarray(mean_pC, float)) * np.asarray(cov_pC3, float) \
            / (excess * mean)
        g_err = np.abs(g) * np.sqrt(np.maximum(rel2, 0.0))
        mu = mean * mean * enf / excess
    g = np.where(excess > 0, g, np.nan)
    return g, np.where(excess > 0, g_err, np.nan), np.where(excess > 0, mu, np.nan)


def flags(mu: float, clipped_fraction: float, g: float = float("nan"),
          g_err: float = float("nan")) -> str:
    """Why a point's photostatistics gain deserves caution ('' if none)."""
    out = []
    if not np.isfinite(mu) and not np.isfinite(clipped_fraction):
        return "not measured (no pulse shape, or fewer than 3 flashes)"
    if not np.isfinite(mu):
        out.append("no excess variance")
    elif np.isfinite(g) and np.isfinite(g_err) and g_err > 0 and g < 3 * g_err:
        out.append(f"excess variance not significant (G {g / g_err:.1f} sigma)")
    elif mu < 0.5:
        out.append(f"mu={mu:.2f}<0.5")
    if np.isfinite(clipped_fraction) and clipped_fraction > 0:
        out.append(f"{100 * clipped_fraction:.1f}% clipped (largest charges missing)")
    return "; ".join(out)


def gain_flag(mu: float, clipped_fraction: float, g: float = float("nan"),
              g_err: float = float("nan"), ped_note: str = "") -> str:
    """A point's ``gain_flag``: :func:`flags`, after the reason it has no pedestal
    (``ped_note``: too little pulse-free length) where that is so."""
    f = flags(mu, clipped_fraction, g, g_err)
    if not ped_note:
        return f
    return "; ".join(x for x in (
        f"no pedestal: {ped_note} (an LED-off run, ledoff_pmt_<i>.txt, gives one)",
        f if f != "no excess variance" else "") if x)


def apply_enf(df: pd.DataFrame, enf: dict[int, float]) -> pd.DataFrame:
    """Recompute ``gain``, ``gain_err``, ``n_pe`` and ``gain_flag`` with the excess noise
    factor of each PMT in ``enf`` (others keep theirs), from the stored photostatistics
    moments: F can change (``data_info/enf.txt``, ``--enf``) without re-fitting a point."""
    if not enf or "ps_var_pC2" not in df.columns:
        return df
    df = df.copy()
    for pmt, f in enf.items():
        sel = df.pmt == pmt
        if not sel.any():
            continue
        d = df[sel]
        g, ge, mu = gain_from_moments(d.ps_mean_pC, d.ps_var_pC2, d.ps_ped_var_pC2,
                                      d.ps_var_err_pC2, d.ps_mean_err_pC, d.ps_cov_pC3, f,
                                      d.get("ps_ped_err_pC2", 0.0))
        df.loc[sel, "gain"], df.loc[sel, "gain_err"], df.loc[sel, "n_pe"] = g, ge, mu
        df.loc[sel, "enf"] = f
        if "ps_clipped_fraction" in df.columns:
            lost = d.ps_clipped_fraction.to_numpy(float)
            notes = (d["pedestal_note"].map(lambda x: x if isinstance(x, str) else "")
                     if "pedestal_note" in d.columns else [""] * len(d))
            df.loc[sel, "gain_flag"] = [
                gain_flag(float(m), float(x), float(gg), float(e), n)
                for m, x, gg, e, n in zip(mu, lost, g, ge, notes, strict=True)]
    return df

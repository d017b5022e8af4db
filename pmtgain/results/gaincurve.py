"""Gain curves: merge the per-point results and fit ``|Q| = a * V^b`` per PMT.

What to use when
----------------
- :func:`collect` - all per-point summaries of a run (``outputs/lists`` from
  ``analysis.py``, or ``outputs/condor_lists`` from HTCondor jobs) as one DataFrame.
- :func:`fit_power_law` - the weighted fit of one PMT's curve, with parameter errors and
  chi2/ndf; :func:`hv_for` the HV that reaches a target (equalisation) with its error.
- :func:`build` - everything ``gain_curve.py`` does: merge, fit, missing points, CSV.

The fit is linear least squares in log space, ``ln|Q| = ln a + b ln V``, weighted by the
relative error of each mean, ``sem/|Q|`` (a power law is the gain of an n-dynode chain,
G ~ V^(k n): Hamamatsu, "Photomultiplier Tubes: Basics and Applications", 2017, sec. 2.3).
It is parametrised at a pivot V0 = 1000 V, ``|Q| = Q0 (V/V0)^b``, so Q0 and b are nearly
uncorrelated; ``a = Q0 / V0^b`` is reported too. With pure statistical weights a real PMT
gives chi2/ndf >> 1 (the law is only approximate): the parameter errors are then scaled
by sqrt(chi2/ndf) (PDG, "Statistics", sec. 40.2.2).
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.errors import InputError, MixedLists
from pmtgain.results.layout import Layout
from pmtgain.results.store import read_json_records

__all__ = ["V0", "PowerLaw", "fit_power_law", "hv_for", "job_said", "collect",
           "gain_column", "curve_name", "build"]

V0 = 1000.0


@dataclass
class PowerLaw:
    pmt: int
    q0: float  # |Q| at V0 (pC)
    b: float
    cov: np.ndarray  # covariance of (ln q0, b)
    chi2: float
    ndf: int

    @property
    def a(self) -> float:
        return self.q0 / V0**self.b

    @property
    def q0_err(self) -> float:
        return self.q0 * float(np.sqrt(self.cov[0, 0]))

    @property
    def b_err(self) -> float:
        return float(np.sqrt(self.cov[1, 1]))

    def __call__(self, v):
        return self.q0 * (np.asarray(v, float) / V0) ** self.b


def fit_power_law(hv, q_abs, q_err, pmt: int = 0) -> PowerLaw:
    hv, q_abs, q_err = (np.asarray(x, float) for x in (hv, q_abs, q_err))
    ok = np.isfinite(q_abs) & (q_abs > 0) & np.isfinite(q_err) & (q_err > 0)
    x, y, s = np.log(hv[ok] / V0), np.log(q_abs[ok]), q_err[ok] / q_abs[ok]
    if x.size < 2:
        raise ValueError(f"PMT {pmt}: {x.size} usable points, a power law needs 2")
    A = np.column_stack([np.ones_like(x), x])
    w = 1.0 / s**2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    p = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ p) ** 2))
    ndf = x.size - 2
    if ndf > 0 and chi2 / ndf > 1:
        cov = cov * (chi2 / ndf)
    return PowerLaw(pmt=pmt, q0=float(np.exp(p[0])), b=float(p[1]), cov=cov, chi2=chi2,
                    ndf=ndf)


def hv_for(fit: PowerLaw, target: float) -> tuple[float, float]:
    """HV where ``|Q| = target``, and its error from the fit covariance."""
    lnv = (np.log(abs(target)) - np.log(fit.q0)) / fit.b
    v = V0 * np.exp(lnv)
    # d lnV / d ln q0 = -1/b ; d lnV / d b = -lnv / b
    grad = np.array([-1.0 / fit.b, -lnv / fit.b])
    return float(v), float(v * np.sqrt(grad @ fit.cov @ grad))


def _empty(path: str) -> bool:
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def job_said(outputs: Path, pmt: int, hv: int) -> str | None:
    """The last line an HTCondor job's scripts wrote to its error file
    (``condor_errors/pmt_<i>_<hv>_analysis.error``: ``exec_condor.sh: ...`` or
    ``analysis_condor.py: ...``), or None."""
    err = Layout(Path(outputs)).condor_error(pmt, hv)
    try:
        lines = [ln for ln in err.read_text(errors="replace").splitlines()
                 if ln.startswith(("analysis_condor.py:", "exec_condor.sh:"))]
    except OSError:
        return None
    return lines[-1] if lines else None


def _one_set(d: Path, names: list[str], frames: list[pd.DataFrame]) -> None:
    """Refuse lists written by different runs (:func:`pmtgain.run.executors.write_lists` gives
    each set one ``list_set`` id): a merge of PMT 1 from this run and PMT 2 from the
    previous one would look fine and be wrong."""
    sets: dict[str, list[str]] = {}
    for name, df in zip(names, frames, strict=True):
        ids = set(df["list_set"].astype(str)) if "list_set" in df.columns else {"(none)"}
        for i in ids:
            sets.setdefault(i, []).append(name)
    if len(sets) > 1:
        groups = "; ".join(", ".join(v) for v in sets.values())
        raise MixedLists(f"{d}: the lists were written by different runs ({groups}): a run "
                         "was interrupted while writing them; run analysis.py again to "
                         "write them as one set")


def collect(layout: Layout) -> pd.DataFrame:
    """Per-point rows of a run, read as data (JSON records, never pickles), from the
    layout's source: ``lists`` (``analysis.py``: per-PMT ``pmt_<i>_data_list.json``) or
    ``condor_lists`` (jobs: ``pmt_<i>_<hv>_summary.json``).

    Rows of points that failed (a job's summary with an ``error``) and files that cannot
    be read are left out and listed in ``df.attrs["failed"]`` as ``(pmt, hv, reason)``."""
    source, outputs = layout.source, layout.outputs
    d = layout.lists if layout.local else layout.points
    pattern = "pmt_*_data_list.json" if layout.local else "pmt_*_summary.json"
    # exactly pmt_<i>_data_list.json / pmt_<i>_<hv>_summary.json: a kept copy
    # (pmt_1_old_data_list.json, pmt_1-bak_...) is not a PMT's results
    exact = re.compile(r"pmt_\d+_data_list\.json" if source == "lists"
                       else r"pmt_\d+_\d+_summary\.json")
    files = sorted(f for f in glob.glob(str(d / pattern)) if exact.fullmatch(Path(f).name))
    if not files and not (layout.local and layout.failed.exists()):
        raise FileNotFoundError(f"{d}: no {pattern} files (run analysis.py, or "
                                "condor_transfer_data for the HTCondor jobs)")
    frames, failed, names = [], [], []
    for f in files:
        parts = Path(f).name.split("_")
        try:
            df = read_json_records(f)
            if df.empty or "hv" not in df.columns:
                raise ValueError("no rows")
        except (OSError, ValueError) as exc:  # an empty or broken file: name it, keep the rest
            hv = int(parts[2]) if parts[2].isdigit() else -1
            why = f"{Path(f).name} cannot be read ({exc})"
            if source != "lists" and _empty(f):  # the job ended before the analysis ran
                said = job_said(Path(outputs), int(parts[1]), hv)
                why = "its job left no result" + (f": {said}" if said else
                                                  " (see its condor_errors file)")
            failed.append((int(parts[1]), hv, why))
            continue
        if "pmt" not in df.columns:
            df = df.assign(pmt=int(parts[1]))
        if "error" in df.columns:
            bad = df["error"].notna() & (df["error"].astype(str) != "")
            failed += [(int(r.pmt), int(r.hv), str(r.error)) for r in df[bad].itertuples()]
            df = df[~bad].drop(columns=["error", "retryable"], errors="ignore")
        frames.append(df)
        names.append(Path(f).name)
    if source == "lists":
        _one_set(d, names, frames)
    frames = [f for f in frames if not f.empty]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["mean_charge", "std_dev_charge", "hv", "pmt"])
    # read as data, checked as data: a PMT, HV or mean that is not a number (a hand edit,
    # another tool) leaves its row out, named
    for c in ("pmt", "hv", "mean_charge"):
        if c not in df.columns:
            df[c] = np.nan
    num = df[["pmt", "hv", "mean_charge"]].apply(pd.to_numeric, errors="coerce")
    bad = num.pmt.isna() | num.hv.isna() | (num.pmt % 1 != 0) | (num.hv % 1 != 0) | \
        (df.mean_charge.notna() & num.mean_charge.isna())
    if bad.any():
        failed += [(int(p) if p == p and p % 1 == 0 else -1,
                    int(h) if h == h and h % 1 == 0 else -1,
                    f"a saved result whose pmt/hv/mean_charge are not numbers "
                    f"({df.pmt[i]!r}, {df.hv[i]!r}, {df.mean_charge[i]!r})")
                   for i, p, h in zip(df.index[bad], num.pmt[bad], num.hv[bad], strict=True)]
    df = df[~bad].copy()
    df[["pmt", "hv"]] = num.loc[~bad, ["pmt", "hv"]].astype(int)
    df["mean_charge"] = num.loc[~bad, "mean_charge"]
    df = df.sort_values(["pmt", "hv"]).drop_duplicates(["pmt", "hv"], keep="last")
    df = df.reset_index(drop=True)
    have = set(zip(df.pmt.astype(int), df.hv.astype(int), strict=True))
    try:  # analysis.py records why points failed (see executors.write_lists)
        failed += [(int(e["pmt"]), int(e["hv"]), str(e["error"]))
                   for e in (json.loads(layout.failed.read_text()) if layout.local else [])
                   if (int(e["pmt"]), int(e["hv"])) not in have]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    df.attrs["failed"] = [(p, h, _strip_where(p, h, r)) for p, h, r in failed]
    return df


def _strip_where(pmt: int, hv: int, reason: str) -> str:
    """A reason without its leading 'PMT p at hv V: ' (the caller names the point)."""
    head = f"PMT {pmt} at {hv} V: "
    return reason[len(head):] if reason.startswith(head) else reason


def _err(df: pd.DataFrame, quantity: str = "charge") -> np.ndarray:
    if quantity == "gain":
        return df["gain_err"].to_numpy(float)
    if quantity == "gain_anchored":
        return df["gain_anchored_err"].to_numpy(float)
    if "mean_charge_err" in df.columns:
        return df["mean_charge_err"].to_numpy(float)
    if "sem_charge" in df.columns:
        return df["sem_charge"].to_numpy(float)
    n = df["n_used"].to_numpy(float) if "n_used" in df.columns else np.full(len(df), 1.0)
    return df["std_dev_charge"].to_numpy(float) / np.sqrt(n)


def gain_column(sub: pd.DataFrame) -> str:
    """Which gain a PMT's curve in electrons is: the one anchored on its single
    photoelectron (:mod:`pmtgain.point.anchor`) where at least two points have it, else the
    photostatistics one."""
    if "gain_anchored" in sub.columns and \
            np.isfinite(sub.gain_anchored.to_numpy(float)).sum() >= 2:
        return "gain_anchored"
    return "gain"


def curve_name(sub: pd.DataFrame, col: str) -> str:
    if col == "gain_anchored":
        return f"anchored on the single photoelectron at {int(sub.anchor_hv.iloc[0])} V"
    if col == "gain":
        f = sub.enf.iloc[0] if "enf" in sub.columns else float("nan")
        return f"photostatistics (F = {f:.3g})"
    return "mean charge"


def build(df: pd.DataFrame, expected: list[tuple[int, int]] | None = None,
          target: float | None = None, quantity: str = "charge"):
    """Fit every PMT. Returns (fits, table, missing) where ``table`` has one row per PMT
    (fit parameters, errors, chi2/ndf, HV for the target) and ``missing`` lists the
    expected (pmt, hv) points that have no result. ``quantity`` "gain": the anchored gain
    where a PMT has one (:func:`gain_column`; ``curve`` says which), with the correlated
    scale errors of ``q0`` and of the HV for the target in columns of their own."""
    have = {(int(p), int(h)) for p, h in zip(df.pmt, df.hv, strict=True)}
    missing = sorted(set(expected or []) - have)
    fits, rows = {}, []
    for pmt, sub in df.groupby("pmt"):
        col = "mean_charge" if quantity == "charge" else gain_column(sub)
        row = dict(pmt=int(pmt), n_points=len(sub),
                   hv_min=int(sub.hv.min()), hv_max=int(sub.hv.max()),
                   missing_hv=" ".join(str(h) for p, h in missing if p == pmt))
        try:
            if col not in sub.columns:
                raise InputError(f"no {col!r} in the results (re-run analysis.py)")
            row["curve"] = curve_name(sub, col)
            ok = np.isfinite(sub[col].to_numpy(float))
            sub = sub[ok]
            fit = fit_power_law(sub.hv, np.abs(sub[col]), _err(sub, col if col != "mean_charge"
                                                               else quantity), int(pmt))
        except ValueError as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        fits[int(pmt)] = fit
        row.update(q0_at_1000V=fit.q0, q0_err=fit.q0_err, b=fit.b, b_err=fit.b_err,
                   a=fit.a, chi2=fit.chi2, ndf=fit.ndf,
                   chi2_ndf=fit.chi2 / fit.ndf if fit.ndf else float("nan"))
        scale_col = {"gain_anchored": "gain_anchored_scale_err",
                     "gain": "gain_scale_err"}.get(col)
        rel = float("nan")
        if scale_col and scale_col in sub.columns:
            r = (sub[scale_col] / np.abs(sub[col])).to_numpy(float)
            rel = float(np.nanmedian(r)) if np.isfinite(r).any() else float("nan")
            row["q0_scale_err"] = fit.q0 * rel
        if target is not None:
            v, ve = hv_for(fit, target)
            row.update(target=abs(target), hv_for_target=v, hv_for_target_err=ve)
            if scale_col:
                row["hv_for_target_scale_err"] = v * rel / fit.b if fit.b else float("nan")
        rows.append(row)
    return fits, pd.DataFrame(rows), missing

"""Is a point's charge stable in time? Block means against the flashes' times, a drift test.

What to use when
----------------
- :func:`blocks` - the mean charge of consecutive blocks of a point's flashes against
  their time (the per-flash table of :func:`pmtgain.point.process_point`): what the
  stability plot of each point's page shows.
- :func:`stability` - the drift test of a point (its ``drift_*`` summary fields, the flag
  when the charge moves beyond its errors: an LED still warming up, a PMT settling after
  its HV was raised).
- :func:`compare_points` - the same (PMT, HV) measured twice (this campaign against an
  earlier one given as reference): the difference in its errors.
- :class:`StabilitySettings` - how many blocks, and from what significance a drift is
  flagged.

Time of a flash: its ``trigger_time_s`` (a ``.trc`` file's TRIGGER_TIME plus its segment's
trigger time, :mod:`pmtgain.io.trcread`); where every flash has the same time (files
without a clock) the flashes' order in the files stands in for it (``time_source``).

Method. The flashes that count (every one of them, as the point's mean: no selection on
their charge) are ordered in time and cut into ``n_blocks`` consecutive blocks of equal
size; each block's mean window sum has the error s/sqrt(n), s the flashes' spread within
their blocks (pooled: a drift between the blocks is not in it); flashes are independent
(the LED's flash-to-flash fluctuations are in that spread). Two tests, each a
significance in Gaussian sigma (one-sided p-value turned with the normal quantile):

- the block means against a constant (their weighted mean): chi2 with ``n_blocks - 1``
  degrees of freedom (any non-stationarity: steps, warm-up, oscillation);
- a straight line through them (weighted least squares): its slope over its error, the
  test most sensitive to a steady drift; the slope is reported per hour, relative to the
  mean.

``drift_flag`` is set when either reaches ``flag_sigma`` (3). Each alone would flag 0.13 %
of stable points; both, with errors estimated from the flashes, flag 0.4 % (Monte Carlo:
20000 stable points of 300 Gaussian flashes; ``tests/point/test_stability.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

__all__ = ["StabilitySettings", "DEFAULT_STABILITY", "Blocks", "blocks", "stability",
           "compare_points", "STABILITY_FIELDS"]

#: the summary keys :func:`stability` returns
STABILITY_FIELDS = ("stability_time_source", "stability_blocks", "stability_span_s",
                    "drift_chi2_ndf", "drift_chi2_sigma", "drift_slope_per_h",
                    "drift_slope_err_per_h", "drift_slope_sigma", "drift_first_last",
                    "drift_first_last_err", "drift_flag")


@dataclass(frozen=True)
class StabilitySettings:
    """How a point's stability in time is tested (see the module docstring)."""

    #: consecutive blocks of equal size (fewer when a block would hold < ``min_block``)
    n_blocks: int = 10
    min_block: int = 20
    #: a drift is flagged from this significance (Gaussian sigma) on either test
    flag_sigma: float = 3.0


DEFAULT_STABILITY = StabilitySettings()


@dataclass
class Blocks:
    """Consecutive blocks of a point's flashes in time: per block its mid time (s after
    the first flash), its time span, mean charge (pC, negative), that mean's error and
    its number of flashes; ``time_source`` says what the times are."""

    time_s: np.ndarray
    span_s: np.ndarray
    mean_pC: np.ndarray
    err_pC: np.ndarray
    n: np.ndarray
    time_source: str


def _counted(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(times, window sums) of the flashes that count, in the table's order."""
    st = table["status"].astype(str).to_numpy()
    q = pd.to_numeric(table["window_charge_pC"], errors="coerce").to_numpy(float)
    t = pd.to_numeric(table["trigger_time_s"], errors="coerce").to_numpy(float) \
        if "trigger_time_s" in table.columns else np.zeros(len(table))
    ok = (st == "ok") & np.isfinite(q)
    return t[ok], q[ok]


def blocks(table: pd.DataFrame, settings: StabilitySettings = DEFAULT_STABILITY) -> Blocks:
    """The block means of a per-flash table (see the module docstring)."""
    t, q = _counted(table)
    n = q.size
    finite = np.isfinite(t)
    if n and finite.all() and np.ptp(t) > 0:
        order = np.argsort(t, kind="stable")
        source = "trigger times"
        t = t - t.min()
    else:
        order = np.arange(n)
        source = "flash order (the files hold no distinct times)"
        t = np.arange(n, dtype=float)
    t, q = t[order], q[order]
    k = int(min(settings.n_blocks, n // max(settings.min_block, 2)))
    if k < 2:
        e = np.zeros(0)
        return Blocks(e, e, e, e, np.zeros(0, int), source)
    parts = np.array_split(np.arange(n), k)
    mid = np.array([0.5 * (t[p[0]] + t[p[-1]]) for p in parts])
    span = np.array([t[p[-1]] - t[p[0]] for p in parts])
    mean = np.array([q[p].mean() for p in parts])
    # one spread for every block: the within-block variances pooled (a drift between blocks
    # is not in it); each block's own would make chi2's tail heavier (0.8 % false flags
    # instead of 0.4 % at 30 flashes a block)
    pooled = np.sqrt(sum(float(np.sum((q[p] - q[p].mean()) ** 2)) for p in parts) / (n - k))
    err = pooled / np.sqrt(np.array([p.size for p in parts], float))
    return Blocks(mid, span, mean, err, np.array([p.size for p in parts]), source)


def _sigma(p: float) -> float:
    """A one-sided p-value as Gaussian sigma (0 for p >= 0.5; 40 where p underflows)."""
    return float(np.clip(_st.norm.isf(max(p, 1e-300)), 0.0, 40.0)) if np.isfinite(p) \
        else float("nan")


def stability(table: pd.DataFrame, settings: StabilitySettings = DEFAULT_STABILITY) -> dict:
    """The point's ``drift_*`` fields (:data:`STABILITY_FIELDS`; NaN and no flag when there
    are too few flashes for two blocks)."""
    b = blocks(table, settings)
    nan = float("nan")
    out = dict.fromkeys(STABILITY_FIELDS, nan)
    out.update(stability_time_source=b.time_source, stability_blocks=int(b.n.size),
               drift_flag="")
    good = np.isfinite(b.err_pC) & (b.err_pC > 0)
    if good.sum() < 2:
        return out
    x, y, e = b.time_s[good], b.mean_pC[good], b.err_pC[good]
    w = 1.0 / e**2
    m = float(np.sum(w * y) / w.sum())
    chi2 = float(np.sum(w * (y - m) ** 2))
    ndf = int(good.sum() - 1)
    z_chi2 = _sigma(float(_st.chi2.sf(chi2, ndf)))
    # weighted straight line: slope and its error
    xm = float(np.sum(w * x) / w.sum())
    sxx = float(np.sum(w * (x - xm) ** 2))
    slope = float(np.sum(w * (x - xm) * (y - m)) / sxx) if sxx > 0 else nan
    slope_err = float(1.0 / np.sqrt(sxx)) if sxx > 0 else nan
    z_slope = abs(slope) / slope_err if sxx > 0 else nan
    z_slope = _sigma(2.0 * float(_st.norm.sf(z_slope))) if np.isfinite(z_slope) else nan
    timed = b.time_source == "trigger times"
    per = 3600.0 if timed else 1.0  # per hour, or per flash without times
    fl = float(y[-1] / y[0] - 1.0) if y[0] else nan
    fl_err = float(abs(y[-1] / y[0]) * np.hypot(e[-1] / y[-1], e[0] / y[0])) if y[0] and \
        y[-1] else nan
    out.update(stability_span_s=float(b.time_s[-1] + 0.5 * b.span_s[-1]
                                      - (b.time_s[0] - 0.5 * b.span_s[0])) if timed else nan,
               drift_chi2_ndf=chi2 / ndf, drift_chi2_sigma=z_chi2,
               drift_slope_per_h=slope * per / m if timed else slope / m,
               drift_slope_err_per_h=slope_err * per / abs(m) if timed else slope_err / abs(m),
               drift_slope_sigma=z_slope, drift_first_last=fl, drift_first_last_err=fl_err)
    worst = np.nanmax([z_chi2, z_slope])
    if worst >= settings.flag_sigma:
        when = f" over {out['stability_span_s'] / 60:.3g} min" if timed else \
            " (in flash order: the files hold no times)"
        out["drift_flag"] = (
            f"the charge drifts in time: {ndf + 1} blocks of flashes differ beyond their "
            f"errors (chi2/ndf {chi2 / ndf:.2f}, {z_chi2:.1f} sigma; slope "
            f"{z_slope:.1f} sigma), first to last block {100 * fl:+.1f} +- "
            f"{100 * fl_err:.1f} %{when} (an LED still warming up? the PMT settling after "
            "the HV change?)")
    return out


def compare_points(this: pd.DataFrame, reference: pd.DataFrame, value: str = "mean_charge",
                   error: str = "mean_charge_err") -> pd.DataFrame:
    """The (PMT, HV) points of ``this`` also in ``reference`` (two lists of points, e.g.
    this campaign's and an earlier one's): both values, their difference, its error (the
    two errors in quadrature: independent measurements) and the difference in those
    errors (``diff_sigma``)."""
    cols = ["pmt", "hv", value, error]
    a = this[[c for c in cols if c in this.columns]].dropna(subset=[value])
    b = reference[[c for c in cols if c in reference.columns]].dropna(subset=[value])
    m = a.merge(b, on=["pmt", "hv"], suffixes=("", "_ref"))
    m["diff"] = m[value] - m[f"{value}_ref"]
    m["diff_err"] = np.hypot(m[error], m[f"{error}_ref"])
    m["diff_rel"] = m["diff"] / m[f"{value}_ref"]
    m["diff_sigma"] = m["diff"] / m["diff_err"]
    return m.sort_values(["pmt", "hv"]).reset_index(drop=True)

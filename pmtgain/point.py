"""Process one (PMT, HV) point: files -> charges -> summary. The core of the package.

What to use when
----------------
- :func:`process_point` - the one pure function every executor calls (local process pool,
  HTCondor job): local ``.trc`` files in, :class:`PointResult` out. No network, no
  global state; the same inputs give the same outputs.
- :func:`summarize` - the summary of a per-waveform table (also used after merging).
- :meth:`PointResult.save` / :func:`load_point` - the per-point files an executor writes
  (``<key>_waveforms.csv``, ``<key>_examples.npz`` and ``<key>_summary.json``) so that a
  re-run resumes.
- :func:`pick_examples` - a few waveforms of the point kept with their fits (typical,
  small, large, a fallback and one of each rejection) for the diagnostic plots; a
  result's ``examples`` (see :mod:`pmtgain.plots`).

Summary columns (charges in pC, negative as in the original; ``|Q|`` is plotted):

- ``mean_charge``, ``std_dev_charge`` (ddof=1): the original's two numbers;
- ``sem_charge`` = std/sqrt(n), ``median_charge``;
- ``std_fit_charge``: rms of the per-waveform noise errors, and
  ``std_charge_corrected`` = sqrt(std^2 - std_fit^2): the spread of the true charges,
  since the measured spread contains the fit noise (sigma_meas^2 = sigma_true^2 + sigma_fit^2);
- ``n_files``, ``n_used`` (entering the mean), ``n_fallback`` (used with a window-integral
  charge because the fit failed), ``rejected_<reason>`` per rejection reason;
- the point's pulse shape (``tau_s_ns``, ``tau_ns``, ``jitter_ns``, ``onset_ns``, each
  with its error ``*_err_ns`` from the mean-pulse fit), the fit
  window, median noise and baseline, and whether onsets were free per waveform.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import photostat as _photostat
from . import pulse as _pulse
from .config import ANALYSIS_VERSION, DEFAULT_FIT, FitConfig
from .pulse import USED, Status
from .trc import read_many

WAVEFORM_COLUMNS = ("file", "status", "reason", "charge_pC", "charge_full_pC",
                    "sigma_charge_pC", "a_V", "c_ns", "tau_s_ns", "tau_ns", "chi2_ndf",
                    "amplitude_V", "baseline_V", "noise_V")


@dataclass
class PointResult:
    summary: dict
    table: pd.DataFrame
    examples: dict[str, np.ndarray] | None = None  # see pick_examples

    @property
    def key(self) -> str:
        return f"pmt_{self.summary['pmt']}_{self.summary['hv']}"

    def save(self, directory: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<key>_waveforms.csv``, ``<key>_examples.npz`` and ``<key>_summary.json``
        atomically, the summary last."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        table = d / f"{self.key}_waveforms.csv"
        summ = d / f"{self.key}_summary.json"
        tmp = table.with_suffix(".csv.part")
        write_csv(self.table, tmp)
        os.replace(tmp, table)
        if self.examples is not None:
            save_examples(self.examples, d / f"{self.key}_examples.npz")
        tmp = summ.with_suffix(".json.part")
        tmp.write_text(json.dumps(_jsonable(self.summary), indent=1))
        os.replace(tmp, summ)  # the summary last: its presence means the point is done
        return table, summ


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """A plain CSV of ``df`` (shortest round-trip floats, empty for NaN): 3x faster than
    ``DataFrame.to_csv`` with a float format, which formats value by value."""
    cols = []
    for c in df.columns:
        v = df[c].to_numpy()
        if v.dtype.kind == "f":
            if np.isnan(v).any():
                cols.append(["" if x != x else repr(x) for x in v.tolist()])
            else:
                cols.append(list(map(repr, v.tolist())))
        elif v.dtype.kind in "iub":
            cols.append(list(map(str, v.tolist())))
        else:
            vals = v.tolist()
            if all(type(x) is str for x in vals) and not _SPECIAL.search("".join(vals)):
                cols.append(vals)  # nothing to quote (file names, statuses)
            else:
                cols.append([_csv_field(x) for x in vals])
    with open(path, "w", newline="") as f:
        f.write(",".join(map(_csv_field, df.columns)) + "\n")
        f.writelines(",".join(row) + "\n" for row in zip(*cols, strict=True))


_SPECIAL = re.compile(r'[,"\n\r]')


def _csv_field(x) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return ""
    s = str(x)
    if any(ch in s for ch in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out


def save_examples(examples: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write examples (see :func:`pick_examples`) to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **examples)
    os.replace(tmp, path)


def load_examples(path: str | os.PathLike) -> dict[str, np.ndarray] | None:
    """Examples saved by :func:`save_examples`, or None if absent, empty or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            ex = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None
    return ex if "y" in ex else None


def load_point(directory: str | os.PathLike, pmt: int, hv: int) -> PointResult | None:
    """The saved result of a point, or None when it is missing or incomplete."""
    d = Path(directory)
    summ = d / f"pmt_{pmt}_{hv}_summary.json"
    table = d / f"pmt_{pmt}_{hv}_waveforms.csv"
    if not (summ.exists() and table.exists()):
        return None
    try:
        summary = json.loads(summ.read_text())
        return PointResult(summary=summary, table=pd.read_csv(table),
                           examples=load_examples(d / f"pmt_{pmt}_{hv}_examples.npz"))
    except (ValueError, OSError):
        return None


def pick_examples(prep: _pulse.Prepared, res: _pulse.FitResult, files: Sequence[str],
                  ) -> dict[str, np.ndarray]:
    """A few waveforms of a point with their fits, for the diagnostic plots.

    Chosen deterministically: the used waveforms nearest the 10 %, 50 % and 90 % charge
    quantiles, then the first fallback (fit failed, window integral used) and the first
    waveform of each rejection (below cut, clipped, edge). Arrays: ``y`` (m, N) baseline-
    subtracted volts (float32), ``t0_ns`` (m,) time of sample 0, ``name`` (file), ``status``,
    the fit's ``a_V``, ``c_ns`` (absolute onset), ``tau_s_ns``, ``tau_ns``, ``chi2_ndf``,
    ``charge_pC``; the point's ``dt_ns``, fit window ``k_lo``/``k_hi``, baseline end
    ``k_base``, ``mean_pulse`` and its shape fit ``shape`` = (a, c_abs, tau_s, tau,
    jitter) in V and ns (NaN without a shape fit). The fitted pulse of example i is
    ``pulse(t0_ns[i] + k dt_ns, a_V[i], c_ns[i], tau_s_ns[i], tau_ns[i])``.
    """
    st = res.status
    q = res.charge_pC
    used = np.isin(st, [int(s) for s in USED]) & np.isfinite(q)
    idx: list[int] = []
    u = np.nonzero(used)[0]
    if u.size:
        order = u[np.argsort(q[u], kind="stable")]
        for f in (0.5, 0.9, 0.1):  # charges are negative: 0.9 is the smallest |Q|
            idx.append(int(order[min(int(round(f * (order.size - 1))), order.size - 1)]))
    for s in (Status.NOT_CONVERGED, Status.AT_BOUND, Status.BELOW_CUT, Status.CLIPPED,
              Status.EDGE):
        hit = np.nonzero(st == s)[0]
        if hit.size and not (s == Status.AT_BOUND and any(st[i] == Status.NOT_CONVERGED
                                                           for i in idx)):
            idx.append(int(hit[0]))
    idx = list(dict.fromkeys(idx))
    sel = np.array(idx, dtype=int)
    shape = res.shape
    t0 = float(np.median(prep.t0_ns)) if prep.n else 0.0
    shp = (np.array([shape.a_V, shape.c_ns + t0, shape.tau_s_ns, shape.tau_ns,
                     shape.jitter_ns]) if shape is not None else np.full(5, np.nan))
    return dict(
        y=prep.y[sel].astype(np.float32),
        t0_ns=prep.t0_ns[sel],
        name=np.array([Path(files[i]).name for i in idx], dtype=str),
        status=np.array([Status(int(st[i])).label for i in idx], dtype=str),
        a_V=res.a_V[sel], c_ns=res.c_ns[sel], tau_s_ns=res.tau_s_ns[sel],
        tau_ns=res.tau_ns[sel], chi2_ndf=res.chi2_ndf[sel], charge_pC=q[sel],
        noise_V=prep.noise_V[sel],
        dt_ns=np.float64(prep.dt_ns), k_lo=np.int64(prep.k_lo), k_hi=np.int64(prep.k_hi),
        k_base=np.int64(prep.k_base), t0_point_ns=np.float64(t0),
        mean_pulse=prep.mean_pulse.astype(np.float32), shape=shp,
    )


def summarize(table: pd.DataFrame, **info) -> dict:
    """Summary of a per-waveform table (see the module docstring)."""
    used = table["status"].isin([s.label for s in USED]) & np.isfinite(table["charge_pC"])
    q = table.loc[used, "charge_pC"].to_numpy(dtype=float)
    n = q.size
    mean = float(q.mean()) if n else float("nan")
    std = float(q.std(ddof=1)) if n > 1 else float("nan")
    sig = table.loc[used, "sigma_charge_pC"].to_numpy(dtype=float)
    std_fit = float(np.sqrt(np.nanmean(sig**2))) if n else float("nan")
    corr = float(np.sqrt(max(std**2 - std_fit**2, 0.0))) if n > 1 else float("nan")
    counts = table["status"].value_counts()
    out = dict(info)
    out.update(
        n_files=int(len(table)),
        n_used=int(n),
        n_ok=int(counts.get(Status.OK.label, 0)),
        n_fallback=int(counts.get(Status.NOT_CONVERGED.label, 0)
                       + counts.get(Status.AT_BOUND.label, 0)),
        n_not_converged=int(counts.get(Status.NOT_CONVERGED.label, 0)),
        n_at_bound=int(counts.get(Status.AT_BOUND.label, 0)),
        mean_charge=mean,
        std_dev_charge=std,
        sem_charge=std / np.sqrt(n) if n > 1 else float("nan"),
        median_charge=float(np.median(q)) if n else float("nan"),
        std_fit_charge=std_fit,
        std_charge_corrected=corr,
        mean_charge_full=float(table.loc[used, "charge_full_pC"].mean()) if n else float("nan"),
    )
    for s in (Status.BELOW_CUT, Status.CLIPPED, Status.EDGE, Status.UNREADABLE):
        out[f"rejected_{s.label}"] = int(counts.get(s.label, 0))
    return out


def process_point(
    files: Sequence[str | os.PathLike],
    *,
    pmt: int,
    hv: int,
    cut_V: float | None = None,
    engine: str = "fast",
    config: FitConfig = DEFAULT_FIT,
    missing: Sequence[tuple[str, str]] = (),
    enf: float = _photostat.DEFAULT_ENF,
) -> PointResult:
    """Read, fit and summarise the ``.trc`` files of one (PMT, HV) point.

    ``missing`` lists files that never arrived (``(name, reason)``, from fetching): they
    appear in the table as ``unreadable`` so that the summary accounts for every file.
    Unreadable files are reported, never raised: one bad file never loses the point.
    Raises ``ValueError`` only when no file at all can be read.
    """
    files = [os.fspath(f) for f in files]
    traces = read_many(files)
    n_req = len(files)
    rows_bad = [(Path(p).name, reason) for p, reason in traces.errors] + [
        (Path(n).name, reason) for n, reason in missing]
    info = dict(pmt=int(pmt), hv=int(hv), engine=engine, cut_V=cut_V,
                analysis_version=ANALYSIS_VERSION)
    if traces.volts.shape[0] == 0:
        reasons = "; ".join(f"{n}: {r}" for n, r in rows_bad[:3])
        raise ValueError(f"PMT {pmt} at {hv} V: none of the {n_req + len(missing)} files "
                         f"could be read ({reasons})")
    prep = _pulse.prepare(traces.volts, traces.t0_s, traces.dt_s, cut_V, traces.clipped,
                          config)
    if engine == "fast":
        res = _pulse.fit_fast(prep, config)
    elif engine == "integral":
        res = _pulse.fit_integral(prep, config)
    elif engine == "root":
        from . import rootfit  # ROOT is imported only in processes that fit with it

        res = rootfit.fit_root(prep, config)
    else:
        raise ValueError(f"unknown engine {engine!r} (choose fast, root or integral)")
    table = pd.DataFrame({
        "file": [os.path.basename(p) for p in traces.ok_paths],
        "status": [Status(s).label for s in res.status],
        "reason": "",
        "charge_pC": res.charge_pC,
        "charge_full_pC": res.charge_full_pC,
        "sigma_charge_pC": res.sigma_charge_pC,
        "a_V": res.a_V,
        "c_ns": res.c_ns,
        "tau_s_ns": res.tau_s_ns,
        "tau_ns": res.tau_ns,
        "chi2_ndf": res.chi2_ndf,
        "amplitude_V": prep.amplitude_V,
        "baseline_V": prep.baseline_V,
        "noise_V": prep.noise_V,
    })
    if rows_bad:
        bad = pd.DataFrame({"file": [n for n, _ in rows_bad],
                            "status": Status.UNREADABLE.label,
                            "reason": [r for _, r in rows_bad]})
        table = pd.concat([table, bad], ignore_index=True)[list(WAVEFORM_COLUMNS)]
        table = table.sort_values("file", kind="stable").reset_index(drop=True)
    shape = res.shape
    dt = prep.dt_ns
    t0 = float(np.median(prep.t0_ns))
    info.update(
        tau_s_ns=shape.tau_s_ns if shape else float("nan"),
        tau_ns=shape.tau_ns if shape else float("nan"),
        jitter_ns=shape.jitter_ns if shape else float("nan"),
        tau_s_err_ns=shape.tau_s_err_ns if shape else float("nan"),
        tau_err_ns=shape.tau_err_ns if shape else float("nan"),
        jitter_err_ns=shape.jitter_err_ns if shape else float("nan"),
        onset_err_ns=shape.c_err_ns if shape else float("nan"),
        onset_ns=(shape.c_ns + t0) if shape else prep.onset_ns + t0,
        free_onset=bool(shape.free_onset) if shape else False,
        snr=prep.snr,
        window_lo_ns=t0 + prep.k_lo * dt,
        window_hi_ns=t0 + (prep.k_hi - 1) * dt,
        noise_V=float(np.median(prep.noise_V)),
        baseline_V=float(np.median(prep.baseline_V)),
    )
    info.update(_photostat.point_moments(prep, shape if shape and shape.ok else None))
    g, g_err, mu = _photostat.gain_from_moments(
        info["ps_mean_pC"], info["ps_var_pC2"], info["ps_ped_var_pC2"],
        info["ps_var_err_pC2"], info["ps_mean_err_pC"], info["ps_cov_pC3"], enf)
    info.update(enf=enf, gain=float(g), gain_err=float(g_err), n_pe=float(mu),
                gain_flag=_photostat.flags(float(mu), info["ps_lost_fraction"]))
    return PointResult(summary=summarize(table, **info), table=table,
                       examples=pick_examples(prep, res, traces.ok_paths))

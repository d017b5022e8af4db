"""Where results live and when a saved point can be reused: the one place for both.

What to use when
----------------
- where each file is: :class:`pmtgain.results.layout.Layout` (this module reads and
  writes them).
- :func:`save_point` / :func:`load_point` - a point's summary, per-flash
  table (:func:`save_table`: typed npz, CSV on request) and examples; a saved point is
  complete only when its summary exists and its table has the rows the summary counts.
- :func:`inputs_of` / :func:`stale_reason` - what defines a point's numbers (its campaign
  line, engine, settings, LED-off run, version), saved in its summary; whether a saved
  point is still valid for a campaign line (None) or why it must be redone.
  ``analysis.py`` and ``pmtgain condor resubmit`` both ask it.
- :data:`JOB_OUTPUTS` / :func:`job_remaps` - the files an HTCondor job leaves and where
  ``condor_transfer_data`` puts them (``outputs/condor_lists/``).
- :func:`write_json_records` / :func:`read_json_records` - tables as JSON records: how
  results are read back. They are data, never code: the original's pickles
  (``pmt_<i>_data_list.pkl``) are still written for users who load them, but the package
  never unpickles anything.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.config import ANALYSIS_VERSION
from pmtgain.errors import InputError
from pmtgain.io.safeio import atomic_path, write_atomic
from pmtgain.kinds import GAIN, KINDS, SPE, Kind, kind_of
from pmtgain.point.result import PointResult, string_codes
from pmtgain.results.layout import point_files, spe_files

__all__ = ["JOB_OUTPUTS", "job_output", "job_remaps", "settings_digest",
           "inputs_of", "encode_inputs", "stale_reason", "write_json_records",
           "read_json_records", "save_point", "write_csv", "save_examples", "load_examples",
           "save_table", "load_table", "load_point", "save_spe", "load_spe_summary",
           "load_spe_runs", "load_spectra"]

#: what one HTCondor job of a point leaves in its sandbox (exec_condor.sh creates any that
#: is missing, since HTCondor holds a job whose listed output does not exist)
JOB_OUTPUTS = GAIN.job_outputs


def job_output(name: str, pmt: int | str, hv: int | str, kind: Kind = GAIN) -> str:
    """Where ``condor_transfer_data`` puts a job's output ``name`` (relative to
    ``outputs/condor_lists``): ``pmt_summary.json`` -> ``<key>_summary.json``."""
    if name not in kind.job_outputs:
        raise KeyError(name)
    return f"{kind.key(pmt, hv)}_{name.split('_', 1)[1]}"


def job_remaps(pmt: int | str, hv: int | str, to: str = "../condor_lists",
               kind: Kind = GAIN) -> str:
    """The ``transfer_output_remaps`` value of a job of ``kind`` (a low-light run's:
    ``spe_<i>_<hv>_summary.json`` and ``_spectra.npz``)."""
    return "; ".join(f"{n} = {to}/{job_output(n, pmt, hv, kind)}" for n in kind.job_outputs)


def settings_digest(config) -> str:
    """12 hex digits of a :class:`pmtgain.config.FitConfig`'s every field: two runs with
    the same digest used the same settings."""
    import hashlib

    blob = json.dumps(config.as_dict(), sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def inputs_of(point, engine: str | None, config=None) -> dict:
    """Every input that changes a point's numbers besides its files' bytes (straxen's
    lineage: the plugin version and its options): the campaign line (dir_url without its
    password, n_files, cut), the engine, the settings' digest, the LED-off run and the
    analysis version. A kind that fits no pulse (a low-light run: :mod:`pmtgain.kinds`)
    has no engine or settings of its own. Saved in every summary as ``inputs`` (a JSON
    string, so that it survives the CSV, pickle and JSON tables); :func:`stale_reason`
    compares it."""
    from pmtgain.config import DEFAULT_FIT
    from pmtgain.io.campaign import redact

    fitted = kind_of(point).uses_engine
    off = point.extra.get("ledoff")
    out = {"dir_url": redact(point.dir_url), "n_files": int(point.n_files),
           "cut_V": None if point.cut_V is None else float(point.cut_V),
           "engine": engine if fitted else None,
           "settings": settings_digest(config or DEFAULT_FIT) if fitted else None,
           "ledoff": None if off is None else f"{redact(off.dir_url)} {off.n_files}",
           "analysis_version": ANALYSIS_VERSION}
    if "trigger" in point.extra:  # a dark run's trigger (pmtgain.point.darkrun)
        out["trigger"] = point.extra["trigger"]
    if point.extra.get("levels"):  # a low-light run's other light levels
        out["levels"] = " ".join(f"{redact(q.dir_url)} {q.n_files}"
                                 for q in point.extra["levels"])
    if point.files or point.read:  # only where given: GIN lines' saved points stay valid
        out["files"] = ",".join(point.files)
        out["read"] = " ".join(f"{k}={v}" for k, v in sorted(point.read))
    return out


def encode_inputs(inputs: dict) -> str:
    return json.dumps(inputs, sort_keys=True)


#: what a changed input is called when a saved point is redone because of it
_CHANGED = {
    "engine": lambda a, b: f"other engine ({a})",
    "analysis_version": lambda a, b: "an older version of the analysis",
    "dir_url": lambda a, b: "its dir_url changed in the campaign",
    "n_files": lambda a, b: f"its number of files changed in the campaign ({a} -> {b})",
    "cut_V": lambda a, b: "the cut changed in the campaign",
    "settings": lambda a, b: "the analysis settings (FitConfig) changed",
    "ledoff": lambda a, b: "an LED-off run was added to, changed in or removed from the "
                           "campaign",
    "files": lambda a, b: "its files= changed in the campaign",
    "read": lambda a, b: f"its format settings changed in the campaign ({a} -> {b})",
    "trigger": lambda a, b: f"its trigger changed in the campaign ({a} -> {b})",
    "levels": lambda a, b: "its other light levels (levels=) changed in the campaign",
}


def stale_reason(summary: dict, point, engine: str | None, config=None,
                 check_ledoff: bool = True) -> str | None:
    """Why a saved point cannot be reused for campaign line ``point`` analysed with
    ``engine`` and ``config`` (None: it can). The one rule for local runs, low-light runs
    and HTCondor resubmits: every input of :func:`inputs_of` must be what it was, and no
    file may have failed for a reason that may have gone. ``check_ledoff=False``: the
    LED-off run is not compared (the HTCondor jobs do not fetch LED-off runs)."""
    if summary.get("error"):
        return f"it failed ({summary['error']})"
    if summary.get("analysis_version", ANALYSIS_VERSION) != ANALYSIS_VERSION:
        return _CHANGED["analysis_version"](summary["analysis_version"], ANALYSIS_VERSION)
    try:
        saved = json.loads(summary["inputs"])
        assert isinstance(saved, dict)
    except (KeyError, TypeError, ValueError, AssertionError):
        return "it was saved without a record of its inputs (an older version)"
    want = inputs_of(point, engine, config)
    for key, why in _CHANGED.items():
        if key == "ledoff" and not check_ledoff:
            continue
        if saved.get(key) != want.get(key):
            return why(saved.get(key), want.get(key))
    if summary.get("n_fetch_transient"):
        return "some of its files failed for a reason that may have gone (network, disk)"
    return None


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_json_records(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """``df`` as a JSON list of records (NaN as null), written atomically."""
    path = Path(path)
    rows = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    write_atomic(path, json.dumps(rows, indent=0))


def read_json_records(path: str | os.PathLike) -> pd.DataFrame:
    """A table written by :func:`write_json_records` (or one summary dict); ValueError
    when it is not a JSON list of records."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError("not a JSON list of records")
    df = pd.DataFrame(data)
    for c in df.columns:  # null -> NaN in numeric columns (and in columns of nulls only:
        # a one-flash point's spread, which pandas' float formats cannot print as None)
        if df[c].dtype == object and df[c].map(lambda x: x is None or isinstance(
                x, (int, float)) and not isinstance(x, bool)).all():
            df[c] = pd.to_numeric(df[c]) if df[c].notna().any() else np.nan
    return df


def save_point(result: PointResult, directory: str | os.PathLike,
               csv: bool = False) -> tuple[Path, Path]:
    """Write ``<key>_flashes.npz`` (the per-flash table; also ``_waveforms.csv`` with
    ``csv``), ``<key>_examples.npz`` and ``<key>_summary.json`` atomically, the summary
    last (its presence means the point is done). Temporary names are unique
    (:func:`pmtgain.io.safeio.atomic_path`), so concurrent runs never share one; on a
    failure (a full disk) they are removed and the OSError says which file."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    files = point_files(d, result.summary["pmt"], result.summary["hv"])
    table, summ = files["table"], files["summary"]
    try:
        with atomic_path(table) as tmp:
            save_table(result.table, tmp)
        if csv:
            with atomic_path(files["csv"]) as tmp:
                write_csv(result.table, tmp)
        if result.examples is not None:
            save_examples(result.examples, files["examples"])
        summary = dict(result.summary, table_rows=len(result.table))
        write_atomic(summ, json.dumps(_jsonable(summary), indent=1))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot save the point in {d}: "
                      f"{exc.strerror or exc}") from None
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
    """Write examples (``PointResult.examples``) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **examples)


def load_examples(path: str | os.PathLike) -> dict[str, np.ndarray] | None:
    """Examples saved by :func:`save_examples`, or None if absent, empty or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            ex = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # a file cut short
        return None
    return ex if "y" in ex else None


def save_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """A per-flash table as a typed ``.npz`` (no pickles): numbers as they are, strings as
    codes into their distinct values (:func:`string_codes`). ~0.3 us per row to write
    (CSV: ~20)."""
    arrays: dict[str, np.ndarray] = {"__columns__": np.array(list(df.columns), dtype=str)}
    for c in df.columns:
        col = df[c]
        v = None if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        if v is not None and v.dtype.kind in "fiub":
            arrays[f"v_{c}"] = v
        else:
            arrays[f"u_{c}"], arrays[f"c_{c}"] = string_codes(col)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load_table(path: str | os.PathLike) -> pd.DataFrame:
    """A table written by :func:`save_table` (or a CSV one)."""
    if str(path).endswith(".csv"):
        return pd.read_csv(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            cols = [str(c) for c in z["__columns__"]]
            data = {}
            for c in cols:
                data[c] = z[f"v_{c}"] if f"v_{c}" in z.files else \
                    z[f"u_{c}"].astype(object)[z[f"c_{c}"]]
    except (zipfile.BadZipFile, KeyError, EOFError) as exc:  # cut short, or not ours
        raise InputError(f"{Path(path).name} is not a complete table ({exc})") from None
    return pd.DataFrame(data, columns=cols)


def _is_summary_of(s, pmt: int, hv: int) -> bool:
    """Whether ``s`` (read from JSON) is a summary of the point ``pmt``, ``hv``: a dict
    with those integers and a number (or null) for the mean charge, as saved."""
    def whole(x) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    return (isinstance(s, dict) and whole(s.get("pmt")) and whole(s.get("hv"))
            and (s["pmt"], s["hv"]) == (int(pmt), int(hv)) and "mean_charge" in s
            and (s["mean_charge"] is None or isinstance(s["mean_charge"], (int, float))))


def load_point(directory: str | os.PathLike, pmt: int, hv: int) -> PointResult | None:
    """The saved result of a point, or None when it is missing or incomplete."""
    files = point_files(directory, pmt, hv)
    summ, table, ex_path = files["summary"], files["table"], files["examples"]
    if not (summ.exists() and table.exists()):
        return None
    try:
        summary = json.loads(summ.read_text())
        if not _is_summary_of(summary, pmt, hv):
            return None
        tab = load_table(table)
        # a table cut short (a crash, a full disk, a hand edit) is not a finished point
        if "table_rows" in summary and len(tab) != summary["table_rows"]:
            return None
        examples = load_examples(ex_path)
        if examples is None and ex_path.exists() and ex_path.stat().st_size > 22:
            return None  # examples cut short (22 bytes: an empty zip): redo the point
        return PointResult(summary=summary, table=tab, examples=examples)
    except (ValueError, OSError, UnicodeDecodeError, KeyError, EOFError):
        return None


def save_spe(directory: str | os.PathLike, summary: dict, spectra: dict) -> None:
    """A low-light run's summary and charge spectra into ``directory`` (a layout's
    ``spe``), atomically, the summary last; or another run's (the kind its ``summary``
    names: a dark run's amplitude spectrum into the layout's ``runs(DARK)``)."""
    paths = spe_files(directory, summary["pmt"], summary["hv"],
                      KINDS[summary.get("kind") or SPE.name])
    paths["summary"].parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(paths["spectra"]) as tmp, open(tmp, "wb") as f:
        np.savez(f, **spectra)
    write_json_records(pd.DataFrame([summary]), paths["summary"])


def load_spe_summary(directory: str | os.PathLike, pmt: int, hv: int, kind: Kind = SPE
                     ) -> dict | None:
    """A saved low-light run's (or ``kind``'s run's) summary from ``directory`` (a
    layout's ``runs(kind)``; NaN where it has none), or None when its summary or its
    spectra are missing or unreadable."""
    paths = spe_files(directory, pmt, hv, kind)
    if not paths["spectra"].is_file() or load_spectra(paths["spectra"].parent, pmt,
                                                      hv, kind) is None:
        return None
    try:
        rows = read_json_records(paths["summary"]).to_dict("records")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    ok = len(rows) == 1 and (rows[0].get("pmt"), rows[0].get("hv")) == (int(pmt), int(hv))
    return rows[0] if ok else None


def load_spe_runs(directory: str | os.PathLike, kind: Kind = SPE) -> pd.DataFrame:
    """Every saved low-light run (or ``kind``'s run) under ``directory`` (``<lists>/spe``
    or ``condor_lists`` with its ``spe_*_summary.json`` files), one row each; empty
    without any."""
    rows = []
    for f in sorted(Path(directory).glob(f"{kind.prefix}_*_summary.json")):
        try:
            rows.append(read_json_records(f))
        except (OSError, ValueError):
            continue
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def load_spectra(directory: str | os.PathLike, pmt: int, hv: int, kind: Kind = SPE
                 ) -> dict | None:
    """A run's spectra from ``directory`` (``<lists>/spe`` or ``condor_lists``)."""
    try:
        with np.load(spe_files(directory, pmt, hv, kind)["spectra"], allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # a file cut short
        return None

"""Where results live and when a saved point can be reused: the one place for both.

What to use when
----------------
- :func:`point_key` / :func:`point_paths` - the name of a point (``pmt_<i>_<hv>``) and the
  files of a saved point under ``<lists>/points/``.
- :func:`stale_reason` - whether a saved point is still valid for a campaign line and an
  engine (None) or why it must be redone; ``analysis.py`` and ``pmtgain condor resubmit``
  both ask it.
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
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

POINTS_DIR = "points"
#: what one HTCondor job leaves in its sandbox (exec_condor.sh creates any that is missing,
#: since HTCondor holds a job whose listed output does not exist)
JOB_OUTPUTS = ("pmt_data_list.pkl", "pmt_summary.json", "pmt_waveforms.csv",
               "pmt_examples.npz")
_JOB_SUFFIX = {"pmt_data_list.pkl": "data_list.pkl", "pmt_summary.json": "summary.json",
               "pmt_waveforms.csv": "waveforms.csv", "pmt_examples.npz": "examples.npz"}


def point_key(pmt: int, hv: int) -> str:
    return f"pmt_{int(pmt)}_{int(hv)}"


def point_paths(lists_dir: str | os.PathLike, pmt: int, hv: int) -> dict[str, Path]:
    """The files of a saved point: ``summary`` (JSON), ``table`` (per-flash CSV),
    ``examples`` (npz)."""
    d = Path(lists_dir) / POINTS_DIR
    k = point_key(pmt, hv)
    return dict(summary=d / f"{k}_summary.json", table=d / f"{k}_waveforms.csv",
                examples=d / f"{k}_examples.npz")


def job_output(name: str, pmt: int | str, hv: int | str) -> str:
    """Where ``condor_transfer_data`` puts a job's output ``name`` (relative to
    ``outputs/condor_lists``)."""
    return f"pmt_{pmt}_{hv}_{_JOB_SUFFIX[name]}"


def job_remaps(pmt: int | str, hv: int | str, to: str = "../condor_lists") -> str:
    """The ``transfer_output_remaps`` value of a job."""
    return "; ".join(f"{n} = {to}/{job_output(n, pmt, hv)}" for n in JOB_OUTPUTS)


def stale_reason(summary: dict, cut_V: float | None, engine: str,
                 version: int | None = None) -> str | None:
    """Why a saved point cannot be reused for a campaign line with ``cut_V`` and
    ``engine`` (None: it can). The one rule for local runs and HTCondor resubmits."""
    from .config import ANALYSIS_VERSION

    if summary.get("error"):
        return f"it failed ({summary['error']})"
    if summary.get("engine") != engine:
        return f"other engine ({summary.get('engine')})"
    if summary.get("analysis_version") != (ANALYSIS_VERSION if version is None else version):
        return "an older version of the analysis"
    old = summary.get("cut_V")
    old = None if old is None or (isinstance(old, float) and math.isnan(old)) else float(old)
    if old != cut_V:
        return "the cut changed in the campaign"
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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(rows, indent=0))
    os.replace(tmp, path)


def read_json_records(path: str | os.PathLike) -> pd.DataFrame:
    """A table written by :func:`write_json_records` (or one summary dict); ValueError
    when it is not a JSON list of records."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("not a JSON list of records")
    df = pd.DataFrame(data)
    for c in df.columns:  # null -> NaN in numeric columns
        if df[c].dtype == object and df[c].map(lambda x: x is None or isinstance(
                x, (int, float)) and not isinstance(x, bool)).all() and df[c].notna().any():
            df[c] = pd.to_numeric(df[c])
    return df


class Busy(RuntimeError):
    """Another run holds the outputs directory."""


_HELD: set[str] = set()


@contextmanager
def exclusive(outputs: str | os.PathLike, what: str = "a run"):
    """Hold ``<outputs>/.pmtgain.lock`` (flock) for the duration: a second run on the same
    outputs raises :class:`Busy` naming the first (pid, command, start) at once, instead of
    both writing the same files. Re-entrant within a process (analysis.py then merges)."""
    import datetime as _dt
    import fcntl

    d = Path(outputs)
    path = d / ".pmtgain.lock"
    key = str(path.resolve())
    if key in _HELD:
        yield
        return
    d.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another run"
            raise Busy(f"{d} is in use by {other}: wait for it to finish, or use another "
                       "--outputs") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()}, since "
                      f"{_dt.datetime.now():%Y-%m-%d %H:%M:%S})".encode(), 0)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)

"""The results layout: the one place that names every file and folder of an outputs folder.

What to use when
----------------
- :class:`Layout` - ``Layout(outputs)`` for what ``analysis.py`` writes (``lists/``),
  ``Layout(outputs, "condor_lists")`` for what HTCondor jobs brought back; every reader
  and writer asks it for a path (a point's summary, per-flash table, examples, log and
  plot; a low-light run's files; the per-PMT lists, the run record, the gain curves, the
  report; HTCondor's folders and error files). :meth:`Layout.merged` picks the source
  ``gain_curve.py`` merges when none is named.
- :func:`point_key` / :func:`spe_key` - the name of a point (``pmt_<i>_<hv>``) and of a
  low-light run (``spe_<i>_<hv>``).

The tree (``<k>`` is a point's key, ``<i>`` its PMT, ``<hv>`` its HV in V)::

    outputs/
      lists/                     Layout(outputs): analysis.py on this machine
        pmt_<i>_data_list.{json,pkl,csv}   the per-PMT lists (one set per run)
        points/<k>_summary.json            a saved point (complete when this exists)
        points/<k>_flashes.npz             its per-flash table (_waveforms.csv on request)
        points/<k>_examples.npz            example records with their fits
        spe/spe_<i>_<hv>_{summary.json,spectra.npz}   a low-light run
        spe.csv, shapes.csv, run.json      low-light runs, pulse shapes, the run record
        dark_runs.csv, dark_counts.csv     dark runs; every rate against the threshold
        afterpulse_runs.csv                long-record runs: afterpulses per photoelectron
        spe/, dark/, afterpulse/           the saved runs (spe_*, dark_*, ap_<i>_<hv>_*)
        failed.json                        the points without a result, and why
      condor_lists/              Layout(outputs, "condor_lists"): the jobs' results,
        <k>_{summary.json,flashes.npz,examples.npz,data_list.pkl}, spe_*  (flat)
      condor_outputs/ condor_logs/ condor_errors/<k>_analysis.error
      condor_clusters.json       what was submitted, with its options
      logs/pmt_<i>_<hv>V.log     a point's log (spe_<i>_<hv>V.log: a low-light run's)
      plots/pmt_<i>/pmt_<i>_<hv>V.png, pmt_<i>_shape_vs_hv.png
      gain_curves.{png,csv}, gain_curves_electrons.{png,csv}, report.html
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pmtgain.kinds import GAIN, SPE, Kind

__all__ = ["Layout", "point_key", "spe_key", "point_files", "spe_files", "SOURCES",
           "CONDOR_DIRS"]

#: where points are read from: this machine's runs, or the HTCondor jobs'
SOURCES = ("lists", "condor_lists")
#: HTCondor's folders under ``outputs/``
CONDOR_DIRS = ("condor_lists", "condor_outputs", "condor_logs", "condor_errors")


def point_key(pmt: int, hv: int) -> str:
    """``pmt_<i>_<hv>``: the name of a point's files (:data:`pmtgain.kinds.GAIN`)."""
    return GAIN.key(int(pmt), int(hv))


def spe_key(pmt: int | str, hv: int | str) -> str:
    """``spe_<i>_<hv>``: the name of a low-light run's files (``hv`` may be ``$(hv)``)."""
    return SPE.key(pmt, hv)


def point_files(directory: str | os.PathLike, pmt: int, hv: int) -> dict[str, Path]:
    """The files of a saved point in ``directory`` (a layout's ``points``): ``summary``,
    ``table`` (per-flash), ``examples``, ``csv`` (the table on request)."""
    d, k = Path(directory), point_key(pmt, hv)
    return dict(summary=d / f"{k}_summary.json", table=d / f"{k}_flashes.npz",
                examples=d / f"{k}_examples.npz", csv=d / f"{k}_waveforms.csv")


def spe_files(directory: str | os.PathLike, pmt: int, hv: int, kind: Kind = SPE
              ) -> dict[str, Path]:
    """The files of a saved run in ``directory`` (a layout's ``runs(kind)``): a low-light
    run's, or of another of :data:`pmtgain.kinds.RUNS` (a dark run's: ``dark_<i>_<hv>_*``)."""
    d, k = Path(directory), kind.key(int(pmt), int(hv))
    return dict(summary=d / f"{k}_summary.json", spectra=d / f"{k}_spectra.npz")


@dataclass(frozen=True)
class Layout:
    """The files of one outputs folder, read from one source (:data:`SOURCES`)."""

    outputs: Path
    source: str = "lists"

    def __post_init__(self):
        object.__setattr__(self, "outputs", Path(self.outputs))
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r}: choose {' or '.join(SOURCES)}")

    @classmethod
    def merged(cls, outputs: str | os.PathLike, source: str | None = None) -> Layout:
        """The layout ``gain_curve.py`` merges: ``source`` if given, else ``condor_lists``
        when it holds results, else ``lists``."""
        out = Path(outputs)
        if source is None:
            jobs = out / "condor_lists"
            source = "condor_lists" if any(jobs.glob("pmt_*_summary.json")) else "lists"
        return cls(out, source)

    @property
    def local(self) -> bool:
        return self.source == "lists"

    # ---------------------------------------------------------------- where points are
    @property
    def lists(self) -> Path:
        """Where this machine's lists, run record and tables go (always ``lists/``)."""
        return self.outputs / "lists"

    @property
    def points(self) -> Path:
        """The folder of saved points (``lists/points`` or ``condor_lists``)."""
        return self.lists / "points" if self.local else self.outputs / self.source

    @property
    def spe(self) -> Path:
        """The folder of saved low-light runs (``lists/spe`` or ``condor_lists``)."""
        return self.runs(SPE)

    def runs(self, kind: Kind) -> Path:
        """The folder of saved runs of ``kind`` (``lists/<name>`` or ``condor_lists``)."""
        return self.lists / kind.name if self.local else self.outputs / self.source

    def point(self, pmt: int, hv: int) -> dict[str, Path]:
        """A saved point's files: ``summary``, ``table``, ``examples``, ``csv``."""
        return point_files(self.points, pmt, hv)

    def spe_run(self, pmt: int, hv: int, kind: Kind = SPE) -> dict[str, Path]:
        """A saved low-light run's files (or another run's): ``summary``, ``spectra``."""
        return spe_files(self.runs(kind), pmt, hv, kind)

    # --------------------------------------------------------------- what a run writes
    def pmt_list(self, pmt: int, ext: str = "json") -> Path:
        """A PMT's list of points (``json`` read back; ``pkl`` the original's; ``csv``)."""
        return self.lists / f"pmt_{int(pmt)}_data_list.{ext}"

    @property
    def failed(self) -> Path:
        """The points without a result, and why (``failed.json``)."""
        return self.lists / "failed.json"

    @property
    def run_record(self) -> Path:
        return self.lists / "run.json"

    @property
    def shapes(self) -> Path:
        return self.lists / "shapes.csv"

    @property
    def spe_list(self) -> Path:
        return self.lists / "spe.csv"

    @property
    def afterpulse_runs_list(self) -> Path:
        """The long-record runs' afterpulses, one row each (``gain_curve.py``)."""
        return self.lists / "afterpulse_runs.csv"

    @property
    def dark_runs_list(self) -> Path:
        """The dark runs, one row each (``analysis.py`` and ``gain_curve.py``)."""
        return self.lists / "dark_runs.csv"

    @property
    def logs(self) -> Path:
        return self.outputs / "logs"

    def log(self, pmt: int, hv: int, kind: Kind = GAIN) -> Path:
        """A point's log (of a low-light run: ``spe_<i>_<hv>V.log``)."""
        return self.logs / f"{kind.key(int(pmt), int(hv))}V.log"

    def plot(self, pmt: int, hv: int | None = None) -> Path:
        """A point's diagnostic page, or (``hv=None``) a PMT's shape against HV."""
        d = self.outputs / "plots" / f"pmt_{int(pmt)}"
        return d / (f"pmt_{int(pmt)}_{int(hv)}V.png" if hv is not None
                    else f"pmt_{int(pmt)}_shape_vs_hv.png")

    def gain_curves(self, ext: str = "png", quantity: str = "charge") -> Path:
        """The gain curves' plot (``png``) or table (``csv``): of the charge, or
        (``quantity="gain"``) of the gain in electrons."""
        stem = "gain_curves" if quantity == "charge" else "gain_curves_electrons"
        return self.outputs / f"{stem}.{ext}"

    @property
    def report(self) -> Path:
        return self.outputs / "report.html"

    @property
    def dark_list(self) -> Path:
        """Every point's dark-count rate against the threshold (``gain_curve.py``)."""
        return self.lists / "dark_counts.csv"

    @property
    def repeated(self) -> Path:
        """The points also measured in a reference campaign (``gain_curve.py --reference``),
        compared with their errors."""
        return self.outputs / "repeated_points.csv"

    # ------------------------------------------------------------------------ HTCondor
    def condor(self, name: str) -> Path:
        """One of HTCondor's folders (:data:`CONDOR_DIRS`)."""
        if name not in CONDOR_DIRS:
            raise ValueError(f"{name!r} is not one of {CONDOR_DIRS}")
        return self.outputs / name

    def condor_error(self, pmt: int, hv: int) -> Path:
        """The error file of a point's job (``exec_condor.sh``'s and the job's own lines)."""
        return self.condor("condor_errors") / f"{point_key(pmt, hv)}_analysis.error"

    @property
    def clusters(self) -> Path:
        return self.outputs / "condor_clusters.json"

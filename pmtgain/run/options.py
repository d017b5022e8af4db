"""The settings of the pipeline, each with its default: what the command lines start from.

- :class:`AnalysisOptions` - :func:`pmtgain.run.pipeline.analyse` (``analysis.py``); its
  :meth:`~AnalysisOptions.task` is the frozen :class:`~pmtgain.run.task.Task` every point
  is given.
- :class:`MergeOptions` - :func:`pmtgain.run.pipeline.merge` (``gain_curve.py``).

Light on purpose (no pandas, no plotting): the parsers of :mod:`pmtgain.cli.main` read their
defaults here, so ``--help`` states the defaults the pipeline uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pmtgain.config import DEFAULT_ENGINE, DEFAULT_FIT, FitConfig
from pmtgain.io.fetch import DEFAULT_WORKERS

__all__ = ["AnalysisOptions", "MergeOptions"]


@dataclass
class AnalysisOptions:
    """Settings of :func:`analyse` (the defaults are ``analysis.py``'s)."""

    data_dir: str | Path = "data"  # local copies of remote files
    outputs: str | Path = "outputs"  # results and logs
    engine: str = DEFAULT_ENGINE  # the per-flash fit (fast, root, integral)
    jobs: int | None = None  # processes (None: one per core)
    verbose: bool = False  # every file in the point logs
    force: bool = False  # redo points already done
    progress: bool = True  # a progress bar on a terminal
    fetch_workers: int = DEFAULT_WORKERS  # parallel downloads per point
    plots: bool = False  # diagnostics and the report after the merge
    merge: bool = True  # build the gain curves at the end
    csv_tables: bool = False  # per-flash tables also as CSV (npz always)
    config: FitConfig = DEFAULT_FIT

    def task(self, shapes=None):
        """The :class:`~pmtgain.run.task.Task` every point of the run is given."""
        from pmtgain.results.layout import Layout
        from pmtgain.run.task import Task

        return Task(layout=Layout(Path(self.outputs)), data_dir=Path(self.data_dir),
                    engine=self.engine, config=self.config,
                    fetch_workers=self.fetch_workers, shapes=shapes,
                    verbose=self.verbose, csv=self.csv_tables)


@dataclass
class MergeOptions:
    """Settings of :func:`merge` (the defaults are ``gain_curve.py``'s)."""

    outputs: str | Path = "outputs"
    source: str | None = None  # lists, condor_lists, or None: condor_lists if it has results
    data_info: str | None = None  # expected points (None: the one analysis.py recorded)
    target: float | None = None  # |Q| (or G) to reach: the HV per PMT
    quantity: str = "charge"  # charge (pC) or gain (electrons)
    enf: dict[int, float] = field(default_factory=dict)  # F per PMT over enf.txt
    plots: bool = False  # diagnostics and outputs/report.html
    jobs: int | None = None  # processes drawing the diagnostics
    progress: bool = True
    #: an earlier campaign's outputs folder: the points measured in both are compared
    reference: str | Path | None = None

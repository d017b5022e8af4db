"""How every point of a run is measured and where it is kept: one frozen object.

- :class:`Task` - built once by the pipeline (:func:`pmtgain.run.pipeline.analyse`, from
  :class:`~pmtgain.run.pipeline.AnalysisOptions`) and once by an HTCondor job
  (:mod:`pmtgain.run.job`), then passed whole to :func:`pmtgain.run.executors.run_point`
  in every worker: the settings are not unpacked on the way down. Its defaults are the
  package's (:data:`pmtgain.config.DEFAULT_ENGINE`, :data:`pmtgain.config.DEFAULT_FIT`,
  :data:`pmtgain.io.fetch.DEFAULT_WORKERS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pmtgain.config import DEFAULT_ENGINE, DEFAULT_FIT, FitConfig
from pmtgain.io.fetch import DEFAULT_WORKERS
from pmtgain.point.shape import ShapeTable
from pmtgain.results.layout import Layout

__all__ = ["Task", "DEFAULT_TASK"]


@dataclass(frozen=True)
class Task:
    """What a point needs besides its campaign line."""

    #: where its results and log go (its ``source`` is ``lists``)
    layout: Layout = field(default_factory=lambda: Layout(Path("outputs")))
    #: where its files are downloaded (``data/<folder>/<hv>/``)
    data_dir: Path = Path("data")
    #: the per-flash fit (:mod:`pmtgain.point.engines`)
    engine: str = DEFAULT_ENGINE
    #: the fit's bounds, windows and thresholds
    config: FitConfig = DEFAULT_FIT
    #: parallel downloads per point
    fetch_workers: int = DEFAULT_WORKERS
    #: pulse shapes of better-measured points, for points too weak to place their window
    shapes: ShapeTable | None = None
    #: every file and flash in the point's log
    verbose: bool = False
    #: the per-flash table also as CSV
    csv: bool = False

    def __post_init__(self):
        object.__setattr__(self, "data_dir", Path(self.data_dir))


#: the defaults: ``outputs/`` and ``data/`` of the working directory
DEFAULT_TASK = Task()

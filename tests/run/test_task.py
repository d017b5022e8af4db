"""task.py: the settings of a run, passed whole, with the package's defaults."""

import pickle
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from pmtgain.config import DEFAULT_ENGINE, DEFAULT_FIT
from pmtgain.run.pipeline import AnalysisOptions
from pmtgain.run.task import DEFAULT_TASK, Task


def test_defaults_and_frozen():
    assert DEFAULT_TASK.engine == DEFAULT_ENGINE and DEFAULT_TASK.config is DEFAULT_FIT
    assert DEFAULT_TASK.layout.lists == Path("outputs/lists")
    with pytest.raises(FrozenInstanceError):
        DEFAULT_TASK.engine = "root"


def test_the_pipeline_builds_one_from_its_options_and_it_travels_to_workers(tmp_path):
    o = AnalysisOptions(outputs=tmp_path / "o", data_dir=str(tmp_path / "d"),
                        engine="integral", csv_tables=True, verbose=True)
    t = o.task()
    assert isinstance(t, Task) and t.layout.outputs == tmp_path / "o"
    assert t.data_dir == tmp_path / "d" and t.engine == "integral" and t.csv and t.verbose
    assert pickle.loads(pickle.dumps(t)) == t

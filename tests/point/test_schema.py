"""schema.py: every column of the per-flash table and every key of a point's summary is
described, with its unit, in one place; the lists are ordered by it."""

from pmtgain.config import PointSpec
from pmtgain.point.schema import FLASH_FIELDS, SUMMARY_FIELDS, column_order, field
from pmtgain.results.layout import Layout
from pmtgain.results.store import load_point
from pmtgain.run.executors import run_point, summaries_frame
from pmtgain.run.task import Task
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def test_a_saved_point_carries_exactly_the_described_columns(tmp_path):
    write_point(tmp_path / "d", DEMO_PMTS[0], 1000, 20)
    pt = PointSpec(pmt=1, hv=1000, n_files=20, dir_url=f"{tmp_path / 'd'}/", cut_V=-0.01)
    task = Task(layout=Layout(tmp_path / "o"), data_dir=tmp_path / "data")
    assert run_point(pt, task).ok
    saved = load_point(task.layout.points, 1, 1000)
    assert list(saved.table.columns) == [f.name for f in FLASH_FIELDS]
    described = {f.name for f in SUMMARY_FIELDS}
    assert set(saved.summary) - described == set()
    always = {f.name for f in SUMMARY_FIELDS if not f.sometimes}
    assert always - set(saved.summary) == set()


def test_fields_have_units_and_the_lists_follow_the_schema():
    names = [f.name for f in SUMMARY_FIELDS]
    assert len(names) == len(set(names))
    assert field("mean_charge").unit == "pC" and field("hv").unit == "V"
    assert field("gain").unit == "electrons" and field("noise_V").unit == "V"
    assert all(f.description for f in SUMMARY_FIELDS + FLASH_FIELDS)
    cols = column_order(["zz", "gain", "hv", "mean_charge", "pmt"], first=("mean_charge",))
    assert cols == ["mean_charge", "pmt", "hv", "gain", "zz"]
    df = summaries_frame([dict(pmt=1, hv=900, mean_charge=-1.0, std_dev_charge=0.1,
                               gain=1e6, n_used=3)])
    assert list(df.columns)[:3] == ["mean_charge", "std_dev_charge", "hv"]

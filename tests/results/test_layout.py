"""layout.py: every file of an outputs folder named in one place."""

from pathlib import Path

import pytest

from pmtgain.kinds import DARK, SPE
from pmtgain.results.layout import Layout, point_key, spe_key


def test_local_and_condor_layouts_name_the_same_files_in_their_places():
    local, jobs = Layout(Path("out")), Layout(Path("out"), "condor_lists")
    assert point_key(1, 1000.0) == "pmt_1_1000" and spe_key(2, "$(hv)") == "spe_2_$(hv)"
    assert local.point(1, 900)["summary"] == Path("out/lists/points/pmt_1_900_summary.json")
    assert jobs.point(1, 900)["table"] == Path("out/condor_lists/pmt_1_900_flashes.npz")
    assert local.spe_run(3, 1300)["spectra"] == Path("out/lists/spe/spe_3_1300_spectra.npz")
    assert jobs.spe_run(3, 1300)["summary"] == Path("out/condor_lists/spe_3_1300_summary.json")
    assert local.pmt_list(4, "pkl") == Path("out/lists/pmt_4_data_list.pkl")
    assert local.log(1, 900) == Path("out/logs/pmt_1_900V.log")
    assert local.log(1, 900, SPE) == Path("out/logs/spe_1_900V.log")
    assert local.spe_run(3, 1300, DARK)["summary"] == Path(
        "out/lists/dark/dark_3_1300_summary.json")
    assert jobs.runs(DARK) == jobs.spe == Path("out/condor_lists")
    assert local.dark_runs_list == Path("out/lists/dark_runs.csv")
    assert local.plot(1) == Path("out/plots/pmt_1/pmt_1_shape_vs_hv.png")
    assert local.plot(1, 900) == Path("out/plots/pmt_1/pmt_1_900V.png")
    assert local.gain_curves("csv", "gain") == Path("out/gain_curves_electrons.csv")
    assert jobs.condor_error(1, 900) == Path("out/condor_errors/pmt_1_900_analysis.error")
    assert jobs.lists == local.lists and jobs.run_record == Path("out/lists/run.json")
    with pytest.raises(ValueError, match="condor_lists"):
        Layout(Path("out"), "elsewhere")


def test_the_merge_reads_the_jobs_results_when_there_are_any(tmp_path):
    assert Layout.merged(tmp_path).source == "lists"
    (tmp_path / "condor_lists").mkdir()
    (tmp_path / "condor_lists" / "pmt_1_900_summary.json").write_text("[]")
    assert Layout.merged(tmp_path).source == "condor_lists"
    assert Layout.merged(tmp_path, "lists").source == "lists"

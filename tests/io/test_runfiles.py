"""runfiles.py: the campaign's low-light, dark and long-record runs, each kind in its files."""

import pytest

from pmtgain.errors import CampaignError
from pmtgain.io.campaign import load_campaign, local_dir


def test_dark_runs_are_their_own_kind_with_their_trigger(tmp_path):
    from pmtgain.io.runfiles import load_dark

    info = tmp_path / "data_info"
    info.mkdir()
    (info / "data_directories_pmt_1.txt").write_text("https://h/a/PMT_1/1000/ 1 1000 5\n")
    (info / "dark_pmt_1.txt").write_text("https://h/a/PMT_1/dark/ 1 1000 2 trigger=self\n"
                                         "https://h/a/PMT_1/dark2/ 1 1100 2\n")
    runs = load_dark(info)
    assert [(r.kind, r.hv, r.extra["trigger"]) for r in runs] == [("dark", 1000, "self"),
                                                                  ("dark", 1100, "random")]
    assert runs[0].folder.endswith("_dark") and load_campaign(info)[0].extra == {}
    (info / "dark_pmt_1.txt").write_text("https://h/a/PMT_1/dark/ 1 1000 2 trigger=ext\n")
    with pytest.raises(CampaignError,
                       match=r"dark_pmt_1.txt:1: trigger='ext': choose random or self"):
        load_dark(info)
    (info / "data_directories_pmt_1.txt").write_text("https://h/a/ 1 1000 5 trigger=self\n")
    with pytest.raises(CampaignError, match="trigger"):  # a gain point has no trigger=
        load_campaign(info)


def test_a_low_light_runs_other_light_levels(tmp_path):
    from pmtgain.io.runfiles import load_spe
    from pmtgain.results.store import encode_inputs, inputs_of, stale_reason

    info = tmp_path / "data_info"
    info.mkdir()
    (info / "data_directories_pmt_1.txt").write_text("https://h/a/PMT_1/1000/ 1 1000 5\n")
    (info / "spe_pmt_1.txt").write_text(
        "https://h/a/PMT_1/spe/1300/ 1 1300 4 levels=https://h/a/PMT_1/spe2/1300,"
        "https://h/a/PMT_1/spe3/1300/\n")
    run = load_spe(info)[0]
    assert [q.dir_url for q in run.extra["levels"]] == ["https://h/a/PMT_1/spe2/1300/",
                                                        "https://h/a/PMT_1/spe3/1300/"]
    assert all(q.n_files == 4 and q.kind == "spe" for q in run.extra["levels"])
    assert len({local_dir(tmp_path, q) for q in (run, *run.extra["levels"])}) == 3
    saved = dict(inputs=encode_inputs(inputs_of(run, None)))
    (info / "spe_pmt_1.txt").write_text(
        "https://h/a/PMT_1/spe/1300/ 1 1300 4 levels=https://h/a/PMT_1/spe2/1300/\n")
    assert stale_reason(saved, load_spe(info)[0], None) == \
        "its other light levels (levels=) changed in the campaign"
    (info / "spe_pmt_1.txt").write_text(
        "https://h/a/PMT_1/spe/1300/ 1 1300 4 levels=https://h/a/PMT_1/spe/1300/\n")
    with pytest.raises(CampaignError, match="spe_pmt_1.txt:1: levels= names .* twice"):
        load_spe(info)



def test_long_record_runs_are_their_own_kind(tmp_path):
    from pmtgain.io.runfiles import load_runs
    from pmtgain.kinds import AFTERPULSE

    info = tmp_path / "data_info"
    info.mkdir()
    (info / "afterpulse_pmt_2.txt").write_text("/data/ap/ 2 1100 3\n")
    (run,) = load_runs(info, AFTERPULSE)
    assert run.kind == "afterpulse" and run.folder.endswith("_afterpulse") and run.n_files == 3

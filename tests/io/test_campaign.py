import re

import pytest

from pmtgain.io.campaign import (
    CampaignError,
    load_campaign,
    load_enf,
    local_dir,
    parse_campaign_file,
)


def test_the_shipped_gin_campaign():
    pts = load_campaign("data_info")
    assert len(pts) == 69 and sum(p.n_files for p in pts) == 30528
    assert {p.folder for p in pts} == {"PMT_1_2", "PMT_2_2", "PMT_3_2", "PMT_3_881_2"}
    first = pts[0]
    assert (first.pmt, first.hv, first.n_files, first.cut_V) == (1, 700, 527, -0.00627901)
    assert str(local_dir("data", first)) == "data/PMT_1_2/700"
    assert first.file_names()[3] == "C1--n16deg--00003.trc"


def test_original_four_column_lines_still_work(tmp_path):
    f = tmp_path / "data_directories_pmt_7.txt"
    f.write_text("# comment\nhttps://x/y/PMT_7/900/Autosave/ 7 900 12\n\n")
    (p,) = parse_campaign_file(f)
    assert (p.pmt, p.hv, p.n_files, p.cut_V, p.folder) == (7, 900, 12, None, "PMT_7")


@pytest.mark.parametrize("line,msg", [
    ("https://x/ 1 900", "expected"),
    ("https://x/ one 900 10", "integers"),
    ("https://x/ 1 900 10 -0.01 extra", "expected"),
    ("https://x/ 1 900 10 abc", "cut_V"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, msg):
    f = tmp_path / "data_directories_pmt_1.txt"
    f.write_text("https://x/a/ 1 800 10\n" + line + "\n")
    with pytest.raises(CampaignError, match=rf"{f}:2: .*{msg}"):
        parse_campaign_file(f)


def test_enf_per_pmt_beside_the_campaign(tmp_path):
    assert load_enf("data_info") == {}  # GIN: no measured F, the default applies
    f = tmp_path / "data_directories_pmt_1.txt"
    f.write_text("https://x/a/ 1 800 10\n")
    (tmp_path / "enf.txt").write_text("# pmt F\n1 1.2   # from the SPE fit\n\n4 1.31\n")
    assert load_enf(tmp_path) == {1: 1.2, 4: 1.31}
    assert load_enf(f) == {1: 1.2, 4: 1.31}  # one campaign file: its folder's enf.txt


@pytest.mark.parametrize("text,msg", [
    ("1 1.2 x", "expected '<pmt> <F>'"),
    ("one 1.2", "integer PMT"),
    ("2 0.9", "not an excess noise factor"),
    ("1 1.3", "listed twice"),
])
def test_malformed_enf_lines_name_file_and_line(tmp_path, text, msg):
    f = tmp_path / "enf.txt"
    f.write_text("1 1.2\n" + text + "\n")
    with pytest.raises(CampaignError, match=rf"{f}:2: .*{msg}"):
        load_enf(tmp_path)


def test_led_off_runs_attach_to_their_points(tmp_path):
    from pmtgain.io.campaign import load_campaign, load_ledoff

    (tmp_path / "data_directories_pmt_1.txt").write_text(
        "https://h/b/PMT_1/900/ 1 900 10\nhttps://h/b/PMT_1/1000/ 1 1000 10\n")
    (tmp_path / "ledoff_pmt_1.txt").write_text("# pedestal runs\nhttps://h/b/off/1000/ 1 1000 5\n")
    pts = {p.hv: p for p in load_campaign(tmp_path)}
    assert "ledoff" not in pts[900].extra
    off = pts[1000].extra["ledoff"]
    assert (off.n_files, off.dir_url, off.folder) == (5, "https://h/b/off/1000/", "off_ledoff")
    (tmp_path / "ledoff_pmt_2.txt").write_text("https://h/b/x/1000/ 1 1000 5\n")
    with pytest.raises(CampaignError, match="two LED-off runs"):
        load_ledoff(tmp_path)


def test_22_1_two_urls_ending_in_the_same_folder_and_hv_get_their_own_folders(tmp_path):
    info = tmp_path / "data_info"
    info.mkdir()
    (info / "data_directories_pmt_1.txt").write_text(
        "https://a.example/A/PMT_1_2/1000/ 1 1000 5\nhttps://a.example/A/PMT_1_2/900/ 1 900 5\n")
    (info / "data_directories_pmt_2.txt").write_text(
        "https://a.example/B/PMT_1_2/1000/ 2 1000 5\n")
    pts = {(p.pmt, p.hv): p for p in load_campaign(info)}
    dirs = {k: local_dir(tmp_path / "data", p) for k, p in pts.items()}
    assert dirs[(1, 1000)] != dirs[(2, 1000)]
    assert dirs[(1, 900)] == tmp_path / "data" / "PMT_1_2" / "900"  # alone: unchanged
    assert dirs[(1, 1000)].parent.name.startswith("PMT_1_2-")


def test_22_1_led_off_runs_of_points_and_of_low_light_runs_never_share_a_folder(tmp_path):
    from pmtgain.io.runfiles import load_spe

    info = tmp_path / "data_info"
    info.mkdir()
    (info / "data_directories_pmt_1.txt").write_text("https://h/a/PMT_1/1000/ 1 1000 5\n")
    (info / "spe_pmt_2.txt").write_text("https://h/b/PMT_2/1000/ 2 1000 5\n")
    (info / "ledoff_pmt_1.txt").write_text("https://h/pmt1/ledoff/1000/ 1 1000 5\n")
    (info / "ledoff_pmt_2.txt").write_text("https://h/pmt2/ledoff/1000/ 2 1000 5\n")
    a = load_campaign(info)[0].extra["ledoff"]
    b = load_spe(info)[0].extra["ledoff"]
    assert local_dir(tmp_path / "data", a) != local_dir(tmp_path / "data", b)


def test_key_value_fields_say_what_the_files_are(tmp_path):
    from pmtgain.io.campaign import read_settings

    f = tmp_path / "data_directories_pmt_7.txt"
    f.write_text("/bench/run42/ 7 1100 1 -0.01 files=run42.root tree=t1 branch=wf0 dt_ns=2 "
                 "volts_per_code=0.00012207\n"
                 "https://s3.example/b/x?sig=a=b 7 1200 2 files=w0.dat,w1.dat format=wavedump"
                 " dt_ns=4 volts_per_code=1e-4\n")
    a, b = parse_campaign_file(f)
    assert a.files == ("run42.root",) and a.cut_V == -0.01
    s = read_settings(a)
    assert (s.tree, s.branch, s.dt_ns, s.volts_per_code) == ("t1", "wf0", 2.0, 0.00012207)
    assert b.dir_url == "https://s3.example/b/x?sig=a=b/" and b.file_names() == ["w0.dat",
                                                                                "w1.dat"]
    assert read_settings(b).format == "wavedump"


@pytest.mark.parametrize("fields,why", [
    ("dtns=2", ":1: unknown field dtns="),
    ("format=wavedump dt_ns=2", ":1: format=wavedump needs volts_per_code"),
    ("dt_ns=-1", ":1: dt_ns=-1 must be positive"),
    ("files=a.npy,b.npy", ":1: files= lists 2 names, n_files is 3"),
    ("files=../x.npy", ":1: files='../x.npy': a name in dir_url itself"),
    ("files=sub/x.npy", ":1: files='sub/x.npy': a name in dir_url itself"),
    ("files=a.npy,a.npy,b.npy", ":1: files= names a file twice"),
    ("dt_ns=2 dt_ns=3", ":1: dt_ns= is given twice"),
])
def test_bad_key_value_fields_name_the_line(tmp_path, fields, why):
    f = tmp_path / "data_directories_pmt_7.txt"
    f.write_text(f"/bench/run42/ 7 1100 3 {fields}\n")
    with pytest.raises(CampaignError, match=re.escape(why)):
        parse_campaign_file(f)


def test_a_pattern_needs_a_local_dir_url(tmp_path):
    f = tmp_path / "data_directories_pmt_7.txt"
    f.write_text("https://s3.example/run/ 7 1100 3 files=*.root\n")
    with pytest.raises(CampaignError, match="a pattern needs a local dir_url"):
        parse_campaign_file(f)

import json
import subprocess
import sys

import numpy as np

from pmtgain.io.trc import read_trc
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def run(*args):
    return subprocess.run([sys.executable, "-m", "pmtgain", *args], capture_output=True,
                          text=True)


def test_inspect_json_and_export_csv(tmp_path):
    write_point(tmp_path, DEMO_PMTS[0], 900, 2)
    f = tmp_path / "C1--n16deg--00001.trc"
    r = run("inspect", str(f), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    for key in ("instrument", "template", "bits", "little_endian", "segments",
                "points_per_segment", "dt_s", "t0_s", "vertical_gain", "vertical_offset",
                "trigger_times_s"):
        assert key in info
    assert info["points_per_segment"] == 502 and info["bits"] == 8
    out = tmp_path / "w.csv"
    r = run("export", str(f), "--csv", str(out))
    assert r.returncode == 0, r.stderr
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    tr = read_trc(f)
    np.testing.assert_array_equal(rows[:, 2], tr.volts[0])
    np.testing.assert_array_equal(rows[:, 1], tr.time[0])
    assert run("inspect", str(f)).stdout.count("\n") > 10


def test_bad_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.trc"
    bad.write_bytes(b"#9000000100" + b"WAVEDESC" + b"\0" * 30)
    for args in (("inspect", str(bad)), ("export", str(bad), "--csv", str(tmp_path / "o"))):
        r = run(*args)
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bad) in lines[0] and "truncated" in lines[0]
        assert "Traceback" not in r.stderr


def test_simulate_writes_the_gin_layout_with_truth(tmp_path):
    r = run("simulate", str(tmp_path), "--pmts", "2", "--hv", "800", "1200", "--n", "5")
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_path / "PMT_2_2" / "1200" / "Autosave").glob("*.trc"))
    assert [f.name for f in files][:2] == ["C1--n16deg--00000.trc", "C1--n16deg--00001.trc"]
    assert len(files) == 5
    lines = (tmp_path / "data_info" / "data_directories_pmt_2.txt").read_text().split("\n")
    parts = lines[1].split()
    assert parts[1:4] == ["2", "1200", "5"] and float(parts[4]) < 0
    truth = (tmp_path / "truth" / "summary.csv").read_text()
    assert "true_mean_charge_pC" in truth and truth.count("\n") == 3


def test_inspect_and_export_other_formats_with_what_they_lack(tmp_path):
    from devtools.writers import write_wavedump

    codes = np.full((3, 100), 15500, np.uint16)
    codes[:, 40:45] = 15000
    f = tmp_path / "wave0.dat"
    write_wavedump(f, codes, np.arange(3) * 125_000)
    r = run("inspect", str(f), "--json", "--set", "dt_ns=2", "--set",
            "volts_per_code=0.0001")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["format"] == "wavedump" and info["segments"] == 3 and info["dt_s"] == 2e-9
    r = run("export", str(f), "--csv", str(tmp_path / "w.csv"), "--format", "wavedump",
            "--set", "dt_ns=2", "--set", "volts_per_code=0.0001")
    assert r.returncode == 0, r.stderr
    rows = np.loadtxt(tmp_path / "w.csv", delimiter=",", skiprows=1)
    assert rows.shape == (300, 3) and rows[40, 2] == 1.5
    r = run("inspect", str(f))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert str(f) in r.stderr and "give dt_ns= and volts_per_code=" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("inspect", str(f), "--set", "dtns=2")
    assert r.returncode == 2 and "unknown field dtns=" in r.stderr

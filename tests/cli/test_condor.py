"""cli/condor.py: list_directories_condor.py and pmtgain condor's parser (the HTCondor flow
itself: tests/condor/test_pool.py). The mains run in subprocesses, as users run them."""

import subprocess
import sys
from pathlib import Path

import pytest

from pmtgain.cli.condor import condor_parser
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_dirs_main_makes_every_folder_once_and_says_so(tmp_path):
    info = simulate_campaign(tmp_path / "sim", DEMO_PMTS[:1], hv=[900, 1000], n=2) / "data_info"
    args = [str(ROOT / "list_directories_condor.py"), "--data-info", str(info),
            "--data-dir", "data", "--outputs", "out"]
    first = run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "PMT 1: 2 HV points: 900 1000" in first.stdout
    assert (tmp_path / "out" / "condor_errors").is_dir()
    assert len(list((tmp_path / "data").glob("*/*"))) == 2
    again = run(*args, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == first.stdout


def test_a_missing_campaign_is_one_line_and_exit_2(tmp_path):
    r = run(str(ROOT / "list_directories_condor.py"), "--data-info", "nowhere", cwd=tmp_path)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and "nowhere" in err[0], r.stderr


def test_every_condor_command_has_help():
    p = condor_parser()
    for cmd in ("submit", "status", "wait", "retrieve", "resubmit"):
        with pytest.raises(SystemExit) as e:
            p.parse_args([cmd, "--help"])
        assert e.value.code == 0


def test_status_without_a_submission_says_so_in_one_line(tmp_path):
    r = run("-m", "pmtgain.condor", "status", "--outputs", str(tmp_path), cwd=tmp_path)
    said = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 1 and len(said) == 1 and "condor_clusters.json" in said[0]

"""The HTCondor entry points that run without a pool (the job body, the directories)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

from pmtgain.simulate import DEMO_PMTS, simulate_campaign

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_list_directories_is_idempotent(tmp_path):
    (tmp_path / "data_info").symlink_to(ROOT / "data_info")
    r = run("list_directories_condor.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "PMT 4: 15 HV points" in r.stdout
    tree = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert "data/PMT_3_881_2/1400" in tree and "outputs/condor_errors" in tree
    r = run("list_directories_condor.py", cwd=tmp_path)
    assert r.returncode == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == tree


def test_job_body_writes_the_original_pickle_and_exit_codes(tmp_path):
    camp = simulate_campaign(tmp_path / "camp", DEMO_PMTS[:1], hv=[1000], n=40)
    url, pmt, hv, n, cut = (camp / "data_info/data_directories_pmt_1.txt").read_text().split()
    job = tmp_path / "job"
    job.mkdir()
    r = run("analysis_condor.py", url, pmt, hv, n, cut, cwd=job)
    assert r.returncode == 0, r.stderr
    df = pd.read_pickle(job / "pmt_data_list.pkl")
    assert list(df.columns[:3]) == ["mean_charge", "std_dev_charge", "hv"] and len(df) == 1
    assert (job / "pmt_waveforms.csv").exists() and "done: 40 of 40" in r.stdout
    # bad input is permanent (65)
    r = run("analysis_condor.py", str(tmp_path / "nowhere") + "/", "1", "1000", "5", cwd=job)
    assert r.returncode == 65 and "failed" in r.stderr
    r = run("analysis_condor.py", url, "one", "1000", "5", cwd=job)
    assert r.returncode == 65

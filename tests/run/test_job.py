"""job.py: one HTCondor job's body, called directly (the door is tested through
exec_condor.sh in test_condor_scripts.py and on a real pool in tests/condor/test_pool.py)."""

import json

import pytest

from pmtgain.results.store import JOB_OUTPUTS, load_table
from pmtgain.run.job import main, run_job
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign


@pytest.fixture
def job_dir(tmp_path, monkeypatch):
    d = tmp_path / "job"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def test_a_job_leaves_every_output_and_a_json_summary(tmp_path, job_dir):
    camp = simulate_campaign(tmp_path / "camp", DEMO_PMTS[:1], hv=[1000], n=30, segments=10)
    url = (camp / "data_info/data_directories_pmt_1.txt").read_text().split()[0]
    assert run_job(url, 1, 1000, 3, None) == 0
    assert all((job_dir / f).exists() for f in JOB_OUTPUTS)
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert s["n_files"] == 3 and s["n_used"] == 30 and s["mean_charge"] < 0
    assert load_table(job_dir / "pmt_flashes.npz").segment.max() == 9


def test_bad_arguments_are_a_permanent_failure(job_dir, capsys):
    assert main(["http://x/", "1", "900", "5", "notanumber"]) == 65
    assert "cut_V 'notanumber' is not a number" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_a_low_light_job_leaves_its_summary_and_spectra(tmp_path, job_dir):
    from pmtgain.sim.simspe import simulate_spe_runs

    simulate_spe_runs(tmp_path / "c", DEMO_PMTS[:1], hv=1300, n=3000, segments=1000)
    url = (tmp_path / "c/data_info/spe_pmt_1.txt").read_text().splitlines()[1].split()[0]
    assert main([url, "1", "1300", "3", "none", "--spe"]) == 0
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert s["kind"] == "spe" and s["n_flashes"] == 3000 and 1.2 < s["occupancy"] < 1.8
    assert (job_dir / "pmt_spectra.npz").stat().st_size > 1000


def test_a_job_reads_its_format_from_the_campaign_line(tmp_path, job_dir):
    import numpy as np

    from devtools.writers import write_wavedump

    rng = np.random.default_rng(3)
    codes = (15500 + rng.normal(0, 3, (300, 200))).astype(np.uint16)
    codes[:, 80:90] -= rng.poisson(40, (300, 1)).astype(np.uint16)  # a square LED pulse
    d = tmp_path / "bench/PMT9/1000"
    d.mkdir(parents=True)
    write_wavedump(d / "wave0.dat", codes, np.arange(300) * 125_000)
    (job_dir / "data_directories_pmt_9.txt").write_text(
        f"{d}/ 9 1000 1 files=wave0.dat dt_ns=2 volts_per_code=0.00012207\n")
    assert run_job(f"{d}/", 9, 1000, 1, None) == 0
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert s["n_used"] == 300 and s["mean_charge"] < 0, s
    (job_dir / "data_directories_pmt_9.txt").write_text(f"{d}/ 9 1000 1 files=wave0.dat\n")
    assert run_job(f"{d}/", 9, 1000, 1, None) == 65  # no scale: named, held
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert "dt_ns= and volts_per_code=" in s["error"], s


def test_a_dark_run_job_counts_with_the_lines_trigger(tmp_path, job_dir):
    from pmtgain.sim.simdark import simulate_dark_runs

    simulate_dark_runs(tmp_path / "c", DEMO_PMTS[:1], hv=1200, n=60, rate_hz=50e3,
                       trigger="self", record_ns=3000.0)
    line = (tmp_path / "c/data_info/dark_pmt_1.txt").read_text().splitlines()[1]
    (job_dir / "dark_pmt_1.txt").write_text(line + "\n")  # what the submit file transfers
    assert main([line.split()[0], "1", "1200", "1", "none", "--kind", "dark"]) == 0
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert s["kind"] == "dark" and s["trigger"] == "self" and s["n_records"] == 60
    assert s["region_ns"] < 3000 and (job_dir / "pmt_spectra.npz").stat().st_size > 500


def test_a_long_record_job_leaves_its_afterpulse_counts(tmp_path, job_dir):
    from pmtgain.sim.simdark import simulate_long_runs

    simulate_long_runs(tmp_path / "c", DEMO_PMTS[:1], hv=1200, n=100,
                       groups=((0.02, 400.0, 40.0),), after_ns=1000.0)
    line = (tmp_path / "c/data_info/afterpulse_pmt_1.txt").read_text().splitlines()[1]
    assert main([line.split()[0], "1", "1200", "1", "none", "--kind", "afterpulse"]) == 0
    s = json.loads((job_dir / "pmt_summary.json").read_text())[0]
    assert s["kind"] == "afterpulse" and s["ap_flashes"] == 100 and s["flag"] == ""

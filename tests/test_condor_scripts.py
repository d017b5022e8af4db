"""The HTCondor entry points that run without a pool (the job body, the directories)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

from pmtgain.results.store import load_examples, load_table
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

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
    assert (job / "pmt_flashes.npz").exists() and "done: 40 of 40" in r.stdout
    ex = load_examples(job / "pmt_examples.npz")
    assert ex is not None and set(ex["name"]) <= set(load_table(job / "pmt_flashes.npz").file)
    # bad input is permanent (65)
    r = run("analysis_condor.py", str(tmp_path / "nowhere") + "/", "1", "1000", "5", cwd=job)
    assert r.returncode == 65 and "failed" in r.stderr
    r = run("analysis_condor.py", url, "one", "1000", "5", cwd=job)
    assert r.returncode == 65


def project_copy(dest: Path) -> Path:
    """The submit side of the project in ``dest``: submit files are written beside it."""
    import shutil

    dest.mkdir()
    for name in ("submit_condor_jobs.sh", "exec_condor.sh", "analysis_condor.py"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("pmtgain", "data_info"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def source(args: str, cwd, env_extra: str = "", project: Path = ROOT
           ) -> subprocess.CompletedProcess:
    """``source submit_condor_jobs.sh`` in an interactive-like bash, then report on it."""
    script = (f"set +e; X=keep; {env_extra} source {project}/submit_condor_jobs.sh {args}; "
              "echo rc=$?; echo opts=$-; echo X=$X; declare -F | grep -c pmtgain; "
              "compgen -v | grep -c pmtgain; echo survived")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "PMTGAIN_PYTHON": sys.executable, "HOME": str(cwd)}
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_submit_files_dry_run_are_readable_and_carry_the_knobs(tmp_path):
    proj = project_copy(tmp_path / "project")
    r = source("--dry-run --data-info data_info --outputs " + str(tmp_path / "out"), tmp_path,
               'PMTGAIN_IMAGE=docker://example/pmtgain:1 PMTGAIN_REQUEST_MEMORY="2 GB" '
               'PMTGAIN_EXTRA_ATTRS=\'+CygnoUser = "shifter";+OWNER = "condor"\' '
               "PMTGAIN_ENGINE=integral PMTGAIN_MAX_RETRIES=5", project=proj)
    assert "rc=0" in r.stdout and "survived" in r.stdout, r.stderr
    assert "PMT 3: wrote analysis_pmt_3.sub (18 jobs), not submitted" in r.stdout
    sub = (proj / "analysis_pmt_3.sub").read_text()
    assert f"executable              = {proj}/exec_condor.sh" in sub
    assert '+SingularityImage        = "docker://example/pmtgain:1"' in sub
    assert "requirements            = HasSingularity" in sub
    assert '+CygnoUser = "shifter"' in sub and '+OWNER = "condor"' in sub
    assert "request_memory          = 2 GB" in sub and "max_retries             = 5" in sub
    assert "--engine integral" in sub
    items = sub.split("from (\n", 1)[1].split("\n)")[0].splitlines()
    assert len(items) == 18 and all(len(i.split()) == 5 for i in items)
    assert items[0].split()[1:4] == ["3", "700", "523"]
    assert not list(ROOT.glob("analysis_pmt_*.sub"))  # nothing written into the checkout
    from pmtgain.condor.submit import input_size

    assert input_size(proj) < 2_000_000  # far below CYGNO's ~10 MB for uploads


def test_sourcing_a_failing_submit_leaves_the_shell_alone(tmp_path):
    r = source("--data-info /nowhere/data_info --dry-run", tmp_path)
    out = r.stdout.splitlines()
    assert "survived" in out and "rc=2" in out and "X=keep" in out
    assert "e" not in next(o for o in out if o.startswith("opts=")).split("=", 1)[1]
    assert out[-3:-1] == ["0", "0"]  # neither functions nor variables left behind
    assert r.stderr.strip().count("\n") == 0 and "/nowhere/data_info" in r.stderr


def test_failed_job_still_leaves_its_outputs(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    r = run("analysis_condor.py", str(tmp_path / "nowhere") + "/", "2", "900", "5", "none",
            cwd=job)
    assert r.returncode == 65
    df = pd.read_pickle(job / "pmt_data_list.pkl")
    assert df.hv[0] == 900 and "no such directory" in df.error[0] and not df.retryable[0]
    assert (job / "pmt_flashes.npz").exists()
    assert (job / "pmt_examples.npz").exists() and load_examples(job / "pmt_examples.npz") is None


def test_exec_condor_creates_every_output_any_kind_of_job_lists():
    """HTCondor holds a job whose listed output is missing: exec_condor.sh makes each one
    a job of any kind (:mod:`pmtgain.kinds`) lists before it can fail."""
    import re

    from pmtgain.kinds import KINDS

    line = re.search(r"for f in ([^;]+); do", (ROOT / "exec_condor.sh").read_text())[1]
    assert {n for k in KINDS.values() for n in k.job_outputs} <= set(line.split())

"""submit.py: the submit file's text, its knobs and the inputs' size, directly
(the dry run through submit_condor_jobs.sh: test_condor_scripts.py; a real pool:
tests/condor/test_pool.py)."""

from pathlib import Path

from pmtgain.condor.submit import SubmitOptions, input_size, submit_description
from pmtgain.config import PointSpec
from pmtgain.results.store import JOB_OUTPUTS

ROOT = Path(__file__).resolve().parents[2]


def test_one_job_per_point_every_path_absolute_and_the_job_outputs(tmp_path):
    pts = [PointSpec(pmt=2, hv=hv, n_files=10, dir_url=f"https://s3/x/PMT_2/{hv}/",
                     cut_V=None if hv == 900 else -0.004) for hv in (800, 900)]
    info = tmp_path / "data_info" / "data_directories_pmt_2.txt"
    info.parent.mkdir()
    info.write_text("x\n")
    (info.parent / "shapes.csv").write_text("pmt,hv,tau_s_ns,tau_ns,jitter_ns\n")
    opts = SubmitOptions.from_env({"PMTGAIN_ENGINE": "integral", "PMTGAIN_MAX_RETRIES": "2"})
    sub = submit_description(2, pts, project=ROOT, outputs=tmp_path / "outputs",
                             info_file=info, opts=opts)
    assert f"executable              = {ROOT / 'exec_condor.sh'}" in sub
    assert "--engine integral" in sub and "max_retries             = 2" in sub
    items = sub.split("from (\n", 1)[1].split("\n)")[0].splitlines()
    assert [i.split()[1:] for i in items] == [["2", "800", "10", "-0.004"],
                                              ["2", "900", "10", "none"]]
    assert f"transfer_output_files   = {', '.join(JOB_OUTPUTS)}" in sub
    assert str(info.parent / "shapes.csv") in sub  # weak points get the shape table
    assert input_size(ROOT) < 2_000_000


def test_23_3_the_queue_remembers_how_each_cluster_was_submitted():
    """status, wait, retrieve and resubmit use the schedd, pool and every option a
    cluster was submitted with, unless a flag or variable given now says otherwise."""
    from pmtgain.condor.queue import _where
    from pmtgain.condor.submit import SubmitOptions

    at_submit = SubmitOptions(schedd="sn-01.cygno", pool="cm.cygno", image="docker://x/p:1",
                              request_memory="3 GB", extra_attrs=['+CygnoUser = "me"'],
                              engine="integral", max_retries=5)
    recs = [dict(cluster=7, pmt=1, options=at_submit.to_record()),
            dict(cluster=8, pmt=2, schedd="old-schedd", pool=None)]  # an older record
    now = SubmitOptions.from_env({})
    back = SubmitOptions.remembered(recs[0], now)
    assert back.to_record() == at_submit.to_record()
    assert _where(recs, now) == {("sn-01.cygno", "cm.cygno"): [7], ("old-schedd", None): [8]}
    # a variable or a flag given now wins, for that field only
    env = SubmitOptions.from_env({"PMTGAIN_SCHEDD": "sn-02.cygno"})
    assert env.explicit == {"schedd"}
    back = SubmitOptions.remembered(recs[0], env)
    assert (back.schedd, back.pool, back.image) == ("sn-02.cygno", "cm.cygno", "docker://x/p:1")
    assert _where(recs, env) == {("sn-02.cygno", "cm.cygno"): [7], ("sn-02.cygno", None): [8]}


def test_23_7_a_private_buckets_token_reaches_jobs_as_a_file_never_in_the_submit_file(
        tmp_path, monkeypatch):
    import pytest

    from pmtgain.errors import CondorError
    from pmtgain.io.http import Client

    token = tmp_path / "tok"
    token.write_text("s3cr3t-token\n")
    token.chmod(0o600)
    pts = [PointSpec(pmt=1, hv=800, n_files=3, dir_url="https://s3/x/PMT_1/800/")]
    info = tmp_path / "data_directories_pmt_1.txt"
    info.write_text("x\n")
    opts = SubmitOptions.from_env({"PMTGAIN_HTTP_TOKEN_FILE": str(token)})
    sub = submit_description(1, pts, project=ROOT, outputs=tmp_path / "o", info_file=info,
                             opts=opts)
    assert str(token) in sub.split("transfer_input_files", 1)[1].splitlines()[0]
    assert "PMTGAIN_HTTP_TOKEN_FILE=tok" in sub and "s3cr3t" not in sub
    # in the job: the token from the file in its sandbox, as a bearer header
    monkeypatch.delenv("PMTGAIN_HTTP_TOKEN", raising=False)
    monkeypatch.setenv("PMTGAIN_HTTP_TOKEN_FILE", str(token))
    assert Client().headers["Authorization"] == "Bearer s3cr3t-token"
    token.chmod(0o644)  # readable by others: refused before anything is submitted
    with pytest.raises(CondorError, match="chmod 600"):
        submit_description(1, pts, project=ROOT, outputs=tmp_path / "o", info_file=info,
                           opts=opts)


def test_a_pmts_dark_runs_get_their_own_submit_file_and_outputs(tmp_path):
    from pmtgain.condor.submit import submit_campaign

    info = tmp_path / "data_info"
    info.mkdir()
    (info / "data_directories_pmt_3.txt").write_text("https://s3/x/PMT_3/900/ 3 900 5\n")
    (info / "dark_pmt_3.txt").write_text("https://s3/x/PMT_3/dark/ 3 900 2 trigger=self\n")
    (info / "spe_pmt_3.txt").write_text("https://s3/x/PMT_3/spe/ 3 1300 4\n")
    project = tmp_path / "proj"
    project.mkdir()
    for f in ("analysis_condor.py", "exec_condor.sh"):
        (project / f).write_text("")
    (project / "pmtgain").mkdir()
    submit_campaign(project, info, tmp_path / "outputs", SubmitOptions(), dry_run=True)
    dark = (project / "analysis_pmt_3_dark.sub").read_text()
    assert "--kind dark" in dark and "dark_3_$(hv)_summary.json" in dark
    assert "pmt_spectra.npz = " in dark and str(info / "dark_pmt_3.txt") in dark
    assert "--kind spe" in (project / "analysis_pmt_3_spe.sub").read_text()
    assert "--kind" not in (project / "analysis_pmt_3.sub").read_text()

"""HTCondor end to end on the real pool of ``scripts/condor-pool.sh``, as the submit user.

Demo-like campaign served from loopback HTTP -> list_directories_condor.py -> ``source
submit_condor_jobs.sh`` -> wait -> condor_transfer_data per cluster -> gain_curve.py; per
point the numbers of analysis.py on the same campaign. One point has bad input (its files
do not exist: 404) and must end held with a readable reason; one point's files fail for
their first six requests (503: the whole first attempt fails) and must be retried by
HTCondor and succeed.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from devtools.devpool import as_user, chown_to_user, pool_problem, project_copy
from pmtgain.sim.demo import serve
from pmtgain.sim.simdark import simulate_dark_runs
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

pytestmark = [pytest.mark.slow, pytest.mark.condor]

ROOT = Path(__file__).resolve().parents[2]
HV = [800, 1000, 1200]
N = 30
FLAKY = (3, 1000)  # its files answer 503 to their first FLAKY_FAILS requests
FLAKY_FAILS = 7  # = the lean first request + 1 + urllib3's 5 retries: the first attempt fails
BAD = (2, 1300)  # no files behind its URL
DOWN = (1, 1300)  # its server is down (nothing listens): held after its last retry
DARK_HV = 1100  # PMT 1's dark run


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pool_or_skip():
    why = pool_problem()
    if why:
        if os.environ.get("PMTGAIN_REQUIRE_CONDOR") == "1":
            pytest.fail(why)
        pytest.skip(why)


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: dict[str, int] = {}
    lock = threading.Lock()
    flaky_prefix = ""

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.flaky_prefix and self.path.startswith(self.flaky_prefix):
            with self.lock:
                n = self.hits[self.path] = self.hits.get(self.path, 0) + 1
            if n <= FLAKY_FAILS:
                self.send_response(503)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"busy")
                return
        super().do_GET()


@pytest.fixture(scope="module")
def condor_run():
    _pool_or_skip()
    work = Path(tempfile.mkdtemp(prefix="pmtgain-condor-"))
    try:
        project_copy(work)
        camp = simulate_campaign(work / "served" / "camp", DEMO_PMTS, hv=HV, n=N, seed=7)
        # a dark run of PMT 1 (self-triggered): a job of its own kind
        simulate_dark_runs(camp, DEMO_PMTS[:1], hv=DARK_HV, n=120, rate_hz=200e3,
                           trigger="self", record_ns=4000.0)
        handler = type("H", (_Handler,), {"hits": {}, "flaky_prefix": ""})
        url, server = serve(functools.partial(handler, directory=str(work / "served")))
        base = url + "camp/"
        (work / "data_info").mkdir()
        # each PMT's excess noise factor travels with the campaign, not with the jobs
        shutil.copy(camp / "data_info" / "enf.txt", work / "data_info" / "enf.txt")
        for f in sorted((camp / "data_info").glob("d*_pmt_*.txt")):  # points, dark runs
            lines = ["# demo campaign for the condor test"]
            for line in f.read_text().splitlines():
                if line.startswith("#"):
                    continue
                url, pmt, hv, n, *cut = line.split()
                rel = url.split("/camp/", 1)[1] if "/camp/" in url else \
                    url[url.index("camp") + 5:]
                lines.append(" ".join([base + rel, pmt, hv, n, *cut]))
                if (int(pmt), int(hv)) == FLAKY:
                    handler.flaky_prefix = "/camp/" + rel
            if f.name == f"data_directories_pmt_{BAD[0]}.txt":
                lines.append(f"{base}nowhere/{BAD[1]}/ {BAD[0]} {BAD[1]} {N} -0.003")
            if f.name == f"data_directories_pmt_{DOWN[0]}.txt":
                lines.append(f"http://127.0.0.1:{_closed_port()}/PMT_1_2/{DOWN[1]}/ "
                             f"{DOWN[0]} {DOWN[1]} {N} -0.003")
            (work / "data_info" / f.name).write_text("\n".join(lines) + "\n")
        assert handler.flaky_prefix
        chown_to_user(work)

        steps = {}
        steps["list"] = as_user("python3 list_directories_condor.py", work)
        # the same in a copy of the project that belongs to root, not to the submit user
        theirs = work / "not_mine"
        theirs.mkdir()
        shutil.copytree(work / "data_info", theirs / "data_info")
        shutil.copy(work / "list_directories_condor.py", theirs)
        os.symlink(work / "pmtgain", theirs / "pmtgain")
        os.chown(theirs, 0, 0)
        steps["list_not_mine"] = as_user("python3 list_directories_condor.py", theirs)
        t0 = time.perf_counter()
        steps["submit"] = as_user(
            "set +e; X=keep; source submit_condor_jobs.sh; echo rc=$?; echo opts=$-; "
            "echo X=$X; declare -F | grep -c pmtgain; compgen -v | grep -c pmtgain", work)
        clusters = [r["cluster"] for r in
                    json.loads((work / "outputs" / "condor_clusters.json").read_text())]
        ids = " || ".join(f"ClusterId == {c}" for c in clusters)
        steps["wait"] = as_user("pmtgain condor wait --timeout 900", work,
                                timeout=960)
        steps["pool_seconds"] = time.perf_counter() - t0
        steps["status"] = as_user("pmtgain condor status", work)
        steps["held"] = as_user(f'condor_q -constraint "{ids}" -af PmtgainPMT HV HoldReason',
                                work)
        steps["transfer"] = [as_user(f"condor_transfer_data {c}", work) for c in clusters]
        # spooled jobs stay in the queue (Completed) until removed: ask the queue
        steps["history"] = as_user(
            f'condor_q -constraint "({ids}) && JobStatus == 4" '
            '-af PmtgainPMT HV NumJobStarts ExitCode', work)
        steps["gain"] = as_user(
            "python3 gain_curve.py --source condor_lists --plots --no-progress", work)
        steps["resubmit"] = as_user("pmtgain condor resubmit --dry-run", work)
        steps["retrieve"] = as_user("pmtgain condor retrieve", work)
        steps["queue_after"] = as_user(
            f'condor_q -constraint "({ids}) && JobStatus == 4" -af ProcId', work)
        # analysis.py on the same campaign, locally (the flaky files now answer)
        t0 = time.perf_counter()
        steps["local"] = subprocess.run(
            [sys.executable, str(work / "analysis.py"), "--data-info", str(work / "data_info"),
             "--outputs", str(work / "local_out"), "--data-dir", str(work / "local_data")],
            capture_output=True, text=True, cwd=work, timeout=900)
        steps["local_seconds"] = time.perf_counter() - t0
        yield work, steps, clusters
        server.shutdown()
        server.server_close()
    finally:
        as_user("condor_rm -all", Path("/tmp"))
        shutil.rmtree(work, ignore_errors=True)


def test_submit_is_safe_to_source_and_records_clusters(condor_run):
    work, steps, clusters = condor_run
    r = steps["submit"]
    assert "rc=0" in r.stdout, r.stdout + r.stderr
    assert "X=keep" in r.stdout
    opts = next(line for line in r.stdout.splitlines() if line.startswith("opts="))
    assert "e" not in opts.split("=", 1)[1]  # no set -e left behind
    assert r.stdout.strip().splitlines()[-2:] == ["0", "0"]  # no functions, no variables
    assert len(clusters) == 5  # a submit file per PMT, and PMT 1's dark runs
    assert "--kind dark" in (work / "analysis_pmt_1_dark.sub").read_text()
    for pmt in range(1, 5):
        sub = (work / f"analysis_pmt_{pmt}.sub").read_text()
        assert "queue dir_url, i_pmt, hv, n_files, cut_V from (" in sub
        assert "max_retries" in sub and "transfer_output_remaps" in sub


def test_every_good_point_matches_analysis_py(condor_run):
    work, steps, clusters = condor_run
    assert all(t.returncode == 0 for t in steps["transfer"]), [t.stderr for t in
                                                               steps["transfer"]]
    assert steps["local"].returncode == 1  # the bad point fails locally too
    local = pd.concat(pd.read_pickle(f) for f in (work / "local_out/lists").glob("*.pkl"))
    weak = []
    for p in DEMO_PMTS:
        for hv in HV:
            f = work / "outputs/condor_lists" / f"pmt_{p.pmt}_{hv}_data_list.pkl"
            assert f.exists(), f"{f.name} missing; status:\n{steps['status'].stdout}"
            job = pd.read_pickle(f).iloc[0]
            ref = local[(local.pmt == p.pmt) & (local.hv == hv)].iloc[0]
            if ref.shape_source == "table":
                # a point too weak for its own shape: analysis.py's second pass gave it the
                # PMT's shape table; a job sees one point and says so (until the campaign
                # carries data_info/shapes.csv: docs/design.md)
                assert job.shape_source == "own-weak" and "pulse shape" in job.point_flag
                weak.append((p.pmt, hv))
                continue
            for col in ("mean_charge", "std_dev_charge", "n_used"):
                # the jobs run the pool root's numpy/scipy (Debian trixie), analysis.py
                # the project's .venv: the same numbers to rounding
                assert np.isclose(job[col], ref[col], rtol=1e-7, atol=0), (p.pmt, hv, col)
            assert (work / "outputs/condor_lists" / f"pmt_{p.pmt}_{hv}_flashes.npz").exists()
            assert (work / "outputs/condor_outputs" / f"pmt_{p.pmt}_{hv}_analysis.out").exists()
    assert len(weak) < len(DEMO_PMTS) * len(HV) // 2, weak


def test_bad_input_is_held_with_its_reason_and_named_missing(condor_run):
    work, steps, clusters = condor_run
    held = steps["held"].stdout.strip().splitlines()
    mine = [h for h in held if h.startswith(f"{BAD[0]} {BAD[1]} ")]
    assert mine, steps["held"].stdout
    assert "HTTP 404" in mine[0] and mine[0].count(f"PMT {BAD[0]} at {BAD[1]} V") == 1
    assert f"held: PMT {BAD[0]} at {BAD[1]} V" in steps["status"].stdout
    g = steps["gain"]
    assert g.returncode == 0, g.stderr
    assert f"PMT {BAD[0]} at {BAD[1]} V" in g.stderr
    assert (work / "outputs/gain_curves.png").stat().st_size > 10_000
    # the diagnostics from what the jobs sent back (examples included), and the report
    good = [(p.pmt, hv) for p in DEMO_PMTS for hv in HV if (p.pmt, hv) != BAD]
    for pmt, hv in good:
        assert (work / f"outputs/condor_lists/pmt_{pmt}_{hv}_examples.npz").stat().st_size
        assert (work / f"outputs/plots/pmt_{pmt}/pmt_{pmt}_{hv}V.png").exists()
    assert f"{len(good)} drawn" in g.stdout, g.stdout
    page = (work / "outputs/report.html").read_text()
    assert f"PMT {BAD[0]} at {BAD[1]} V failed:" in page and "HTTP 404" in page
    # the jobs' gains (default F) are re-weighed at the merge with the campaign's F
    assert "PMT 2 1.25 (enf.txt)" in g.stdout and "PMT 4 1.3 (enf.txt)" in g.stdout


def test_transient_failure_is_retried_and_succeeds(condor_run):
    work, steps, clusters = condor_run
    rows = [line.split() for line in steps["history"].stdout.strip().splitlines()]
    flaky = [r for r in rows if (int(r[0]), int(r[1])) == FLAKY]
    assert flaky and int(flaky[0][2]) >= 2 and flaky[0][3] == "0", steps["history"].stdout
    others = [r for r in rows if (int(r[0]), int(r[1])) not in (FLAKY, BAD)]
    assert others and all(int(r[2]) == 1 for r in others)


def test_retrieve_removes_completed_jobs(condor_run):
    work, steps, clusters = condor_run
    assert steps["wait"].returncode == 0 and "held 2" in steps["wait"].stdout, steps["wait"]
    assert steps["retrieve"].returncode == 0, steps["retrieve"].stderr
    assert steps["queue_after"].stdout.strip() == ""
    print(f"\npool {steps['pool_seconds']:.1f} s (submit to all finished) vs analysis.py "
          f"{steps['local_seconds']:.1f} s")


def test_resubmit_picks_only_the_failed_point(condor_run):
    work, steps, clusters = condor_run
    r = steps["resubmit"]
    assert r.returncode == 0, r.stderr
    subs = sorted(work.glob("analysis_pmt_*_resubmit*.sub"))
    assert [s.name for s in subs] == [f"analysis_pmt_{p}_resubmit1.sub"
                                      for p in sorted({BAD[0], DOWN[0]})], r.stdout
    for s in subs:
        items = s.read_text().split("from (\n", 1)[1].split("\n)")[0].splitlines()
        assert [i.split()[1:3] for i in items] in ([[str(BAD[0]), str(BAD[1])]],
                                                    [[str(DOWN[0]), str(DOWN[1])]])


def test_23_1_the_readmes_commands_run_verbatim_as_the_submit_user(condor_run):
    """`pmtgain condor status|wait|retrieve|resubmit` as the README spells them (the
    pool's submit environment has the entry point, as `pip install .` gives)."""
    work, steps, clusters = condor_run
    for k in ("wait", "status", "resubmit", "retrieve"):
        assert steps[k].returncode == 0 and "command not found" not in steps[k].stderr, \
            (k, steps[k].stderr)
    readme = (ROOT / "README.md").read_text()
    for cmd in ("pmtgain condor status", "pmtgain condor wait", "pmtgain condor resubmit",
                "pmtgain condor retrieve", "python3 list_directories_condor.py",
                "source submit_condor_jobs.sh", "python3 gain_curve.py"):
        assert cmd in readme, cmd


def test_23_4_a_stopped_server_ends_held_with_its_reason_after_the_retries(condor_run):
    work, steps, clusters = condor_run
    held = [h for h in steps["held"].stdout.strip().splitlines()
            if h.startswith(f"{DOWN[0]} {DOWN[1]} ")]
    assert held, steps["held"].stdout
    assert "refused" in held[0] and "timed out" not in held[0], held[0]
    assert "after 4 attempts" in held[0], held[0]
    g = steps["gain"]  # the merge names it, says what it merged, and warns of nothing else
    assert f"PMT {DOWN[0]} at {DOWN[1]} V" in g.stderr and "refused" in g.stderr, g.stderr
    assert "merging" in g.stdout and "condor_lists (the HTCondor jobs)" in g.stdout
    assert "Warning" not in g.stderr, g.stderr


def test_23_5_a_project_of_another_user_is_one_line(condor_run):
    work, steps, clusters = condor_run
    r = steps["list_not_mine"]
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    line = r.stderr.strip().splitlines()
    assert len(line) == 1 and "belongs to root" in line[0] and "pmtuser" in line[0], line


def test_a_dark_run_job_matches_analysis_py(condor_run):
    """The dark run's job leaves what analysis.py saves, number for number, and the merge
    of the jobs' results lists it."""
    work, steps, clusters = condor_run
    job = json.loads((work / f"outputs/condor_lists/dark_1_{DARK_HV}_summary.json"
                      ).read_text())[0]
    ref = json.loads((work / f"local_out/lists/dark/dark_1_{DARK_HV}_summary.json"
                      ).read_text())[0]
    assert job["trigger"] == ref["trigger"] == "self" and job["n_records"] == 120
    for key in ("dark_counts_neg", "dark_counts_pos", "dark_live_s", "noise_V"):
        assert job[key] == pytest.approx(ref[key], rel=1e-9) if isinstance(ref[key], float) \
            else job[key] == ref[key], key
    assert "dark-count rate from its dark runs at" in steps["gain"].stdout
    runs = pd.read_csv(work / "outputs/lists/dark_runs.csv")
    assert runs.hv.tolist() == [DARK_HV]

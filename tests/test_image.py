"""The HTCondor job image, built from the Dockerfile unmodified and run.

As root with podman (``scripts/image.sh``: Debian's podman, buildah and runc, a local base
image where no registry answers): build the image, run one real job inside it through
``exec_condor.sh`` against a loopback HTTP server, as HTCondor would start it in the
job's sandbox, and check its numbers are ``analysis.py``'s on the same files. The
``WITH_ROOT=1`` image runs a job with the ROOT engine. Skipped elsewhere, with the reason
(``PMTGAIN_REQUIRE_IMAGE=1``: a failure instead, as in CI).
"""

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devtools.devpool import project_copy
from pmtgain.sim.demo import serve
from pmtgain.sim.simulate import DEMO_PMTS, write_point

pytestmark = [pytest.mark.slow, pytest.mark.image]

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "scripts" / "image.sh"


def _image_or_skip():
    why = None
    if os.geteuid() != 0:
        why = "podman builds here as root"
    elif shutil.which("podman") is None and shutil.which("apt-get") is None:
        why = "no podman and no apt-get to install it"
    if why:
        if os.environ.get("PMTGAIN_REQUIRE_IMAGE") == "1":
            pytest.fail(why)
        pytest.skip(why)


def _build(*flag: str) -> None:
    r = subprocess.run(["bash", str(IMAGE), "build", *flag], capture_output=True,
                       text=True, timeout=1800)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


@pytest.fixture(scope="module")
def served():
    """One point (PMT 1 at 1000 V, 40 flashes) on a loopback HTTP server."""
    d = Path(tempfile.mkdtemp(prefix="pmtgain-image-"))
    write_point(d / "served" / "PMT_1_2" / "1000", DEMO_PMTS[0], 1000, 40, seed=11)
    url, server = serve(functools.partial(
        __import__("http.server").server.SimpleHTTPRequestHandler, directory=str(d / "served")))
    yield d, url + "PMT_1_2/1000/"
    server.shutdown()
    server.server_close()
    shutil.rmtree(d, ignore_errors=True)


def _job_in_image(d: Path, url: str, engine: str, *flag: str) -> dict:
    """``exec_condor.sh`` in a sandbox holding what the submit file transfers, inside the
    image, as the image's own user (as HTCondor runs the submitter)."""
    box = d / f"sandbox-{engine}"
    project_copy(box)
    box.chmod(0o777)
    r = subprocess.run(["bash", str(IMAGE), "run", *flag, "bash", "exec_condor.sh", url, "1",
                        "1000", "40", "none", "--engine", engine], cwd=box,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return json.loads((box / "pmt_summary.json").read_text())[0]


def _analysis(d: Path, url: str, engine: str) -> dict:
    info = d / f"info-{engine}"
    info.mkdir(exist_ok=True)
    (info / "data_directories_pmt_1.txt").write_text(f"{url} 1 1000 40\n")
    out = d / f"local-{engine}"
    r = subprocess.run([sys.executable, str(ROOT / "analysis.py"), "--data-info", str(info),
                        "--outputs", str(out), "--data-dir", str(d / f"data-{engine}"),
                        "--engine", engine, "--no-progress"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads((out / "lists" / "pmt_1_data_list.json").read_text())[0]


def _same_numbers(job: dict, local: dict) -> None:
    for k in ("mean_charge", "std_dev_charge", "n_used", "n_flashes"):
        assert job[k] == pytest.approx(local[k], rel=1e-9), (k, job[k], local[k])


def test_23_2_a_job_runs_in_the_image_and_its_numbers_are_analysis_pys(served):
    _image_or_skip()
    _build()
    d, url = served
    # the header's command, in the image's working directory
    r = subprocess.run(["bash", str(IMAGE), "run", "python3", "/opt/pmtgain/analysis.py",
                        "--help"], cwd=d, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "--demo" in r.stdout, r.stderr
    _same_numbers(_job_in_image(d, url, "fast"), _analysis(d, url, "fast"))
    _same_numbers(_job_in_image(d, url, "integral"), _analysis(d, url, "integral"))


def test_23_2_the_root_image_runs_the_root_engine(served):
    """The WITH_ROOT=1 image has g++, which ROOT's cling needs (before: jobs exit 65)."""
    _image_or_skip()
    _build("--root")
    d, url = served
    job = _job_in_image(d, url, "root", "--root")
    assert job["engine"] == "root" and job["n_used"] == 40, job
    if _root_here():  # the same engine here: the same numbers
        _same_numbers(job, _analysis(d, url, "root"))


def _root_here() -> bool:
    r = subprocess.run([sys.executable, "-c", "import ROOT"], capture_output=True, timeout=120)
    return r.returncode == 0


def test_23_2_the_image_exports_as_an_oci_archive_for_apptainer(tmp_path):
    """``scripts/image.sh save``: what ``apptainer build x.sif oci-archive://x.tar`` reads
    (an OCI image layout in a tar: oci-layout, index.json, blobs)."""
    import tarfile

    _image_or_skip()
    _build()
    out = tmp_path / "pmtgain.tar"
    r = subprocess.run(["bash", str(IMAGE), "save", str(out)], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "apptainer build" in r.stderr
    with tarfile.open(out) as t:
        names = set(t.getnames())
    assert {"oci-layout", "index.json"} <= names and any(n.startswith("blobs/") for n in names)

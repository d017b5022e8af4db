"""The development HTCondor pool of ``scripts/condor-pool.sh``, for tests and benchmarks.

What to use when
----------------
- :func:`pool_problem` - why the pool cannot be used here (None when it can): HTCondor not
  installed, not root, pool not running, no job environment.
- :func:`project_copy` - copy the project's job files into a directory the submit user
  can read (root's checkout usually is not), owned by that user.
- :func:`as_user` - run a bash command line as the submit user, with the job
  environment's Python first on PATH (the stand-in for the CYGNO submit container).

Root cannot submit to this pool (``docs/design.md``), hence the separate submit user
``pmtuser`` (``PMTGAIN_CONDOR_USER``) and job environment ``/opt/pmtgain-jobenv``
(``PMTGAIN_JOBENV``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER = os.environ.get("PMTGAIN_CONDOR_USER", "pmtuser")
JOBENV = Path(os.environ.get("PMTGAIN_JOBENV", "/opt/pmtgain-jobenv"))
PROJECT_FILES = ("pmtgain", "analysis.py", "analysis_condor.py", "exec_condor.sh",
                 "submit_condor_jobs.sh", "list_directories_condor.py", "gain_curve.py")


def pool_problem() -> str | None:
    """Why the development pool cannot run jobs here, or None."""
    if shutil.which("condor_q") is None:
        return "HTCondor is not installed (scripts/condor-pool.sh install)"
    if os.geteuid() != 0:
        return f"jobs are submitted as the user {USER} through runuser: run as root"
    names = subprocess.run(["condor_status", "-af", "Name"], capture_output=True,
                           text=True).stdout.strip()
    if not names:
        return "the pool is not running (scripts/condor-pool.sh start)"
    if not (JOBENV / "bin" / "python").exists():
        return f"no job environment at {JOBENV} (scripts/condor-pool.sh jobenv)"
    return None


def project_copy(work: Path) -> Path:
    """Copy the job files of this checkout into ``work`` (created), readable by the
    submit user; ``chown_to_user`` must follow once everything is in place."""
    work.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, work / name)
    return work


def chown_to_user(work: Path) -> None:
    """Give ``work`` to the submit user (the jobs' outputs come back into it)."""
    subprocess.run(["chown", "-R", f"{USER}:", str(work)], check=True)
    os.chmod(work, 0o755)


def as_user(cmd: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``cmd`` with bash as the submit user in ``cwd``, the job environment first on
    PATH and as the jobs' interpreter."""
    env = f"PATH={JOBENV}/bin:/usr/bin:/bin HOME=/home/{USER}"
    full = f"cd {cwd} && env {env} PMTGAIN_JOB_PYTHON={JOBENV}/bin/python bash -c '{cmd}'"
    return subprocess.run(["runuser", "-u", USER, "--", "bash", "-c", full],
                          capture_output=True, text=True, timeout=timeout)

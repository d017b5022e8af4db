"""The development HTCondor pool of ``scripts/condor-pool.sh``, for tests and benchmarks.

The pool lives in a Debian trixie root of its own (default ``/var/lib/pmtgain-pool``,
``PMTGAIN_POOL_ROOT``), like the container CYGNO users submit from: minicondor, the submit
user and the jobs' Python are inside it, the host's packages are never touched. The host's
``/tmp`` and the project are bind-mounted at the same paths, so a path means the same
inside and out.

What to use when
----------------
- :func:`pool_problem` - why the pool cannot be used here (None when it can): not root,
  the pool root not built, the pool not running.
- :func:`project_copy` - copy the project's job files into a directory under ``/tmp``
  (visible inside the pool root); :func:`chown_to_user` gives it to the submit user.
- :func:`as_user` - run a bash command line inside the pool root as the submit user, in a
  directory: how the users' commands (``list_directories_condor.py``, ``source
  submit_condor_jobs.sh``, ``condor_transfer_data``, ``gain_curve.py``) are run.

Root cannot submit to HTCondor (``docs/design.md``), hence the submit user ``pmtuser``
(``PMTGAIN_CONDOR_USER``), who exists only inside the pool root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER = os.environ.get("PMTGAIN_CONDOR_USER", "pmtuser")
POOL_ROOT = Path(os.environ.get("PMTGAIN_POOL_ROOT", "/var/lib/pmtgain-pool"))
PROJECT_FILES = ("pmtgain", "analysis.py", "analysis_condor.py", "exec_condor.sh",
                 "submit_condor_jobs.sh", "list_directories_condor.py", "gain_curve.py")
_ENV = ["/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", f"HOME=/home/{USER}",
        "LANG=C.UTF-8", f"USER={USER}", "PMTGAIN_JOB_PYTHON=/usr/bin/python3"]


def inside(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``cmd`` as root inside the pool root."""
    return subprocess.run(["chroot", str(POOL_ROOT), "/usr/bin/env", "-i",
                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *cmd],
                          capture_output=True, text=True, timeout=timeout)


def _mounted(path: Path) -> bool:
    """Whether ``path`` is a mount point (a bind mount from the same filesystem included,
    which ``os.path.ismount`` cannot tell)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    target = str(path).replace(" ", "\\040")
    return any(line.split()[1] == target for line in lines if len(line.split()) > 1)


def pool_problem() -> str | None:
    """Why the development pool cannot run jobs here, or None."""
    if os.geteuid() != 0:
        return f"the pool root is entered with chroot and jobs run as {USER}: run as root"
    if not (POOL_ROOT / "usr" / "sbin" / "condor_master").exists():
        return f"no pool root at {POOL_ROOT} (scripts/condor-pool.sh install)"
    try:
        names = inside("condor_status", "-af", "Name").stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot enter the pool root {POOL_ROOT}: {exc}"
    if not names:
        return "the pool is not running (scripts/condor-pool.sh start)"
    if not _mounted(POOL_ROOT / "tmp"):
        return f"the host's /tmp is not mounted in {POOL_ROOT} (scripts/condor-pool.sh start)"
    return None


def project_copy(work: Path) -> Path:
    """Copy the job files of this checkout into ``work`` (created; under /tmp so that the
    pool root sees it); ``chown_to_user`` must follow once everything is in place."""
    work.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, work / name)
    return work


def chown_to_user(work: Path) -> None:
    """Give ``work`` to the submit user (the jobs' outputs come back into it). The user
    exists only inside the pool root, so the chown runs there."""
    r = inside("chown", "-R", f"{USER}:", str(work))
    if r.returncode:
        raise RuntimeError(f"chown {work} inside {POOL_ROOT}: {r.stderr.strip()}")
    os.chmod(work, 0o755)


def as_user(cmd: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the bash command line ``cmd`` inside the pool root as the submit user, in
    ``cwd``, with the pool root's python3 as ``python3`` and as the jobs' interpreter."""
    import shlex

    # no positional parameters: a sourced script would inherit them as its arguments
    return subprocess.run(["chroot", str(POOL_ROOT), "/usr/sbin/runuser", "-u", USER, "--",
                           *_ENV, "/bin/bash", "-c", f"cd {shlex.quote(str(cwd))} && {cmd}"],
                          capture_output=True, text=True, timeout=timeout)

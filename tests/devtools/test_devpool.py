"""devpool.py: the development pool's checks (the pool itself: tests/condor/test_pool.py)."""

from pathlib import Path

from devtools import devpool


def test_bind_mounts_are_seen_and_a_missing_pool_is_named(tmp_path, monkeypatch):
    assert devpool._mounted(Path("/proc"))
    assert not devpool._mounted(tmp_path)
    monkeypatch.setattr(devpool, "POOL_ROOT", tmp_path / "nowhere")
    why = devpool.pool_problem()
    assert why and ("no pool root" in why or "run as root" in why)


def test_project_copy_holds_the_job_files(tmp_path):
    work = devpool.project_copy(tmp_path / "w")
    for name in devpool.PROJECT_FILES:
        assert (work / name).exists(), name
    assert not list(work.rglob("__pycache__"))


def _pool_script(root: Path, *args: str, path_prefix: str = ""):
    import os
    import subprocess

    env = dict(os.environ, PMTGAIN_POOL_ROOT=str(root))
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(["bash", str(devpool.ROOT / "scripts" / "condor-pool.sh"), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_23_6_remove_never_deletes_through_a_bind_mount(tmp_path):
    """``condor-pool.sh remove`` on a root with a bind mount into a host directory: the
    host's files survive, whether the mount goes away or (umount failing) remove refuses."""
    import os
    import subprocess

    import pytest

    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    host, root = tmp_path / "host", tmp_path / "pool"
    host.mkdir()
    (host / "precious").write_text("keep")
    (root / "tmp").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(host), str(root / "tmp")], check=True)
    try:
        fake = tmp_path / "bin"  # an umount that fails to unmount anything
        fake.mkdir()
        (fake / "umount").write_text("#!/bin/sh\nexit 0\n")
        (fake / "umount").chmod(0o755)
        r = _pool_script(root, "remove", path_prefix=str(fake))
        assert r.returncode != 0 and "refusing to delete" in r.stderr, r.stderr
        assert (host / "precious").read_text() == "keep" and root.exists()
        r = _pool_script(root, "status")  # never mounts anything
        assert "stopped" in r.stderr
        r = _pool_script(root, "remove")
        assert r.returncode == 0, r.stderr
        assert (host / "precious").read_text() == "keep" and not root.exists()
    finally:
        subprocess.run(["umount", "-l", str(root / "tmp")], capture_output=True)

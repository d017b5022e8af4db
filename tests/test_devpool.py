"""devpool.py: the development pool's checks (the pool itself: test_condor.py)."""

from pathlib import Path

from pmtgain import devpool


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

"""safeio.py: results are renamed into place, never written through a link."""

import os
import stat

import pytest

from pmtgain.errors import LinkRefused
from pmtgain.io.safeio import atomic_path, open_append, open_lock, write_atomic


def test_a_link_at_the_target_is_replaced_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.json").symlink_to(victim)
    write_atomic(tmp_path / "out.json", "{}")
    assert not (tmp_path / "out.json").is_symlink()
    assert (tmp_path / "out.json").read_text() == "{}" and victim.read_text() == "precious"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "t.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "t.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert (tmp_path / "t.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_temporary_names_are_unique_and_files_get_the_usual_mode(tmp_path):
    with atomic_path(tmp_path / "a") as t1, atomic_path(tmp_path / "a") as t2:
        assert t1 != t2
        t1.write_text("1")
        t2.write_text("2")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o666 & ~umask


def test_logs_and_locks_refuse_links(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    for name, opener in (("log", open_append), ("lock", open_lock)):
        (tmp_path / name).symlink_to(victim)
        with pytest.raises(LinkRefused, match="is a link"):
            opener(tmp_path / name)
    with open_append(tmp_path / "real.log") as f:
        f.write("line\n")
    os.close(open_lock(tmp_path / "real.lock"))
    assert victim.read_text() == "precious"

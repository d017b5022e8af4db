"""cache.py: a download folder keeps only its own source's files (the fetches through a
real loopback server: test_fetch.py's test_22_1_*)."""

import json

from pmtgain.io.cache import SOURCE_FILE, UNVERIFIED_DIR, FolderLock, source_is, trusted_cache


def test_a_folder_is_trusted_only_for_the_dir_url_it_records(tmp_path):
    (tmp_path / "a.trc").write_bytes(b"by hand")
    assert trusted_cache(tmp_path, "https://u:pw@h/A/1000/") == set()  # unknown origin
    assert (tmp_path / UNVERIFIED_DIR / "a.trc").read_bytes() == b"by hand"  # kept aside
    rec = json.loads((tmp_path / SOURCE_FILE).read_text())
    assert "pw" not in json.dumps(rec) and rec["dir_url"] == "https://u:***@h/A/1000/"
    (tmp_path / "b.trc").write_bytes(b"from A")
    assert "b.trc" in trusted_cache(tmp_path, "https://u:other@h/A/1000/")  # same source
    assert source_is(tmp_path, "https://u:x@h/A/1000/")  # the password is not the source
    assert not source_is(tmp_path, "https://h/A/1000/")  # another user is
    assert trusted_cache(tmp_path, "https://h/B/1000/") == set()  # corrected: removed
    assert not (tmp_path / "b.trc").exists() and not source_is(tmp_path, "https://u:x@h/A/1000/")


def test_the_folder_lock_is_read_only_and_refuses_a_link(tmp_path):
    import os

    import pytest

    from pmtgain.errors import LinkRefused

    lock = tmp_path / ".pmtgain-lock"
    with FolderLock(tmp_path):
        assert lock.is_file() and not lock.is_symlink()
    lock.chmod(0o444)  # a lock file this user may only read still locks (flock, O_RDONLY)
    with FolderLock(tmp_path):
        pass
    os.chmod(lock, 0o644)
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LinkRefused):
        with FolderLock(tmp_path):
            pass

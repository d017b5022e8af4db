"""Download folders (``data/<folder>/<hv>/``): which dir_url their files came from, and
the lock held while a process fetches into one.

What to use when
----------------
- :func:`trusted_cache` - the names in a folder that may be reused for a dir_url; files
  of another recorded source are removed, files of unknown origin moved into
  ``.unverified/`` (kept, never reused), before the folder's source file is written.
- :func:`source_is` - whether a folder still holds a dir_url's files (checked after a
  point's analysis: another run may have replaced them meanwhile).
- :class:`FolderLock` - ``flock`` on the folder's lock file (never through a link, and
  read-only, so that every user of a shared data folder may take it).

Why: the folder's name comes from the last path segments of the dir_url only, so a
corrected dir_url, or two dir_urls ending alike, would otherwise reuse another source's
files under this one's name.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

__all__ = ["listing", "SOURCE_FILE", "LOCK_FILE", "UNVERIFIED_DIR", "trusted_cache",
           "source_is", "FolderLock"]


def listing(d: Path) -> set[str]:
    try:
        with os.scandir(d) as it:
            return {e.name for e in it}
    except OSError:
        return set()


#: in a point's download folder: which dir_url its files came from, and the lock held
#: while a process fetches into it
SOURCE_FILE = ".pmtgain-source"
LOCK_FILE = ".pmtgain-lock"
#: where files of unknown origin found in a download folder are kept, never reused
UNVERIFIED_DIR = ".unverified"


def _source_id(dir_url: str) -> str:
    """What identifies a download folder's source: the dir_url without its password (a
    changed password fetches the same files)."""
    from pmtgain.io.campaign import redact

    return hashlib.sha256(redact(dir_url).encode()).hexdigest()


def trusted_cache(d: Path, dir_url: str) -> set[str]:
    """The names in ``d`` that may be reused for ``dir_url``: all of them when ``d``'s
    source file names this dir_url. Otherwise they are never published under this URL:
    files of another source (a corrected dir_url) are removed; files of
    unknown origin (put there by hand, or by a version before the source file) are moved
    into ``d/.unverified/``, kept, before the source file is written."""
    src = d / SOURCE_FILE
    want = _source_id(dir_url)
    known = False
    try:
        known = not src.is_symlink() and src.exists()
        if known and json.loads(src.read_text()).get("id") == want:
            return listing(d)
    except (OSError, ValueError, AttributeError):
        pass
    aside = d / UNVERIFIED_DIR
    for name in listing(d):
        if name.endswith(".part") or (name.endswith(".trc") and known):
            (d / name).unlink(missing_ok=True)
        elif name.endswith(".trc") and (d / name).is_file() \
                and not (d / name).is_symlink():
            aside.mkdir(exist_ok=True)
            os.replace(d / name, aside / name)
    from pmtgain.io.campaign import redact
    from pmtgain.io.safeio import write_atomic

    write_atomic(src, json.dumps({"id": want, "dir_url": redact(dir_url)}))
    return set()


def source_is(d: str | os.PathLike, dir_url: str) -> bool:
    """Whether download folder ``d`` still holds ``dir_url``'s files (its source file says
    so): checked after a point's analysis, since another run with another dir_url on the
    same data folder may have replaced them while they were read."""
    try:
        return json.loads((Path(d) / SOURCE_FILE).read_text()).get("id") == \
            _source_id(dir_url)
    except (OSError, ValueError, AttributeError):
        return False


class FolderLock:
    """An exclusive lock on a download folder (``flock`` on its lock file, never through
    a link): two processes fetching into the same folder take turns."""

    def __init__(self, d: Path):
        self.path = d / LOCK_FILE

    def __enter__(self):
        from pmtgain.io.safeio import open_lock

        self.fd = open_lock(self.path, write=False)  # a shared data folder: group users too
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

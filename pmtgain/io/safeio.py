"""Writing files so that nothing is written through a link and nothing is left half-written.

What to use when
----------------
- :func:`atomic_path` - a context manager giving a fresh temporary name beside a target
  (created with ``O_EXCL``, so a link planted under that name is never followed); the
  temporary file is renamed onto the target when the block ends and removed when it
  raises. A rename replaces a link at the target by the new file: the link's own target
  is never written. Use it for every result file (tables, plots, the report, run.json).
- :func:`write_atomic` - the same for bytes or text in one call.
- :func:`open_append` - a log file opened for appending, refusing a link
  (``O_NOFOLLOW``): a log is appended to, so it cannot be renamed into place.
- :func:`open_lock` - a lock file opened read-write, refusing a link.

Why: a folder the user named may hold links somebody else planted (a shared disk); the
promise is that nothing is written outside the folders the user named.
Temporary names are unique per call, so runs, processes and threads writing the same
target at once never share one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pmtgain.errors import LinkRefused

__all__ = ["atomic_path", "write_atomic", "open_append", "open_lock"]


def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


#: the mode a plain ``open`` would give a new file (mkstemp's own is 0600)
_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` at the end of
    the block, removed if the block raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
    finally:
        os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)


def _open_nofollow(path: str | os.PathLike, flags: int) -> int:
    try:
        return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LinkRefused(errno.ELOOP, f"{path} is a link this program did not make: "
                                           "remove it (nothing was written through it)"
                              ) from None
        raise


def open_append(path: str | os.PathLike):
    """``path`` opened for appending text; :class:`LinkRefused` if it is a link."""
    return os.fdopen(_open_nofollow(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8")


def open_lock(path: str | os.PathLike, write: bool = True) -> int:
    """A file descriptor of ``path`` for a lock (``flock``), read-write to note the holder
    in it, or read-only (``write=False``: enough for ``flock``, and open to every user who
    may read the folder); :class:`LinkRefused` if it is a link."""
    return _open_nofollow(path, os.O_RDWR if write else os.O_RDONLY)

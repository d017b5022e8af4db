"""The outputs lock: one run at a time on an outputs directory.

- :func:`exclusive` - hold ``<outputs>/.pmtgain.lock`` (flock, opened without following a
  link) for the duration; a second run raises :class:`Busy` naming the first (pid,
  command, start) at once, instead of both writing the same files. Re-entrant within a
  process (analysis.py runs the merge inside its own lock).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from pmtgain.errors import Busy
from pmtgain.io.safeio import open_lock

__all__ = ["exclusive"]

_HELD: set[str] = set()


@contextmanager
def exclusive(outputs: str | os.PathLike, what: str = "a run"):
    """Hold ``<outputs>/.pmtgain.lock`` (flock) for the duration: a second run on the same
    outputs raises :class:`Busy` naming the first (pid, command, start) at once, instead of
    both writing the same files. Re-entrant within a process (analysis.py then merges)."""
    import datetime as _dt
    import fcntl

    d = Path(outputs)
    path = d / ".pmtgain.lock"
    key = str(path.resolve())
    if key in _HELD:
        yield
        return
    d.mkdir(parents=True, exist_ok=True)
    fd = open_lock(path)  # never through a planted link
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another run"
            raise Busy(f"{d} is in use by {other}: wait for it to finish, or use another "
                       "--outputs") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()}, since "
                      f"{_dt.datetime.now():%Y-%m-%d %H:%M:%S})".encode(), 0)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)

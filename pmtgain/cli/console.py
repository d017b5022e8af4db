"""The command line's manners: one line per error, exit statuses, a closed pipe.

- :func:`guarded` - run a command's work and turn every expected failure into one line on
  stderr and an exit status: bad input (a file, a campaign line, a busy outputs
  directory: :class:`pmtgain.errors.InputError`) 2; a failure of the machine (a full or
  unwritable disk) 1; Ctrl-C 130; a closed pipe (``| head``) ends the output quietly while
  the work goes on. Anything else is a bug: one line saying so, its traceback, 70.
- :class:`UserError` - an input problem a command reports in one line.
"""

from __future__ import annotations

import sys

from pmtgain.errors import Busy, InputError

__all__ = ["EX_SOFTWARE", "os_error", "guarded"]

#: sysexits.h: an internal software error
EX_SOFTWARE = 70


class _TolerantStdout:
    """stdout that, once its reader has gone (``| head``), swallows the rest: the work
    goes on and its files are written."""

    def __init__(self, stream):
        self._s, self._gone = stream, False

    def write(self, text):
        if not self._gone:
            try:
                return self._s.write(text)
            except BrokenPipeError:
                self._gone = True
                import os

                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._s.fileno())
        return len(text)

    def flush(self):
        if not self._gone:
            try:
                self._s.flush()
            except BrokenPipeError:
                self._gone = True

    def __getattr__(self, name):
        return getattr(self._s, name)


def os_error(exc: OSError) -> str:
    """One line for a failure of the machine: what, where, and for a permission refused,
    who may write there (the project and outputs must belong to the submitting user)."""
    import errno
    import os
    import pwd
    from pathlib import Path

    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    hint = ""
    if exc.errno in (errno.EACCES, errno.EPERM) and getattr(exc, "filename", None):
        d = Path(exc.filename).absolute()
        while not d.exists() and d != d.parent:
            d = d.parent
        try:
            owner = pwd.getpwuid(d.stat().st_uid).pw_name
        except (KeyError, OSError):
            owner = "someone else"
        try:
            me = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:  # a user id without a passwd entry (a container's -u 12345)
            me = f"user {os.geteuid()}"
        hint = (f": {d} belongs to {owner} and you are {me}; the project and its outputs "
                "must be writable by the user who runs (and submits) the analysis "
                f"(chown -R {me} <project>, or work in a copy of your own)")
    return f"{what}{where}{hint}"


def guarded(prog: str, fn, *args) -> int:
    """Run ``fn(*args)`` and turn every expected failure into one line and an exit status
    (module docstring): never a traceback for bad input, a full disk or a closed pipe."""
    import os

    if not isinstance(sys.stdout, _TolerantStdout):
        sys.stdout = _TolerantStdout(sys.stdout)
    try:
        return int(fn(*args) or 0)
    except BrokenPipeError:
        # the reader went away (| head): no traceback, no second error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (InputError, Busy, FileNotFoundError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: error: {os_error(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # not bad input: a bug, with what a report of it needs
        import traceback

        print(f"{prog}: internal error (a bug in pmtgain, not a problem with your input; "
              f"please report it with the traceback below): {type(exc).__name__}: {exc}",
              file=sys.stderr)
        traceback.print_exc()
        return EX_SOFTWARE



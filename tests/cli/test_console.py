"""console.py: every expected failure is one line and an exit status, a closed pipe is
quiet."""

import errno
import io

from pmtgain.cli.console import _TolerantStdout, guarded
from pmtgain.errors import CampaignError, UserError


def _raise(exc):
    def f():
        raise exc
    return f


def test_exit_statuses_and_one_line(capsys):
    assert guarded("x", lambda: 0) == 0
    assert guarded("x", _raise(UserError("bad thing"))) == 2
    assert guarded("x", _raise(CampaignError("f.txt:3: nope"))) == 2
    assert guarded("x", _raise(OSError(errno.ENOSPC, "No space left", "out/a"))) == 1
    assert guarded("x", _raise(KeyboardInterrupt())) == 130
    err = capsys.readouterr().err.splitlines()
    assert err == ["x: error: bad thing", "x: error: f.txt:3: nope",
                   "x: error: the disk is full (out/a)", "x: interrupted"]


def test_a_closed_pipe_swallows_the_rest():
    class Closed(io.StringIO):
        def write(self, s):
            raise BrokenPipeError

        def fileno(self):
            import os

            return os.open(os.devnull, os.O_WRONLY)

    out = _TolerantStdout(Closed())
    assert out.write("a line\n") == 7
    assert out.write("more\n") == 5  # swallowed from now on


def test_22_24_a_bug_is_not_reported_as_bad_input(capsys):
    """A ValueError (or any exception) that is not the package's InputError is a bug:
    exit 70, one line saying so, and the traceback a report needs."""
    from pmtgain.errors import InputError, TrcError

    assert guarded("x", _raise(InputError("f.trc: bad header"))) == 2
    assert guarded("x", _raise(TrcError("f.trc", "truncated"))) == 2
    assert capsys.readouterr().err.splitlines() == ["x: error: f.trc: bad header",
                                                    "x: error: f.trc: truncated"]
    assert guarded("x", _raise(ValueError("operands could not be broadcast"))) == 70
    err = capsys.readouterr().err
    assert err.startswith("x: internal error (a bug in pmtgain") and "Traceback" in err
    assert "ValueError: operands could not be broadcast" in err.splitlines()[0]

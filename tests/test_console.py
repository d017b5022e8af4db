"""console.py: every expected failure is one line and an exit status, a closed pipe is
quiet."""

import errno
import io

from pmtgain.campaign import CampaignError
from pmtgain.console import UserError, _TolerantStdout, guarded


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

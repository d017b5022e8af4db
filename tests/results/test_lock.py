"""lock.py: one run at a time on an outputs directory."""

import subprocess
import sys

import pytest

from pmtgain.results import lock


def test_the_outputs_lock_is_exclusive_and_reentrant(tmp_path):
    code = ("import sys, time; from pmtgain.results import lock\n"
            "with lock.exclusive(sys.argv[1], 'holder'):\n"
            "    print('held', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(lock.Busy, match="in use by holder"):
            with lock.exclusive(tmp_path, "second"):
                pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with lock.exclusive(tmp_path, "a"), lock.exclusive(tmp_path, "a again"):
        pass

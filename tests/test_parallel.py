"""parallel.py: every item once, in worker processes that limit their threads."""

import os
import time

from pmtgain.parallel import default_jobs, limit_threads, parallel_map


def _square(x):
    return x * x, os.getpid(), os.environ.get("OPENBLAS_NUM_THREADS")


def test_every_item_once_in_workers():
    res = list(parallel_map(_square, [(i,) for i in range(20)], jobs=2, progress=False))
    assert sorted(r[0] for r in res) == [i * i for i in range(20)]
    assert os.getpid() not in {r[1] for r in res}  # ran in workers
    assert {r[2] for r in res} == {"1"}
    one = list(parallel_map(_square, [(3,)], jobs=4, progress=False))
    assert one[0][:2] == (9, os.getpid())  # one item: in this process


def test_threads_and_jobs():
    env = {}
    assert limit_threads(env) == {v: "1" for v in env}
    assert default_jobs() >= 1


_BLAS_THREADS = r"""
import os, sys
{first}
from pmtgain.parallel import parallel_map


def blas(_):
    import numpy  # noqa: F401  (BLAS starts with numpy)
    from threadpoolctl import threadpool_info
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


if __name__ == "__main__":
    print(os.environ.get("OPENBLAS_NUM_THREADS"),
          sorted(set(parallel_map(blas, [(i,) for i in range(4)], jobs=2, progress=False))))
"""


def test_workers_run_one_blas_thread_whichever_was_imported_first(tmp_path):
    """The scripts import pmtgain first: the variables are set before numpy starts. A
    script that imported numpy first has BLAS running with its default threads: the
    workers limit it where they run. A variable the user set is kept either way.
    (Without the limit, 2 workers of 2 BLAS threads made a GIN campaign on 2 cores take
    1.9 s instead of 1.0 s.)"""
    import subprocess
    import sys

    from pmtgain.parallel import THREAD_VARS

    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    for first, user, threads in (("import pmtgain", None, "[1]"),
                                 ("import numpy", None, "[1]"),
                                 ("import numpy", "2", "[2]")):
        script = tmp_path / "s.py"
        script.write_text(_BLAS_THREADS.format(first=first))
        run_env = dict(env, **({"OPENBLAS_NUM_THREADS": user} if user else {}))
        out = subprocess.run([sys.executable, str(script)], env=run_env,
                             capture_output=True, text=True, check=True).stdout.split(maxsplit=1)
        assert out[0] == (user or "1"), out  # the package's default, or the user's
        assert out[1].strip() == threads, (first, user, out)


def _dies_once(marker_dir: str, i: int) -> int:
    """Item 1 kills its own worker (as the OOM killer would) the first time, item 2
    every time; the others return their number."""
    import signal
    from pathlib import Path

    m = Path(marker_dir) / f"{i}"
    if i == 2 or (i == 1 and not m.exists()):
        m.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return i


def test_22_12_a_killed_worker_loses_no_finished_item_and_no_traceback(tmp_path, capsys):
    items = [(str(tmp_path), i) for i in range(8)]
    got = list(parallel_map(_dies_once, items, jobs=2, progress=False,
                            on_crash=lambda it, why: ("died", it[1], why)))
    ok = sorted(r for r in got if isinstance(r, int))
    assert ok == [0, 1, 3, 4, 5, 6, 7]  # item 1 ran again in a new pool
    died = [r for r in got if not isinstance(r, int)]
    assert [d[1] for d in died] == [2] and "worker process died" in died[0][2]
    assert "running the" in capsys.readouterr().err

"""parallel.py: every item once, in worker processes that limit their threads."""

import os

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

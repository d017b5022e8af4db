"""One parallel map with a progress bar, for the analysis and the diagnostics alike.

What to use when
----------------
- :func:`parallel_map` - ``fn(*args)`` for every item, in ``jobs`` worker processes (in
  this process when ``jobs`` is 1 or there is one item), results in the order they
  finish, a progress bar on a terminal. Ctrl-C stops it within a second or two: queued
  items are cancelled, the workers are ended, and ``KeyboardInterrupt`` reaches the
  caller, which keeps what finished (every result is saved atomically by its worker).
- :func:`pmtgain._threads.limit_threads` - one BLAS/OpenMP thread per process (set
  before numpy loads; see there). Workers also limit BLAS where it already runs
  (``threadpoolctl``): numpy may have been imported first.

Workers ignore SIGINT (the parent decides) and, on Linux, die with their parent
(``PR_SET_PDEATHSIG``): a SIGKILL of the main process leaves no orphan writing results.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from pmtgain._threads import THREAD_VARS, limit_threads

__all__ = ["parallel_map", "default_jobs", "THREAD_VARS", "limit_threads"]


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    limit_threads()
    from pmtgain._threads import BLAS_STARTED_UNLIMITED
    if not BLAS_STARTED_UNLIMITED:  # the variables (ours or the user's) already hold
        return
    # a forked worker inherits BLAS as numpy started it, before this package could set
    # the variables (a script that imported numpy first): limit it where it runs
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the HTCondor jobs' Python: one point per process, no pool
        return
    threadpool_limits(1)


def default_jobs() -> int:
    """One process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


#: what a result is when its worker process died twice (see parallel_map)
WORKER_DIED = ("its worker process died (killed by a signal: out of memory? see dmesg), "
               "also when run alone")


def parallel_map(fn: Callable, items: Sequence[tuple], *, jobs: int | None = None,
                 desc: str = "", unit: str = "item", progress: bool = True,
                 postfix: Callable[[object], dict] | None = None,
                 on_crash: Callable[[tuple, str], object] | None = None) -> Iterator:
    """Yield ``fn(*item)`` for every item as it finishes (see the module docstring).
    ``postfix(result)`` may return fields shown beside the bar.

    A worker process that dies (the OOM killer, a ``kill -9``) breaks the pool: the items
    left unfinished run again in a new pool, as long as each round finishes something;
    then one at a time, each in a pool of its own, and an item whose worker dies alone
    yields ``on_crash(item, reason)`` (without ``on_crash``: ``BrokenProcessPool`` is
    raised). Results that finished are never lost."""
    items = list(items)
    jobs = max(1, min(jobs or default_jobs(), len(items) or 1))
    bar = None
    if progress and items:
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit=unit, desc=desc, dynamic_ncols=True,
                   disable=None)  # no bar in a log file or under HTCondor
    try:
        for res in _map(fn, items, jobs, on_crash):
            if bar is not None:
                if postfix is not None:
                    bar.set_postfix(postfix(res))
                bar.update()
            yield res
    finally:
        if bar is not None:
            bar.close()


def _map(fn: Callable, items: list[tuple], jobs: int, on_crash=None) -> Iterable:
    if jobs == 1 or len(items) <= 1:
        for it in items:
            yield fn(*it)
        return
    remaining, said = items, False
    while remaining:
        broken: list[tuple] = []
        finished = 0
        for res in _pool_round(fn, remaining, jobs, broken):
            finished += 1
            yield res
        if not broken:
            return
        if not said:
            print(f"a worker process died (killed by a signal: out of memory?); running the "
                  f"{len(broken)} unfinished item(s) again in a new pool", file=sys.stderr)
            said = True
        if finished == 0:  # no progress: one item at a time, to find the one that dies
            break
        remaining = broken
    for it in broken:
        alone: list[tuple] = []
        yield from _pool_round(fn, [it], 1, alone)
        if alone:
            if on_crash is None:
                from concurrent.futures.process import BrokenProcessPool

                raise BrokenProcessPool(WORKER_DIED)
            yield on_crash(it, WORKER_DIED)


def _pool_round(fn: Callable, items: list[tuple], jobs: int, broken: list) -> Iterable:
    """``fn(*item)`` in a new pool; items left unfinished by a dead worker go to
    ``broken``."""
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=min(jobs, len(items)), initializer=_worker_init)
    futs = {}
    for i, it in enumerate(items):
        try:
            futs[pool.submit(fn, *it)] = it
        except BrokenProcessPool:  # a worker died while the items were being handed out
            broken.extend(items[i:])
            break
    pending = set(futs)
    try:
        while pending:
            # a timeout, so that Ctrl-C is seen within a second even while waiting
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    res = f.result()
                except BrokenProcessPool:
                    broken.append(futs[f])
                    continue
                yield res
    except BaseException:
        # the queued items are cancelled by the pool itself (cancelling them here raced
        # with its manager thread marking them failed once the workers die: a traceback
        # from that thread on Ctrl-C); then the workers end
        workers = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for p in workers:
            p.terminate()
        # let the pool's manager thread see its workers gone and close its wake-up pipe
        # before the interpreter exits: else concurrent.futures' exit hook may write to
        # that pipe while the thread closes it ("Bad file descriptor" traceback at
        # shutdown, seen in one of two runs)
        if manager is not None:
            manager.join(timeout=5.0)
        raise
    pool.shutdown()

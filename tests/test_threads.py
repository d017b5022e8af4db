"""_threads.py: one BLAS thread per process unless the user chose otherwise (the workers'
side: tests/test_parallel.py)."""

from pmtgain._threads import THREAD_VARS, limit_threads


def test_every_variable_is_set_to_one_and_a_users_choice_kept():
    env = {"OMP_NUM_THREADS": "4"}
    out = limit_threads(env)
    assert set(out) == set(THREAD_VARS)
    assert env["OMP_NUM_THREADS"] == "4"
    assert all(env[v] == "1" for v in THREAD_VARS if v != "OMP_NUM_THREADS")

"""store.py: the one reuse rule, typed tables, JSON records, and the outputs lock."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pmtgain import store
from pmtgain.config import ANALYSIS_VERSION


def test_the_reuse_rule():
    ok = dict(engine="fast", analysis_version=ANALYSIS_VERSION, cut_V=-0.01)
    assert store.stale_reason(ok, -0.01, "fast") is None
    assert "engine" in store.stale_reason(ok, -0.01, "root")
    assert "cut changed" in store.stale_reason(ok, None, "fast")
    assert "older version" in store.stale_reason(dict(ok, analysis_version=1), -0.01, "fast")
    assert "may have gone" in store.stale_reason(dict(ok, n_fetch_transient=2), -0.01,
                                                 "fast")
    assert "failed" in store.stale_reason(dict(ok, error="HTTP 404"), -0.01, "fast")


def test_tables_round_trip_typed(tmp_path):
    df = pd.DataFrame({"file": ["a.trc", "b.trc", "a.trc"], "segment": [0, 0, 1],
                       "charge_pC": [-1.5, np.nan, -2.0], "status": ["ok", "clipped", "ok"],
                       "passed_cut": [True, False, True]})
    store.save_table(df, tmp_path / "t.npz")
    back = store.load_table(tmp_path / "t.npz")
    assert list(back.columns) == list(df.columns)
    assert back.file.tolist() == df.file.tolist() and back.segment.dtype.kind == "i"
    np.testing.assert_array_equal(back.charge_pC.to_numpy(), df.charge_pC.to_numpy())
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:  # no pickles inside
        assert all(z[k].dtype != object for k in z.files)
    # categorical columns (process_point's file, status, fit status) are written as their
    # own codes; a missing value comes back as ""
    cat = df.assign(file=pd.Categorical(df.file), status=pd.Categorical(
        ["ok", None, "clipped"], categories=["ok", "clipped", "unused"]))
    store.save_table(cat, tmp_path / "c.npz")
    back = store.load_table(tmp_path / "c.npz")
    assert back.file.tolist() == df.file.tolist()
    assert back.status.tolist() == ["ok", "", "clipped"]


def test_json_records_and_job_names(tmp_path):
    df = pd.DataFrame({"hv": [800, 900], "gain": [1e6, np.nan], "flag": ["", "x"]})
    store.write_json_records(df, tmp_path / "r.json")
    back = store.read_json_records(tmp_path / "r.json")
    assert back.hv.tolist() == [800, 900] and np.isnan(back.gain[1])
    (tmp_path / "bad.json").write_text('"a string"')
    with pytest.raises(ValueError):
        store.read_json_records(tmp_path / "bad.json")
    assert store.job_output("pmt_summary.json", 2, 900) == "pmt_2_900_summary.json"
    assert "pmt_flashes.npz = ../condor_lists/pmt_2_$(hv)_flashes.npz" in \
        store.job_remaps(2, "$(hv)")


def test_the_outputs_lock_is_exclusive_and_reentrant(tmp_path):
    code = ("import sys, time; from pmtgain import store\n"
            "with store.exclusive(sys.argv[1], 'holder'):\n"
            "    print('held', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(store.Busy, match="in use by holder"):
            with store.exclusive(tmp_path, "second"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with store.exclusive(tmp_path, "a"), store.exclusive(tmp_path, "a again"):
        pass

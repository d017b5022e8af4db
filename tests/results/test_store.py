"""store.py: the one reuse rule, typed tables, JSON records, and the outputs lock."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from pmtgain.config import ANALYSIS_VERSION, DEFAULT_FIT, PointSpec
from pmtgain.results import store


def _saved(point, engine="fast", config=None, **inputs):
    want = dict(store.inputs_of(point, engine, config), **inputs)
    return dict(engine=engine, analysis_version=ANALYSIS_VERSION,
                inputs=store.encode_inputs(want))


def test_the_reuse_rule():
    p = PointSpec(pmt=1, hv=1000, n_files=20, dir_url="https://h/A/PMT_1_2/1000/",
                  cut_V=-0.01)
    ok = _saved(p)
    assert store.stale_reason(ok, p, "fast") is None
    assert "engine" in store.stale_reason(ok, p, "root")
    assert "cut changed" in store.stale_reason(ok, replace(p, cut_V=None), "fast")
    assert "older version" in store.stale_reason(_saved(p, analysis_version=1), p, "fast")
    assert "may have gone" in store.stale_reason(dict(ok, n_fetch_transient=2), p, "fast")
    assert "failed" in store.stale_reason(dict(ok, error="HTTP 404"), p, "fast")
    assert "without a record" in store.stale_reason(dict(ok, inputs=None), p, "fast")


def test_22_2_every_input_that_changes_a_number_makes_a_saved_point_stale():
    """A changed dir_url, n_files (the rest of the upload arrived) or FitConfig is not
    reused; a changed password in the URL is (it fetches the same files)."""
    p = PointSpec(pmt=1, hv=1000, n_files=20, dir_url="https://u:pw@h/A/PMT_1_2/1000/")
    ok = _saved(p)
    assert "dir_url" in store.stale_reason(ok, replace(p, dir_url="https://h/B/PMT_1_2/1000/"),
                                           "fast")
    assert "(20 -> 50)" in store.stale_reason(ok, replace(p, n_files=50), "fast")
    assert "settings" in store.stale_reason(ok, p, "fast", DEFAULT_FIT.replace(pre_ns=5.0))
    assert store.stale_reason(ok, replace(p, dir_url="https://u:new@h/A/PMT_1_2/1000/"),
                              "fast") is None


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

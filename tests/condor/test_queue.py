"""queue.py: which points have a valid result, by the one reuse rule (without a
pool; with one: tests/condor/test_pool.py)."""

import pandas as pd

from pmtgain.condor.queue import _results, _state
from pmtgain.config import ANALYSIS_VERSION, PointSpec
from pmtgain.results.store import encode_inputs, inputs_of, write_json_records


def test_results_valid_stale_and_failed(tmp_path):
    d = tmp_path / "condor_lists"
    d.mkdir()
    pts = [PointSpec(pmt=1, hv=hv, n_files=5, dir_url="x/", cut_V=-0.004)
           for hv in (800, 900, 1000)]

    def saved(p, **changed):
        return dict(pmt=1, hv=p.hv, mean_charge=-1.0, std_dev_charge=0.1, engine="fast",
                    analysis_version=ANALYSIS_VERSION, cut_V=-0.004,
                    inputs=encode_inputs(dict(inputs_of(p, "fast"), **changed)))

    write_json_records(pd.DataFrame([saved(pts[0])]), d / "pmt_1_800_summary.json")
    write_json_records(pd.DataFrame([saved(pts[1], analysis_version=1)]),
                       d / "pmt_1_900_summary.json")
    write_json_records(pd.DataFrame([dict(pmt=1, hv=1000, mean_charge=None,
                                          error="HTTP 404")]), d / "pmt_1_1000_summary.json")
    r = _results(tmp_path, pts, "fast")
    assert r[(1, 800)] is None
    assert "older version" in r[(1, 900)]
    assert "HTTP 404" in r[(1, 1000)]
    assert _results(tmp_path, pts, "root")[(1, 800)].startswith("other engine")


def test_job_states():
    assert _state({"JobStatus": 2}) == "running"
    assert _state({"JobStatus": 5, "HoldReasonCode": 16}) != "held"  # spooling input

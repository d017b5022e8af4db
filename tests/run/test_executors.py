"""executors.py: one point fetched, measured and saved where its task's layout says; the
local pool resumes (the second pass of weak points: tests/run/test_pipeline.py)."""

from dataclasses import replace

import numpy as np

from pmtgain.io.campaign import load_campaign
from pmtgain.results.layout import Layout
from pmtgain.results.store import load_point, read_json_records
from pmtgain.run.executors import run_local, run_point, saved_outcomes, write_lists
from pmtgain.run.task import Task
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import simulate_campaign


def _task(tmp_path, **kw) -> Task:
    return Task(layout=Layout(tmp_path / "o"), data_dir=tmp_path / "d", **kw)


def test_run_point_saves_and_logs(tmp_path):
    camp = simulate_campaign(tmp_path / "c", REGIMES["low-signal"][0][:1], hv=[1000], n=40)
    pt = load_campaign(camp / "data_info")[0]
    out = run_point(pt, _task(tmp_path))
    assert out.ok and out.summary["n_used"] == 40
    assert load_point(tmp_path / "o" / "lists" / "points", 1, 1000) is not None
    log = (tmp_path / "o" / "logs" / "pmt_1_1000V.log").read_text()
    assert "done: 40 of 40 flashes used" in log and "shape: own" in log


def test_the_pool_resumes_and_the_lists_are_data(tmp_path, capsys):
    camp = simulate_campaign(tmp_path / "c", REGIMES["low-signal"][0][:1], hv=[900, 1000],
                             n=40)
    points = load_campaign(camp / "data_info")
    task = _task(tmp_path)
    outs = run_local(points, task, jobs=1, progress=False)
    assert all(o.ok and not o.skipped for o in outs)
    again = run_local(points, task, jobs=1, progress=False)
    assert all(o.skipped for o in again)
    write_lists(again, task.layout)
    df = read_json_records(tmp_path / "o" / "lists" / "pmt_1_data_list.json")
    assert df.hv.tolist() == [900, 1000]
    assert len(saved_outcomes(points, task)) == 2
    assert len(saved_outcomes(points, replace(task, engine="integral"))) == 0


def test_adding_an_led_off_run_makes_a_saved_point_stale():
    from pmtgain.config import PointSpec
    from pmtgain.results.store import ANALYSIS_VERSION, encode_inputs, inputs_of
    from pmtgain.run.executors import stale_reason

    plain = PointSpec(pmt=1, hv=1000, n_files=5, dir_url="x/")
    with_off = PointSpec(pmt=1, hv=1000, n_files=5, dir_url="x/",
                         extra={"ledoff": PointSpec(pmt=1, hv=1000, n_files=5, dir_url="y/")})
    s = dict(engine="fast", analysis_version=ANALYSIS_VERSION,
             inputs=encode_inputs(inputs_of(plain, "fast")))
    assert stale_reason(s, plain, "fast") is None
    assert "LED-off" in stale_reason(s, with_off, "fast")
    s_off = dict(s, inputs=encode_inputs(inputs_of(with_off, "fast")))
    assert stale_reason(s_off, with_off, "fast") is None
    assert "LED-off" in stale_reason(s_off, plain, "fast")


def test_22_24_a_bug_in_a_point_is_named_as_one_and_its_traceback_logged(tmp_path,
                                                                       monkeypatch):
    """Bad input fails a point with its reason; an exception that is not the package's
    own (a bug, here planted in the analysis) says so, with where its traceback is."""
    from pmtgain.config import PointSpec
    from pmtgain.run import executors
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    write_point(tmp_path / "d", DEMO_PMTS[0], 1000, 5)
    pt = PointSpec(pmt=1, hv=1000, n_files=5, dir_url=f"{tmp_path / 'd'}/")

    def broken(*a, **k):
        return np.zeros(3) + np.zeros(4)  # a shape bug: ValueError from numpy

    monkeypatch.setattr(executors, "process_point", broken)
    out = executors.run_point(pt, _task(tmp_path))
    assert not out.ok and out.error.startswith("internal error (a bug in pmtgain")
    log = tmp_path / "o" / "logs" / "pmt_1_1000V.log"
    assert str(log) in out.error and "Traceback" in log.read_text()
    bad = PointSpec(pmt=1, hv=1000, n_files=5, dir_url=f"{tmp_path / 'nowhere'}/")
    out = executors.run_point(bad, _task(tmp_path))
    assert not out.ok and "no such directory" in out.error and "internal" not in out.error


def test_a_point_whose_led_off_run_did_not_arrive_is_redone_when_it_does(tmp_path):
    """An LED-off run that failed (here: 404) leaves the point measured with the records'
    own pedestal; its saved inputs say so, so that the next run, with the LED-off run
    there, does not reuse it."""
    import functools
    import http.server

    from pmtgain.config import PointSpec
    from pmtgain.run.executors import stale_reason
    from pmtgain.sim.demo import serve
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    write_point(tmp_path / "d", DEMO_PMTS[0], 1000, 20)
    url, srv = serve(functools.partial(http.server.SimpleHTTPRequestHandler,
                                       directory=str(tmp_path / "served")))
    (tmp_path / "served").mkdir()
    try:
        off = PointSpec(pmt=1, hv=1000, n_files=5, dir_url=url + "nowhere/",
                        folder="PMT_1_2_ledoff")
        pt = PointSpec(pmt=1, hv=1000, n_files=20, dir_url=f"{tmp_path / 'd'}/",
                       extra={"ledoff": off})
        out = run_point(pt, _task(tmp_path))
        assert out.ok and not out.summary["pedestal_source"].startswith("LED-off")
        assert "LED-off" in stale_reason(out.summary, pt, "fast")
    finally:
        srv.shutdown()
        srv.server_close()

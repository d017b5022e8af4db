"""runs.py: a campaign's low-light and dark runs measured beside its points, reused, listed,
and merged into the dark-count table and lines."""

import dataclasses

import pandas as pd

from pmtgain.io.runfiles import load_dark
from pmtgain.kinds import DARK
from pmtgain.run.options import AnalysisOptions
from pmtgain.run.pipeline import analyse
from pmtgain.run.runs import list_path, run_kind, run_line
from pmtgain.sim.simdark import simulate_dark_runs, simulate_long_runs
from pmtgain.sim.simspe import simulate_spe_runs, spe_pmt
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

GROUPS = ((0.02, 400.0, 40.0),)  # 2 % per photoelectron at 400 ns


def _campaign(tmp_path):
    p = dataclasses.replace(DEMO_PMTS[0], hv_values=(1100, 1200, 1300), noise_V=0.3e-3)
    camp = tmp_path / "camp"
    simulate_campaign(camp, [p], n=150)
    simulate_spe_runs(camp, [p], hv=1300, n=3000)
    simulate_dark_runs(camp, [p], hv=1200, n=200, rate_hz=50e3, dt_ns=0.4, bits=16,
                       record_ns=5000.0)
    simulate_long_runs(camp, [p], hv=1200, n=600, groups=GROUPS, after_ns=2000.0,
                       dt_ns=0.4, bits=16)
    return camp / "data_info"


def test_dark_runs_go_through_analysis_into_the_lists_and_the_merge(tmp_path, capsys):
    info = _campaign(tmp_path)
    out = tmp_path / "out"
    o = AnalysisOptions(outputs=out, data_dir=tmp_path / "data", jobs=2, progress=False)
    res = analyse(info, o)
    assert res.exit_status == 0 and [x.ok for x in res.runs["dark"]] == [True]
    said = capsys.readouterr().out
    assert "dark run PMT 1 1200 V (random trigger): 200 records" in said
    assert "PMT 1: dark-count rate from its dark runs at 0.25 photoelectron (Hz): 1200 V" \
        in said
    runs = pd.read_csv(out / "lists" / "dark_runs.csv")
    r = runs.iloc[0]
    # the amplitude at 1200 V from the points, anchored on the low-light run at 1300 V
    amp = abs(dataclasses.replace(DEMO_PMTS[0], mu_pe=1.0).single_pe_peak_V(1200))
    assert abs(r.spe_amplitude_V / amp - 1) < 0.1
    assert abs(r.dark_rate_0p25pe_hz - 50e3) < 3 * r.dark_rate_0p25pe_err_hz + 0.02 * 50e3
    curves = pd.read_csv(out / "lists" / "dark_counts.csv")
    assert set(curves.source) == {"LED runs' baseline regions", "dark run (random trigger)"}
    # the long-record run: mu from the anchored gain at 1200 V, the dark run's counts off
    ap = pd.read_csv(out / "lists" / "afterpulse_runs.csv").iloc[0]
    assert ap.ap_mu_source == "anchored gain" and ap.ap_dark_source == "dark run"
    assert abs(ap.afterpulse_prob - 0.02) < 3 * ap.afterpulse_prob_err, ap.afterpulse_prob
    assert ap.ap_groups.startswith(("39", "40", "41"))
    assert "PMT 1: afterpulses per photoelectron from its long-record runs" in said
    assert (out / "report.html").exists() is False  # no --plots: no report
    # a second run reuses the saved runs
    again = analyse(info, o)
    assert [x.skipped for x in again.runs["dark"]] == [True]
    assert [x.skipped for x in again.runs["afterpulse"]] == [True]


def test_a_failed_dark_run_is_an_outcome_with_one_line(tmp_path):
    info = _campaign(tmp_path)
    for f in (info.parent / "PMT_1_2" / "dark_1200" / "Autosave").glob("*.trc"):
        f.write_bytes(b"garbage")
    from pmtgain.results.layout import Layout
    from pmtgain.run.task import Task

    task = Task(layout=Layout(tmp_path / "out"), data_dir=tmp_path / "data")
    outs = run_kind(load_dark(info), DARK, task, jobs=1, progress=False, say=lambda s: None)
    assert not outs[0].ok and outs[0].error.startswith("no file could be read (")
    assert not list_path(task.layout, DARK).exists()  # no run saved: no list


def test_a_dark_run_in_one_line():
    s = dict(pmt=2, hv=900, trigger="self", n_records=10, dark_live_s=1e-4,
             dark_rate_5sigma_hz=123.0, dark_rate_5sigma_err_hz=4.0, flag="")
    assert run_line(DARK, s) == ("  dark run PMT 2 900 V (self trigger): 10 records, 0.0001 s "
                                 "live; beyond 5 noise rms 123 +- 4 Hz")


def test_an_undershoot_is_said_where_the_gains_depend_on_the_window(tmp_path, capsys):
    """An AC-coupled PMT (a slow undershoot after every pulse): the low-light run's window
    holds more than the whole record's pulse and the run says so (flagged: no anchored
    gain from it); the merge's output and the report carry what depends on it."""
    p = dataclasses.replace(DEMO_PMTS[0], hv_values=(1200, 1300), noise_V=0.3e-3,
                            ac_coupling_ns=60.0)
    camp = tmp_path / "camp"
    simulate_campaign(camp, [p], n=150)
    simulate_spe_runs(camp, [spe_pmt(p, 1.5, n_samples=1500)], hv=1300, n=3000, as_is=True)
    out = tmp_path / "out"
    res = analyse(camp / "data_info", AnalysisOptions(outputs=out, data_dir=tmp_path / "d",
                                                      jobs=2, progress=False, plots=True))
    spe = pd.read_csv(out / "lists" / "spe.csv").iloc[0]
    assert spe.window_held > 1.05 and "undershoots after the window" in spe.flag
    assert res.merged is not None
    html = (out / "report.html").read_text()
    assert "undershoots after the window" in html

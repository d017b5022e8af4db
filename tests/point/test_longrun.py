"""Long-record runs: the afterpulses per photoelectron against simulated ion groups, with
the photoelectrons from the PMT's anchored gain and the dark counts from a dark run."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.darkrun import process_dark
from pmtgain.point.longrun import gain_at, process_long, with_long_runs
from pmtgain.sim.simdark import dark_pmt, long_pmt, write_dark_run
from pmtgain.sim.simulate import DEMO_PMTS, write_point

GROUPS = ((0.01, 300.0, 30.0), (0.02, 1000.0, 100.0))


def _pmt(**kw):
    return dataclasses.replace(DEMO_PMTS[0], noise_V=0.25e-3, bits=16, dt_ns=0.4, **kw)


@pytest.mark.parametrize("dark", [0.0, 5e4], ids=["no-dark", "dark-50kHz-dark-run"])
def test_afterpulses_per_photoelectron_with_the_anchored_gain_and_a_dark_run(tmp_path, dark):
    p = long_pmt(_pmt(dark_rate_hz=dark), GROUPS, after_ns=2400.0)
    write_point(tmp_path / "ap", p, 1300, 1000, seed=3, segments=100)
    s, spectra = process_long(sorted((tmp_path / "ap").glob("*.trc")), pmt=1, hv=1300)
    assert s["kind"] == "afterpulse" and s["flag"] == "" and spectra["ap_delay_counts"].sum()
    # the PMT's anchored gain at 1200 and 1400 V (the run's 1300 V between them)
    points = pd.DataFrame(dict(pmt=[1, 1], hv=[1200, 1400],
                               gain_anchored=[p.gain(1200), p.gain(1400)]))
    assert gain_at(1, 1300, points) == pytest.approx(p.gain(1300), rel=1e-9)
    dark_runs = None
    if dark:
        dp = dataclasses.replace(dark_pmt(_pmt(), dark, record_ns=5000.0, bits=16, dt_ns=0.4),
                                 noise_V=0.25e-3)
        write_dark_run(tmp_path / "dark", dp, 1300, 300, seed=4)
        dark_runs = pd.DataFrame([process_dark(sorted((tmp_path / "dark").glob("*.trc")),
                                               pmt=1, hv=1300).summary])
    r = with_long_runs(pd.DataFrame([s]), points, dark_runs=dark_runs).iloc[0]
    assert r.ap_mu_source == "anchored gain"
    assert r.ap_dark_source == ("dark run" if dark else "its baseline region")
    # mu from the anchored gain, less the after- and dark pulses inside the charge window
    assert 0.3 < r.ap_window_extra_pe < 0.8
    assert r.n_pe_anchored == pytest.approx(p.mu_pe, rel=0.015)
    assert abs(r.afterpulse_prob - 0.03) < 3 * r.afterpulse_prob_err, \
        (r.afterpulse_prob, r.afterpulse_prob_err)
    assert r.ap_groups.count(" ns (rms") == 2 and r.ap_groups.startswith(("29", "30", "31"))


def test_a_short_record_is_said_and_no_afterpulse_counted(tmp_path):
    p = _pmt(n_samples=500)
    write_point(tmp_path, p, 1300, 50, seed=1, segments=50)
    s, spectra = process_long(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300)
    assert "too short" in s["flag"] and spectra["ap_delay_counts"].size == 0
    r = with_long_runs(pd.DataFrame([s]), pd.DataFrame()).iloc[0]
    assert r.ap_mu_source == "photostatistics" and not np.isfinite(r.get("afterpulse_prob",
                                                                         np.nan))


def test_anchored_and_photostatistics_mu_far_apart_flag_the_run(tmp_path):
    p = long_pmt(_pmt(), GROUPS, after_ns=1000.0)
    write_point(tmp_path, p, 1300, 400, seed=5, segments=100)
    s, _ = process_long(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300)
    right = pd.DataFrame(dict(pmt=[1], hv=[1300], gain_anchored=[p.gain(1300)]))
    r = with_long_runs(pd.DataFrame([s]), right, enf={1: p.enf}).iloc[0]
    assert r.flag == "" and r.ap_mu_photostat == pytest.approx(20.0, rel=0.1)
    # a gain 30 % low (windows that hold different shares of the pulse): said
    low = right.assign(gain_anchored=0.7 * p.gain(1300))
    r = with_long_runs(pd.DataFrame([s]), low, enf={1: p.enf}).iloc[0]
    assert "from the anchored gain" in r.flag and "+4" in r.flag  # ~ +43 %

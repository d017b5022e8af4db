"""simdark.py: simulated dark runs hold the dark pulses they say, where they say."""

import numpy as np
import pytest

from pmtgain.io.flashes import read_many
from pmtgain.sim.simdark import (
    dark_pmt,
    expected_rate,
    simulate_dark_runs,
    single_pe_peak,
    write_dark_run,
)
from pmtgain.sim.simulate import DEMO_PMTS


def test_a_random_trigger_run_has_poisson_dark_pulses_and_no_light(tmp_path):
    p = dark_pmt(DEMO_PMTS[0], 100e3, record_ns=5000.0, dt_ns=1.0)
    truth = write_dark_run(tmp_path, p, 1200, 400, seed=2)
    assert truth["n_pe"].sum() == 0
    assert truth["n_dark"].mean() == pytest.approx(0.5, abs=4 * np.sqrt(0.5 / 400))
    tr = read_many(sorted(tmp_path.glob("*.trc")))
    assert tr.volts.shape == (400, 5000) and not tr.clipped.any()


def test_a_self_triggered_record_holds_its_pulse_at_the_trigger(tmp_path):
    p = dark_pmt(DEMO_PMTS[0], 0.0, record_ns=2000.0, dt_ns=1.0, trigger="self", pre_ns=1500)
    write_dark_run(tmp_path, p, 1200, 50, seed=2)
    tr = read_many(sorted(tmp_path.glob("*.trc")))
    t_ns = tr.t0_s[0] * 1e9 + np.arange(tr.volts.shape[1])
    mean = tr.volts.mean(axis=0)
    assert -1.0 < t_ns[np.argmin(mean)] < 10.0  # the pulse just after t = 0
    assert abs(mean[t_ns < -50].mean() - np.median(mean)) < 1e-4


def test_the_expected_rate_falls_with_the_threshold_from_the_rate(tmp_path):
    p = dark_pmt(DEMO_PMTS[0], 1e4, dt_ns=0.4)
    a = single_pe_peak(p, 1300)
    r = [expected_rate(p, 1300, f * a) for f in (0.01, 0.5, 1.0, 3.0)]
    assert r[0] == pytest.approx(1e4, rel=1e-3) and r[0] > r[1] > r[2] > r[3]
    assert 0.3 < r[2] / 1e4 < 0.6  # about half the pulses beyond the mean's peak
    out = simulate_dark_runs(tmp_path, DEMO_PMTS[:1], hv=1000, n=20, trigger="self",
                             record_ns=1000.0)
    assert (out / "data_info/dark_pmt_1.txt").read_text().rstrip().endswith("trigger=self")
    with pytest.raises(ValueError, match="random or self"):
        dark_pmt(DEMO_PMTS[0], 1.0, trigger="external")

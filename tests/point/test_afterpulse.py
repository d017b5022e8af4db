"""Afterpulses against the truth of simulated ion groups at known delays and probabilities,
with dark counts at a known rate to be taken off; and the counter's own bookkeeping."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.afterpulse import (
    AfterpulseCounter,
    afterpulse_lines,
    afterpulse_probability,
    delay_groups,
)
from pmtgain.point.process import process_point
from pmtgain.report.benchplots import afterpulse_delays
from pmtgain.sim.simulate import DEMO_PMTS, write_point

GROUPS = ((0.01, 300.0, 30.0), (0.02, 1000.0, 100.0))


@pytest.mark.parametrize("dark", [0.0, 5e4], ids=["no-dark", "dark-50kHz"])
def test_afterpulse_probability_and_delay_groups_against_the_truth(tmp_path, dark):
    """20 photoelectrons a flash, 1000 flashes, 2 us after the pulse at 0.4 ns, 16 bit:
    the afterpulses per photoelectron (the truth: 3 %) within 3 sigma with the dark counts
    taken off, each group's mean delay within 3 of its errors, its rms within 25 %."""
    p = dataclasses.replace(DEMO_PMTS[0], mu_pe=20, noise_V=0.25e-3, bits=16, dt_ns=0.4,
                            n_samples=6250, record_onset_ns=500.0, dark_rate_hz=dark,
                            afterpulse_groups=GROUPS)
    truth = write_point(tmp_path, p, 1300, 1000, seed=3, segments=100)
    s = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    assert s["ap_flashes"] == 1000 and s["ap_region_ns"] > 1800
    df = afterpulse_probability(pd.DataFrame([s]).assign(n_pe_anchored=p.mu_pe))
    r = df.iloc[0]
    assert abs(r.afterpulse_prob - 0.03) < 3 * r.afterpulse_prob_err, r.afterpulse_prob
    realised = truth["n_after"].mean()
    assert abs(r.afterpulses_per_flash - realised) < 3 * r.afterpulses_per_flash_err
    groups = delay_groups(s, s["dark_rate_5sigma_hz"])
    assert len(groups) == 2, groups
    for g, (_, delay, rms) in zip(groups, GROUPS, strict=True):
        assert abs(g["delay_ns"] - delay) < 3 * g["delay_err_ns"], g
        assert g["rms_ns"] == pytest.approx(rms, rel=0.25)
    assert afterpulse_lines(df.assign(pmt=1, hv=1300))[0].startswith(
        "PMT 1: afterpulses per photoelectron")
    afterpulse_delays(df.assign(pmt=1, hv=1300), tmp_path / "ap.png", 1)
    assert (tmp_path / "ap.png").stat().st_size > 5000


def test_short_records_are_not_searched_and_runs_close_together_are_one_pulse():
    short = AfterpulseCounter(300, 200, 100, 0.4, 1e-3)  # 40 ns after the window
    assert not short.active and short.fields() == {}
    c = AfterpulseCounter(3000, 600, 100, 0.4, 1e-3)  # a window reaching past 100 ns
    y = np.zeros((3, 3000))
    y[0, 1000:1005] = -0.01  # one pulse
    y[0, 1008:1010] = -0.01  # 3 samples later (1.2 ns < 5 ns): the same pulse
    y[1, 1500] = y[1, 2500] = -0.01  # two pulses
    n = c.add(y, np.array([True, True, False]))
    assert n.tolist() == [1, 2, -1]
    f = c.fields()
    assert f["ap_pulses"] == 3 and f["ap_flashes"] == 2
    assert f["ap_start_ns"] == pytest.approx(100.0)  # at the latest 100 ns after the onset
    counts = np.array(f["ap_delay_counts"].split(), float)
    edges = np.array(f["ap_delay_edges_ns"].split(), float)
    assert counts.sum() == 3 and edges[np.argmax(counts > 0)] == pytest.approx(360.0)

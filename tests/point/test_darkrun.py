"""Dark runs against the truth of simulated dark pulses (Poisson in time, log-normal pulses:
a shape nothing in the counting assumes), random and self triggered, 1 ns/8 bit and
0.4 ns/16 bit, from 20 kHz to 1 MHz; the noise's crossings cancelled by the mirror."""

import dataclasses

import numpy as np
import pytest

from pmtgain.errors import InputError
from pmtgain.point.darkrate import pe_rates, rate_curve
from pmtgain.point.darkrun import DarkSettings, process_dark, pulse_amplitudes
from pmtgain.sim.simdark import dark_pmt, expected_rate, single_pe_peak, write_dark_run
from pmtgain.sim.simulate import DEMO_PMTS

REGIMES = {  # name: (trigger, rate_hz, dt_ns, bits, records)
    "random-1ns-8bit-50kHz": ("random", 50e3, 1.0, 8, 600),
    "self-1ns-8bit-50kHz": ("self", 50e3, 1.0, 8, 600),
    "random-0.4ns-16bit-1MHz": ("random", 1e6, 0.4, 16, 300),
    "random-1ns-16bit-20kHz-cascade": ("random", 20e3, 1.0, 16, 800),
}


def _pmt(trigger, rate, dt, bits, ratio=20.0, **kw):
    p = dark_pmt(DEMO_PMTS[0], rate, trigger=trigger, dt_ns=dt, bits=bits,
                 shape="lognormal", ln_tau_ns=4.0, ln_sigma=0.4, **kw)
    return dataclasses.replace(p, noise_V=single_pe_peak(p, 1300) / ratio)


@pytest.mark.parametrize("name", list(REGIMES))
def test_the_rate_beyond_a_quarter_and_half_a_photoelectron_is_the_truth(tmp_path, name):
    trigger, rate, dt, bits, n = REGIMES[name]
    kw = dict(spe_shape="cascade", under_amplified=0.1) if "cascade" in name else {}
    p = _pmt(trigger, rate, dt, bits, **kw)
    write_dark_run(tmp_path, p, 1300, n, seed=4)
    s = process_dark(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300,
                     settings=DarkSettings(trigger=trigger)).summary
    assert s["n_records"] == n and s["trigger"] == trigger
    assert s["region_ns"] == pytest.approx(10000.0 if trigger == "random" else 8980.0,
                                           abs=2 * dt)
    amp = single_pe_peak(p, 1300)
    c = rate_curve(s, spe_amplitude_V=amp)
    truth = np.array([expected_rate(p, 1300, t) for t in c.threshold_V])
    pull = (c.rate_hz - truth) / c.rate_err_hz
    near = (c.threshold_pe >= 0.25) & (c.threshold_pe <= 0.6)
    assert near.sum() >= 2
    assert (np.abs(pull[near]) < 3).all(), c.assign(truth=truth, pull=pull)
    r = pe_rates(c)
    seen = [x for x in ("0p25", "0p5") if np.isfinite(r[f"dark_rate_{x}pe_hz"])]
    assert seen, r  # at least one of the thresholds people quote is on the curve
    for x in seen:
        want = expected_rate(p, 1300, amp * (0.25 if x == "0p25" else 0.5))
        assert abs(r[f"dark_rate_{x}pe_hz"] - want) < 3 * r[f"dark_rate_{x}pe_err_hz"]
    if trigger == "self":  # the triggers' rate beyond the scope's dead time (20 us)
        assert abs(s["dark_trigger_rate_hz"] - rate) < 3 * s["dark_trigger_rate_err_hz"]
        assert s["dark_dead_time_s"] == pytest.approx(20e-6, rel=0.05)
        assert "dead" in s["note"]  # 20 us of 40: said


@pytest.mark.parametrize("bits,ratio", [(8, 4.0), (16, 7.0)])
def test_without_dark_pulses_the_noise_crossings_cancel(tmp_path, bits, ratio):
    """Noise of ~7 ADC steps at 8 bit: the dither makes the mirror cancel at 3 noise rms
    (below 6 steps the ladder starts at 5 noise rms: the next test)."""
    p = _pmt("random", 0.0, 1.0, bits, ratio=ratio)
    write_dark_run(tmp_path, p, 1300, 300, seed=5)
    s = process_dark(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    c = rate_curve(s)
    assert c.n_below.iloc[0] > 1000  # at 3 noise rms the noise crosses often
    assert (np.abs(c.rate_hz) < 3 * c.rate_err_hz).all(), c
    assert s["noise_V"] == pytest.approx(p.noise_V, rel=0.08)
    assert s["flag"] == ""


@pytest.mark.parametrize("base", [0.0, 0.37, 0.5])
def test_a_coarse_adc_starts_the_ladder_at_five_noise_rms(tmp_path, base):
    """The outside check's worst case: noise of 3 ADC steps, the baseline 0.37 of a step
    off a level (the mirror was 8 sigma off at 3 noise rms); now nothing below 5."""
    p = _pmt("random", 0.0, 1.0, 8, ratio=20.0)
    step = 8 * single_pe_peak(p, 1300) / 256
    p = dataclasses.replace(p, noise_V=3 * step, baseline_V=base * step)
    write_dark_run(tmp_path, p, 1300, 300, seed=5)
    s = process_dark(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    c = rate_curve(s)
    assert c.threshold_V.iloc[0] == pytest.approx(5 * s["noise_V"]) and "ADC steps" in s["note"]
    assert (np.abs(c.rate_hz) < 3 * c.rate_err_hz).all(), c


def test_a_slow_baseline_wander_is_followed(tmp_path):
    """A wander of 2 noise rms with a period of ~10 us: the noise and the rate as without."""
    p = dataclasses.replace(_pmt("random", 50e3, 1.0, 16), wander_period_ns=10000.0)
    p = dataclasses.replace(p, wander_V=2 * p.noise_V)
    write_dark_run(tmp_path, p, 1300, 400, seed=8)
    s = process_dark(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    assert s["noise_V"] == pytest.approx(p.noise_V, rel=0.05)
    c = rate_curve(s, spe_amplitude_V=single_pe_peak(p, 1300))
    near = (c.threshold_pe >= 0.25) & (c.threshold_pe <= 0.6)
    truth = np.array([expected_rate(p, 1300, t) for t in c.threshold_V[near]])
    assert (np.abs((c.rate_hz[near] - truth) / c.rate_err_hz[near]) < 3).all()


def test_pulses_are_runs_below_the_threshold_merged_across_short_gaps():
    y = np.zeros((2, 40))
    y[0, 5:8] = -2.0
    y[0, 9:11] = -5.0  # one sample's gap: the same pulse, depth 5
    y[0, 30] = -3.0
    y[1, 0:2] = -4.0  # a row's start is never the previous row's pulse
    depth = pulse_amplitudes(y, 1.0, merge=2)
    depth, row, span = depth
    assert depth.tolist() == [5.0, 3.0, 4.0] and row.tolist() == [0, 0, 1]
    assert span.tolist() == [6, 1, 2]


def test_self_trigger_needs_record_before_the_trigger(tmp_path):
    p = _pmt("self", 0.0, 1.0, 16, pre_ns=50.0, record_ns=2000.0)
    write_dark_run(tmp_path, p, 1300, 20, seed=5)
    with pytest.raises(InputError, match="hold 50 ns before it"):
        process_dark(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300,
                     settings=DarkSettings(trigger="self"))


def test_an_unreadable_file_is_named_and_the_rest_counted(tmp_path):
    p = _pmt("random", 50e3, 1.0, 8)
    write_dark_run(tmp_path, p, 1300, 200, seed=6, segments=50)
    (tmp_path / "C1--n16deg--00009.trc").write_bytes(b"not a trc file")
    files = sorted(tmp_path.glob("*.trc"))
    s = process_dark(files, pmt=1, hv=1300).summary
    assert s["n_records"] == 200 and s["n_files_unreadable"] == 1
    assert "C1--n16deg--00009.trc" in s["unreadable"]
    with pytest.raises(InputError, match="no file could be read"):
        process_dark(files[-1:], pmt=1, hv=1300)
    with pytest.raises(ValueError, match="trigger='external'"):
        DarkSettings(trigger="external")

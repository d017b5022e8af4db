"""Dark counts in the baseline regions against the truth of simulated dark pulses (Poisson
in time, single photoelectrons with the PMT's spread), at 0.4 and 1 ns sampling, 16 and 8
bit, with the noise's own crossings subtracted."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import gamma

from pmtgain.point.darkrate import dark_lines, pe_rates, rate_curve, with_dark_rates
from pmtgain.point.process import process_point
from pmtgain.point.spe import process_spe
from pmtgain.sim.simspe import spe_pmt, write_spe_run
from pmtgain.sim.simulate import DEMO_PMTS, write_point

REGIMES = {  # name: (dt_ns, samples, bits, range_V, rate_hz)
    "0.4ns-16bit-1MHz": (0.4, 5000, 16, 0.1, 1.0e6),
    "1ns-8bit-300kHz": (1.0, 2000, 8, 0.04, 3.0e5),
}


def _pmt(dt, n_samples, bits, range_V, rate):
    return dataclasses.replace(DEMO_PMTS[0], mu_pe=1.5, noise_V=0.25e-3, bits=bits,
                               range_V=range_V, dt_ns=dt, n_samples=n_samples,
                               record_onset_ns=0.9 * n_samples * dt, dark_rate_hz=rate)


@pytest.mark.parametrize("name", list(REGIMES))
def test_the_dark_rate_is_recovered_at_a_quarter_to_half_a_photoelectron(tmp_path, name):
    """Rate within 3 sigma of the truth (the rate times the share of single
    photoelectrons above the threshold) at every threshold from 0.2 to 0.6 of the mean
    single photoelectron's peak; the flashes with a dark pulse before the LED counted
    here though they leave the charge's statistics."""
    p = _pmt(*REGIMES[name])
    write_point(tmp_path, p, 1300, 1000, seed=3, segments=100)
    s = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    assert s["dark_flashes"] == 1000 - s["rejected_clipped"] and s["rejected_pre_pulse"] > 100
    c = rate_curve(s, spe_amplitude_V=abs(p.single_pe_peak_V(1300)))
    truth = p.dark_rate_hz * gamma.sf(c.threshold_pe, 1 / (p.enf - 1), scale=p.enf - 1)
    pull = (c.rate_hz - truth) / c.rate_err_hz
    near = (c.threshold_pe > 0.2) & (c.threshold_pe < 0.6)
    assert near.sum() >= 2
    assert (np.abs(pull[near]) < 3).all(), c.assign(truth=truth, pull=pull)
    r = pe_rates(c)
    assert abs(r["dark_rate_0p25pe_hz"] - p.dark_rate_hz) < 3 * r["dark_rate_0p25pe_err_hz"]


def test_without_dark_pulses_the_noise_crossings_cancel(tmp_path):
    p = _pmt(0.4, 3000, 16, 0.1, 0.0)
    write_point(tmp_path, p, 1300, 800, seed=5, segments=100)
    s = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    c = rate_curve(s)
    assert c.n_below.iloc[0] > 50  # at 3 noise rms the noise crosses in many regions
    assert (np.abs(c.rate_hz) < 3 * c.rate_err_hz).all(), c
    assert abs(s["dark_rate_5sigma_hz"]) < 3 * s["dark_rate_5sigma_err_hz"]


def test_the_single_photoelectron_amplitude_of_a_low_light_run(tmp_path):
    """What turns thresholds into photoelectrons: the light's mean record at its peak over
    the occupancy, within 5 % of a single photoelectron's peak (the onset jitter smears
    the mean by less)."""
    p = spe_pmt(DEMO_PMTS[0], 1.5)
    write_spe_run(tmp_path, p, 1300, 6000, seed=2)
    s = process_spe(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300).summary
    assert s["spe_amplitude_V"] == pytest.approx(abs(p.single_pe_peak_V(1300)), rel=0.05)


def test_rates_in_photoelectrons_at_the_merge():
    """Interpolation in log(threshold) on a known curve, and the merge's columns."""
    fields = dict(dark_thresholds_V="0.001 0.002 0.004", dark_counts_neg="300 200 100",
                  dark_counts_pos="0 0 0", dark_flashes=1000, baseline_region_ns=1000.0)
    c = rate_curve(fields, spe_amplitude_V=0.004)
    assert c.threshold_pe.tolist() == [0.25, 0.5, 1.0]
    want = -np.log1p(-np.array([0.3, 0.2, 0.1])) / 1e-6
    np.testing.assert_allclose(c.rate_hz, want)
    r = pe_rates(c, (0.25, 0.35355339, 2.0))
    assert r["dark_rate_0p25pe_hz"] == pytest.approx(want[0])
    assert r["dark_rate_0p353553pe_hz"] == pytest.approx(0.5 * (want[0] + want[1]))
    assert np.isnan(r["dark_rate_2pe_hz"])
    df = pd.DataFrame([dict(pmt=1, hv=1000, spe_amplitude_V=0.004, **fields),
                       dict(pmt=1, hv=900)])
    out, curves = with_dark_rates(df)
    assert out.dark_rate_0p25pe_hz.iloc[0] == pytest.approx(want[0])
    assert np.isnan(out.dark_rate_0p25pe_hz.iloc[1])
    assert curves[["pmt", "hv"]].drop_duplicates().values.tolist() == [[1, 1000]]
    assert dark_lines(out) == [f"PMT 1: dark counts before the LED pulse at 0.25 "
                               f"photoelectron (Hz): 1000 V {want[0]:.3g} +- "
                               f"{out.dark_rate_0p25pe_err_hz.iloc[0]:.2g}"]
    quiet = pd.DataFrame(dict(pmt=[2, 2], hv=[900, 1000], dark_rate_5sigma_hz=[10.0, -5.0],
                              dark_rate_5sigma_err_hz=[1e5, 2e5]))
    assert dark_lines(quiet) == ["PMT 2: no dark counts seen before the LED pulse at 5 "
                                 "noise rms (below ~3e+05 Hz, 3 sigma)"]

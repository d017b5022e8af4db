"""Photostatistics gain against the simulator's true gain (Bellamy et al. 1994)."""

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.point import photostat, pulse
from pmtgain.point.charge import measure
from pmtgain.sim.simulate import DEMO_PMTS, T0_NS, simulate_point


def moments(pmt, hv, n, seed=21):
    v, truth = simulate_point(pmt, hv, n, seed=seed)
    prep = pulse.prepare(v, np.full(n, T0_NS * 1e-9), 1e-10, pmt.cut_V(hv), None, DEFAULT_FIT)
    return measure(prep)[1], prep, truth


def n_for_5_percent(pmt, hv):
    """Waveforms for sigma_G <~ 1.3 %, so that 5 % is a ~4-sigma test at every point
    (sigma_G is 1.6 % at 8000 waveforms and mu = 40; where the pedestal is a fifth of the
    variance, small pulses, it takes twice as many)."""
    return 25000 if abs(pmt.mean_peak_V(hv)) / pmt.noise_V < 5 else 12000


@pytest.mark.slow
@pytest.mark.parametrize("pmt", DEMO_PMTS, ids=lambda p: f"pmt{p.pmt}")
def test_gain_within_5_percent_with_covering_errors(pmt):
    """Every HV of the demo PMT (gains 6e4-9e6, mu = 40): G within 5 % of the simulated
    gain law, its error covering the truth, and no bias beyond the statistics."""
    pulls, devs = [], []
    for hv in range(700, 1401, 100):
        m, _, _ = moments(pmt, hv, n_for_5_percent(pmt, hv))
        g, g_err, mu = photostat.gain_from_moments(
            m["ps_mean_pC"], m["ps_var_pC2"], m["ps_ped_var_pC2"], m["ps_var_err_pC2"],
            m["ps_mean_err_pC"], m["ps_cov_pC3"], pmt.enf)
        true = pmt.gain(hv)
        assert abs(g / true - 1) < 0.05, (pmt.pmt, hv, g / true)
        assert 0.008 < g_err / g < 0.016, (pmt.pmt, hv, g_err / g)  # a real error, not 0
        assert abs(mu / pmt.mu_pe - 1) < 0.06
        pulls.append((g - true) / g_err)
        devs.append(g / true - 1)
    pulls = np.asarray(pulls)
    assert np.abs(pulls).max() < 3.5, pulls
    assert np.sqrt(np.mean(pulls**2)) < 1.6, pulls  # 8 pulls: rms 1 +- 0.25
    assert abs(np.mean(devs)) < 0.015, devs  # the mean of 8 points: no bias


def test_pedestal_matches_the_noise_in_the_charge():
    """sigma_ped^2 equals the variance of (estimated - true charge) on a noisy point."""
    pmt = DEMO_PMTS[1]
    m, prep, truth = moments(pmt, 700, 3000)
    q, _ = measure(prep)
    resid = q - truth["q_true_pC"]
    assert m["ps_ped_var_pC2"] / m["ps_var_pC2"] > 0.1  # the pedestal matters here
    assert m["ps_ped_var_pC2"] == pytest.approx(resid.var(), rel=0.08)


def test_the_cut_does_not_bias_the_gain_and_low_mu_is_flagged():
    """With mu = 4 the cut drops many flashes; every waveform enters the moments."""
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[0], mu_pe=4.0)
    m, prep, _ = moments(pmt, 1200, 4000)
    assert (~prep.passed_cut).mean() > 0.05 and prep.counted.all()
    g, g_err, mu = photostat.gain_from_moments(
        m["ps_mean_pC"], m["ps_var_pC2"], m["ps_ped_var_pC2"], m["ps_var_err_pC2"],
        m["ps_mean_err_pC"], m["ps_cov_pC3"], pmt.enf)
    assert abs(g - pmt.gain(1200)) < 3 * g_err
    assert photostat.flags(float(mu), m["ps_clipped_fraction"], float(g), float(g_err)) == ""


def test_pulses_before_the_signal_are_left_out_and_bias_nothing():
    """A real pulse before the signal spoils the baseline: those flashes go, whatever their
    charge; a flash whose minimum is at the record edge (noise beating a small pulse)
    stays."""
    pmt = DEMO_PMTS[1]
    n = 4000
    v, truth = simulate_point(pmt, 700, n, seed=8)
    dark = np.arange(0, n, 50)  # 2 % of the flashes get a dark count before the LED pulse
    t = np.arange(v.shape[1]) * 0.1
    v[dark] += pulse.pulse(t, 8 * pmt.mean_peak_V(700), 12.0, pmt.tau_s_ns, pmt.tau_ns)
    prep = pulse.prepare(v, np.full(n, T0_NS * 1e-9), 1e-10, pmt.cut_V(700), None,
                         DEFAULT_FIT)
    edge = (prep.kmin < 15) | (prep.kmin > v.shape[1] - 15)
    assert edge.sum() >= 3  # the situation exists at this point
    assert prep.counted[edge & ~np.isin(np.arange(n), dark)].all()
    assert (prep.status[dark] == pulse.Status.PRE_PULSE).all()
    assert prep.counted.sum() == n - dark.size
    q, m = measure(prep)
    assert photostat.flags(40.0, m["ps_clipped_fraction"]) == ""
    # the gain and the mean charge of the remaining flashes are the true ones
    g, g_err, _ = photostat.gain_from_moments(
        m["ps_mean_pC"], m["ps_var_pC2"], m["ps_ped_var_pC2"], m["ps_var_err_pC2"],
        m["ps_mean_err_pC"], m["ps_cov_pC3"], pmt.enf)
    assert abs(g - pmt.gain(700)) < 3 * g_err
    qt = truth["q_true_pC"]
    assert abs(m["mean_charge"] - qt.mean()) < 3 * m["sem_charge"]


def test_flags_say_why():
    assert photostat.flags(40.0, 0.0) == ""
    assert photostat.flags(float("nan"), 0.0) == "no excess variance"
    assert photostat.flags(float("nan"), float("nan")).startswith("not measured")
    assert photostat.flags(0.3, 0.02) == "mu=0.30<0.5; 2.0% clipped (largest charges missing)"
    assert photostat.flags(2.0, 0.0, 1e6, 5e5).startswith("excess variance not significant")


def test_a_new_f_keeps_the_no_pedestal_warning():
    """A point whose records have too little pulse-free length for a pedestal says so in
    its gain flag; recomputing the gain with the PMT's F (the lists, the merge) keeps it."""
    import pandas as pd

    from pmtgain.point.photostat import apply_enf, gain_flag

    said = gain_flag(float("nan"), 0.0, ped_note="baseline region of 3 samples")
    assert said.startswith("no pedestal: baseline region of 3 samples")
    row = dict(pmt=1, hv=900, ps_mean_pC=-5.0, ps_var_pC2=4.0, ps_ped_var_pC2=float("nan"),
               ps_var_err_pC2=0.1, ps_mean_err_pC=0.05, ps_cov_pC3=0.0, ps_ped_err_pC2=0.0,
               ps_clipped_fraction=0.0, pedestal_note="baseline region of 3 samples",
               gain_flag=said, enf=1.2)
    out = apply_enf(pd.DataFrame([row]), {1: 1.3})
    assert out.gain_flag[0] == said and out.enf[0] == 1.3

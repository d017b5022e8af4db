"""The spectrum fit of low-light runs against the truth of spectra *outside* its model: a
dynode cascade's single photoelectron (Poisson secondaries at the first dynode, not a
gamma, not a Gaussian) with an under-amplified share that is gamma-shaped (not the fit's
exponential), through waveforms and the model-independent windows."""

import numpy as np
import pytest

from pmtgain.point.spe import process_spe
from pmtgain.point.spefit import fit_spectra, peak_to_valley, response_moments
from pmtgain.sim.photoelectrons import CASCADE_REST_SHAPE, UNDER_SHAPE
from pmtgain.sim.simspe import spe_pmt, with_spe_snr, write_spe_run
from pmtgain.sim.simulate import DEMO_PMTS


def _truth(p, hv, truth):
    return p.gain(hv) * p.spe_mean * truth["record_charge_scale"], p.spe_enf


def _run(tmp_path, ratio, mu=1.5, under=0.1, n=10000, seed=4):
    p = with_spe_snr(spe_pmt(DEMO_PMTS[0], mu, under_amplified=under, spe_shape="cascade"),
                     1300, ratio)
    truth = write_spe_run(tmp_path, p, 1300, n, seed=seed)
    res = process_spe(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1300)
    return res, _truth(p, 1300, truth)


def _within(value, err, sys, want, k=3.0):
    return abs(value - want) < k * np.hypot(err, sys)


@pytest.mark.parametrize("ratio, mu, under", [(14, 1.5, 0.1), (8, 1.0, 0.15)],
                         ids=["14x-mu1.5-under10%", "8x-mu1-under15%"])
def test_the_fit_recovers_g_and_f_of_a_cascade_spectrum(tmp_path, ratio, mu, under):
    """G and F within 3 sigma (statistical and the response shape's systematic) of the
    truth (over seeds 3-5 the gain's pull is -0.5 to -3.1, mean -1.1: the fit's G is low
    by ~1.5 % on these spectra, as the module docstring says); the occupancy within 3
    sigma; the fitted curve kept for the plot; the fit beside the model-independent
    numbers in sigma, and where the model-independent threshold misses part of the single
    photoelectrons."""
    res, (g, f) = _run(tmp_path, ratio, mu, under)
    s = res.summary
    assert _within(s["fit_gain"], s["fit_gain_err"], s["fit_gain_sys"], g), (s["fit_gain"], g)
    assert _within(s["fit_enf"], s["fit_enf_err"], s["fit_enf_sys"], f), (s["fit_enf"], f)
    assert abs(s["fit_occupancy"] - mu) < 3 * s["fit_occupancy_err"]
    assert 0.5 < s["fit_chi2_ndf"] < 2.0
    # the under-amplified share (gamma-shaped, not what Saldanha's correction assumes) puts
    # 3-4 % of the single photoelectrons below its threshold: said, with the bias it makes
    # (Saldanha's G 2.4 % and 4.1 % high here)
    said = float(s["fit_flag"].split("G high by ~")[1].split(" %")[0])
    assert s["fit_flag"].startswith("the fit puts") and s["fit_below_threshold"] > 0.02
    assert abs(said / 100 - (s["gain"] / g - 1)) < 0.015, (said, s["gain"] / g)
    assert abs(s["fit_gain_sigma"]) < 3 and abs(s["fit_enf_sigma"]) < 3
    assert 1.5 < s["peak_to_valley"] < 20
    sp = res.spectra
    assert sp["fit_fitted"].shape == sp["fit_counts"].shape == (sp["fit_edges"].size - 1,)
    assert sp["fit_counts"].sum() == pytest.approx(sp["T"].size, rel=0.01)


def _charges(rng, n, mu, q1, s0, under=0.1, a=0.25, enf=1.2):
    """n flashes' charges of a cascade single photoelectron (mean q1 x spe_mean), no
    waveforms: Poisson(mu) photoelectrons, a share ``under`` of them gamma(1.5) of mean
    a q1, the rest a cascade of F ``enf``; Gaussian noise s0."""
    k = CASCADE_REST_SHAPE
    d1 = (1 + 1 / k) / (enf - 1)
    npe = rng.poisson(mu, n)
    nu = rng.binomial(npe, under)
    n1 = rng.poisson(d1 * (npe - nu))
    x = np.where(n1 > 0, rng.gamma(np.maximum(n1 * k, 1e-12), 1 / (d1 * k)), 0.0)
    x += np.where(nu > 0, rng.gamma(np.maximum(nu * UNDER_SHAPE, 1e-12), a / UNDER_SHAPE),
                  0.0)
    return q1 * x + rng.normal(0, s0, n)


def test_several_light_levels_fitted_together(rng):
    """Two light levels and the pedestal share one response: both occupancies and the
    mean within 3 sigma (with the shape systematic), the joint error smaller than either
    level's alone."""
    q1, s0 = 1.0, 0.08
    lo, hi = _charges(rng, 15000, 0.8, q1, s0), _charges(rng, 15000, 2.0, q1, s0)
    ped = rng.normal(0, s0, 15000)
    mean = q1 * (0.9 + 0.1 * 0.25)
    both = fit_spectra([lo, hi], pedestal=ped, start_q1=1.1, start_mu=[1.0, 1.5])
    alt = fit_spectra([lo, hi], pedestal=ped, start_q1=1.1, start_mu=[1.0, 1.5],
                      response="gauss")
    sys = abs(alt.mean_pC - both.mean_pC)
    assert _within(both.mean_pC, both.mean_err_pC, sys, mean), (both.mean_pC, mean)
    for m, e, want in zip(both.mu, both.mu_err, (0.8, 2.0), strict=True):
        assert abs(m - want) < 3 * e, (m, e, want)
    one = fit_spectra([lo], pedestal=ped, start_q1=1.1, start_mu=[1.0])
    two = fit_spectra([hi], pedestal=ped, start_q1=1.1, start_mu=[1.5])
    assert both.mean_err_pC < min(one.mean_err_pC, two.mean_err_pC)
    assert both.ok and len(both.curves) == 3


def test_the_peak_to_valley_ratio_falls_with_the_resolution(rng):
    pv = []
    for s0 in (0.05, 0.15, 0.3, 0.8):
        f = fit_spectra([_charges(rng, 10000, 1.0, 1.0, s0, under=0.0)],
                        pedestal=rng.normal(0, s0, 10000), start_q1=1.0, start_mu=[1.0])
        pv.append(f.peak_to_valley)
    assert pv[0] > pv[1] > pv[2] > 1.0 and (np.isnan(pv[3]) or pv[3] < 1.1), pv
    x = np.linspace(0, 3, 301)  # a density with no valley between pedestal and peak
    assert np.isnan(peak_to_valley(np.exp(-x), x, 0.0, 1.0))


def test_response_moments_are_those_of_the_components():
    m, ex2 = response_moments(2.0, 0.5, 0.2, 0.4, response="gamma")
    assert m == pytest.approx(0.8 * 2.0 + 0.2 * 0.4)
    assert ex2 == pytest.approx(0.8 * (0.25 + 4.0) + 0.2 * 2 * 0.16)
    # a Gaussian far from 0 is not truncated
    m, ex2 = response_moments(2.0, 0.2, 0.0, 0.4, response="gauss")
    assert m == pytest.approx(2.0) and ex2 == pytest.approx(4.04)
    with pytest.raises(ValueError, match="response"):
        fit_spectra([np.ones(10)], start_q1=1.0, response="lognormal")


@pytest.mark.slow
def test_unresolved_runs_still_get_a_fit_that_says_how_well_it_knows(tmp_path):
    """At 3x the noise the model-independent method is flagged (single photoelectrons
    below its threshold); the fit's errors grow but cover the truth."""
    res, (g, f) = _run(tmp_path, 3.0, n=20000)
    s = res.summary
    assert _within(s["fit_gain"], s["fit_gain_err"], s["fit_gain_sys"], g), (s["fit_gain"], g)
    assert s["fit_gain_err"] > 0.01 * g

"""charge.py: the point's charges are unbiased at any signal to noise, the pedestal
variance is the noise in the charge, and the cut's columns say what the cut does."""

from dataclasses import replace

import numpy as np
import pytest

from pmtgain.point.charge import charge_statistics, cut_statistics, measure
from pmtgain.point.prepare import prepare
from pmtgain.sim.simulate import DEMO_PMTS, simulate_point


def _point(pmt, hv, n, seed=1):
    v, truth = simulate_point(pmt, hv, n, seed=seed)
    p = prepare(v, np.full(n, pmt.t0_ns * 1e-9), pmt.dt_ns * 1e-9, pmt.cut_V(hv))
    return p, truth


def test_unbiased_where_single_flashes_drown_in_noise():
    pmt = replace(DEMO_PMTS[1], noise_V=5e-3)  # pulses below one noise rms
    p, truth = _point(pmt, 700, 20000)
    q, st = measure(p)
    qt = truth["q_true_pC"]
    w = st["window_charge_pC"]
    se = np.std(w - qt) / np.sqrt(q.size)
    assert abs(st["mean_charge"] - qt.mean()) < 3 * se
    assert st["ps_ped_var_pC2"] == pytest.approx(np.var(q - qt), rel=0.05)
    # the filtered charge is the lower-noise one, and its mean is the window sum's
    assert np.var(q - qt) < 0.8 * np.var(w - qt)
    assert q.mean() == pytest.approx(st["mean_charge"], rel=1e-9)


def test_a_record_that_ends_in_the_tail_says_how_much_is_missing():
    pmt = replace(DEMO_PMTS[0], tau_ns=8.0, n_samples=300)  # 30 ns, 10 ns after onset
    p, truth = _point(pmt, 1200, 500)
    _, st = measure(p)
    assert st["window"].k_hi == p.y.shape[1]  # the window runs to the record's end
    # what the record holds is measured; the share after it (exp(-10/8) ~ 29 %) estimated
    assert 0.2 < st["tail_missing_fraction"] < 0.4
    assert st["mean_charge"] == pytest.approx(truth["q_true_pC"].mean(), rel=0.01)


def test_cut_statistics_bias_and_flag():
    rng = np.random.default_rng(3)
    q = -rng.gamma(4.0, 1.0, 4000)
    st = cut_statistics(q, q < -2.0)
    assert st["n_cut"] == int((q < -2.0).sum())
    assert st["cut_bias_pC"] == pytest.approx(st["mean_charge_cut"] - q.mean())
    assert "biases |Q| by +" in st["cut_flag"]
    none = cut_statistics(q, None)
    assert none["n_cut"] == 0 and none["cut_flag"] == ""
    every = cut_statistics(q, np.ones(q.size, bool))
    assert every["cut_bias_pC"] == 0.0 and every["cut_flag"] == ""


def test_statistics():
    st = charge_statistics(np.array([-1.0, -2.0, -3.0, -4.0]), 0.25)
    assert st["mean_charge"] == -2.5 and st["n_used"] == 4
    assert st["std_charge_corrected"] == pytest.approx(np.sqrt(np.var([1, 2, 3, 4], ddof=1)
                                                               - 0.25))

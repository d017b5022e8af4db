"""charge.py: the linear estimator is unbiased at any signal to noise, its pedestal
variance is the noise in the charge, and the cut's columns say what the cut does."""

import numpy as np
import pytest

from pmtgain.charge import (
    charge_statistics,
    cut_statistics,
    linear_estimator,
    measure,
    shape_error_pC,
)
from pmtgain.prepare import prepare
from pmtgain.shape import point_shape
from pmtgain.simulate import DEMO_PMTS, simulate_point


def _point(pmt, hv, n, seed=1):
    v, truth = simulate_point(pmt, hv, n, seed=seed)
    p = prepare(v, np.full(n, pmt.t0_ns * 1e-9), pmt.dt_ns * 1e-9, pmt.cut_V(hv))
    return p, truth


def test_unbiased_where_single_flashes_drown_in_noise():
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[1], noise_V=5e-3)  # pulses below one noise rms
    p, truth = _point(pmt, 700, 20000)
    q, st = measure(p, point_shape(p))
    qt = truth["q_true_pC"]
    se = np.std(q - qt) / np.sqrt(q.size)
    assert abs(st["mean_charge"] - qt.mean()) < 3 * se
    assert st["ps_ped_var_pC2"] == pytest.approx(np.var(q - qt), rel=0.05)


def test_tail_missing_is_the_share_after_the_record():
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[0], tau_ns=8.0, n_samples=300)  # 30 ns, 10 ns after onset
    p, truth = _point(pmt, 1200, 500)
    shape = point_shape(p)
    est = linear_estimator(p, shape)
    assert 0.1 < est.tail_missing_fraction < 0.5
    q = est.apply(p.y)
    assert q.mean() == pytest.approx(truth["q_true_pC"].mean(), rel=0.01)


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


def test_statistics_and_shape_error():
    st = charge_statistics(np.array([-1.0, -2.0, -3.0, -4.0]), 0.25)
    assert st["mean_charge"] == -2.5 and st["n_used"] == 4
    assert st["std_charge_corrected"] == pytest.approx(np.sqrt(np.var([1, 2, 3, 4], ddof=1)
                                                               - 0.25))
    p, _ = _point(DEMO_PMTS[1], 800, 2000)
    shape = point_shape(p)
    err = shape_error_pC(p, shape)
    assert 0 < err < 0.01 * abs(measure(p, shape)[1]["mean_charge"])

"""simpulse.py: the coherent background is in every record and in no truth, a reflection's
copy sits at its delay, the high-pass integrates to zero, dark pulses share the LED shape."""
from dataclasses import replace

import numpy as np
import pytest

from pmtgain.sim.simulate import (
    DEMO_PMTS,
    simulate_point,
)

#: a clean record: no noise to speak of, 16 bit, no offset, no jitter
QUIET = dict(noise_V=1e-9, bits=16, baseline_V=0.0, jitter_ns=0.0)


def test_ripple_and_pickup_in_every_record_and_not_in_the_truth():
    kw = dict(ripple_V=4e-5, ripple_mhz=25.0, ripple_phase_rad=0.7, pickup_V=8e-5,
              pickup_ns=12.0, pickup_width_ns=3.0)
    dark = replace(DEMO_PMTS[0], mu_pe=1e-9, range_V=2e-3, **QUIET, **kw)
    v, t = simulate_point(dark, 1000, 20, seed=1)
    assert (t["n_pe"] == 0).all() and (t["q_true_pC"] == 0).all()
    tt = dark.t0_ns + np.arange(dark.n_samples) * dark.dt_ns
    xx = (tt - (tt[0] + 12.0)) / 3.0
    expected = (4e-5 * np.sin(2 * np.pi * 0.025 * tt + 0.7)
                + 8e-5 * np.where(xx < 0, 1.0, 1.6) * xx * np.exp((1 - xx**2) / 2))
    np.testing.assert_allclose(v, np.broadcast_to(expected, v.shape), rtol=0, atol=2e-7)
    # the pickup: -pickup_V then +1.6 pickup_V, 3 ns either side of 12 ns into the record
    pick = v.mean(0) - 4e-5 * np.sin(2 * np.pi * 0.025 * tt + 0.7)
    assert tt[np.argmin(pick)] - tt[0] == pytest.approx(9.0, abs=0.15)
    assert tt[np.argmax(pick)] - tt[0] == pytest.approx(15.0, abs=0.15)
    assert pick.min() == pytest.approx(-8e-5, rel=0.01)
    assert pick.max() == pytest.approx(1.28e-4, rel=0.01)
    # with light: the same truth with or without them, other volts
    lit = replace(DEMO_PMTS[0], shape="lognormal")
    v0, t0 = simulate_point(lit, 1000, 30, seed=2)
    v1, t1 = simulate_point(replace(lit, **kw), 1000, 30, seed=2)
    assert t0["q_true_pC"].tolist() == t1["q_true_pC"].tolist()
    assert t0["record_charge_scale"] == t1["record_charge_scale"]
    assert not np.array_equal(v0, v1)


def test_reflection_copy_at_its_delay():
    p = replace(DEMO_PMTS[0], shape="lognormal", ln_tau_ns=2.0, ln_sigma=0.25,
                reflection=0.15, reflection_delay_ns=9.0, range_V=1.0, **QUIET)
    v, t = simulate_point(p, 1000, 40, seed=1)
    tt = p.t0_ns + np.arange(p.n_samples) * p.dt_ns
    m = (v / t["q_full_pC"][:, None])[t["n_pe"] > 0].mean(0)  # every flash at one onset
    k1 = int(np.argmax(m))
    late = tt > tt[k1] + 4.0
    k2 = np.nonzero(late)[0][np.argmax(m[late])]
    assert tt[k1] - p.onset_ns == pytest.approx(2.0, abs=0.06)
    assert tt[k2] - tt[k1] == pytest.approx(9.0, abs=0.06)
    assert m[k2] / m[k1] == pytest.approx(0.15, rel=0.01)
    assert t["record_charge_scale"] == pytest.approx(1.15, abs=1e-3)


def test_high_pass_undershoot_integrates_to_zero_over_a_long_record():
    p = replace(DEMO_PMTS[0], ac_coupling_ns=50.0, n_samples=8000, range_V=0.4, **QUIET)
    v, t = simulate_point(p, 1000, 5, seed=1)
    assert abs(t["record_charge_scale"]) < 1e-3
    assert np.abs(t["q_true_pC"]).max() < 2e-3 * np.abs(t["q_full_pC"]).max()
    # the slow undershoot, positive (the pulses are negative): the high-pass of
    # exp(-s/tau) is (b exp(-b s) - a exp(-a s))/(b - a), b = 1/tau, a = 1/RC
    tt = p.t0_ns + np.arange(p.n_samples) * p.dt_ns
    k = np.searchsorted(tt, p.onset_ns + 50.0)
    s, a = tt[k] - p.onset_ns, 1 / 50.0

    def hp(b):
        return (b * np.exp(-b * s) - a * np.exp(-a * s)) / (b - a)
    y = (hp(1 / p.tau_ns) - hp(1 / p.tau_s_ns)) / (p.tau_ns - p.tau_s_ns)
    q_vns = t["q_full_pC"] * 1e-12 * 50.0 * 1e9
    assert (v[:, k] > 0).all()
    np.testing.assert_allclose(v[:, k], q_vns * y, rtol=2e-3)


def test_dark_pulses_and_afterpulses_have_the_led_pulse_shape():
    p = replace(DEMO_PMTS[0], shape="lognormal", ln_tau_ns=3.0, ln_sigma=0.3, mu_pe=1e-9,
                dark_prob=1.0, range_V=0.2, n_samples=2002, **QUIET)
    v, t = simulate_point(p, 1300, 6, seed=4)
    assert (t["n_dark"] == 1).all() and (t["q_true_pC"] == 0).all()
    fwhm = 2 * 3.0 * np.sinh(0.3 * np.sqrt(2 * np.log(2)))
    for row in v:
        k = int(np.argmin(row))
        if k < 50 or k > row.size - 100:
            continue  # a dark pulse at the record's edge
        half = np.nonzero(row < row[k] / 2)[0]
        i, j = half[0], half[-1]  # the half-maximum crossings, interpolated
        lo = i - (row[i] - row[k] / 2) / (row[i] - row[i - 1])
        hi = j + (row[j] - row[k] / 2) / (row[j] - row[j + 1])
        assert (hi - lo) * p.dt_ns == pytest.approx(fwhm, abs=0.02)


# --------------------------------------------------------------------------- the regimes

"""prepare.py: the LED window from the mean of all flashes, the baseline before (or after)
it, and flashes left out only for reasons independent of their LED charge."""

import numpy as np
import pytest

from pmtgain.point.model import Status, pulse
from pmtgain.point.prepare import locate, prepare, pulse_snr, tally
from pmtgain.sim.simulate import DEMO_PMTS, simulate_point


def test_window_found_where_single_pulses_drown_in_noise():
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[1], noise_V=4e-3)  # pulses ~1x the noise at 700 V
    v, truth = simulate_point(pmt, 700, 3000, seed=2)
    g = locate(v, None, pmt.dt_ns * 1e-9)
    onset_k = (pmt.onset_ns - pmt.t0_ns) / pmt.dt_ns
    assert abs(g.k_on - onset_k) < 15 and g.k_base < onset_k - 5
    assert g.k_lo < onset_k < g.k_hi


def test_baseline_after_the_pulse_when_the_record_starts_late():
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[0], record_onset_ns=0.8, n_samples=600)
    v, _ = simulate_point(pmt, 1200, 200, seed=3)
    p = prepare(v, np.full(200, pmt.t0_ns * 1e-9), 1e-10, None)
    assert p.k_edge > p.k_lo  # the region after the pulse
    assert abs(np.median(p.baseline_V) - pmt.baseline_V) < 3e-4


def test_a_pulse_in_the_baseline_leaves_whatever_the_flash_carries():
    pmt = DEMO_PMTS[0]
    v, truth = simulate_point(pmt, 1000, 400, seed=4)
    t = pmt.t0_ns + np.arange(v.shape[1]) * pmt.dt_ns
    v[::20] += pulse(t, -0.05, pmt.t0_ns + 5.0, 0.9, 3.5)  # 20 dark pulses early
    from dataclasses import replace

    cut = replace(pmt, cut_fraction=0.9).cut_V(1000)  # a cut most flashes fail
    p = prepare(v, np.full(400, pmt.t0_ns * 1e-9), 1e-10, cut)
    assert (p.status[::20] == Status.PRE_PULSE).all()
    assert p.counted.sum() == 380
    # the cut never removes a flash: it only marks
    assert (~p.passed_cut).any() and not (p.status == Status.BELOW_CUT).any()


def test_pulse_snr_without_noise():
    assert pulse_snr(-1.0, 0.1, 100) == pytest.approx((10.0, 100.0))
    snr, mean_snr = pulse_snr(0.0, 0.0, 10)
    assert np.isnan(snr) and np.isnan(mean_snr)
    assert pulse_snr(-1.0, 0.0, 10)[1] == float("inf")


def test_the_shape_pass_tally_decides_exactly_as_prepare():
    """tally (the first pass of a point in chunks) keeps no traces, yet decides which
    flashes count exactly as prepare does, and sums the same traces; prepare with
    ``overwrite`` gives the same result as without."""
    from dataclasses import replace

    pmt = replace(DEMO_PMTS[0], dark_prob=0.2, range_V=0.5)  # pre-pulses and clipping
    v, _ = simulate_point(pmt, 1300, 600, seed=6)
    clipped = v.min(axis=1) <= v.min() + 1e-12
    t0 = np.full(600, pmt.t0_ns * 1e-9)
    g = locate(v, clipped, 1e-10)
    p = prepare(v, t0, 1e-10, None, clipped, geometry=g)
    t = tally(v, clipped, g)
    assert (p.status == Status.PRE_PULSE).sum() > 3 and clipped.sum() > 5
    np.testing.assert_array_equal(t.status, p.status)
    assert t.noise_ref == p.noise_ref and t.n_counted == p.counted.sum()
    np.testing.assert_allclose(t.y_sum, p.y[p.counted].sum(axis=0), rtol=1e-12,
                               atol=1e-12 * np.abs(p.y).max() * t.n_counted)
    q = prepare(v.copy(), t0, 1e-10, None, clipped, geometry=g, overwrite=True)
    for k in ("y", "baseline_V", "noise_V", "amplitude_V", "status", "mean_pulse"):
        np.testing.assert_array_equal(getattr(q, k), getattr(p, k))

import numpy as np
import pytest
from scipy.integrate import quad

from pmtgain.config import DEFAULT_FIT
from pmtgain.point.pulse import (
    Status,
    fit_fast,
    fit_integral,
    fit_mean_pulse,
    prepare,
    pulse,
    pulse_integral,
    pulse_smeared,
)
from pmtgain.sim.simulate import DEMO_PMTS, DT_NS, T0_NS, simulate_point


def test_pulse_integral_matches_numerical_quadrature():
    for lo, hi, c in [(40, 80, 47.5), (48, 60, 47.5), (30, 45, 47.5)]:
        num, _ = quad(lambda t, c=c: float(pulse(t, -0.1, c, 0.93, 3.5)), lo, hi, points=[c],
                      limit=200)
        assert pulse_integral(lo, hi, -0.1, c, 0.93, 3.5) == pytest.approx(num, rel=1e-9,
                                                                           abs=1e-14)
    # the full integral is a (tau - tau_s)
    assert pulse_integral(0, 1e4, -0.1, 5, 0.93, 3.5) == pytest.approx(-0.1 * (3.5 - 0.93))


def test_smeared_pulse_is_the_average_of_jittered_pulses():
    t = np.linspace(40, 70, 301)
    # average over jitter by quadrature on a fine grid of shifts
    shifts = np.linspace(-2, 2, 4001)
    w = np.exp(-0.5 * (shifts / 0.3) ** 2)
    w /= w.sum()
    avg = (w[:, None] * pulse(t[None, :], -1.0, 47.5 + shifts[:, None], 0.93, 3.5)).sum(0)
    np.testing.assert_allclose(pulse_smeared(t, -1.0, 47.5, 0.93, 3.5, 0.3), avg, atol=2e-4)


def test_mean_pulse_fit_recovers_shape_and_jitter():
    t = np.arange(502) * 0.1
    y = pulse_smeared(t, -0.05, 20.0, 0.93, 3.5, 0.25)
    s = fit_mean_pulse(y, t, 150, 500, DEFAULT_FIT, c_offset_ns=27.5)
    assert s.tau_s_ns == pytest.approx(0.93, rel=1e-3)
    assert s.tau_ns == pytest.approx(3.5, rel=1e-3)
    assert s.jitter_ns == pytest.approx(0.25, rel=1e-2)
    assert s.c_ns == pytest.approx(20.0, abs=1e-3)


@pytest.mark.parametrize("pmt,hv,n", [(1, 1300, 150), (2, 900, 150), (4, 700, 1000)])
def test_shape_errors_match_the_scatter_over_independent_points(pmt, hv, n):
    """The mean-pulse fit's errors against the spread of the fitted shape over 16
    independent simulated points (the same PMT, HV and number of waveforms). At high
    signal the residual-only errors of onset and jitter were 15-30x too small."""
    from pmtgain.point.pulse import point_shape

    fits = []
    for seed in range(16):
        p, _ = _prep(DEMO_PMTS[pmt - 1], hv, n, seed=100 + seed)
        fits.append(point_shape(p, DEFAULT_FIT))
    for name in ("tau_s", "tau", "jitter", "c"):
        values = np.array([getattr(f, f"{name}_ns") for f in fits])
        errors = np.array([getattr(f, f"{name}_err_ns") for f in fits])
        assert np.all(np.isfinite(errors)) and np.all(errors > 0), name
        ratio = np.median(errors) / values.std(ddof=1)
        assert 0.5 < ratio < 2.0, (name, ratio, values.std(ddof=1), np.median(errors))


def _prep(pmt, hv, n, cut=True, seed=3, **kw):
    v, truth = simulate_point(pmt, hv, n, seed)
    p = prepare(v, np.full(n, T0_NS * 1e-9), DT_NS * 1e-9, pmt.cut_V(hv) if cut else None, **kw)
    return p, truth


def test_the_cut_never_removes_a_flash_it_only_marks_it():
    pmt = DEMO_PMTS[0]
    v, _ = simulate_point(pmt, 1000, 50, 1)
    v[:10] = v[:10, :1]  # flat traces: no pulse
    p = prepare(v, np.full(50, T0_NS * 1e-9), DT_NS * 1e-9, pmt.cut_V(1000))
    assert (p.status == Status.OK).all()  # every flash counts
    assert not p.passed_cut[:10].any() and p.passed_cut[10:].all()
    r = fit_fast(p)
    assert np.isfinite(r.charge_pC).all()


def test_clipped_flashes_leave_and_late_pulses_are_fit_edge():
    pmt = DEMO_PMTS[0]
    v, _ = simulate_point(pmt, 1200, 40, 2)
    clipped = np.zeros(40, bool)
    clipped[3] = True
    # flash 5: the pulse moved to the record's end (its baseline before it)
    v[5] = np.concatenate([v[5, :270], v[5, :-270]])
    p = prepare(v, np.full(40, T0_NS * 1e-9), DT_NS * 1e-9, pmt.cut_V(1200), clipped)
    assert p.status[3] == Status.CLIPPED and p.status[5] == Status.OK
    r = fit_fast(p)
    assert r.status[3] == Status.CLIPPED
    # the fit cannot follow it (the fit's outcome; the flash still counts)
    assert r.status[5] in (Status.EDGE, Status.NOT_CONVERGED, Status.AT_BOUND)
    assert np.isnan(r.charge_pC[3])


def test_failed_fit_gets_the_window_integral_not_dropped():
    pmt = DEMO_PMTS[0]
    p, truth = _prep(pmt, 1200, 60)
    # waveform 7: a second, late pulse the model cannot describe -> bad chi2
    p.y[7, 330:360] += 3 * p.y[7].min() * np.hanning(30)
    r = fit_fast(p)
    assert r.status[7] == Status.NOT_CONVERGED
    wi = fit_integral(p).charge_pC[7]
    assert r.charge_pC[7] == pytest.approx(wi)


def test_fast_fit_beats_the_window_integral_in_resolution():
    pmt = DEMO_PMTS[1]
    p, truth = _prep(pmt, 1000, 1500)
    fast = fit_fast(p).charge_pC - truth["q_true_pC"]
    integ = fit_integral(p).charge_pC - truth["q_true_pC"]
    assert np.nanstd(fast) < 0.75 * np.nanstd(integ)


def test_free_onsets_follow_the_true_jitter_at_high_signal():
    pmt = DEMO_PMTS[0]
    p, truth = _prep(pmt, 1300, 300)
    r = fit_fast(p)
    assert r.shape.free_onset
    err = r.c_ns - truth["onset_ns"]
    assert np.std(err) < 0.05  # ns; the true jitter is 0.2 ns
    assert abs(np.mean(err)) < 0.01


@pytest.mark.parametrize("tau_s,tau", [(0.93, 3.5), (2.0, 2.5), (0.3, 10.0)])
def test_the_fits_cumulative_sums_equal_the_sums_over_samples(tau_s, tau, rng):
    """fit_fast's O(1) sums (_Sums) against the sums over the samples they stand for, for
    onsets anywhere in the scan range, sharp and slow pulses, to the window's end and to
    j_hi."""
    from pmtgain.point.model import pulse
    from pmtgain.point.pulse import _Sums

    t = np.arange(300) * 0.1 + 3.0
    y = rng.standard_normal((7, 300))
    c_ref, j_hi = 12.0, 200
    S = _Sums(t, y, c_ref, tau_s, tau, c_ref - 2.0, c_ref + 2.0, j_hi)
    c = c_ref + rng.uniform(-2.0, 2.0, 7)
    for end, hi in ((300, False), (j_hi, True)):
        g = pulse(t[None, :end], 1.0, c[:, None], tau_s, tau)
        x = np.maximum(t[None, :end] - c[:, None], 0.0)
        gp = np.where(t[None, :end] >= c[:, None],
                      np.exp(-x / tau_s) / tau_s - np.exp(-x / tau) / tau, 0.0)
        sgy, sgpy = S.data(c, np.arange(7), end_hi=hi)
        sgg, sggp, sgpgp, sg = S.model(c, end_hi=hi)
        yy = y[:, :end]
        for got, want in ((sgy, (g * yy).sum(1)), (sgpy, (gp * yy).sum(1)),
                          (sgg, (g * g).sum(1)), (sggp, (g * gp).sum(1)),
                          (sgpgp, (gp * gp).sum(1)), (sg, g.sum(1))):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_fast_fit_finds_the_least_squares_minimum_of_each_flash():
    """(a, c) of fit_fast against a direct minimisation of each flash's sum of squares
    (scipy, from the truth) in the same window: the same minimum."""
    from scipy.optimize import least_squares

    from pmtgain.point.model import pulse

    p, truth = _prep(DEMO_PMTS[0], 1300, 60)
    r = fit_fast(p)
    assert r.shape.free_onset
    t_w = np.arange(p.k_lo, p.k_hi) * p.dt_ns
    ok = np.nonzero(r.status == Status.OK)[0][:20]
    assert ok.size == 20
    for i in ok:
        yw = p.y[i, p.k_lo:p.k_hi]
        c_rel = r.c_ns[i] - p.t0_ns[i]
        ts, tf = r.tau_s_ns[i], r.tau_ns[i]
        sol = least_squares(lambda x, yw=yw, ts=ts, tf=tf: pulse(t_w, x[0], x[1], ts, tf) - yw,
                            [truth["a_V"][i], truth["onset_ns"][i] - p.t0_ns[i]],
                            x_scale=[0.01, 0.1], xtol=1e-12, ftol=1e-14, gtol=1e-14)
        assert r.a_V[i] == pytest.approx(sol.x[0], rel=1e-5)
        assert c_rel == pytest.approx(sol.x[1], abs=2e-3)

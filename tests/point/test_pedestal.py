"""The pedestal against the exact variance of the estimator, for noise of known covariance."""

import numpy as np
import pytest

from pmtgain.point.pedestal import PedestalAccumulator, estimator_noise_kernel, pedestal_of

N, K_EDGE, K_BASE, K_LO, K_HI = 300, 5, 105, 110, 290  # the window longer than the region


def _weights(rng=None):
    k = np.arange(K_HI - K_LO)
    return 0.02 * np.exp(-k / 40.0) * (1 - np.exp(-k / 3.0))  # a matched-filter-like decay


def _exact(r_of_lag, u):
    base = np.arange(K_EDGE, K_BASE)
    span = K_HI - K_EDGE
    kern = estimator_noise_kernel(u, K_LO, base, K_EDGE, span)
    return float(r_of_lag(np.arange(span)) @ kern)


def _records(kind, n, rng):
    t = np.arange(N)
    if kind == "white":
        x = 1e-3 * rng.standard_normal((n, N))
        r = lambda lag: np.where(lag == 0, 1e-6, 0.0)  # noqa: E731
    elif kind == "ar1":  # scope noise correlated over ~10 samples
        rho, s = 0.9, 1e-3
        e = s * np.sqrt(1 - rho**2) * rng.standard_normal((n, N + 200))
        x = np.empty_like(e)
        x[:, 0] = s * rng.standard_normal(n)
        for k in range(1, N + 200):
            x[:, k] = rho * x[:, k - 1] + e[:, k]
        x = x[:, 200:]
        r = lambda lag: s**2 * rho ** lag  # noqa: E731
    elif kind == "wander":  # a slow sinusoid of random phase (stationary, never decays)
        a, per = 1e-3, 4000.0
        ph = rng.uniform(0, 2 * np.pi, n)
        x = 0.3e-3 * rng.standard_normal((n, N)) + a * np.sin(2 * np.pi * t / per
                                                               + ph[:, None])
        r = lambda lag: np.where(lag == 0, 0.09e-6, 0.0) + a**2 / 2 * np.cos(  # noqa: E731
            2 * np.pi * lag / per)
    else:
        raise ValueError(kind)
    return x, r


@pytest.mark.parametrize("kind", ["white", "ar1", "wander"])
@pytest.mark.parametrize("signal", [False, True])
def test_variance_matches_the_exact_value(kind, signal):
    """With or without an LED pulse (independent of the noise) in the window, a trigger-
    locked ripple and an offset per flash: within 3 errors of the exact value, and within
    15 % of it without a signal (the wander is a long-range covariance that the baseline
    region alone cannot give: the window spans 285 samples, the region 100). With a
    signal whose spread is ~4x the noise, the lags beyond the region come from its pairs
    with the window: unbiased, noisier, and the error says how much (small against the
    charges' own variance, which is what the pedestal is subtracted from)."""
    rng = np.random.default_rng(3)
    n = 4000
    x, r = _records(kind, n, rng)
    t = np.arange(N)
    x = x + 2e-4 * np.sin(2 * np.pi * t / 37.0)  # coherent: the same in every record
    x = x + 1e-3 * rng.standard_normal(n)[:, None]  # a DC offset per flash
    if signal:
        amp = rng.gamma(20.0, 1.0, n) * 1e-3
        shape = np.where(t >= 120, np.exp(-(t - 120) / 20.0), 0.0)
        x = x - amp[:, None] * shape
    u = _weights()
    base_idx = np.arange(K_EDGE, K_BASE)
    b = x[:, base_idx].mean(axis=1)
    y = x - b[:, None]
    got = pedestal_of(y, b, np.ones(n, bool), base_idx, K_LO, u)
    want = _exact(r, u)
    direct = np.var(y[:, K_LO:K_HI] @ u) if not signal else None
    assert abs(got.var_pC2 - want) < 3 * got.err_pC2 + 0.05 * want, (got, want)
    if direct is not None:  # the estimator applied to these very records
        assert abs(got.var_pC2 - want) < 0.15 * want, (got, want)
        assert got.err_pC2 < 0.3 * want
        assert abs(direct - want) < 0.1 * want
    else:
        assert got.err_pC2 < 0.02 * np.var(y[:, K_LO:K_HI] @ u)


def test_chunked_equals_whole_and_rows_are_respected():
    rng = np.random.default_rng(4)
    x, _ = _records("ar1", 1200, rng)
    base_idx = np.arange(K_EDGE, K_BASE)
    b = x[:, base_idx].mean(axis=1)
    y = x - b[:, None]
    u = _weights()
    rows = rng.random(1200) < 0.9
    center = y[rows].mean(axis=0)
    whole = pedestal_of(y, b, rows, base_idx, K_LO, u, center)
    acc = PedestalAccumulator(base_idx, K_LO, K_HI, center)
    for s in range(0, 1200, 250):
        acc.add(y[s:s + 250], b[s:s + 250], rows[s:s + 250])
    assert acc.variance(u).var_pC2 == pytest.approx(whole.var_pC2, rel=1e-9)
    # a flash left out (rows False) is not read: a huge value there changes nothing
    y2 = y.copy()
    y2[~rows] = 1e3
    assert pedestal_of(y2, b, rows, base_idx, K_LO, u, center).var_pC2 == \
        pytest.approx(whole.var_pC2, rel=1e-9)


def test_too_short_a_baseline_region_says_so():
    y = np.zeros((50, 100))
    got = pedestal_of(y, np.zeros(50), np.ones(50, bool), np.arange(3), 10, np.ones(20))
    assert np.isnan(got.var_pC2) and "8 samples" in got.note


def test_baseline_after_the_window():
    """The baseline region after the pulse (a record that starts with it)."""
    rng = np.random.default_rng(5)
    x, r = _records("ar1", 3000, rng)
    base_idx = np.arange(200, 300)
    u = 0.01 * np.ones(100)
    b = x[:, base_idx].mean(axis=1)
    y = x - b[:, None]
    got = pedestal_of(y, b, np.ones(3000, bool), base_idx, 50, u)
    kern = estimator_noise_kernel(u, 50, base_idx, 50, 250)
    want = float(r(np.arange(250)) @ kern)
    assert abs(got.var_pC2 - want) < 3 * got.err_pC2 + 0.05 * want

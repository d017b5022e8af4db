"""window.py: the integration window holds the whole pulse whatever its shape, the
filtered charge's mean is the window sum's, and a borrowed window lands on the pulse."""

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.window import (
    Template,
    block_sigma,
    borrowed_window,
    choose_window,
    leading_edge_ns,
    make_estimator,
    template_of,
)

DT = 0.5  # ns
N = 800
T = np.arange(N) * DT


def _lognormal(t, c, tau=6.0, s=0.35):
    x = np.clip(t - c, 1e-9, None)
    return np.where(t > c, np.exp(-np.log(x / tau) ** 2 / (2 * s * s)), 0.0)


def _mean_pulse(shape, sigma, seed=0):
    """A mean pulse (negative, peak 1 V x amp) with white noise of the mean ``sigma``."""
    rng = np.random.default_rng(seed)
    return -shape + sigma * rng.standard_normal(N)


SHAPES = {
    "lognormal": _lognormal(T, 60.0),
    # 15 % of the charge in a 40 ns component
    "slow tail": _lognormal(T, 60.0) + 0.15 * 6.4 / 40 * np.where(
        T > 62, np.exp(-(T - 62) / 40.0), 0.0),
    "reflection": _lognormal(T, 60.0) + 0.15 * _lognormal(T, 72.0),
    "ringing": _lognormal(T, 60.0) + 0.1 * np.where(
        T > 66, np.sin(2 * np.pi * 0.2 * (T - 66)) * np.exp(-(T - 66) / 10), 0.0),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_window_holds_the_whole_pulse(name):
    s = SHAPES[name]
    sigma = 2e-3  # the mean pulse 500 x its own noise
    m = _mean_pulse(s, sigma)
    w = choose_window(m, 0, 100, DT, sigma, DEFAULT_FIT, 5)
    inside = s[w.k_lo:w.k_hi].sum()
    # what lies outside is below the noise of the window sum
    assert abs(s.sum() - inside) < 3 * sigma * np.sqrt(w.k_hi - w.k_lo), (name, w)
    assert w.k_lo >= 100 and w.source == "own" and w.mean_snr > 300
    assert w.k_lo * DT < 60.0  # before the onset


def test_an_undershoot_keeps_the_window_open_and_pickup_stays_outside():
    s = _lognormal(T, 150.0)
    rc = 150.0  # a first-order high-pass: the undershoot after the pulse
    hp = s.copy()
    for k in range(1, N):
        hp[k] = hp[k - 1] * np.exp(-DT / rc) + (s[k] - s[k - 1])
    pick = 0.01 * np.gradient(np.exp(-0.5 * ((T - 110) / 3) ** 2))  # before the pulse
    m = _mean_pulse(hp + pick, 1e-3, seed=2)
    w = choose_window(m, 0, 100, DT, 1e-3, DEFAULT_FIT, 5)
    assert w.k_lo * DT > 118  # the pick-up (100-120 ns) is not pulled in
    short = hp[w.k_lo:w.k_lo + int(40 / DT)].sum()
    assert abs(hp[w.k_lo:w.k_hi].sum() - hp[w.k_lo:].sum()) < abs(hp[w.k_lo:].sum()
                                                                 - short)


def test_block_sigma_of_white_noise_grows_as_sqrt_L():
    rng = np.random.default_rng(1)
    base = rng.standard_normal(4000)
    L = np.array([1, 4, 16, 64, 4096])
    s = block_sigma(base, L, 1.0)
    assert s / np.sqrt(L) == pytest.approx(np.ones(5), rel=0.1)


def test_filtered_mean_is_the_window_sum_and_its_noise_lower():
    rng = np.random.default_rng(4)
    s = SHAPES["slow tail"]
    n, noise = 3000, 0.3
    amp = rng.gamma(40, 1 / 40, n)[:, None]
    y = -amp * s + noise * rng.standard_normal((n, N))
    m = y.mean(axis=0)
    w = choose_window(m, 0, 100, DT, noise / np.sqrt(n), DEFAULT_FIT, 5)
    est = make_estimator(m, w, DT, noise / np.sqrt(n))
    q, ws = est.apply(y), est.window_sum(y)
    assert q.mean() == pytest.approx(ws.mean(), rel=1e-10)
    truth = -amp[:, 0] * s.sum() * est.unit
    assert np.var(q - truth) < 0.5 * np.var(ws - truth)
    assert "exact" in est.how


def test_a_borrowed_window_lands_on_the_weak_points_pulse():
    s = SHAPES["reflection"]
    strong = -s
    w = choose_window(strong, 0, 100, DT, 1e-4, DEFAULT_FIT, 5)
    tmpl = template_of(strong, w, 1000.0, DT, 1000)
    assert isinstance(tmpl, Template) and tmpl.pulse.sum() == pytest.approx(1.0)
    # the same pulse 7 ns later on a record that starts at 995 ns, 1 ns sampling
    t2 = np.arange(400) * 1.0
    weak = -np.interp(t2 + 995 - 1000 - 7, T, s)
    edge = tmpl.edge_ns + 7
    win, wts = borrowed_window(tmpl, edge, 0.5, 995.0, 1.0, 400, 5, 3.0, "weak")
    assert win.source == "table"
    assert abs(weak[win.k_lo:win.k_hi].sum() - weak.sum()) < 1e-3 * abs(weak.sum())
    est = make_estimator(weak, win, 1.0, 1e-6, wts)
    assert est.window_sum(weak[None])[0] == pytest.approx(est.apply(weak[None])[0], rel=2e-2)
    assert leading_edge_ns(weak, int(np.argmin(weak)), 1.0) + 995 == pytest.approx(edge,
                                                                                  abs=0.3)

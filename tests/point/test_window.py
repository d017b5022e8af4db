"""window.py: the integration window holds the whole pulse whatever its shape, the
filtered charge's mean is the window sum's, and a borrowed window lands on the pulse."""

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.point.window import (
    Template,
    borrowed_window,
    choose_window,
    clean_baseline,
    flash_block_noise,
    leading_edge_ns,
    make_estimator,
    mean_block_sigma,
    template_of,
)

DT = 0.5  # ns
N = 800
T = np.arange(N) * DT


def white(sigma):
    """The noise of the mean pulse's sums of 1, 2, 4, ... samples for white noise."""
    return sigma * np.sqrt(2.0 ** np.arange(12))


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
    w = choose_window(m, 0, 100, DT, white(sigma), DEFAULT_FIT, 5)
    inside = s[w.k_lo:w.k_hi].sum()
    # what lies outside is below the noise of the window sum
    assert abs(s.sum() - inside) < 3 * sigma * np.sqrt(w.k_hi - w.k_lo), (name, w)
    assert w.k_lo >= 100 and w.source == "own" and w.mean_snr > 300
    assert w.k_lo * DT <= 60.0  # from the onset on


def test_an_undershoot_keeps_the_window_open_and_pickup_stays_outside():
    s = _lognormal(T, 150.0)
    rc = 150.0  # a first-order high-pass: the undershoot after the pulse
    hp = s.copy()
    for k in range(1, N):
        hp[k] = hp[k - 1] * np.exp(-DT / rc) + (s[k] - s[k - 1])
    pick = 0.01 * np.gradient(np.exp(-0.5 * ((T - 110) / 3) ** 2))  # before the pulse
    m = _mean_pulse(hp + pick, 1e-3, seed=2)
    w = choose_window(m, 0, 100, DT, white(1e-3), DEFAULT_FIT, 5)
    assert w.k_lo * DT > 118  # the pick-up (100-120 ns) is not pulled in
    short = hp[w.k_lo:w.k_lo + int(40 / DT)].sum()
    assert abs(hp[w.k_lo:w.k_hi].sum() - hp[w.k_lo:].sum()) < abs(hp[w.k_lo:].sum()
                                                                 - short)


def test_block_noise_of_flashes_is_random_noise_only():
    """White noise: sqrt(L); a ripple the same in every flash is not noise; a baseline
    wander of random phase is, and grows faster than sqrt(L)."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((400, 256))
    s = flash_block_noise(z, 1024)
    L = 2.0 ** np.arange(s.size)
    assert s[:7] / np.sqrt(L[:7]) == pytest.approx(np.ones(7), rel=0.1)
    ripple = 3.0 * np.sin(2 * np.pi * np.arange(256) / 40.0)
    np.testing.assert_allclose(flash_block_noise(z + ripple, 1024), s, rtol=1e-9)
    phase = rng.uniform(0, 2 * np.pi, (400, 1))
    wander = 0.5 * np.sin(2 * np.pi * np.arange(256) / 400.0 + phase)
    sw = flash_block_noise(z + wander, 1024)
    assert sw[6] > 1.3 * s[6]  # sums of 64 samples
    assert mean_block_sigma(s, 100, 0.1)[0] == pytest.approx(s[0] / 10)


def test_pickup_is_left_out_of_the_baseline_region():
    m = np.zeros(400)
    m[120:160] = 0.3 * np.sin(np.linspace(0, 2 * np.pi, 40))  # 30 sigma of structure
    b = clean_baseline(m, 10, 300, white(0.01), 20)
    # the stretch is left out, and the region still spans both sides of it
    assert (b.lo, b.hi) == (10, 300) and 100 <= b.skip_lo <= 120 and 160 <= b.skip_hi <= 180
    assert "left out" in b.note
    used = b.mask(400)
    assert not used[120:160].any() and used[10:100].all() and used[180:300].all()
    # at the region's start: the region shrinks instead
    m2 = np.zeros(400)
    m2[12:40] = 0.3  # with a net area: the rest of the region is shifted by it
    m2[10:300] -= m2[10:300].mean()
    b2 = clean_baseline(m2, 10, 300, white(0.01), 20)
    assert b2.skip_lo == b2.skip_hi == 0 and 40 <= b2.lo <= 70 and b2.hi == 300, b2
    clean = clean_baseline(np.zeros(400), 10, 300, white(0.01), 20)
    assert (clean.lo, clean.hi, clean.skip_hi, clean.note) == (10, 300, 0, "")


def test_filtered_mean_is_the_window_sum_and_its_noise_lower():
    rng = np.random.default_rng(4)
    s = SHAPES["slow tail"]
    n, noise = 3000, 0.3
    amp = rng.gamma(40, 1 / 40, n)[:, None]
    y = -amp * s + noise * rng.standard_normal((n, N))
    m = y.mean(axis=0)
    w = choose_window(m, 0, 100, DT, white(noise / np.sqrt(n)), DEFAULT_FIT, 5)
    est = make_estimator(m, w, DT, noise / np.sqrt(n))
    q, ws = est.apply(y), est.window_sum(y)
    assert q.mean() == pytest.approx(ws.mean(), rel=1e-10)
    truth = -amp[:, 0] * s.sum() * est.unit
    assert np.var(q - truth) < 0.5 * np.var(ws - truth)
    assert "exact" in est.how


def test_a_borrowed_window_lands_on_the_weak_points_pulse():
    s = SHAPES["reflection"]
    strong = -s
    w = choose_window(strong, 0, 100, DT, white(1e-4), DEFAULT_FIT, 5)
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

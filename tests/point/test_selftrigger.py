"""selftrigger.py: the triggers' rate beyond the scope's dead time, and the rates below and
beyond the trigger level."""

import numpy as np
import pytest

from pmtgain.point.selftrigger import level_at_trigger, self_triggered_rates, trigger_rate


def test_self_triggered_rates_below_and_beyond_the_level():
    rng = np.random.default_rng(1)
    t = np.cumsum(5e-6 + rng.exponential(1 / 1e4, 20000))  # 10 kHz beyond the level, 5 us dead
    r, e, dead, n = trigger_rate([t[:10000], t[10000:]])  # two sequence files
    assert abs(r - 1e4) < 3 * e and dead == pytest.approx(5e-6, rel=0.01) and n == 19998
    # below the level (1 mV) the pre-trigger region counts: 500 pulses in 0.1 s between
    # 0.5 mV and the level, none beyond it (a waiting scope); beyond it the triggers' depths
    thr = np.array([0.5e-3, 2e-3])
    rates, errs = self_triggered_rates(thr, np.array([500, 0]), np.array([0, 0]), 0, 0, 0.1,
                                       1e-3, np.r_[np.full(600, 1.5e-3), np.full(400, 3e-3)],
                                       1e4, 100.0)
    assert rates.tolist() == pytest.approx([1e4 + 5000, 0.4e4])
    assert errs[0] == pytest.approx(np.hypot(100, np.sqrt(500) / 0.1))



def test_no_deeper_triggering_pulse_is_an_upper_limit_and_few_intervals_no_rate():
    r, e = self_triggered_rates(np.array([5e-3]), np.array([0]), np.array([0]), 0, 0, 0.1,
                                1e-3, np.full(200, 2e-3), 1e4, 100.0)
    assert r[0] == 0 and e[0] == pytest.approx(1e4 / 200)
    assert np.isnan(trigger_rate([np.arange(5) * 1e-3])[0])  # 4 intervals: too few
    assert np.isnan(trigger_rate([])[0])


def test_the_level_at_the_trigger_between_two_samples():
    v = np.tile(np.array([0.0, 0.0, -1.0, -2.0]), (2, 1))
    # sample 0 at -2.5 ns, 1 ns apart: t = 0 lies half-way between samples 2 and 3
    d = level_at_trigger(v, np.array([-2.5e-9, -10e-9]), 1e-9, np.zeros(2))
    assert d[0] == pytest.approx(1.5) and np.isnan(d[1])

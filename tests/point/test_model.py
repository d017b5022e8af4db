"""The pulse model: its closed-form integrals against numerical ones, the jitter-smeared
pulse against a Monte Carlo average, and the charge units."""

import numpy as np
import pytest

from pmtgain.point.model import (
    Status,
    charge_pC,
    peak_time,
    pulse,
    pulse_integral,
    pulse_smeared,
    tail_fraction,
)


def test_integrals_match_numerical_integration():
    t = np.linspace(0, 200, 400001)
    f = pulse(t, -1.0, 5.0, 0.9, 3.5)
    full = np.trapezoid(f, t)
    assert full == pytest.approx(-1.0 * (3.5 - 0.9), rel=1e-6)
    part = pulse_integral(4.0, 12.0, -1.0, 5.0, 0.9, 3.5)
    m = (t >= 4.0) & (t <= 12.0)
    assert part == pytest.approx(np.trapezoid(f[m], t[m]), rel=1e-5)
    # the share after x: 1 at the onset, the numerical tail elsewhere
    assert tail_fraction(0.0, 0.9, 3.5) == pytest.approx(1.0)
    x = 10.0
    assert tail_fraction(x, 0.9, 3.5) == pytest.approx(
        np.trapezoid(f[t >= 5 + x], t[t >= 5 + x]) / full, rel=1e-4)


@pytest.mark.slow
def test_smeared_pulse_is_the_mean_of_jittered_pulses(rng):
    t = np.linspace(0, 30, 301)
    d = rng.normal(0, 0.4, 200_000)
    mc = pulse(t[None, :], 1.0, 10.0 + d[:, None], 1.0, 4.0).mean(axis=0)
    np.testing.assert_allclose(pulse_smeared(t, 1.0, 10.0, 1.0, 4.0, 0.4), mc, atol=3e-3)
    np.testing.assert_allclose(pulse_smeared(t, 1.0, 10.0, 1.0, 4.0, 0.0),
                               pulse(t, 1.0, 10.0, 1.0, 4.0))


def test_peak_time_and_units():
    tp = peak_time(0.9, 3.5)
    t = np.linspace(0, 10, 100001)
    assert t[np.argmax(pulse(t, 1.0, 0.0, 0.9, 3.5))] == pytest.approx(tp, abs=1e-3)
    assert charge_pC(0.05) == pytest.approx(1.0)  # 0.05 V ns into 50 ohm = 1 pC
    assert Status.PRE_PULSE.label == "pre_pulse" and Status(4).label == "clipped"

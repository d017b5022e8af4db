"""background.py: a coherent ripple is fitted where it exceeds the noise and only there,
and its extrapolation holds beyond the samples it was fitted on."""

import numpy as np
import pytest

from pmtgain.point.background import fit_ripple


def test_a_ripple_is_fitted_where_it_exceeds_the_noise_and_only_there():
    rng = np.random.default_rng(7)
    k = np.arange(300)
    use = k < 200
    sigma = 0.01
    noise = sigma * rng.standard_normal(300)
    assert fit_ripple(noise, use, 0.4, sigma) is None
    rip = 0.05 * np.sin(2 * np.pi * 0.026 * k * 0.4 + 1.0)
    r = fit_ripple(noise + rip, use, 0.4, sigma)
    assert r is not None and r.freq_ghz == pytest.approx(0.026, rel=0.02)
    assert r.amplitude_V == pytest.approx(0.05, rel=0.05)
    # extrapolated over the next 100 samples it still holds the ripple
    np.testing.assert_allclose(r.at(k[200:]), rip[200:], atol=0.01)

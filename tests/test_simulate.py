import numpy as np
import pytest

from pmtgain.config import E_CHARGE_C
from pmtgain.flashes import read_many
from pmtgain.simulate import DEMO_PMTS, DT_NS, T0_NS, simulate_point, write_point


def test_files_hold_exactly_the_simulated_volts(tmp_path):
    pmt = DEMO_PMTS[3]
    write_point(tmp_path, pmt, 1000, 50, seed=4)
    v, _ = simulate_point(pmt, 1000, 50, seed=4)
    many = read_many(sorted(tmp_path.glob("*.trc")))
    np.testing.assert_allclose(many.volts, v, rtol=0, atol=1e-9)
    assert many.t0_s[0] == pytest.approx(T0_NS * 1e-9)
    assert many.dt_s == pytest.approx(DT_NS * 1e-9, rel=1e-6)


def test_photostatistics_gain_law_and_excess_noise():
    pmt = DEMO_PMTS[0]
    _, t = simulate_point(pmt, 1000, 40000, seed=9)
    q = -t["q_true_pC"] * 1e-12
    ge = pmt.gain(1000) * E_CHARGE_C
    assert t["n_pe"].mean() == pytest.approx(pmt.mu_pe, rel=0.01)
    assert q.mean() == pytest.approx(pmt.mu_pe * ge, rel=0.01)
    # Var Q = mu (G e)^2 F for Poisson photoelectrons (Bellamy et al. 1994)
    assert q.var() == pytest.approx(pmt.mu_pe * ge**2 * pmt.enf, rel=0.03)
    assert pmt.gain(1400) / pmt.gain(700) == pytest.approx(2**pmt.k)
    assert np.std(t["onset_ns"]) == pytest.approx(pmt.jitter_ns, rel=0.03)

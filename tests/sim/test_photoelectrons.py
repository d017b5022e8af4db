"""The simulator's photoelectrons: the mean and F every low-light truth is."""

import dataclasses

import numpy as np
import pytest

from pmtgain.point.photostat import E_PC
from pmtgain.sim.photoelectrons import pe_charges, spe_moments
from pmtgain.sim.simulate import DEMO_PMTS, simulate_point


@pytest.mark.parametrize("shape, under", [("gamma", 0.0), ("cascade", 0.0),
                                          ("cascade", 0.15), ("gamma", 0.3)])
def test_one_photoelectron_has_the_mean_and_f_it_claims(shape, under):
    """Flashes of one photoelectron through simulate_point: mean spe_mean, F spe_enf."""
    p = dataclasses.replace(DEMO_PMTS[0], under_amplified=under, spe_shape=shape,
                            mu_pe=1.0, n_samples=40)
    _, truth = simulate_point(p, 1000, 300000, seed=2)
    one = truth["n_pe"] == 1
    x = truth["q_full_pC"][one] / (-p.gain(1000) * E_PC)
    assert x.mean() == pytest.approx(p.spe_mean, rel=4e-3)
    assert np.mean(x**2) / x.mean() ** 2 == pytest.approx(p.spe_enf, rel=6e-3)


def test_sums_of_photoelectrons_add_and_an_unknown_shape_is_refused(rng):
    p = dataclasses.replace(DEMO_PMTS[0], spe_shape="cascade", under_amplified=0.1)
    n = np.full(100000, 3)
    assert pe_charges(rng, n, p).mean() == pytest.approx(3 * p.spe_mean, rel=5e-3)
    assert (pe_charges(rng, np.zeros(5, int), p) == 0).all()
    assert spe_moments(1.2, 0.0, 0.25) == (1.0, pytest.approx(1.2))
    with pytest.raises(ValueError, match="spe_shape"):
        pe_charges(rng, n, dataclasses.replace(p, spe_shape="polya"))

"""The charge of a flash's photoelectrons, in units of the PMT's gain times e.

What to use when
----------------
- :func:`pe_charges` - the summed charge of each flash's ``n_pe`` photoelectrons (what
  :func:`pmtgain.sim.simulate.simulate_point` scales by ``G e``).
- :func:`spe_moments` - the mean and excess noise factor of one photoelectron's charge
  (the truth of the low-light runs: ``SimPMT.spe_mean``, ``SimPMT.spe_enf``).
- :func:`extra_pulses` - the single photoelectrons besides the LED's: dark pulses
  (``dark_prob`` per record, ``dark_rate_hz`` Poisson in time, uniform in the record) and
  afterpulses (``afterpulse_prob`` per photoelectron at a uniform delay in
  ``afterpulse_delay_ns``; ``afterpulse_groups``: ions' groups, each a probability per
  photoelectron at a Gaussian delay).

Shapes (``SimPMT.spe_shape``): ``"gamma"`` (mean 1, variance ``enf - 1``; the sum of ``n``
is a gamma of shape ``n / (enf - 1)``), or ``"cascade"``: a dynode chain, the first
dynode's secondaries Poisson of mean ``d1 = (1 + 1/CASCADE_REST_SHAPE) / (enf - 1)``, each
amplified by the rest of the chain as a gamma of shape ``CASCADE_REST_SHAPE`` (Prescott,
NIM 39 (1966) 173: the same mean and F as the gamma, a shape neither a gamma nor a
Gaussian fit assumes; a photoelectron is lost when the first dynode gives none, e^-d1).
A share ``under_amplified`` of photoelectrons (missing the first dynode, scattered back
from it) instead get a gamma of shape ``UNDER_SHAPE`` and mean ``under_amplified_mean``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UNDER_SHAPE", "CASCADE_REST_SHAPE", "pe_charges", "spe_moments", "extra_pulses"]

#: the gamma shape of the under-amplified photoelectrons' charge (an exponential is 1)
UNDER_SHAPE = 1.5
#: the gamma shape of the gain after the first dynode (``spe_shape="cascade"``)
CASCADE_REST_SHAPE = 4.0


def _gamma_sum(rng, count, shape, scale) -> np.ndarray:
    """The sum of ``count`` gammas of ``shape`` and ``scale`` (0 where count is 0)."""
    return np.where(count > 0, rng.gamma(np.maximum(count * shape, 1e-12), scale), 0.0)


def _gamma_pe(rng, count, enf) -> np.ndarray:
    """The sum of ``count`` gamma photoelectrons of F ``enf`` (the shape computed as the
    simulator always did: its volts stay bit for bit those of before)."""
    return np.where(count > 0, rng.gamma(np.maximum(count / (enf - 1.0), 1e-12), enf - 1.0),
                    0.0)


def pe_charges(rng: np.random.Generator, n_pe: np.ndarray, pmt) -> np.ndarray:
    """Each flash's photoelectrons' charge in units of ``G e`` (``pmt``: a
    :class:`pmtgain.sim.simulate.SimPMT`)."""
    n_u = rng.binomial(n_pe, pmt.under_amplified) if pmt.under_amplified else 0
    full = n_pe - n_u
    if pmt.spe_shape == "cascade":
        k = CASCADE_REST_SHAPE
        d1 = (1.0 + 1.0 / k) / (pmt.enf - 1.0)
        x = _gamma_sum(rng, rng.poisson(d1 * full), k, 1.0 / (d1 * k))
    elif pmt.spe_shape == "gamma":
        x = _gamma_pe(rng, full, pmt.enf)
    else:
        raise ValueError(f"spe_shape {pmt.spe_shape!r}: gamma or cascade")
    if pmt.under_amplified:
        x = x + _gamma_sum(rng, n_u, UNDER_SHAPE, pmt.under_amplified_mean / UNDER_SHAPE)
    return x


def spe_moments(enf: float, under: float, under_mean: float) -> tuple[float, float]:
    """(mean, F = E[x^2]/E[x]^2) of one photoelectron's charge (either shape)."""
    mean = 1.0 - under + under * under_mean
    ex2 = (1.0 - under) * enf + under * under_mean**2 * (1.0 + 1.0 / UNDER_SHAPE)
    return mean, ex2 / mean**2


def extra_pulses(rng: np.random.Generator, pmt, n_pe: np.ndarray, onset: np.ndarray,
                 t_first: float, t_last: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """(dark pulses per flash, afterpulses per flash, {flash: (their times in ns, their
    charges in G e)}) for the flashes with any (drawn in the order the simulator always
    drew them: its records are those of before, bit for bit)."""
    n = n_pe.size
    n_dark = (rng.random(n) < pmt.dark_prob).astype(int)
    if pmt.dark_rate_hz:  # Poisson in time, any number per record
        n_dark = n_dark + rng.poisson(pmt.dark_rate_hz * (t_last - t_first + pmt.dt_ns)
                                      * 1e-9, n)
    n_after = rng.binomial(n_pe, min(pmt.afterpulse_prob, 1.0)) if pmt.afterpulse_prob \
        else np.zeros(n, int)
    groups = [rng.binomial(n_pe, g[0]) for g in pmt.afterpulse_groups]
    times = {}
    for i in np.nonzero(n_dark + n_after + sum(groups, np.zeros(n, int)))[0]:
        ti = list(rng.uniform(t_first, t_last, n_dark[i]))
        ti += list(onset[i] + rng.uniform(*pmt.afterpulse_delay_ns, n_after[i]))
        for (_, d, w), k in zip(pmt.afterpulse_groups, groups, strict=True):
            ti += list(onset[i] + rng.normal(d, w, k[i]))
        # each a single photoelectron's charge (gamma, in G e), drawn flash by flash
        times[int(i)] = (ti, rng.gamma(1.0 / (pmt.enf - 1.0), pmt.enf - 1.0, len(ti)))
    return n_dark, n_after + sum(groups, np.zeros(n, int)), times

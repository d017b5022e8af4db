"""The PMT pulse model: the two-exponential anode pulse, its integrals, and the charge.

What to use when
----------------
- :func:`pulse` / :func:`pulse_integral` - the model and its closed-form integral.
- :func:`pulse_smeared` - the model averaged over a Gaussian onset jitter: the mean pulse
  of a point (and the linear estimator's template, :mod:`pmtgain.point.charge`).
- :func:`tail_fraction` - the share of a pulse's integral after a time (a record that ends
  before the tail has decayed).
- :func:`charge_pC` - volts x ns into the 50 ohm termination, in pC.
- :class:`Status` - the outcome of a flash (in the statistics or why not) and of its fit.

The model (Hamamatsu, "Photomultiplier Tubes: Basics and Applications", 4th ed. 2017,
sec. 4.3.1; the two-exponential anode pulse of the original SC_exam analysis)::

    f(t) = b + a * (exp(-(t-c)/tau) - exp(-(t-c)/tau_s))  for t >= c, else b

with ``a < 0`` (negative pulses), rise ``tau_s`` and fall ``tau``. The charge into the
R = 50 ohm termination is ``Q = (1/R) integral (f - b) dt`` (Ohm's law): over all times
``a (tau - tau_s) / R``; over ``[t_lo, t_hi]`` it is ``a/R [G(t_hi-c) - G(max(t_lo,c)-c)]``
with ``G(x) = tau_s exp(-x/tau_s) - tau exp(-x/tau)``. Charges are negative (electrons
leave the anode), as in the original; plots show ``|Q|``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from pmtgain.config import PC_PER_C, R_TERMINATION_OHM

__all__ = ["NS", "Status", "USED", "pulse", "pulse_integral", "pulse_smeared", "charge_pC",
           "tail_fraction", "peak_time"]

NS = 1e-9


class Status(IntEnum):
    """Outcome of one flash.

    In the per-flash table, ``status`` says whether the flash enters the point's statistics
    (``ok``) or why not: ``clipped`` (a sample at the ADC's limit), ``pre_pulse`` (a pulse in
    the baseline region: a dark count or afterpulse of an earlier flash, judged on samples
    the LED pulse does not touch), ``unreadable`` (the file could not be read or fetched).
    None of these depends on the size of the flash's LED signal. ``fit_status`` is the
    outcome of the per-flash fit (``ok``, ``not_converged``, ``at_bound``, ``edge``, or
    ``linear`` where no non-linear fit is meaningful at the point's signal); it never
    decides whether a flash counts.
    """

    OK = 0
    NOT_CONVERGED = 1  # fit did not converge: fit charge = window integral (fallback)
    AT_BOUND = 2  # a fit parameter ended at its bound: fit charge = window integral
    BELOW_CUT = 3  # (fit results only) not fitted; kept for results of older versions
    CLIPPED = 4  # a sample at the ADC's limit: the pulse is saturated
    EDGE = 5  # (fit) the fitted pulse has not decayed by the record's end
    UNREADABLE = 6  # the file could not be read or fetched
    PRE_PULSE = 7  # a pulse in the baseline region (dark count, afterpulse)
    LINEAR = 8  # (fit) no per-flash fit at this signal: the linear charge is the fit

    @property
    def label(self) -> str:
        return self.name.lower()


#: fit outcomes whose fitted (or fallback) charge is in the fit columns
USED = (Status.OK, Status.NOT_CONVERGED, Status.AT_BOUND)


def pulse(t, a, c, tau_s, tau):
    """Baseline-free model ``a*(exp(-(t-c)/tau) - exp(-(t-c)/tau_s))`` for ``t >= c``, else 0.

    All arguments broadcast; times in any one unit.
    """
    x = np.asarray(t, dtype=float) - c
    xp = np.maximum(x, 0.0)
    return np.where(x >= 0, a * (np.exp(-xp / tau) - np.exp(-xp / tau_s)), 0.0)


def _G(x, tau_s, tau):
    return tau_s * np.exp(-x / tau_s) - tau * np.exp(-x / tau)


def pulse_integral(t_lo, t_hi, a, c, tau_s, tau):
    """Integral of :func:`pulse` from ``t_lo`` to ``t_hi`` (closed form, broadcasts)."""
    lo = np.maximum(np.asarray(t_lo, float) - c, 0.0)
    hi = np.maximum(np.asarray(t_hi, float) - c, 0.0)
    return a * (_G(hi, tau_s, tau) - _G(lo, tau_s, tau))


def _emg(x, tau, sigma):
    """E[exp(-(x-d)/tau) H(x-d)] over d ~ N(0, sigma): the exponentially modified Gaussian
    (Grushka, Anal. Chem. 44 (1972) 1733), computed in log space to avoid overflow."""
    from scipy.special import log_ndtr

    return np.exp(sigma * sigma / (2 * tau * tau) - x / tau + log_ndtr(x / sigma - sigma / tau))


def pulse_smeared(t, a, c, tau_s, tau, sigma):
    """:func:`pulse` averaged over a Gaussian onset jitter of rms ``sigma``: the mean pulse
    of a point. ``sigma <= 0`` gives :func:`pulse`."""
    if sigma <= 1e-6:
        return pulse(t, a, c, tau_s, tau)
    x = np.asarray(t, dtype=float) - c
    return a * (_emg(x, tau, sigma) - _emg(x, tau_s, sigma))


def charge_pC(integral_V_ns):
    """Charge in pC of an integral of volts over ns into the 50 ohm termination."""
    return np.asarray(integral_V_ns) * NS / R_TERMINATION_OHM * PC_PER_C


def tail_fraction(x_ns, tau_s: float, tau: float):
    """Share of the full integral of :func:`pulse` that lies more than ``x_ns`` after the
    onset: ``(tau e^{-x/tau} - tau_s e^{-x/tau_s}) / (tau - tau_s)`` (1 for x <= 0)."""
    x = np.maximum(np.asarray(x_ns, float), 0.0)
    return (tau * np.exp(-x / tau) - tau_s * np.exp(-x / tau_s)) / (tau - tau_s)


def peak_time(tau_s: float, tau: float) -> float:
    """Time from onset to the pulse's extremum: ln(tau/tau_s) tau tau_s / (tau - tau_s)."""
    if abs(tau - tau_s) < 1e-9:
        return tau
    return float(np.log(tau / tau_s) * tau * tau_s / (tau - tau_s))

"""The noise-free pulse and the coherent background of simulated records.

What to use when
----------------
- :func:`unit_pulse_grid` - a PMT's noise-free unit LED pulse (charge 1 before any
  filtering) on a fine grid after its onset: the pulse shape (two-exponential or
  log-normal, an optional slow component), then ringing, a cable reflection and an
  AC-coupling high-pass, in that order (what the anode signal meets on its way to the
  scope). :func:`pmtgain.sim.simulate.simulate_point` reads each flash off it at its own onset
  (:func:`interp_uniform`).
- :func:`coherent_V` - what every record holds whatever the light: a baseline ripple of
  fixed phase and the LED driver's pick-up. Not part of any flash's true charge.

``pmt`` is a :class:`pmtgain.sim.simulate.SimPMT` (any object with its fields).

The stages (what real PMT recordings show):

- ``shape="lognormal"``: ``u(s) ~ exp(-ln^2(s/ln_tau_ns) / (2 ln_sigma^2))`` for ``s = t - c
  > 0``, peak at ``ln_tau_ns``, FWHM ``2 ln_tau_ns sinh(ln_sigma sqrt(2 ln 2))``; normalised
  by ``ln_tau sigma sqrt(2 pi) exp(sigma^2/2)``. An empirical shape common in PMT pulse
  fitting and simulation (no physical derivation);
- a slow component: ``(1 - slow_fraction) fast + slow_fraction two-exp(tau_s_ns,
  slow_tau_ns)``, each of charge 1 (late photoelectrons, the divider's and the
  amplifier's slow response);
- ``ringing``: ``-ringing u_peak sin(2 pi ringing_mhz (s - s_peak)) exp(-(s - s_peak) /
  ringing_tau_ns)`` from the pulse's peak on, an LC resonance of the base and its leads;
- ``reflection``: ``+ reflection u(s - reflection_delay_ns)``, an impedance mismatch at the
  end of a cable of half that delay (reflection coefficient ``(Z_L - Z_0)/(Z_L + Z_0)``,
  telegrapher's equations);
- ``ac_coupling_ns``: a first-order RC high-pass, ``y' = x' - y/RC`` (a series capacitor
  into the termination): the integral of ``y`` over all times is 0;
- coherent: ``ripple_V sin(2 pi ripple_mhz t + ripple_phase_rad)`` (locked to the
  trigger: +-0.02 mV at ~25 MHz on a CAEN run) and the pick-up, a derivative-of-Gaussian
  wiggle, -1 then +1.6 ``pickup_V`` (-0.05 then +0.08 mV seen), before the PMT pulse.

Applied in that order (pulse, ringing, reflection, high-pass) to the unit pulse on a fine
grid (step ``min(dt/16, 0.02 ns)``; the high-pass exact for a signal linear between its
points).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["SHAPE_FIELDS", "fine_step_ns", "unit_pulse_grid", "interp_uniform", "coherent_V"]

#: the fields of :class:`SimPMT` that decide the unit LED pulse (the fine grid's cache key)
SHAPE_FIELDS = ("shape", "tau_s_ns", "tau_ns", "ln_tau_ns", "ln_sigma", "slow_fraction",
                "slow_tau_ns", "reflection", "reflection_delay_ns", "ac_coupling_ns",
                "ringing", "ringing_mhz", "ringing_tau_ns")


def fine_step_ns(dt_ns: float) -> float:
    """Step of the fine grid the pulse is built on: ``min(dt/16, 0.02 ns)``."""
    return min(dt_ns / 16.0, 0.02)


def unit_pulse_grid(pmt, s_max_ns: float) -> tuple[float, np.ndarray]:
    """``(step, u)``: the noise-free unit LED pulse of ``pmt`` (charge 1 before any
    filtering, 1/ns, positive) at ``s = 0, step, 2 step, ...`` after its onset, up to at
    least ``s_max_ns`` (0 before the onset: every stage is causal). Cached; the grid's
    length is rounded up to a power of two (a longer grid has the same prefix)."""
    step = fine_step_ns(pmt.dt_ns)
    n = 1 << max(int(np.ceil(np.log2(max(s_max_ns, 1.0) / step + 3))), 10)
    return step, _unit_grid(tuple(getattr(pmt, f) for f in SHAPE_FIELDS), step, n)


@lru_cache(maxsize=64)
def _unit_grid(key: tuple, step: float, n: int) -> np.ndarray:
    p = dict(zip(SHAPE_FIELDS, key, strict=True))
    s = np.arange(n) * step
    ts, tf = p["tau_s_ns"], p["tau_ns"]

    def two_exp(tau):  # charge 1: integral of exp(-s/tau) - exp(-s/tau_s) is tau - tau_s
        return (np.exp(-s / tau) - np.exp(-s / ts)) / (tau - ts)

    if p["shape"] == "two-exp":
        u = two_exp(tf)
    elif p["shape"] == "lognormal":
        tl, sg = p["ln_tau_ns"], p["ln_sigma"]
        with np.errstate(divide="ignore"):
            lg = np.log(s / tl)
        # integral over s > 0 of exp(-ln^2(s/tl)/(2 sg^2)) is tl sg sqrt(2 pi) exp(sg^2/2)
        u = np.exp(-lg**2 / (2 * sg**2)) / (tl * sg * np.sqrt(2 * np.pi) * np.exp(sg**2 / 2))
    else:
        raise ValueError(f"unknown pulse shape {p['shape']!r} (two-exp, lognormal)")
    f = p["slow_fraction"]
    if f:
        u = (1.0 - f) * u + f * two_exp(p["slow_tau_ns"])
    if p["ringing"]:
        j = int(np.argmax(u))
        s_pk = s[j]
        if 0 < j < n - 1:  # the peak between grid points (parabola through three)
            den = u[j - 1] - 2 * u[j] + u[j + 1]
            if den < 0:
                s_pk += 0.5 * step * (u[j - 1] - u[j + 1]) / den
        x = np.maximum(s - s_pk, 0.0)
        omega = 2 * np.pi * p["ringing_mhz"] * 1e-3  # rad/ns
        # the first half-wave opposite to the pulse (an overshoot after the peak)
        u = u - np.where(s >= s_pk, p["ringing"] * u[j] * np.sin(omega * x)
                         * np.exp(-x / p["ringing_tau_ns"]), 0.0)
    if p["reflection"]:
        u = u + p["reflection"] * np.interp(s - p["reflection_delay_ns"], s, u, left=0.0)
    rc = p["ac_coupling_ns"]
    if rc:
        # y' = x' - y/RC: y = x - z with z the low-pass of x (z' = (x - z)/RC), exact for x
        # linear between grid points (first-order hold): z[k] = e z[k-1] + c0 x[k] + c1 x[k-1]
        h = step / rc
        e = np.exp(-h)
        g = -np.expm1(-h) / h  # (1 - e)/h
        w = (1.0 - g) * u
        w[1:] += (g - e) * u[:-1]
        u = u - _first_order_recursion(w, h)
    u = np.ascontiguousarray(u, dtype=float)
    u.setflags(write=False)
    return u


def _first_order_recursion(w: np.ndarray, h: float) -> np.ndarray:
    """``z[k] = exp(-h) z[k-1] + w[k]`` (z[-1] = 0) without a Python loop per sample:
    per block of ``m`` samples, ``z = exp(-h i) (exp(-h) z_prev + cumsum(exp(h i) w))``
    with ``h m`` small enough for ``exp(h i)`` to stay finite."""
    z = np.empty_like(w)
    m = max(1, int(300.0 / h))
    prev = 0.0
    for k0 in range(0, w.size, m):
        i = np.arange(min(m, w.size - k0))
        z[k0:k0 + i.size] = np.exp(-h * i) * (np.exp(-h) * prev
                                               + np.cumsum(np.exp(h * i) * w[k0:k0 + i.size]))
        prev = z[k0 + i.size - 1]
    return z


def interp_uniform(s, step: float, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``u`` (on ``0, step, ...``) at ``s``: 0 before 0, the last
    value after the grid's end."""
    x = np.asarray(s, dtype=float) / step
    i = np.clip(np.floor(x), 0, u.size - 2).astype(np.intp)
    fr = np.clip(x - i, 0.0, 1.0)
    return np.where(x < 0, 0.0, u[i] + fr * (u[i + 1] - u[i]))




def coherent_V(pmt, t_ns) -> np.ndarray:
    """What every record holds at times ``t_ns`` (from the trigger) regardless of the
    light: the baseline ripple ``ripple_V sin(2 pi f t + phase)`` and the LED-driver
    pickup, a derivative-of-Gaussian wiggle ``pickup_V x exp((1 - x^2)/2)`` (``x`` in
    ``pickup_width_ns`` from its zero crossing ``pickup_ns`` after the record's start),
    its positive lobe 1.6 times the negative one: -pickup_V, then +1.6 pickup_V."""
    t = np.asarray(t_ns, dtype=float)
    out = np.zeros_like(t)
    if pmt.ripple_V:
        out += pmt.ripple_V * np.sin(2 * np.pi * pmt.ripple_mhz * 1e-3 * t
                                     + pmt.ripple_phase_rad)
    if pmt.pickup_V:
        xx = (t - (pmt.t0_ns + pmt.pickup_ns)) / pmt.pickup_width_ns
        out += pmt.pickup_V * np.where(xx < 0, 1.0, 1.6) * xx * np.exp(0.5 * (1 - xx**2))
    return out

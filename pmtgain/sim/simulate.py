"""Simulated campaigns whose true charges are known (the demo campaign and the test data).

What to use when
----------------
- :class:`SimPMT` - one PMT: gain law, photostatistics, pulse shape, noise, ADC.
- :func:`simulate_point` - the waveforms (volts) of one (PMT, HV) point and their truth.
- :func:`write_point` - the same written as ``.trc`` files in the GIN layout.
- :func:`simulate_campaign` - a whole campaign: files, ``data_info`` and truth tables.
- :data:`DEMO_PMTS` - four PMTs resembling GIN's (two of them low-gain and noisier).
- low-light runs (and LED-off runs) are :mod:`pmtgain.sim.simspe`'s.

The physics, per flash (Bellamy et al., NIM A 339 (1994) 468 for the photostatistics):

- number of photoelectrons ``n ~ Poisson(mu)`` (``led_excess_rms`` = B: ``mu`` itself
  varies from flash to flash as ``mu (1 + B N(0, 1))``, an LED beyond Poisson);
- each photoelectron's charge ``~ Gamma(mean 1, variance F - 1)`` in units of ``G*e``, so
  that the excess noise factor is ``F = 1 + (sigma_1/Q_1)^2``; the sum of ``n`` of them
  is ``Gamma(n/(F-1), F-1)``;
- gain law ``G(V) = G0 * (V/V0)^k`` (a dynode chain: Hamamatsu PMT handbook, sec. 2.3);
- the pulse: the original's two-exponential model with amplitude ``a = Q*R/(tau - tau_s)``
  (so its full integral over R is ``Q``), onset ``onset_ns + N(0, jitter_ns)``;
- a baseline offset, white Gaussian noise, and the oscilloscope's ADC (8 or 16 bit,
  rounding and clipping at its range).

Knobs for what real setups produce (all on :class:`SimPMT`, defaults = the demo): sampling
``dt_ns`` (0.1-0.4 ns) and ``n_samples`` (250-2000), where the pulse sits in the record
(``record_onset_ns``), rise/fall per PMT, ``mu_pe`` from 1 (37 % empty flashes) to 100,
slow baseline wander (``wander_V``: a sinusoid of random phase and a period of
``wander_period_ns`` ± 50 % per flash), dark pulses (``dark_prob``: one single
photoelectron at a uniformly random time in the record; ``dark_rate_hz``: Poisson in
time), afterpulses (``afterpulse_prob`` per photoelectron, 1 photoelectron each,
``afterpulse_delay_ns`` after the onset, uniform; ``afterpulse_groups``: ions' groups at
their delays), the single photoelectron's shape and an
under-amplified share (``spe_shape``, ``under_amplified``: :mod:`pmtgain.sim.photoelectrons`;
``spe_mean``, ``spe_enf``), a transit time ~ 1/sqrt(V) (``transit_1000V_ns``), an LED
warming up (``led_drift``, ``led_drift_tau_s``; flashes ``flash_period_s`` apart, stamped),
8- or 16-bit files, exactly ``fixed_pe`` photoelectrons a flash (a self-triggered dark
run's records, :mod:`pmtgain.sim.simdark`), the scope's range (``range_factor`` x the
mean peak: below ~1.5 the largest pulses clip at high HV), and the cut column at
``cut_fraction`` of the mean peak.

Pulses and electronics outside the two-exponential family (every knob 0 or ``"two-exp"``
= the closed-form pulse above, bit for bit; the formulas and their sources are in
:mod:`pmtgain.sim.simpulse`): ``shape="lognormal"`` (``ln_tau_ns``, ``ln_sigma``), a slow
component (``slow_fraction``, ``slow_tau_ns``), ``ringing`` (``ringing_mhz``,
``ringing_tau_ns``), a cable ``reflection`` (``reflection_delay_ns``; negative for a load
below the cable's impedance), an AC-coupling high-pass (``ac_coupling_ns``: a slow
positive undershoot follows the pulse), and in every record whatever the light a coherent
``ripple_V`` (``ripple_mhz``, ``ripple_phase_rad``) and the LED driver's ``pickup_V``
(``pickup_ns``, ``pickup_width_ns``). Each flash, dark pulse and afterpulse is the unit
pulse of :func:`pmtgain.sim.simpulse.unit_pulse_grid` at its own onset, scaled by its charge.

The truth
---------
The true charge of a flash, ``q_true_pC``, is the record integral of its noise-free LED
pulse, ``(1/R) sum_k v_LED(t_k) dt`` over the record's samples (negative, as reported):
what the scope recorded of the LED pulse, without the noise, baseline, wander, ripple,
pickup, dark pulses or afterpulses, before the ADC's rounding and clipping. ``q_full_pC``
is the pulse's full charge before any filtering (``-x G e``, ``x`` the sum of its
photoelectrons' charges in units of ``G e``: the truth before this definition). The point's
``record_charge_scale = mean(q_true) / mean(q_full)`` (in the truth dict and in the
campaign's ``truth/summary.csv``) turns the PMT's gain into the gain "as recorded",
``gain * record_charge_scale``: a reflection adds charge to the record, an AC coupling or a
record that cuts the tail off removes some. For the demo's pulses (two-exp, 0.1 ns
sampling, 30 ns of record after the onset) the two agree to < 1e-3: within 6.2e-4 per
flash and 3.1e-4 in the mean (the tail after the record's end and the rectangle rule at
the onset's kink), the demo's volts being those of before, bit for bit; at 0.4 ns
sampling (regime ``sampling``) to ~3e-3 per flash.

The campaigns these make are in :mod:`pmtgain.sim.regimes`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pmtgain.config import E_CHARGE_C, PC_PER_C, R_TERMINATION_OHM
from pmtgain.io.campaign import write_enf
from pmtgain.io.trcwrite import write_trc
from pmtgain.point.pulse import pulse
from pmtgain.sim.photoelectrons import extra_pulses, pe_charges, spe_moments
from pmtgain.sim.simpulse import coherent_V, interp_uniform, unit_pulse_grid

__all__ = ["N_SAMPLES", "DT_NS", "SCOPE_NOISE_LSB", "T0_NS", "SimPMT", "DEMO_PMTS",
           "demo_pmt", "scope_range", "simulate_point", "file_name", "write_point",
           "TRUTH_COLUMNS", "simulate_campaign"]

#: when every simulated run starts (the files' TRIGGER_TIME)
RUN_START = _dt.datetime(2024, 3, 1, 12, 0, 0)
N_SAMPLES = 502
DT_NS = 0.1
SCOPE_NOISE_LSB = 0.5  # oscilloscope front-end noise, in ADC steps rms
T0_NS = 27.5  # time of sample 0 of the demo's records (onset 47.5 ns, 20 ns in)


@dataclass(frozen=True)
class SimPMT:
    pmt: int
    folder: str
    gain_v0: float  # gain at v0
    k: float  # gain exponent
    v0: float = 1000.0
    mu_pe: float = 40.0
    led_excess_rms: float = 0.0  # relative rms of the LED's intensity beyond Poisson
    enf: float = 1.2  # excess noise factor F = 1 + (sigma_1/Q_1)^2
    tau_s_ns: float = 0.93
    tau_ns: float = 3.5
    onset_ns: float = 47.5
    jitter_ns: float = 0.2
    noise_V: float = 1.0e-3
    baseline_V: float = 0.4e-3
    bits: int = 8
    hv_values: tuple[int, ...] = (700, 800, 900, 1000, 1100, 1200, 1300, 1400)
    dt_ns: float = DT_NS
    n_samples: int = N_SAMPLES
    record_onset_ns: float = 20.0  # the mean onset, from the record's start
    wander_V: float = 0.0
    wander_period_ns: float = 1000.0
    dark_prob: float = 0.0
    dark_rate_hz: float = 0.0  # dark pulses in time (Poisson), besides dark_prob's
    afterpulse_prob: float = 0.0
    afterpulse_delay_ns: tuple[float, float] = (10.0, 40.0)
    afterpulse_groups: tuple = ()  # ((prob per photoelectron, delay_ns, rms_ns), ...)
    range_factor: float = 3.0
    range_V: float | None = None  # a fixed scope range (full span) instead of range_factor
    cut_fraction: float = 0.4
    # --- pulse shapes and electronics outside the two-exponential family (0 = none)
    shape: str = "two-exp"  # the fast pulse: "two-exp" (tau_s_ns, tau_ns) or "lognormal"
    ln_tau_ns: float = 3.5  # log-normal: peak time after the onset
    ln_sigma: float = 0.35  # log-normal: width in ln t (3.5 ns, 0.35: FWHM 2.97 ns)
    slow_fraction: float = 0.0  # share of the charge in a slow two-exp (rise tau_s_ns)
    slow_tau_ns: float = 30.0  # its fall time
    reflection: float = 0.0  # cable reflection: + reflection x the pulse, delayed
    reflection_delay_ns: float = 8.0
    ac_coupling_ns: float = 0.0  # RC of a first-order high-pass (AC coupling)
    ringing: float = 0.0  # damped oscillation from the peak, as a fraction of the peak
    ringing_mhz: float = 200.0
    ringing_tau_ns: float = 10.0
    ripple_V: float = 0.0  # coherent baseline ripple (same phase in every record)
    ripple_mhz: float = 25.0
    ripple_phase_rad: float = 0.0  # its phase at the trigger (t = 0)
    pickup_V: float = 0.0  # LED-driver pickup: -pickup_V, then +1.6 pickup_V
    pickup_ns: float = 10.0  # its zero crossing, after the record's start
    pickup_width_ns: float = 3.0  # each lobe's extreme this far from the zero crossing
    under_amplified: float = 0.0  # a photoelectron's charge: pmtgain.sim.photoelectrons
    under_amplified_mean: float = 0.25
    spe_shape: str = "gamma"
    transit_1000V_ns: float = 0.0  # the transit time at 1000 V (0: onset_ns at any HV)
    # flash i at i x flash_period_s; mu (1 + led_drift exp(-t / led_drift_tau_s)) at t
    flash_period_s: float = 1e-3
    led_drift: float = 0.0
    led_drift_tau_s: float = 300.0
    fixed_pe: int = 0  # every flash this many photoelectrons (0: Poisson(mu_pe))

    @property
    def analytic(self) -> bool:
        """The plain two-exponential pulse (in closed form, as before other shapes)."""
        return (self.shape == "two-exp" and not self.slow_fraction and not self.reflection
                and not self.ac_coupling_ns and not self.ringing)

    def unit_pulse(self, s_ns) -> np.ndarray:
        """The noise-free LED pulse of charge 1 (before any filtering), in 1/ns, at times
        ``s_ns`` after its onset: positive (the record shows ``-Q R`` times it). Closed form
        for :attr:`analytic`, else interpolated on the fine grid (:func:`unit_pulse_grid`)."""
        s = np.asarray(s_ns, dtype=float)
        if self.analytic:
            return pulse(s, 1.0 / (self.tau_ns - self.tau_s_ns), 0.0, self.tau_s_ns,
                         self.tau_ns)
        step, u = unit_pulse_grid(self, float(np.max(s, initial=0.0)) + 1.0)
        return interp_uniform(s, step, u)

    @property
    def t0_ns(self) -> float:
        """Time of sample 0 (the onset stays at ``onset_ns``, the record moves)."""
        return self.onset_ns - self.record_onset_ns

    def onset_at(self, hv: float) -> float:
        """The mean onset at ``hv``: ``onset_ns`` plus the transit time's change from
        1000 V, ``transit_1000V_ns (sqrt(1000 / hv) - 1)`` (transit time ~ 1/sqrt(V))."""
        return self.onset_ns + self.transit_1000V_ns * (np.sqrt(1000.0 / hv) - 1.0)

    def gain(self, hv: float) -> float:
        return self.gain_v0 * (hv / self.v0) ** self.k

    def mean_charge_pC(self, hv: float) -> float:
        """Expected mean charge (negative) of all flashes at ``hv``."""
        return -self.mu_pe * self.spe_mean * self.gain(hv) * E_CHARGE_C * PC_PER_C

    def mean_peak_V(self, hv: float) -> float:
        """Expected mean pulse minimum (negative, baseline subtracted)."""
        q = self.mean_charge_pC(hv) / PC_PER_C
        if not self.analytic:  # the peak of the unit pulse on the fine grid
            _, u = unit_pulse_grid(self, (self.n_samples - 1) * self.dt_ns + 50.0)
            return float(q * R_TERMINATION_OHM * 1e9 * u.max())
        a = q * R_TERMINATION_OHM / ((self.tau_ns - self.tau_s_ns) * 1e-9)
        x = np.log(self.tau_ns / self.tau_s_ns) * self.tau_ns * self.tau_s_ns / (
            self.tau_ns - self.tau_s_ns)
        return float(pulse(x, a, 0.0, self.tau_s_ns, self.tau_ns))

    def cut_V(self, hv: float) -> float:
        """A cut like the original's: ``cut_fraction`` of the mean peak, below the baseline."""
        return round(self.baseline_V + self.cut_fraction * self.mean_peak_V(hv), 7)

    @property
    def spe_mean(self) -> float:
        """A photoelectron's mean charge in ``G e`` (1 without an under-amplified share)."""
        return spe_moments(self.enf, self.under_amplified, self.under_amplified_mean)[0]

    @property
    def spe_enf(self) -> float:
        """F = E[x^2] / E[x]^2 of a photoelectron's charge (``enf`` without that share)."""
        return spe_moments(self.enf, self.under_amplified, self.under_amplified_mean)[1]

    def single_pe_peak_V(self, hv: float) -> float:
        """Peak (negative) of a one-photoelectron pulse."""
        return self.mean_peak_V(hv) / self.mu_pe


# Four PMTs like GIN's (peaks from the original's cuts): 1 and 3 high gain, 2 and 4 low
# gain and noisier. Mean peaks range from ~4 mV (PMT 2, 700 V) to ~0.5 V (PMT 3, 1400 V).
DEMO_PMTS = (
    SimPMT(1, "PMT_1_2", gain_v0=1.15e6, k=5.6, noise_V=1.0e-3),
    SimPMT(2, "PMT_2_2", gain_v0=0.40e6, k=5.2, noise_V=1.6e-3, enf=1.25, tau_s_ns=0.95),
    SimPMT(3, "PMT_3_2", gain_v0=1.40e6, k=5.5, noise_V=1.0e-3, tau_ns=3.4),
    SimPMT(4, "PMT_3_881_2", gain_v0=0.38e6, k=4.7, noise_V=1.6e-3, enf=1.3, tau_ns=3.6),
)


def demo_pmt(pmt: int) -> SimPMT:
    for p in DEMO_PMTS:
        if p.pmt == pmt:
            return p
    return replace(DEMO_PMTS[0], pmt=pmt, folder=f"PMT_{pmt}")


def _rng(seed: int, pmt: int, hv: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, pmt, hv]))


def scope_range(pmt: SimPMT, hv: float) -> tuple[float, float]:
    """(vertical_gain, vertical_offset) of an oscilloscope set up for this point: a range
    of about 3x the mean peak (at least 40 noise rms), 75 % of it below zero."""
    levels = 2 ** pmt.bits
    span = pmt.range_V or max(pmt.range_factor * abs(pmt.mean_peak_V(hv)), 40.0 * pmt.noise_V)
    gain = span / levels
    # raw codes run from -levels/2 to levels/2-1; shift so that 75 % lie below zero
    offset = 0.25 * span  # volts = gain*raw - offset spans [-0.75, +0.25] x span
    # the file stores both as float32: use exactly what a reader will see
    return float(np.float32(gain)), float(np.float32(offset))


def simulate_point(pmt: SimPMT, hv: int, n: int, seed: int = 1):
    """Simulate ``n`` flashes. Returns ``(volts, truth)`` where ``volts`` is (n, N) after
    the ADC (quantised and clipped) and ``truth`` a dict of per-flash arrays: ``n_pe``,
    ``q_true_pC`` (the record integral of the noise-free LED pulse, see the module
    docstring), ``q_full_pC`` (the LED pulse's full charge before any filtering),
    ``onset_ns``, ``time_s`` (when the flash is recorded, after the run's start),
    ``mu_pe`` (its expected photoelectrons: the LED's drift), ``a_V`` (the fast
    component's amplitude, before any reflection, ringing or high-pass: the
    two-exponential ``a``, or the log-normal's peak), ``n_dark`` and ``n_after`` (extra
    pulses in the record); and the float ``record_charge_scale`` = mean(q_true) /
    mean(q_full)."""
    rng = _rng(seed, pmt.pmt, hv)
    time_s = np.arange(n) * pmt.flash_period_s
    mu_t = pmt.mu_pe * (1.0 + pmt.led_drift * np.exp(-time_s / pmt.led_drift_tau_s)) \
        if pmt.led_drift else pmt.mu_pe
    if pmt.fixed_pe:  # a self-triggered dark run's record: the pulse it triggered on
        n_pe = np.full(n, int(pmt.fixed_pe))
    elif pmt.led_excess_rms:  # the LED's intensity varies from flash to flash
        mu = mu_t * np.clip(1.0 + pmt.led_excess_rms * rng.standard_normal(n), 0, None)
        n_pe = rng.poisson(mu)
    else:
        n_pe = rng.poisson(mu_t, size=n)
    x = pe_charges(rng, n_pe, pmt)
    ger = pmt.gain(hv) * E_CHARGE_C * R_TERMINATION_OHM * 1e9  # V ns per photoelectron
    onset = pmt.onset_at(hv) + pmt.jitter_ns * rng.standard_normal(n)
    N = pmt.n_samples
    t = pmt.t0_ns + np.arange(N) * pmt.dt_ns
    if pmt.analytic:
        unit = pmt.gain(hv) * E_CHARGE_C * R_TERMINATION_OHM / (
            (pmt.tau_ns - pmt.tau_s_ns) * 1e-9)
        a_V = -x * unit
        v = pulse(t[None, :], a_V[:, None], onset[:, None], pmt.tau_s_ns, pmt.tau_ns)

        def extra(ti, a):  # one more pulse of amplitude a (> 0) at time ti
            return pulse(t, -a, ti, pmt.tau_s_ns, pmt.tau_ns)
    else:
        unit = ger
        step, u = unit_pulse_grid(pmt, t[-1] - min(t[0], float(onset.min(initial=t[0]))))
        v = (-x * ger)[:, None] * interp_uniform(t[None, :] - onset[:, None], step, u)
        if pmt.shape == "lognormal":
            sg = pmt.ln_sigma
            peak = 1.0 / (pmt.ln_tau_ns * sg * np.sqrt(2 * np.pi) * np.exp(sg**2 / 2))
        else:
            peak = 1.0 / (pmt.tau_ns - pmt.tau_s_ns)
        a_V = -x * ger * (1.0 - pmt.slow_fraction) * peak

        def extra(ti, a):
            return -a * interp_uniform(t - ti, step, u)
    # the truth: what the record holds of the noise-free LED pulse (rectangle rule)
    q_true = v.sum(axis=1) * (pmt.dt_ns * 1e-9 / R_TERMINATION_OHM * PC_PER_C)
    q_full = -x * pmt.gain(hv) * E_CHARGE_C * PC_PER_C
    if q_full.sum() != 0:
        scale = float(q_true.sum() / q_full.sum())
    else:  # no light at all: the record integral of the unit pulse at these onsets
        scale = float(np.mean(pmt.unit_pulse(t[None, :] - onset[:, None]).sum(axis=1))
                      * pmt.dt_ns) if n else float("nan")
    # dark pulses (uniform in the record) and afterpulses (after the onset): one
    # photoelectron each, with the single-photoelectron spread, the LED pulse's shape
    n_dark, n_after, extra_times = extra_pulses(rng, pmt, n_pe, onset, t[0], t[-1])
    for i, (times, charge) in extra_times.items():
        for tt, a in zip(times, charge * unit, strict=True):
            v[i] += extra(tt, a)
    gain, offset = scope_range(pmt, hv)
    # PMT/amplifier noise plus the oscilloscope's own front-end noise, half an ADC step
    # rms (what dithers a real 8-bit scope's quantisation)
    noise = np.hypot(pmt.noise_V, SCOPE_NOISE_LSB * gain)
    v += pmt.baseline_V + noise * rng.standard_normal((n, N))
    if pmt.wander_V:
        period = pmt.wander_period_ns * rng.uniform(0.5, 1.5, n)
        phase = rng.uniform(0, 2 * np.pi, n)
        v += pmt.wander_V * np.sin(2 * np.pi * t[None, :] / period[:, None] + phase[:, None])
    if pmt.ripple_V or pmt.pickup_V:  # the same in every record: not part of the truth
        v += coherent_V(pmt, t)[None, :]
    lo, hi = -(2 ** (pmt.bits - 1)), 2 ** (pmt.bits - 1) - 1
    raw = np.clip(np.rint((v + offset) / gain), lo, hi)
    volts = gain * raw - offset
    truth = dict(n_pe=n_pe, q_true_pC=q_true, q_full_pC=q_full, onset_ns=onset, a_V=a_V,
                 n_dark=n_dark, n_after=n_after, record_charge_scale=scale, time_s=time_s,
                 mu_pe=np.broadcast_to(mu_t, (n,)).astype(float))
    return volts, truth


def file_name(i: int) -> str:
    return f"C1--n16deg--{i:05d}.trc"


def write_point(directory: str | os.PathLike, pmt: SimPMT, hv: int, n: int, seed: int = 1,
                little_endian: bool = True, segments: int = 1, times_s=None) -> dict:
    """Write ``n`` simulated flashes of one point into ``directory``; return the truth.

    Flash i is recorded at ``RUN_START + i x flash_period_s`` (or ``times_s[i]``): a
    single-flash file's TRIGGER_TIME says when; ``segments`` > 1 writes sequence-mode files
    of that many flashes each (the last one shorter), each stamped with the run's start
    and each segment with its trigger time since then and its offset. The truth then has
    ``file`` and ``segment`` per flash."""
    volts, truth = simulate_point(pmt, hv, n, seed)
    if times_s is not None:
        truth["time_s"] = np.asarray(times_s, float)
    gain, offset = scope_range(pmt, hv)
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    kw = dict(dt_s=pmt.dt_ns * 1e-9, t0_s=pmt.t0_ns * 1e-9, bits=pmt.bits,
              little_endian=little_endian, vertical_gain=gain, vertical_offset=offset)
    if segments <= 1:  # each file stamped with its flash's time
        for i in range(n):
            write_trc(d / file_name(i), volts[i], trigger_time=RUN_START
                      + _dt.timedelta(seconds=float(truth["time_s"][i])), **kw)
        truth["file"] = np.array([file_name(i) for i in range(n)])
        truth["segment"] = np.zeros(n, int)
        return truth
    files, segs = [], []
    for f, start in enumerate(range(0, n, segments)):
        v = volts[start:start + segments]
        m = v.shape[0]
        write_trc(d / file_name(f), v, trigger_times=truth["time_s"][start:start + m],
                  trigger_offsets=np.full(m, pmt.t0_ns * 1e-9), trigger_time=RUN_START,
                  **kw)
        files += [file_name(f)] * m
        segs += list(range(m))
    truth["file"], truth["segment"] = np.array(files), np.array(segs)
    return truth


TRUTH_COLUMNS = ("pmt", "hv", "n_files", "gain", "mu_pe", "enf", "true_mean_charge_pC",
                 "true_std_charge_pC", "expected_mean_charge_pC", "tau_s_ns", "tau_ns",
                 "noise_V", "record_charge_scale")


def simulate_campaign(
    outdir: str | os.PathLike,
    pmts: tuple[SimPMT, ...] | list[SimPMT] = DEMO_PMTS,
    hv: list[int] | None = None,
    n: int | dict = 200,
    seed: int = 1,
    base_url: str | None = None,
    progress: bool = False,
    segments: int = 1,
) -> Path:
    """Write a campaign in the GIN layout under ``outdir``.

    - ``outdir/<folder>/<hv>/Autosave/C1--n16deg--NNNNN.trc``
    - ``outdir/data_info/data_directories_pmt_<i>.txt``: ``<dir_url> <pmt> <hv> <n_files>
      <cut_V>``, where ``dir_url`` is ``base_url`` + the relative directory (default: the
      directory's absolute path);
    - ``outdir/data_info/enf.txt``: each PMT's true excess noise factor (``<pmt> <F>``);
    - ``outdir/truth/pmt_<i>_<hv>V.csv`` per waveform (file, segment, n_pe, q_true_pC,
      onset_ns, q_full_pC) and ``outdir/truth/summary.csv`` per point (true mean and std
      of the charge, gain, mean photoelectrons, ``record_charge_scale``: the gain "as
      recorded" is ``gain * record_charge_scale``).

    ``n`` is the number of files per point, or a dict ``{(pmt, hv): n}`` with a default
    under key ``None``; with ``segments`` > 1 it counts flashes, written as sequence-mode
    files of ``segments`` flashes each (the campaign's ``n_files`` counts files). Returns
    ``outdir``.
    """
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [(p, v) for p in pmts for v in (hv or p.hv_values)]
    it = jobs
    if progress:
        from tqdm import tqdm

        it = tqdm(jobs, desc="simulating points", unit="point", disable=None)
    lines: dict[int, list[str]] = {}
    for p, v in it:
        n_pt = n.get((p.pmt, v), n.get(None, 200)) if isinstance(n, dict) else n
        rel = f"{p.folder}/{v}/Autosave/"
        truth = write_point(out / rel, p, v, n_pt, seed, segments=segments)
        with open(out / "truth" / f"pmt_{p.pmt}_{v}V.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "segment", "n_pe", "q_true_pC", "onset_ns", "q_full_pC"])
            for i in range(n_pt):
                w.writerow([truth["file"][i], int(truth["segment"][i]), int(truth["n_pe"][i]),
                            f"{truth['q_true_pC'][i]:.9g}", f"{truth['onset_ns'][i]:.6f}",
                            f"{truth['q_full_pC'][i]:.9g}"])
        q = truth["q_true_pC"]
        rows.append([p.pmt, v, n_pt, f"{p.gain(v):.6g}", p.mu_pe, p.enf, f"{q.mean():.9g}",
                     f"{q.std(ddof=1):.9g}", f"{p.mean_charge_pC(v):.9g}", p.tau_s_ns,
                     p.tau_ns, p.noise_V, f"{truth['record_charge_scale']:.9g}"])
        url = (base_url.rstrip("/") + "/" + rel) if base_url else str((out / rel).resolve()) + "/"
        n_files = len(set(truth["file"].tolist()))
        lines.setdefault(p.pmt, []).append(f"{url} {p.pmt} {v} {n_files} {p.cut_V(v):.7g}")
    for pmt_id, ls in lines.items():
        (out / "data_info" / f"data_directories_pmt_{pmt_id}.txt").write_text("\n".join(ls) + "\n")
    # each PMT's excess noise factor, as a lab would have it from single-pe spectra
    write_enf(out / "data_info", {p.pmt: p.enf for p in pmts}, "the simulated truth")
    with open(out / "truth" / "summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRUTH_COLUMNS)
        w.writerows(rows)
    return out

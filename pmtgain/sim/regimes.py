"""Campaigns that real setups produce, each with its truth: the regimes every estimator
is checked in (``tests/sim/test_regimes.py``, ``bench/regimes.py``, :mod:`devtools.validate`).

What to use when
----------------
- :data:`REGIMES` - name -> (the four PMTs, whether the campaign carries a cut column).
  The first eight vary the demo's two-exponential PMTs (signal, light, cut, sampling,
  wander, clipping, dynamic range); the others make pulses *outside* that family, as real
  PMTs and scopes do (log-normal shapes, slow components, reflections, undershoot,
  ringing, coarse sampling of slow pulses, ripple and pick-up, a real-like LeCroy run):
  see :mod:`pmtgain.sim.simpulse`.
"""

from __future__ import annotations

from dataclasses import replace

from pmtgain.sim.simulate import DEMO_PMTS, SimPMT

__all__ = ["REGIMES"]


def _with(pmts, **kw):
    return tuple(replace(p, **{k: (v[i] if isinstance(v, list) else v) for k, v in kw.items()})
                 for i, p in enumerate(pmts))


#: Campaigns that real setups produce, beyond the demo's defaults: name -> (PMTs, cut?).
#: Each is checked against its truth by ``tests/sim/test_regimes.py`` and ``bench/regimes.py``.
REGIMES: dict[str, tuple[tuple[SimPMT, ...], bool]] = {
    # pulses 2-6x the noise rms at 700-800 V, no cut column
    "low-signal": (_with(DEMO_PMTS, noise_V=[1.6e-3, 2.4e-3, 1.6e-3, 2.4e-3]), False),
    # a physicist's cut at ~80 % of the mean peak ("dropping noise")
    "cut-80": (_with(DEMO_PMTS, cut_fraction=0.8), True),
    # 3 photoelectrons per flash (5 % empty), one PMT at 1
    # (the scope's range set for the largest flashes, as one would)
    "low-light": (_with(DEMO_PMTS, mu_pe=[3.0, 3.0, 1.0, 3.0],
                        gain_v0=[4e6, 2e6, 6e6, 2e6], range_factor=[8.0, 8.0, 14.0, 8.0]),
                  True),
    # slower pulse shapes per PMT, 1002 samples
    "slow-pulses": (_with(DEMO_PMTS, tau_s_ns=[0.7, 1.2, 1.8, 2.0],
                          tau_ns=[2.5, 5.0, 8.0, 10.0], n_samples=1002,
                          record_onset_ns=[20.0, 20.0, 25.0, 15.0]), False),
    # slow baseline wander, dark pulses and afterpulses at random times
    "wander-dark": (_with(DEMO_PMTS, wander_V=0.5e-3, dark_prob=0.05,
                          afterpulse_prob=0.002), True),
    # slow baseline wander of random phase (0.5 mV, 400 ns +- 50 % period, as a mains- or
    # ground-loop pick-up of a real bench): noise correlated over the whole record, which
    # the pedestal must carry at every lag the estimator spans (pmtgain.point.pedestal)
    "wander-400": (_with(DEMO_PMTS, wander_V=0.5e-3, wander_period_ns=400.0), False),
    # 16-bit files, other sampling and record lengths, the pulse anywhere in the record
    "sampling": (_with(DEMO_PMTS, bits=[16, 8, 16, 8], dt_ns=[0.2, 0.4, 0.1, 0.2],
                       n_samples=[250, 250, 2000, 1000],
                       record_onset_ns=[8.0, 70.0, 150.0, 3.0]), False),
    # one scope range (0.4 V span) for every HV: the largest pulses clip at high HV
    "clipping": (_with(DEMO_PMTS, range_V=0.4), True),
    # pulses from ~1 to ~500 times the noise
    "dynamic-range": (_with(DEMO_PMTS, noise_V=[0.2e-3, 4.0e-3, 0.25e-3, 3.0e-3],
                            bits=16), False),
    # --- pulses and electronics outside the two-exponential family (the truth: what the
    # record holds of the noise-free LED pulse, see the module docstring)
    # log-normal pulses, FWHM 2.0, 2.9, 4.9, 5.8 ns (the widest in a longer record)
    "lognormal": (_with(DEMO_PMTS, shape="lognormal", ln_tau_ns=[2.4, 4.0, 5.0, 5.6],
                        ln_sigma=[0.35, 0.30, 0.40, 0.42], n_samples=[502, 502, 502, 1002]),
                  False),
    # a slow component (12-50 ns, 10-30 % of the charge) in 1002 samples: >= 5.7 slow fall
    # times after the pulse, except PMT 4 (1.6: its record cuts ~2 % of the charge off)
    "two-component": (_with(DEMO_PMTS, slow_fraction=[0.15, 0.20, 0.30, 0.10],
                            slow_tau_ns=[12.0, 25.0, 40.0, 50.0], dt_ns=[0.1, 0.2, 0.25, 0.1],
                            n_samples=1002), False),
    # cable reflections 5-20 % 3-15 ns late (PMT 4: an inverted one, a termination below
    # the cable's impedance)
    "reflection": (_with(DEMO_PMTS, reflection=[0.10, 0.05, 0.20, -0.08],
                         reflection_delay_ns=[6.0, 3.0, 15.0, 10.0],
                         n_samples=[502, 502, 1002, 502]), False),
    # AC coupling (RC 50-500 ns): a slow positive undershoot after every pulse
    "undershoot": (_with(DEMO_PMTS, ac_coupling_ns=[500.0, 250.0, 150.0, 50.0],
                         dt_ns=[0.1, 0.2, 0.1, 0.1], n_samples=[1002, 1002, 1002, 502]),
                   False),
    # ringing 5-15 % of the peak at 100-400 MHz, damped in 5-20 ns
    "ringing": (_with(DEMO_PMTS, ringing=[0.10, 0.05, 0.15, 0.08],
                      ringing_mhz=[200.0, 100.0, 400.0, 300.0],
                      ringing_tau_ns=[10.0, 20.0, 5.0, 15.0], n_samples=[502, 1002, 502, 502]),
                  False),
    # slow log-normal pulses (FWHM 8-15 ns) at 1-4 ns sampling, 250 samples, the pulse
    # ~100 samples in (a CAEN V1730 at 2 ns); PMT 4 at 14-bit-like resolution (16 bit)
    "coarse-slow": (_with(DEMO_PMTS, shape="lognormal", ln_tau_ns=[9.6, 13.5, 9.4, 10.2],
                          ln_sigma=[0.50, 0.45, 0.35, 0.40], dt_ns=[2.0, 4.0, 1.0, 2.0],
                          n_samples=250, record_onset_ns=[200.0, 300.0, 80.0, 150.0],
                          jitter_ns=[0.6, 1.0, 0.4, 0.6], bits=[8, 8, 8, 16]), False),
    # a coherent baseline ripple (+-0.02-0.05 mV, ~25 MHz, the same phase in every record)
    # and the LED driver's pickup before the pulse, on log-normal / two-component pulses
    "ripple-pickup": (_with(DEMO_PMTS, shape=["lognormal", "two-exp", "lognormal", "two-exp"],
                            ln_tau_ns=[3.5, 3.5, 4.5, 3.5], ln_sigma=[0.35, 0.35, 0.40, 0.35],
                            slow_fraction=[0.0, 0.15, 0.0, 0.10],
                            slow_tau_ns=[30.0, 20.0, 30.0, 30.0],
                            ripple_V=[0.03e-3, 0.05e-3, 0.02e-3, 0.04e-3],
                            ripple_mhz=[25.0, 24.0, 25.0, 26.0],
                            ripple_phase_rad=[0.0, 1.0, 2.0, 4.0],
                            pickup_V=[0.08e-3, 0.10e-3, 0.05e-3, 0.06e-3],
                            pickup_ns=[15.0, 20.0, 12.0, 25.0],
                            record_onset_ns=[45.0, 50.0, 40.0, 55.0],
                            dt_ns=[0.2, 0.2, 0.1, 0.4], n_samples=[502, 1002, 1002, 502]),
                      False),
    # a real LeCroy LED recording: 2 ns sampling, 502 samples, 8 bit, peak ~4 ns
    # after the onset, fall to 1/e of the peak in ~10.5 ns, 9-12 % of the charge in a slow
    # tail (35-50 ns); PMTs 2 and 4 ~2.5 noise rms at 700 V (low-signal, no cut column);
    # PMT 3's range fixed (0.35 V span): ~7 % of its flashes clip at 1400 V, none below
    "real-like": (_with(DEMO_PMTS, tau_s_ns=[2.2, 2.0, 2.4, 1.8], tau_ns=[7.8, 8.2, 7.5, 8.6],
                        slow_fraction=[0.10, 0.12, 0.09, 0.11],
                        slow_tau_ns=[40.0, 50.0, 35.0, 45.0], dt_ns=2.0, n_samples=502,
                        record_onset_ns=[100.0, 120.0, 90.0, 140.0],
                        jitter_ns=[0.6, 0.8, 0.6, 0.8],
                        noise_V=[0.3e-3, 0.6e-3, 0.3e-3, 0.6e-3],
                        range_V=[None, None, 0.35, None]), False),
}

"""Simulated campaigns with known truth, the regimes real setups produce, the demo.

What to use when
----------------
- :mod:`~pmtgain.sim.simulate` - a campaign of ``.trc`` files whose true charges are
  known; :mod:`~pmtgain.sim.simpulse` its pulse shapes (many, not only the estimator's).
- :mod:`~pmtgain.sim.simspe` - low-light and LED-off runs with their truth.
- :mod:`~pmtgain.sim.regimes` - named regimes (shapes, noise, sampling, light) to check
  an estimator against.
- :mod:`~pmtgain.sim.demo` - the built-in demo campaign, served on loopback HTTP.
"""

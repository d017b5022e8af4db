"""What people look at: plots, per-point diagnostics, the HTML report, its screenshot.

What to use when
----------------
- :mod:`~pmtgain.report.plots` - one figure each (gain curves, a point's pulses and
  charges, shape against HV, the single-photoelectron spectrum).
- :mod:`~pmtgain.report.diagnostics` - every point's page of plots for a whole run,
  rendered in parallel and reused while their inputs are unchanged.
- :mod:`~pmtgain.report.page` - ``outputs/report.html``, one self-contained page.
- :mod:`~pmtgain.report.browser` - a headless Chromium screenshot of it.
"""

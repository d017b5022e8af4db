"""Results: where saved points live, when one can be reused, and the gain curves.

What to use when
----------------
- :mod:`~pmtgain.results.store` - the results layout (a point's summary, per-flash
  table, examples, the lists), saving and loading a point, and the one reuse rule.
- :mod:`~pmtgain.results.gaincurve` - the merge: every PMT's points into a table and a
  power-law gain curve per PMT.
- :mod:`~pmtgain.results.lock` - one run at a time on an outputs folder.
"""

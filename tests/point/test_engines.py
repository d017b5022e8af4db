"""engines.py: every engine by name, one signature."""

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.point.prepare import prepare
from pmtgain.sim.simulate import DEMO_PMTS, DT_NS, T0_NS, simulate_point


def _prep(pmt, hv, n):
    v, _ = simulate_point(pmt, hv, n, 3)
    return prepare(v, np.full(n, T0_NS * 1e-9), DT_NS * 1e-9, None), None


def test_engines_are_chosen_by_name_behind_one_interface():
    from pmtgain.config import ENGINES
    from pmtgain.point.engines import engine

    assert set(ENGINES) == {"fast", "integral", "root"}
    p, _ = _prep(DEMO_PMTS[0], 1200, 40)
    r = engine("integral")(p, DEFAULT_FIT, None)
    assert r.charge_pC.shape == (40,)
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        engine("nope")

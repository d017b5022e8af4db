"""The ROOT engine solves the same problems as the fast one: the results must agree."""

import numpy as np
import pytest
from conftest import root_available

from pmtgain.point.pulse import USED, fit_fast, prepare
from pmtgain.sim.simulate import DEMO_PMTS, DT_NS, T0_NS, simulate_point

pytestmark = [pytest.mark.root, pytest.mark.slow,
              pytest.mark.skipif(not root_available(),
                                 reason="PyROOT not installed, or cling cannot compile "
                                 "(needs g++)")]


@pytest.mark.parametrize("pmt", DEMO_PMTS, ids=lambda p: f"pmt{p.pmt}")
def test_root_and_fast_agree_within_0p1_percent(pmt):
    from pmtgain.point.rootfit import fit_root

    for hv in (700, 800, 900, 1000, 1100, 1200, 1300, 1400):
        v, truth = simulate_point(pmt, hv, 250, seed=21)
        p = prepare(v, np.full(250, T0_NS * 1e-9), DT_NS * 1e-9, pmt.cut_V(hv))
        a = fit_fast(p)
        b = fit_root(p)
        ua = np.isin(a.status, USED)
        ub = np.isin(b.status, USED)
        assert ua.sum() == ub.sum()
        qa, qb = np.nanmean(a.charge_pC[ua]), np.nanmean(b.charge_pC[ub])
        assert qb / qa - 1 == pytest.approx(0, abs=0.001), (pmt.pmt, hv)
        assert b.shape.tau_ns == pytest.approx(a.shape.tau_ns, rel=1e-3)
        sa = np.nanstd(a.charge_pC[ua], ddof=1)
        sb = np.nanstd(b.charge_pC[ub], ddof=1)
        assert sb / sa - 1 == pytest.approx(0, abs=0.01)

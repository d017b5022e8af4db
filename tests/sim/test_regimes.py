"""Every flash counts: the point's mean charge and gain against the simulated truth in the
regimes real setups produce (pmtgain.sim.regimes.REGIMES), through real .trc files.

Per point: the mean charge within max(0.3 %, 3 standard errors) of the true mean over *all*
flashes (devtools.validate), unless the point is flagged for clipped flashes (it must be,
whenever the ADC clipped); the photostatistics gain within 3 sigma of the truth wherever it
carries no flag. ``python bench/regimes.py`` prints the same as a table.
"""

import numpy as np
import pytest

from devtools.validate import check_regime
from pmtgain.sim.regimes import REGIMES

pytestmark = [pytest.mark.regimes, pytest.mark.slow]


@pytest.fixture(scope="module", params=list(REGIMES))
def regime(request, tmp_path_factory):
    return request.param, check_regime(request.param, n=2000,
                                       workdir=tmp_path_factory.mktemp(request.param))


#: measured limits (issue-20 note): where a coherent ripple is too weak to be fitted on the
#: baseline region (0.02-0.04 mV against 0.03-0.05 mV noise of the mean per sample, about
#: one period of it before the pulse) but is integrated over a 60-150 ns window, the mean
#: moves by up to ~3 tolerances at 700-1000 V; such points say so in point_flag
KNOWN_LIMIT = {"ripple-pickup": 4.0}


def test_mean_charge_within_tolerance_or_flagged(regime):
    """Within max(0.3 %, 3 standard errors): a tolerance of 3 sigma per point that an exact
    estimator misses in 0.27 % of the points (a 16-regime run has 384: about one), so one
    point per regime may lie between 3 and 4 sigma (ratio 4/3; a bias of a third of the
    tolerance at every point would fail it)."""
    name, rows = regime
    beyond = []
    for r in rows:
        where = f"{name} PMT {r['pmt']} {r['hv']} V"
        if r["n_clipped"]:
            assert "clipped" in r["point_flag"] and "clipped" in r["gain_flag"], where
        elif name in KNOWN_LIMIT and "coherent background" in r["point_flag"]:
            assert r["ratio"] <= KNOWN_LIMIT[name], (where, r["deviation"], r["tolerance"])
        else:
            assert r["ratio"] <= 4 / 3, (where, r["deviation"], r["tolerance"])
            if r["ratio"] > 1.0:
                beyond.append(where)
    assert len(beyond) <= 1, beyond


def test_errors_are_honest(regime):
    """The deviation from the same flashes' truth in units of the point's own
    mean_charge_err."""
    name, rows = regime
    for r in rows:
        if r["n_clipped"] or (name in KNOWN_LIMIT and "coherent" in r["point_flag"]):
            continue
        assert abs(r["pull"]) < 3.0, (name, r["pmt"], r["hv"], r["pull"])


def test_gain_pulls_within_3_sigma_where_unflagged(regime):
    name, rows = regime
    unflagged = [r for r in rows if not r["gain_flag"] and not (
        name in KNOWN_LIMIT and "coherent background" in r["point_flag"])]
    assert len(unflagged) >= len(rows) // 2 or name in KNOWN_LIMIT, name
    for r in unflagged:
        assert abs(r["gain_pull"]) < 3.0, (name, r["pmt"], r["hv"], r["gain_pull"])
    pulls = np.array([r["gain_pull"] for r in unflagged])
    if pulls.size >= 6:
        assert np.sqrt(np.mean(pulls**2)) < 1.6, (name, pulls)


def test_regime_specific_promises(regime):
    name, rows = regime
    pmts, cut = REGIMES[name]
    mu = {p.pmt: p.mu_pe for p in pmts}
    for r in rows:
        if cut and r["cut_removed"] and r["cut_removed"] > 0.01:
            # the cut's own numbers: fewer flashes, a larger |Q|, the bias it implies
            bias = r["mean_charge_cut"] - r["mean_charge"]
            assert r["cut_bias_pC"] == pytest.approx(bias, rel=1e-6)
            if abs(bias) > 3 * r["cut_bias_err_pC"] and abs(bias) > 1e-3 * abs(r["mean_charge"]):
                assert "the cut removes" in r["cut_flag"]
        if not r["gain_flag"]:
            # mu follows from <Q> and G; loose, since it inherits G's error
            assert abs(r["n_pe"] / mu[r["pmt"]] - 1) < 0.25, (name, r)
    if name == "clipping":
        assert any(r["n_clipped"] for r in rows)
    if name == "cut-80":
        assert sum(bool(r["cut_flag"]) for r in rows) >= len(rows) // 2

"""The gain anchored on the single photoelectron: exact arithmetic, and a campaign with
an LED beyond Poisson where the anchored gains hold at every HV and the ratio to the
photostatistics gains measures the LED's excess."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.anchor import anchor_gains, choose_anchor, enf_errors, led_excess
from pmtgain.point.photostat import E_PC
from pmtgain.run.pipeline import AnalysisOptions, MergeOptions, analyse, merge
from pmtgain.sim.simspe import simulate_spe_runs
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign


def _points():
    return pd.DataFrame(dict(pmt=[1, 1, 1, 2], hv=[900, 1000, 1100, 1000],
                             mean_charge=[-2.0, -4.0, -8.0, -3.0],
                             mean_charge_err=[0.02, 0.04, 0.08, 0.03],
                             gain=[1.1e6, 2.2e6, 4.4e6, 1e6], gain_err=[1e4, 2e4, 4e4, 1e4],
                             enf=[1.2, 1.2, 1.2, 1.2], gain_flag="", point_flag=""))


def test_anchor_arithmetic():
    runs = pd.DataFrame(dict(pmt=[1, 1], hv=[1000, 1100], gain=[2e6, 4.1e6],
                             gain_err=[2e4, 1e5], gain_sys=[0.0, 0.0], enf=[1.2, 1.2],
                             enf_err=[0.01, 0.01], enf_sys=[0.0, 0.0], flag=["", ""]))
    df = anchor_gains(_points(), runs)
    p1 = df[df.pmt == 1]
    assert (p1.anchor_hv == 1000).all()  # the run of least relative error
    assert p1.gain_anchored.tolist() == pytest.approx([1e6, 2e6, 4e6])
    mu = 4.0 / (E_PC * 2e6)
    assert p1.n_pe_anchored.iloc[0] == pytest.approx(mu)
    assert p1.gain_anchored_err.tolist() == pytest.approx([1e4, 2e4, 4e4])  # 1 % each
    assert p1.gain_anchored_scale_err.iloc[1] == pytest.approx(2e6 * np.hypot(0.01, 0.01))
    assert p1.ps_over_anchor.tolist() == pytest.approx([1.1, 1.1, 1.1])
    assert df[df.pmt == 2].gain_anchored.isna().all()  # no run: no anchored gain


def test_a_flagged_run_or_a_missing_point_is_no_anchor():
    pts = _points()[lambda d: d.pmt == 1]
    flagged = pd.DataFrame(dict(pmt=[1], hv=[1000], gain=[2e6], gain_err=[1e4],
                                flag=["single photoelectron not resolved"]))
    assert choose_anchor(pts, flagged) is None
    elsewhere = flagged.assign(flag="", hv=1300)
    assert choose_anchor(pts, elsewhere) is None


def test_f_error_is_a_scale_only_where_f_is_measured():
    runs = pd.DataFrame(dict(pmt=[1], hv=[1000], gain=[2e6], gain_err=[1e4], enf=[1.2],
                             enf_err=[0.012], enf_sys=[0.0], flag=[""]))
    assert enf_errors(runs, {1: 1.2}) == {1: pytest.approx(0.012)}
    assert enf_errors(runs, {1: 1.3}) == {}  # F set by hand: its error is not known
    df = anchor_gains(_points(), runs, {1: 0.012})
    assert df[df.pmt == 1].gain_scale_err.tolist() == pytest.approx(
        [1.1e4, 2.2e4, 4.4e4])


@pytest.fixture(scope="module")
def led_campaign(tmp_path_factory):
    """PMT 1 with a Poisson LED, PMT 3 with a 4 % rms LED excess; low-light runs at
    1300 V with F measured there."""
    d = tmp_path_factory.mktemp("anchor")
    pmts = [DEMO_PMTS[0], replace(DEMO_PMTS[2], led_excess_rms=0.04)]
    camp = simulate_campaign(d / "c", pmts, hv=[900, 1000, 1100, 1300], n=3000, seed=7)
    (camp / "data_info" / "enf.txt").unlink()
    simulate_spe_runs(camp, [replace(p, led_excess_rms=0.0) for p in pmts], hv=1300,
                      n=12000, mu=1.5, seed=7)
    out = d / "outputs"
    opts = AnalysisOptions(data_dir=d / "data", outputs=out, jobs=2, progress=False)
    analyse(camp / "data_info", opts, say=lambda s: None, warn=lambda s: None)
    lines = []
    res = merge(MergeOptions(outputs=out, source="lists", data_info=str(camp / "data_info"),
                             quantity="gain", target=3e6, progress=False),
                say=lines.append, warn=lines.append)
    return pmts, res, lines, out


@pytest.mark.slow
def test_anchored_gains_hold_at_every_hv(led_campaign):
    pmts, res, _, out = led_campaign
    df = res.df
    for p in pmts:
        sub = df[df.pmt == p.pmt]
        assert (sub.anchor_hv == 1300).all()
        true = np.array([p.gain(v) for v in sub.hv])
        tot = np.hypot(sub.gain_anchored_err, sub.gain_anchored_scale_err)
        assert (np.abs(sub.gain_anchored - true) < 3 * tot).all(), (sub.gain_anchored, true)
    lst = pd.read_csv(out / "lists" / "pmt_3_data_list.csv")
    assert {"gain_anchored", "gain_anchored_scale_err", "ps_over_anchor"} <= set(lst.columns)


def test_the_ratio_measures_the_led_excess(led_campaign):
    pmts, res, lines, _ = led_campaign
    spe = res.df.attrs["spe"]
    b = led_excess(res.df, spe)
    assert abs(b[1]["led_excess_b2"]) < 3 * b[1]["led_excess_b2_err"]  # Poisson LED
    assert abs(b[3]["led_excess_b2"] - 0.04**2) < 3 * b[3]["led_excess_b2_err"]
    assert np.isfinite(b[3]["led_excess_rms"])  # seen
    # the photostatistics gain of PMT 3 is high by B^2 mu / F, the anchored one is not
    sub = res.df[res.df.pmt == 3]
    assert (sub.ps_over_anchor > 1.0).all()
    assert any("LED intensity" in s for s in lines)
    assert "WARNING" not in b[1]["note"] + b[3]["note"]
    # photostatistics 20 % below the anchored gain (an outside check's undershoot): no LED
    # does that, and it is said
    low = res.df.assign(ps_over_anchor=res.df.ps_over_anchor * 0.8)
    assert led_excess(low, spe)[1]["note"].startswith("WARNING: photostatistics below")


def test_the_equalisation_uses_the_anchored_curve_and_says_so(led_campaign):
    pmts, res, lines, _ = led_campaign
    t = res.table
    assert t.curve.str.startswith("anchored on the single photoelectron at 1300 V").all()
    for p in pmts:
        r = t[t.pmt == p.pmt].iloc[0]
        v_true = p.v0 * (3e6 / p.gain_v0) ** (1 / p.k)
        err = np.hypot(r.hv_for_target_err, r.hv_for_target_scale_err)
        assert abs(r.hv_for_target - v_true) < 3 * err + 1.0
    assert any("the HV for the target and the fit from the gain anchored" in s
               for s in lines)

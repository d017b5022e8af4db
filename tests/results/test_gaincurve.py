"""Gain curves: the power-law fit and the equalisation HV against known truth, and the
excess noise factor applied after the fact."""

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.photostat import E_PC, apply_enf, gain_from_moments
from pmtgain.results.gaincurve import build, fit_power_law, hv_for

HV = np.arange(700, 1401, 100, dtype=float)


def curves(rng, q0=5.0, b=5.5, rel=0.03, n=400):
    """n noisy curves |Q| = q0 (V/1000)^b with relative errors rel."""
    truth = q0 * (HV / 1000.0) ** b
    return truth * (1 + rel * rng.standard_normal((n, HV.size))), truth * rel


def test_power_law_recovers_truth_with_covering_errors():
    rng = np.random.default_rng(3)
    qs, err = curves(rng)
    pulls_q0, pulls_b, hv_pulls = [], [], []
    for q in qs:
        f = fit_power_law(HV, q, err)
        pulls_q0.append((f.q0 - 5.0) / f.q0_err)
        pulls_b.append((f.b - 5.5) / f.b_err)
        v, ve = hv_for(f, 20.0)
        hv_pulls.append((v - 1000.0 * (20.0 / 5.0) ** (1 / 5.5)) / ve)
    for p in (pulls_q0, pulls_b, hv_pulls):
        p = np.asarray(p)
        assert abs(p.mean()) < 0.15  # unbiased
        assert 0.85 < p.std() < 1.15  # errors the size of the scatter (errors only grow
        # by sqrt(chi2/ndf) when that exceeds 1, so slightly above 1 is expected)


def test_hv_for_inverts_the_fit():
    f = fit_power_law(HV, 2.0 * (HV / 1000) ** 4.8, 0.01 * 2.0 * (HV / 1000) ** 4.8)
    assert f.q0 == pytest.approx(2.0) and f.b == pytest.approx(4.8)
    v, _ = hv_for(f, 7.5)
    assert f(v) == pytest.approx(7.5)
    assert f.a * v**f.b == pytest.approx(7.5)


def test_build_names_missing_points_and_short_curves():
    df = pd.DataFrame(dict(pmt=[1, 1, 1, 2], hv=[900, 1000, 1100, 900],
                           mean_charge=[-1.0, -2.0, -4.0, -1.0], std_dev_charge=0.5,
                           sem_charge=0.02))
    fits, tab, missing = build(df, [(1, 900), (1, 1200), (2, 900), (2, 1000)], target=3.0)
    assert missing == [(1, 1200), (2, 1000)]
    t = tab.set_index("pmt")
    assert t.missing_hv[1] == "1200" and t.b[1] == pytest.approx(np.log(4) / np.log(1100 / 900),
                                                                 rel=0.05)
    assert "needs 2" in t.error[2] and 2 not in fits


def _row(mean, excess, ped, n=500, lost=0.0, pmt=1):
    var = excess + ped
    return dict(pmt=pmt, hv=1000, ps_mean_pC=mean, ps_var_pC2=var, ps_ped_var_pC2=ped,
                ps_var_err_pC2=var * np.sqrt(2 / n), ps_mean_err_pC=np.sqrt(var / n),
                ps_cov_pC3=0.0, ps_clipped_fraction=lost, enf=1.2, gain=np.nan,
                gain_err=np.nan, n_pe=np.nan, gain_flag="")


def test_apply_enf_rescales_gain_and_recomputes_flags():
    # mu = <Q>^2 F / excess: 0.55 photoelectrons at F = 1.2 (flagged below 0.5)
    mean = -0.55 * 1e6 * E_PC
    excess = mean**2 * 1.2 / 0.55
    df = pd.DataFrame([_row(mean, excess, 0.1 * excess), _row(mean, excess, 0.1 * excess,
                                                               pmt=2)])
    a = apply_enf(df, {1: 1.2, 2: 1.2})
    assert a.n_pe.tolist() == pytest.approx([0.55, 0.55]) and (a.gain_flag == "").all()
    assert a.gain[0] == pytest.approx(1e6, rel=1e-9)
    b = apply_enf(df, {1: 1.0})  # PMT 2 not named: untouched
    assert b.gain[0] == pytest.approx(1.2e6, rel=1e-9) and b.enf[0] == 1.0
    assert b.n_pe[0] == pytest.approx(0.55 / 1.2)
    assert b.gain_flag[0] == "mu=0.46<0.5" and np.isnan(b.gain[1])
    c = apply_enf(pd.DataFrame([_row(mean, excess, 0.1 * excess, lost=0.02)]), {1: 1.2})
    assert c.gain_flag[0] == "2.0% clipped (largest charges missing)"
    g, ge, _ = gain_from_moments(*(df.loc[0, c] for c in ("ps_mean_pC", "ps_var_pC2",
                                 "ps_ped_var_pC2", "ps_var_err_pC2", "ps_mean_err_pC",
                                 "ps_cov_pC3")), 1.0)
    assert b.gain_err[0] == pytest.approx(float(ge)) and float(g) == pytest.approx(b.gain[0])


def test_23_4_a_job_that_left_no_result_is_named_by_what_it_said(tmp_path):
    """A job whose Python is broken leaves empty outputs: the merge names the point by
    the job's own last line, not as "a JSON parse error"."""
    import pandas as pd

    from pmtgain.condor.queue import missing_reasons
    from pmtgain.results.gaincurve import collect
    from pmtgain.results.layout import Layout
    from pmtgain.results.store import write_json_records

    d = tmp_path / "condor_lists"
    d.mkdir()
    write_json_records(pd.DataFrame([dict(pmt=1, hv=800, mean_charge=-1.0,
                                          std_dev_charge=0.1)]), d / "pmt_1_800_summary.json")
    (d / "pmt_1_1000_summary.json").write_bytes(b"")
    errs = tmp_path / "condor_errors"
    errs.mkdir()
    said = ("exec_condor.sh: job environment (python3 on wn-1) is incomplete: "
            "ModuleNotFoundError: No module named 'numpy'")
    (errs / "pmt_1_1000_analysis.error").write_text(f"some noise\n{said}\n")
    (errs / "pmt_1_1200_analysis.error").write_text("analysis_condor.py: PMT 1 at 1200 V "
                                                    "failed: HTTP 404\n")
    failed = {(p, h): r for p, h, r in collect(Layout(tmp_path, "condor_lists")).attrs["failed"]}
    assert failed[(1, 1000)] == f"its job left no result: {said}"
    assert "HTTP 404" in missing_reasons(tmp_path, {(1, 1200)})[(1, 1200)]

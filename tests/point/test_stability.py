"""Stability in time: block means against the flashes' times, the drift test, against the
truth of a simulated LED warming up (and of a stable one), and the test's false-flag rate."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.process import process_point
from pmtgain.point.stability import (
    StabilitySettings,
    blocks,
    compare_points,
    stability,
)
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def _run(tmp_path, drift, n=800, segments=1, seed=3, period=1.0):
    p = dataclasses.replace(DEMO_PMTS[0], flash_period_s=period, led_drift=drift,
                            led_drift_tau_s=200.0)
    truth = write_point(tmp_path, p, 1000, n, seed=seed, segments=segments)
    res = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1000)
    return res, truth


def _true_first_last(truth, k):
    parts = np.array_split(np.arange(truth["mu_pe"].size), k)
    mu = np.array([truth["mu_pe"][p].mean() for p in parts])
    return mu[-1] / mu[0] - 1


@pytest.mark.parametrize("segments", [1, 100], ids=["file-times", "sequence-times"])
def test_an_led_warming_up_is_flagged_and_its_drift_recovered(tmp_path, segments):
    """mu 30 % high at the start, settling in 200 s, 800 flashes 1 s apart (in single
    files stamped with their time, or sequence files' trigger times): the drift flagged,
    first to last block within 3 sigma of the truth, the block means within their errors
    of the true ones (the same flashes' true charges: only the noise differs)."""
    res, truth = _run(tmp_path, 0.3, segments=segments)
    s = res.summary
    assert s["stability_time_source"] == "trigger times" and s["stability_blocks"] == 10
    assert s["stability_span_s"] == pytest.approx(799.0)
    assert s["drift_flag"].startswith("the charge drifts in time") and \
        s["drift_flag"] in s["point_flag"]
    want = _true_first_last(truth, 10)
    assert abs(s["drift_first_last"] - want) < 3 * s["drift_first_last_err"], (
        s["drift_first_last"], want)
    b = blocks(res.table)
    q = np.array([truth["q_true_pC"][p].mean()
                  for p in np.array_split(np.arange(800), 10)])
    pull = (b.mean_pC - q) / b.err_pC
    assert np.sum(pull**2) < 29.6  # chi2(10) at p = 0.001: the noise is much smaller
    np.testing.assert_allclose(b.time_s, 40 + 80 * np.arange(10), atol=1.0)


def test_a_stable_led_is_not_flagged(tmp_path):
    res, truth = _run(tmp_path, 0.0, n=600, segments=100, seed=5)
    s = res.summary
    assert s["drift_flag"] == "" and "drift" not in s["point_flag"]
    assert abs(s["drift_first_last"]) < 3 * s["drift_first_last_err"]
    assert abs(s["drift_slope_per_h"]) < 3 * s["drift_slope_err_per_h"]


def test_files_without_times_are_tested_in_flash_order(tmp_path, rng):
    """Files of one time stamp: the flashes in their files' order, the slope per flash."""
    res, _ = _run(tmp_path, 0.0, n=300, period=0.0)  # every file stamped alike
    assert res.summary["stability_time_source"].startswith("flash order")
    assert np.isnan(res.summary["stability_span_s"])
    q = rng.normal(-10, 1, 400) * np.linspace(1.2, 1.0, 400)  # drifting, no times
    s = stability(_table(q, np.zeros(400)))
    assert "flash order" in s["drift_flag"] and s["drift_slope_per_h"] < 0


def _table(q, t):
    return pd.DataFrame({"status": "ok", "window_charge_pC": q, "trigger_time_s": t})


def test_false_flags_are_rare_and_a_drift_of_five_sigma_is_found(rng):
    """Monte Carlo of the tests alone: stable points are flagged in ~0.4 % (the module's
    claim), a steady drift of 5 block errors from first to last block in nearly all."""
    n, k = 300, 10
    t = np.arange(n, dtype=float)
    flagged = sum(bool(stability(_table(rng.normal(-10, 2, n), t))["drift_flag"])
                  for _ in range(3000))
    assert flagged <= 25  # 12 expected at 0.4 %; 25 or more has p < 1e-3
    step = 5 * 2 / np.sqrt(n / k) / (t[-1] * (1 - 1 / k))  # 5 block errors over the run
    found = sum(bool(stability(_table(rng.normal(-10, 2, n) - step * t, t))["drift_flag"])
                for _ in range(200))
    assert found >= 190


def test_too_few_flashes_give_no_test_and_no_flag():
    s = stability(_table(np.full(30, -1.0), np.arange(30.0)), StabilitySettings())
    assert s["stability_blocks"] == 0 and s["drift_flag"] == ""
    assert np.isnan(s["drift_chi2_ndf"])


def test_points_measured_twice_are_compared_in_their_errors():
    a = pd.DataFrame({"pmt": [1, 1, 2], "hv": [900, 1000, 900],
                      "mean_charge": [-10.0, -20.0, -5.0], "mean_charge_err": [0.3, 0.4, 0.1]})
    b = pd.DataFrame({"pmt": [1, 2, 3], "hv": [1000, 900, 900],
                      "mean_charge": [-21.0, -5.0, -1.0], "mean_charge_err": [0.3, 0.1, 0.1]})
    m = compare_points(a, b)
    assert m[["pmt", "hv"]].values.tolist() == [[1, 1000], [2, 900]]
    assert m["diff_sigma"].tolist() == pytest.approx([1.0 / 0.5, 0.0])
    assert m["diff_rel"].tolist() == pytest.approx([-1 / 21, 0.0])

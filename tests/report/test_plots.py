"""Diagnostic plots: the examples kept per point reproduce their waveforms, and every
figure is drawn for good, partial and empty points."""

import glob

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pmtgain.point.process import process_point
from pmtgain.point.pulse import pulse
from pmtgain.report.plots import point_diagnostics, shape_vs_hv
from pmtgain.results.store import load_point, save_point
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign


@pytest.fixture(scope="module")
def point(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    simulate_campaign(d / "camp", DEMO_PMTS[:1], hv=[1000], n=120, seed=7)
    files = sorted(glob.glob(str(d / "camp" / "**" / "*.trc"), recursive=True))
    # a cut at the 30 % quantile of the amplitudes: a third of the waveforms below it
    first = process_point(files, pmt=1, hv=1000)
    amp = first.table.amplitude_V + first.table.baseline_V
    res = process_point(files, pmt=1, hv=1000, cut_V=float(np.quantile(amp, 0.7)))
    return res, d


def test_examples_reproduce_their_waveforms(point):
    res, _ = point
    ex = res.examples
    st = list(ex["status"])
    assert st[:3] == ["ok", "ok", "ok"] and "fails the cut" in st
    tab = res.table.set_index("file")
    q = -tab.loc[list(ex["name"][:3]), "charge_pC"].to_numpy()
    assert q[2] > q[0] > q[1]  # typical (median), small, large |Q|
    dt, k_lo, k_hi = float(ex["dt_ns"]), int(ex["k_lo"]), int(ex["k_hi"])
    k = np.arange(ex["y"].shape[1])
    for i in range(3):
        # the stored fit is the table's fit, and it describes the stored waveform: its
        # residual in the fit range is the noise (chi2/ndf ~ 1), not a misplaced pulse
        assert ex["charge_pC"][i] == pytest.approx(tab.loc[ex["name"][i], "charge_pC"])
        t = ex["t0_ns"][i] + k * dt
        model = pulse(t, ex["a_V"][i], ex["c_ns"][i], ex["tau_s_ns"][i], ex["tau_ns"][i])
        r = (ex["y"][i] - model)[k_lo:k_hi]
        assert 0.7 < np.std(r) / ex["noise_V"][i] < 1.3
        shifted = pulse(t + 2.0, ex["a_V"][i], ex["c_ns"][i], ex["tau_s_ns"][i],
                        ex["tau_ns"][i])
        assert np.std((ex["y"][i] - shifted)[k_lo:k_hi]) > 1.5 * np.std(r)


def test_examples_survive_save_and_load(point, tmp_path):
    res, _ = point
    save_point(res, tmp_path)
    back = load_point(tmp_path, 1, 1000)
    assert back is not None and back.examples is not None
    for key, v in res.examples.items():
        np.testing.assert_array_equal(back.examples[key], v, err_msg=key)


def _not_blank(path):
    im = np.asarray(Image.open(path).convert("L"), float)
    return im.shape, im.std()


def test_point_diagnostics_for_good_partial_and_empty_points(point, tmp_path):
    res, _ = point
    point_diagnostics(res.summary, res.table, res.examples, tmp_path / "good.png")
    shape, spread = _not_blank(tmp_path / "good.png")
    assert shape == (800, 880) and spread > 10
    # no examples (older results) and a point without used waveforms still draw
    point_diagnostics(res.summary, res.table, None, tmp_path / "noex.png")
    bad = pd.DataFrame({"file": ["a.trc", "b.trc"], "status": ["unreadable"] * 2,
                        "reason": ["HTTP 404", "truncated"], "charge_pC": [np.nan] * 2})
    point_diagnostics(dict(pmt=1, hv=700, n_files=2, n_used=0, mean_charge=float("nan")),
                      bad, None, tmp_path / "empty.png")
    assert _not_blank(tmp_path / "empty.png")[1] > 5


def test_shape_vs_hv_with_missing_columns(tmp_path):
    df = pd.DataFrame(dict(pmt=3, hv=[800, 900, 1000], tau_s_ns=[1.0, 1.1, np.nan],
                           tau_ns=[5.0, 5.2, 5.1], onset_ns=[45.0, 44.0, 43.5]))
    shape_vs_hv(df, tmp_path / "s.png")
    assert _not_blank(tmp_path / "s.png")[1] > 5

"""shape.py: weak shapes are recognised, the shape table interpolates and round-trips, and
a weak point with the table's shape is unbiased."""

from dataclasses import replace

import pytest

from pmtgain.point.process import process_point
from pmtgain.point.shape import ShapeTable
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import write_point


def test_table_interpolates_saves_and_refuses_bad_lines(tmp_path):
    t = ShapeTable(rows={2: [(800.0, 0.9, 3.4, 0.2), (1200.0, 1.0, 3.6, 0.3)]})
    assert t.interpolate(2, 1000) == pytest.approx((0.95, 3.5, 0.25))
    assert t.interpolate(2, 1400) == pytest.approx((1.0, 3.6, 0.3))  # nearest outside
    assert t.interpolate(3, 1000) is None
    t.save(tmp_path / "shapes.csv")
    back = ShapeTable.load(tmp_path / "shapes.csv")
    assert back.interpolate(2, 900) == pytest.approx(t.interpolate(2, 900))
    (tmp_path / "bad.csv").write_text("pmt,hv,tau_s_ns,tau_ns,jitter_ns\n2,800,3,1,0.1\n")
    with pytest.raises(ValueError, match="bad.csv:2: need 0 < tau_s_ns < tau_ns"):
        ShapeTable.load(tmp_path / "bad.csv")


def test_a_weak_point_borrows_the_window_of_a_strong_one_and_stays_unbiased(tmp_path):
    """Through files: the strong points' templates (saved and loaded as data) place the
    weak point's window; its mean is the window sum of every flash, within its error."""
    pmt = replace(REGIMES["low-light"][0][1], noise_V=8e-3)  # 700 V: ~5 noise rms in the mean
    summaries = []
    for hv in (1000, 1200):
        write_point(tmp_path / str(hv), pmt, hv, 400, seed=3)
        r = process_point(sorted((tmp_path / str(hv)).glob("*.trc")), pmt=2, hv=hv)
        assert r.summary["shape_source"] == "own"
        summaries.append(r.summary)
    table = ShapeTable.from_summaries(summaries)
    table.save(tmp_path / "shapes.csv")
    back = ShapeTable.load(tmp_path / "shapes.csv")
    assert [t.hv for t in back.templates[2]] == [1000.0, 1200.0]
    truth = write_point(tmp_path / "700", pmt, 700, 600, seed=8)
    files = sorted((tmp_path / "700").glob("*.trc"))
    alone = process_point(files, pmt=2, hv=700).summary
    s = process_point(files, pmt=2, hv=700, shapes=back).summary
    assert alone["shape_source"] == "own-weak" and "too weak" in alone["point_flag"]
    assert s["shape_source"] == "table" and "PMT 2 at 1000 V" in s["shape_note"]
    qt = truth["q_true_pC"]
    assert abs(s["mean_charge"] - qt.mean()) < 3 * s["mean_charge_err"]
    assert s["mean_charge_window_err_pC"] > 0  # the borrowed position's error is in it


def test_from_summaries_keeps_only_own_shapes():
    t = ShapeTable.from_summaries([
        dict(pmt=1, hv=900, tau_s_ns=1.0, tau_ns=3.5, jitter_ns=0.2, shape_source="own"),
        dict(pmt=1, hv=700, tau_s_ns=2.0, tau_ns=9.0, jitter_ns=0.2,
             shape_source="own-weak")])
    assert t.for_pmt(1) == [(900.0, 1.0, 3.5, 0.2)]

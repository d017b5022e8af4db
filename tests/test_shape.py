"""shape.py: weak shapes are recognised, the shape table interpolates and round-trips, and
a weak point with the table's shape is unbiased."""

import numpy as np
import pytest

from pmtgain.charge import measure
from pmtgain.prepare import prepare
from pmtgain.shape import ShapeTable, is_weak, point_shape, shape_from_table
from pmtgain.simulate import REGIMES, simulate_point


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


def test_a_weak_point_takes_the_table_shape_and_stays_unbiased():
    pmt = REGIMES["low-light"][0][1]
    n = 300
    v, truth = simulate_point(pmt, 700, n, seed=8)
    p = prepare(v, np.full(n, pmt.t0_ns * 1e-9), pmt.dt_ns * 1e-9, None)
    own = point_shape(p)
    assert is_weak(own)  # rise or fall known to worse than 5 %
    shape = shape_from_table(p, (pmt.tau_s_ns, pmt.tau_ns, pmt.jitter_ns))
    q, st = measure(p, shape)
    qt = truth["q_true_pC"]
    assert abs(st["mean_charge"] - qt.mean()) < 3 * np.std(q - qt) / np.sqrt(n)


def test_from_summaries_keeps_only_own_shapes():
    t = ShapeTable.from_summaries([
        dict(pmt=1, hv=900, tau_s_ns=1.0, tau_ns=3.5, jitter_ns=0.2, shape_source="own"),
        dict(pmt=1, hv=700, tau_s_ns=2.0, tau_ns=9.0, jitter_ns=0.2,
             shape_source="own-weak")])
    assert t.for_pmt(1) == [(900.0, 1.0, 3.5, 0.2)]

"""validate.py: a point checked against its truth through real files."""

from devtools.validate import check_point
from pmtgain.sim.simulate import DEMO_PMTS


def test_check_point_on_a_clear_point(tmp_path):
    r = check_point(DEMO_PMTS[0], 1100, 400, workdir=tmp_path)
    assert r["ratio"] < 1 and abs(r["gain_pull"]) < 4 and r["n_used"] == 400
    assert r["tolerance"] >= 0.003 and r["shape_source"] == "own"
    assert not list(tmp_path.iterdir())  # its files are gone

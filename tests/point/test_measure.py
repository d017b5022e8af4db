"""measure.py: the second pass gives every flash its window sum (exactly the sum of its
samples in the window), its filtered charge (same mean, less noise) and a pedestal equal
to the noise in each."""

from dataclasses import replace

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.io.flashes import ChunkReader, read_many
from pmtgain.point.measure import measure_flashes
from pmtgain.point.model import Status
from pmtgain.point.placement import place_window
from pmtgain.point.prepare import prepare
from pmtgain.point.scan import scan_point
from pmtgain.point.shape import Shape
from pmtgain.point.window import make_estimator
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import write_point


def test_window_sums_filtered_charges_and_pedestals(tmp_path):
    pmt = replace(REGIMES["two-component"][0][1], noise_V=3e-3)  # noise-dominated
    truth = write_point(tmp_path, pmt, 800, 1500, seed=4)
    files = sorted(tmp_path.glob("*.trc"))
    reader = ChunkReader(files, chunk=400)
    scan = scan_point(reader)
    win, _, _ = place_window(scan, 2, 800)
    est = make_estimator(scan.mean_pulse, win, scan.dt_ns, scan.white_sigma)
    shape = Shape(a_V=np.nan, c_ns=np.nan, tau_s_ns=1.0, tau_ns=3.0, ok=False,
                  free_onset=False)
    m = measure_flashes(reader, scan, est, shape, [f.name for f in files], engine="fast")
    c = m.cols["status"] == Status.OK
    mt = read_many(files)
    p = prepare(mt.volts, mt.t0_s, mt.dt_s, None, mt.clipped, DEFAULT_FIT, scan.geometry,
                scan.noise_ref)
    direct = p.y[:, win.k_lo:win.k_hi].sum(axis=1) * est.unit
    np.testing.assert_allclose(m.cols["w"], direct, rtol=1e-9, atol=1e-12)
    q, w, qt = m.cols["q"][c], m.cols["w"][c], truth["q_true_pC"][c]
    assert q.mean() == pytest.approx(w.mean(), rel=1e-9)
    assert np.var(q - qt) < 0.7 * np.var(w - qt)
    assert m.ped_var_pC2 == pytest.approx(np.var(q - qt), rel=0.15)
    assert m.ped_var_window_pC2 == pytest.approx(np.var(w - qt), rel=0.15)

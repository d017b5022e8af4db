"""placement.py: through real files, a coherent ripple is removed, pick-up is left out of
the baseline region, and the mean charge is the record integral within its error where
ignoring either moved it by several errors."""

from dataclasses import replace

import numpy as np
import pytest

from pmtgain.config import DEFAULT_FIT
from pmtgain.io.flashes import ChunkReader
from pmtgain.point.placement import place
from pmtgain.point.process import process_point
from pmtgain.point.scan import scan_point
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import write_point


@pytest.fixture(scope="module")
def ripple_point(tmp_path_factory):
    d = tmp_path_factory.mktemp("ripple")
    pmt = REGIMES["ripple-pickup"][0][3]  # 0.04 mV at 26 MHz, pick-up before the pulse
    truth = write_point(d, pmt, 1000, 1500, seed=3)
    return pmt, sorted(d.glob("*.trc")), truth


def test_ripple_is_removed_and_the_mean_is_the_record_integral(ripple_point):
    pmt, files, truth = ripple_point
    s = process_point(files, pmt=4, hv=1000).summary
    assert s["ripple_mhz"] == pytest.approx(pmt.ripple_mhz, rel=0.1)
    assert "coherent ripple" in s["baseline_note"]
    qt = truth["q_true_pC"].mean()
    assert abs(s["mean_charge"] - qt) < 3 * s["mean_charge_err"]


def test_without_the_ripple_there_is_no_correction(tmp_path):
    pmt = replace(REGIMES["ripple-pickup"][0][3], ripple_V=0.0, pickup_V=0.0)
    write_point(tmp_path, pmt, 1000, 800, seed=3)
    files = sorted(tmp_path.glob("*.trc"))
    reader = ChunkReader(files)
    scan = scan_point(reader)
    pl = place(scan, lambda g: scan_point(reader, DEFAULT_FIT, g), 4, 1000)
    assert pl.ripple is None and pl.estimator.offset_window_pC == 0.0
    assert pl.baseline_note == ""
    assert pl.scan is scan  # no second first pass


def test_pickup_alone_leaves_the_baseline_region(tmp_path):
    pmt = replace(REGIMES["ripple-pickup"][0][3], ripple_V=0.0, pickup_V=1.5e-4)
    truth = write_point(tmp_path, pmt, 1000, 800, seed=3)
    files = sorted(tmp_path.glob("*.trc"))
    reader = ChunkReader(files)
    scan = scan_point(reader)
    pl = place(scan, lambda g: scan_point(reader, DEFAULT_FIT, g), 4, 1000)
    assert "left out" in pl.baseline_note
    t_pick = int(pmt.pickup_ns / pmt.dt_ns)  # the pick-up's sample: not in the baseline
    g = pl.scan.geometry
    assert t_pick not in set(g.base_index().tolist())
    assert g.base_index().size >= DEFAULT_FIT.min_baseline_samples
    s = process_point(files, pmt=4, hv=1000).summary
    assert abs(s["mean_charge"] - np.mean(truth["q_true_pC"])) < 3 * s["mean_charge_err"]

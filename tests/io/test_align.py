"""align.py: flashes on one time axis, whatever trigger delay each file was recorded with
(a mixed trigger delay), on real .trc bytes from the simulator."""

from dataclasses import replace

import numpy as np
import pytest

from pmtgain.io.align import MAX_SHIFT_FRACTION, align, sample_shifts, too_far
from pmtgain.point.process import process_point
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def test_shifts_round_to_whole_samples_and_align_reflects_the_emptied_samples():
    k = sample_shifts(np.array([0.0, 0.49e-9, 0.51e-9, -1.0e-9]), 0.0, 0.5e-9)
    assert k.tolist() == [0, 1, 1, -2]
    v = np.tile(np.arange(10.0), (3, 1))
    align(v, np.array([0, 2, -3]))
    assert v[0].tolist() == list(range(10))
    assert v[1].tolist() == [2, 1, 0, 1, 2, 3, 4, 5, 6, 7]  # starts 2 samples late
    assert v[2].tolist() == [3, 4, 5, 6, 7, 8, 9, .5, .5, .5]  # 3 early: its baseline level
    assert too_far(np.array([0, 250, 251]), 1000).tolist() == [False, False, True]
    assert MAX_SHIFT_FRACTION == 1 / 4


def _point(tmp_path, delay_ns: float, n_odd: int = 10, n: int = 50):
    """``n`` flashes of PMT 1 at 1000 V; the last ``n_odd`` files recorded with a trigger
    delay ``delay_ns`` different (the pulse later in the record, HORIZ_OFFSET consistent)."""
    pmt = DEMO_PMTS[0]
    a = write_point(tmp_path / "a", pmt, 1000, n - n_odd, seed=4)
    b = write_point(tmp_path / "b", replace(pmt, record_onset_ns=pmt.record_onset_ns
                                            + delay_ns), 1000, n_odd, seed=5)
    files = sorted((tmp_path / "a").glob("*.trc")) + sorted((tmp_path / "b").glob("*.trc"))
    truth = np.concatenate([a["q_true_pC"], b["q_true_pC"]])
    return files, truth


@pytest.mark.parametrize("delay_ns", [5.0, -5.0, -7.3, -10.0])
def test_22_3_files_of_another_trigger_delay_are_measured_on_the_points_time_axis(
        tmp_path, delay_ns):
    """Negative: the pulse earlier in the record. At -10 ns it sits where the other
    flashes' baseline is: before the alignment those 10 flashes were dropped as "pulse in
    the baseline region"."""
    files, truth = _point(tmp_path, delay_ns)
    res = process_point(files, pmt=1, hv=1000)
    s = res.summary
    assert s["n_used"] == 50 and s["rejected_pre_pulse"] == 0, s
    # against the same flashes' true charges: what is left is the estimator's noise
    diff = res.table.charge_pC.to_numpy() - truth
    assert abs(diff.mean()) < 3 * diff.std() / np.sqrt(diff.size) + 1e-3 * abs(truth.mean())
    assert abs(diff[40:].mean()) < 3 * diff[40:].std() / np.sqrt(10) + 0.01 * abs(
        truth.mean())  # the odd files themselves
    assert "shape" not in (s.get("point_flag") or ""), s.get("point_flag")


def test_22_3_a_delay_beyond_the_aligned_reach_is_refused_by_file(tmp_path):
    pmt = DEMO_PMTS[0]
    far = (pmt.n_samples * MAX_SHIFT_FRACTION + 5) * pmt.dt_ns
    files, _ = _point(tmp_path, far, n_odd=3)
    res = process_point(files, pmt=1, hv=1000)
    bad = res.table[res.table.status == "unreadable"]
    assert len(bad) == 3 and bad.reason.str.contains("another trigger delay").all(), \
        bad.reason.tolist()
    assert res.summary["n_used"] == 47

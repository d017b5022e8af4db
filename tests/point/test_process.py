"""Accuracy against known truth: a simulated 4-PMT x 8-HV campaign."""

import numpy as np
import pandas as pd
import pytest

from pmtgain.point.charge import measure
from pmtgain.point.process import process_point, summarize
from pmtgain.point.pulse import USED, Status, fit_fast, prepare
from pmtgain.results.store import load_point, save_point
from pmtgain.sim.simulate import DEMO_PMTS, DT_NS, T0_NS, simulate_point, write_point

HVS = (700, 800, 900, 1000, 1100, 1200, 1300, 1400)


def n_for(pmt, hv):
    """Enough flashes that 0.3 % means something where the noise allows."""
    snr = abs(pmt.mean_peak_V(hv)) / pmt.noise_V
    return 16000 if snr < 5 else 6000 if snr < 15 else 1500


@pytest.mark.slow
@pytest.mark.parametrize("pmt", DEMO_PMTS, ids=lambda p: f"pmt{p.pmt}")
def test_linear_charge_mean_and_spread_against_truth_at_every_point(pmt):
    """Every flash, no selection: the mean within max(0.3 %, 3 paired standard errors) of
    the true mean over all flashes; the noise-corrected spread within 2 % of the true
    spread; the pedestal variance equal to the variance of (estimate - truth)."""
    for hv in HVS:
        n = n_for(pmt, hv)
        v, truth = simulate_point(pmt, hv, n, seed=11)
        p = prepare(v, np.full(n, T0_NS * 1e-9), DT_NS * 1e-9, pmt.cut_V(hv))
        assert p.counted.all()
        q, st = measure(p)
        qt = truth["q_true_pC"]
        se = np.std(q - qt, ddof=1) / np.sqrt(n) / abs(qt.mean())
        dev = st["mean_charge"] / qt.mean() - 1
        assert abs(dev) < max(0.003, 3 * se), (hv, dev, se)
        assert st["std_charge_corrected"] / qt.std(ddof=1) - 1 == pytest.approx(0, abs=0.02)
        if p.snr < 10:  # where noise dominates (q - qt) (above, the onset jitter adds)
            assert st["ps_ped_var_pC2"] == pytest.approx(np.var(q - qt), rel=0.1), hv


@pytest.mark.parametrize("pmt", DEMO_PMTS[:2], ids=lambda p: f"pmt{p.pmt}")
def test_fast_fit_columns_where_each_flash_stands_clear(pmt):
    """The per-flash fit, where it is used (signal >= free_onset_snr): unbiased, and its
    own error describes its scatter about the truth."""
    for hv in (1100, 1200, 1300, 1400):
        v, truth = simulate_point(pmt, hv, 1500, seed=11)
        p = prepare(v, np.full(1500, T0_NS * 1e-9), DT_NS * 1e-9, None)
        r = fit_fast(p)
        assert r.shape.free_onset or p.snr < 15
        used = np.isin(r.status, USED) & np.isfinite(r.charge_full_pC)
        q, qt = r.charge_full_pC[used], truth["q_true_pC"][used]
        assert used.mean() > 0.98
        assert abs(q.mean() / qt.mean() - 1) < 0.003, hv
        assert np.std(q - qt) / np.sqrt(np.mean(r.sigma_charge_pC[used] ** 2)) == \
            pytest.approx(1, abs=0.2), hv


def test_process_point_from_files_with_a_bad_file(tmp_path):
    pmt = DEMO_PMTS[0]
    truth = write_point(tmp_path, pmt, 1100, 300, seed=5)
    files = sorted(tmp_path.glob("*.trc"))
    files[10].write_bytes(files[10].read_bytes()[:500])  # truncated
    res = process_point(files, pmt=1, hv=1100, cut_V=pmt.cut_V(1100),
                        missing=[("C1--n16deg--00300.trc", "HTTP 404")])
    s = res.summary
    assert s["n_files"] == 301 and s["rejected_unreadable"] == 2
    assert s["n_used"] == 299
    bad = res.table.set_index("file").loc["C1--n16deg--00010.trc"]
    assert bad.status == "unreadable" and "truncated" in bad.reason
    used = (res.table.status == "ok").to_numpy()
    idx = [int(f[12:17]) for f in res.table.file[used]]
    q_true = truth["q_true_pC"][idx]
    assert s["mean_charge"] == pytest.approx(q_true.mean(), rel=0.003)
    assert s["mean_charge"] < 0  # the original's sign convention
    # original columns are there; sem = std / sqrt(n)
    assert s["sem_charge"] == pytest.approx(s["std_dev_charge_window"] / np.sqrt(299))
    assert s["std_dev_charge"] <= s["std_dev_charge_window"]  # the filter is the quieter
    # save and load round trip, and the summary of the loaded table is the same
    save_point(res, tmp_path / "out")
    back = load_point(tmp_path / "out", 1, 1100)
    assert back.summary["mean_charge"] == pytest.approx(s["mean_charge"])
    again = summarize(back.table, pmt=1, hv=1100)
    assert again["mean_charge"] == pytest.approx(s["mean_charge"], rel=1e-8)


def test_no_readable_file_is_an_error_naming_the_point(tmp_path):
    p = tmp_path / "x.trc"
    p.write_bytes(b"nothing")
    with pytest.raises(ValueError, match="PMT 3 at 900 V: none of the 1 files"):
        process_point([p], pmt=3, hv=900)


def test_integral_engine_agrees_with_fast_on_the_mean(tmp_path):
    pmt = DEMO_PMTS[2]
    write_point(tmp_path, pmt, 1200, 400, seed=2)
    files = sorted(tmp_path.glob("*.trc"))
    a = process_point(files, pmt=3, hv=1200, cut_V=pmt.cut_V(1200))
    b = process_point(files, pmt=3, hv=1200, cut_V=pmt.cut_V(1200), engine="integral")
    # the point's mean is the linear charge whatever the engine; the engines' own fitted
    # charges agree with it
    assert b.summary["mean_charge"] == a.summary["mean_charge"]
    assert b.summary["mean_charge_fit"] == pytest.approx(a.summary["mean_charge"], rel=0.005)
    assert a.summary["mean_charge_fit"] == pytest.approx(a.summary["mean_charge"], rel=0.003)
    assert isinstance(a.table, pd.DataFrame) and set(a.table.status) <= {s.label for s in Status}


def test_sequence_files_give_the_same_point_as_single_files(tmp_path):
    """A file of N segments is N flashes; n_files still counts files; the table names the
    file and the segment; the mean equals that of the same flashes in single files."""
    pmt = DEMO_PMTS[1]
    write_point(tmp_path / "single", pmt, 900, 600, seed=4)
    truth = write_point(tmp_path / "seq", pmt, 900, 600, seed=4, segments=100)
    a = process_point(sorted((tmp_path / "single").glob("*.trc")), pmt=2, hv=900)
    b = process_point(sorted((tmp_path / "seq").glob("*.trc")), pmt=2, hv=900)
    assert b.summary["n_files"] == 6 and b.summary["n_flashes"] == 600
    assert a.summary["n_files"] == 600 and a.summary["n_used"] == b.summary["n_used"] == 600
    assert b.summary["mean_charge"] == pytest.approx(a.summary["mean_charge"], rel=1e-4)
    assert b.summary["std_dev_charge"] == pytest.approx(a.summary["std_dev_charge"], rel=1e-4)
    assert b.table.segment.tolist()[:3] == [0, 1, 2]
    assert (b.table.file.to_numpy() == truth["file"]).all()
    np.testing.assert_allclose(b.table.trigger_time_s[:100] - 1709294400.0,
                               np.arange(100) * 1e-3, rtol=0, atol=5e-7)


def test_a_point_in_chunks_gives_the_numbers_of_one_chunk(tmp_path):
    """Flat memory: the same point in chunks of 700 flashes (the LED window and the noise
    scale from the first chunk) gives the numbers of one chunk."""
    pmt = DEMO_PMTS[1]
    write_point(tmp_path, pmt, 800, 3000, seed=4, segments=50)
    files = sorted(tmp_path.glob("*.trc"))
    a = process_point(files, pmt=2, hv=800, chunk=10**6)  # one chunk
    b = process_point(files, pmt=2, hv=800, chunk=700)
    for k in ("mean_charge", "std_dev_charge", "gain", "gain_err", "tau_ns", "n_used",
              "std_charge_corrected"):
        assert b.summary[k] == pytest.approx(a.summary[k], rel=1e-8), k
    np.testing.assert_allclose(b.table.charge_pC, a.table.charge_pC, rtol=1e-8)


def test_an_led_off_run_removes_the_pickup_in_the_window(tmp_path):
    """LED pickup at the pulse's onset (inside the window, where no baseline region can
    leave it out): without an LED-off run it is in the mean charge, with one it is
    measured (``led_pickup_pC``) and removed, and the pedestal is the LED-off run's."""
    from dataclasses import replace as _replace

    from pmtgain.sim.simspe import write_ledoff
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    p = _replace(DEMO_PMTS[0], pickup_V=2.5e-3, pickup_ns=21.0, pickup_width_ns=1.5)
    truth = write_point(tmp_path / "on", p, 800, 1500, seed=4)
    write_ledoff(tmp_path / "off", p, 800, 1500, seed=5, segments=1)
    on = sorted((tmp_path / "on").glob("*.trc"))
    off = sorted((tmp_path / "off").glob("*.trc"))
    qt = truth["q_true_pC"].mean()
    plain = process_point(on, pmt=1, hv=800).summary
    fixed = process_point(on, pmt=1, hv=800, pedestal_files=off).summary
    assert abs(plain["mean_charge"] - qt) > 5 * plain["mean_charge_err"]  # biased
    assert abs(fixed["mean_charge"] - qt) < 3 * fixed["mean_charge_err"]
    assert fixed["pedestal_source"].startswith("LED-off run (1500")
    assert fixed["led_pickup_pC"] == pytest.approx(plain["mean_charge"] - qt, abs=3 * np.hypot(
        plain["mean_charge_err"], fixed["led_pickup_err_pC"]))
    assert fixed["ps_ped_var_pC2"] == pytest.approx(plain["ps_ped_var_pC2"], rel=0.2)
    assert plain["pedestal_source"].startswith("records")


def test_a_short_led_off_run_is_named(tmp_path):
    from pmtgain.sim.simspe import write_ledoff
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    write_point(tmp_path / "on", DEMO_PMTS[0], 800, 300, seed=4)
    write_ledoff(tmp_path / "off", DEMO_PMTS[0], 800, 40, seed=5, segments=1)
    with pytest.raises(ValueError, match="LED-off run .* has 40 flashes"):
        process_point(sorted((tmp_path / "on").glob("*.trc")), pmt=1, hv=800,
                      pedestal_files=sorted((tmp_path / "off").glob("*.trc")))


def test_a_record_without_room_for_a_pedestal_flags_the_gain(tmp_path):
    """The pulse 3 ns into a 24 ns record: fewer than 8 pulse-free samples before it,
    none after its tail: no pedestal, and the gain says so (not 'no excess variance')."""
    from dataclasses import replace as _replace

    p = _replace(DEMO_PMTS[0], n_samples=60, dt_ns=0.4, record_onset_ns=3.0)
    write_point(tmp_path, p, 1000, 300, seed=1)
    s = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1000).summary
    assert s["gain_flag"].startswith("no pedestal: no baseline region of at least 8")
    assert "LED-off run" in s["gain_flag"] and not np.isfinite(s["ps_ped_var_pC2"])

"""The low-light simulator: its knobs do what they say, LED-off runs hold no light and
share their LED run's scope range, a campaign lists both."""

import numpy as np

from pmtgain.io.flashes import read_many
from pmtgain.io.trc import read_trc
from pmtgain.sim.simspe import (
    SPE_REGIMES,
    simulate_spe_runs,
    spe_pmt,
    with_spe_snr,
    write_ledoff,
    write_spe_run,
)
from pmtgain.sim.simulate import DEMO_PMTS


def test_spe_pmt_overrides_and_snr():
    p = spe_pmt(DEMO_PMTS[0], 1.5, dt_ns=2.0)
    assert p.mu_pe == 1.5 and p.dt_ns == 2.0 and p.n_samples == 700
    q = with_spe_snr(p, 1300, 14.0)
    assert abs(q.single_pe_peak_V(1300)) / q.noise_V == np.float64(14.0)


def test_ledoff_run_has_no_light_and_the_same_range(tmp_path):
    p = SPE_REGIMES["spe-pickup-ledoff"][0]
    t_on = write_spe_run(tmp_path / "on", p, 1300, 400, seed=1, segments=200)
    t_off = write_ledoff(tmp_path / "off", p, 1300, 400, seed=2, segments=200)
    assert t_on["n_pe"].sum() > 0 and t_off["n_pe"].sum() == 0
    on = read_trc(sorted((tmp_path / "on").glob("*.trc"))[0])
    off = read_trc(sorted((tmp_path / "off").glob("*.trc"))[0])
    assert on.header.vertical_gain == off.header.vertical_gain
    v = read_many(sorted((tmp_path / "off").glob("*.trc"))).volts
    m = v.mean(axis=0)
    # no pulse: the mean record is the baseline plus the pickup (its two lobes)
    k = np.arange(v.shape[1])
    away = np.abs(k * p.dt_ns - p.pickup_ns) > 6 * p.pickup_width_ns
    assert np.std(m[away]) < 1.5 * p.noise_V / np.sqrt(v.shape[0])  # noise, no pulse
    assert m[~away].max() - np.median(m) > 1.2 * p.pickup_V


def test_a_campaign_lists_led_off_runs(tmp_path):
    simulate_spe_runs(tmp_path, DEMO_PMTS[:2], hv=1300, n=300, segments=300, ledoff=True)
    for i in (1, 2):
        for kind in ("spe", "ledoff"):
            line = (tmp_path / f"data_info/{kind}_pmt_{i}.txt").read_text().splitlines()[1]
            url, pmt, hv, n = line.split()
            assert (int(pmt), int(hv), int(n)) == (i, 1300, 1) and url.endswith("/")
    assert "ledoff" in (tmp_path / "truth/spe_summary.csv").read_text().splitlines()[0]

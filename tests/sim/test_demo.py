"""demo.py: the campaign served on loopback and the comparison with the truth (the whole
demo runs in test_pipeline.py)."""

import urllib.request

from pmtgain.sim.demo import demo_n, serve_directory, write_data_info
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign


def test_served_campaign_and_its_data_info(tmp_path):
    camp = simulate_campaign(tmp_path / "campaign", DEMO_PMTS[:1], hv=[900], n=3,
                             base_url="http://placeholder/")
    base, server = serve_directory(camp)
    try:
        info = write_data_info(camp, base, tmp_path / "info")
        url = (info / "data_directories_pmt_1.txt").read_text().split()[0]
        assert url.startswith(base) and url.endswith("/900/Autosave/")
        body = urllib.request.urlopen(url + "C1--n16deg--00000.trc").read()
        assert body == (camp / "PMT_1_2/900/Autosave/C1--n16deg--00000.trc").read_bytes()
        assert "1 1.2" in (info / "enf.txt").read_text()
    finally:
        server.shutdown()
        server.server_close()


def test_more_files_where_the_pulse_is_small():
    p = DEMO_PMTS[1]
    assert demo_n(p, 700) > demo_n(p, 1000) > demo_n(p, 1400) or demo_n(p, 700) > 1000

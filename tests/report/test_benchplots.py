"""The plots of the measurements beyond gain, drawn from real results (not blank, the
panels each result asks for)."""

import numpy as np
import pandas as pd
from PIL import Image

from pmtgain.point.spe import process_spe
from pmtgain.report.benchplots import dark_rates, spe_spectrum
from pmtgain.sim.simspe import spe_pmt, with_spe_snr, write_spe_run
from pmtgain.sim.simulate import DEMO_PMTS


def _image(path):
    im = np.asarray(Image.open(path).convert("L"), float)
    return im.shape, im.std()


def test_a_low_light_run_s_page_has_its_spectrum_fit_and_arrival_times(tmp_path):
    p = with_spe_snr(spe_pmt(DEMO_PMTS[0], 1.5, jitter_ns=0.5), 1300, 10)
    write_spe_run(tmp_path / "run", p, 1300, 4000, seed=3)
    r = process_spe(sorted((tmp_path / "run").glob("*.trc")), pmt=1, hv=1300)
    spe_spectrum(r.summary, r.spectra, tmp_path / "spe.png")
    shape, spread = _image(tmp_path / "spe.png")
    assert shape == (340, 1240) and spread > 10  # three panels
    old = {k: v for k, v in r.spectra.items() if not k.startswith(("tts_", "fit_"))}
    spe_spectrum(r.summary, old, tmp_path / "old.png")  # a run saved before either
    assert _image(tmp_path / "old.png")[0] == (340, 880)


def test_dark_rates_in_photoelectrons_or_volts(tmp_path):
    c = pd.DataFrame(dict(pmt=1, hv=[900] * 3 + [1000] * 3,
                          threshold_V=[1e-3, 2e-3, 4e-3] * 2,
                          threshold_pe=[0.25, 0.5, 1.0] * 2,
                          rate_hz=[3e5, 2e5, 0.0, 4e5, 3e5, 1e3],
                          rate_err_hz=[1e4, 1e4, 1e3, 1e4, 1e4, 1e3]))
    dark_rates(c, tmp_path / "pe.png", 1)
    dark_rates(c.assign(threshold_pe=np.nan), tmp_path / "v.png", 1)
    for f in ("pe.png", "v.png"):
        shape, spread = _image(tmp_path / f)
        assert shape == (304, 512) and spread > 10

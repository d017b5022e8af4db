"""config.py: settings with their defaults in one place, and a point's identity."""

import pytest

from pmtgain.config import ANALYSIS_VERSION, DEFAULT_FIT, ENGINES, FitConfig, PointSpec


def test_fit_config_defaults_and_changes():
    assert DEFAULT_FIT.pre_pulse_sigma == 6.0 and DEFAULT_FIT.shape_max_rel_err == 0.05
    c = DEFAULT_FIT.replace(min_mean_pulse_snr=4.0)
    assert c.min_mean_pulse_snr == 4.0 and DEFAULT_FIT.min_mean_pulse_snr == 10.0
    # no time constant of one PMT family: the onset is bounded by the data
    assert DEFAULT_FIT.c_min_ns == float("-inf") and DEFAULT_FIT.tau_max_ns >= 100
    assert c.as_dict()["free_onset_snr"] == DEFAULT_FIT.free_onset_snr
    with pytest.raises(AttributeError):
        DEFAULT_FIT.pre_pulse_sigma = 3.0  # frozen: one default, never changed in place
    assert isinstance(FitConfig(), FitConfig)


def test_point_spec_names_its_files():
    p = PointSpec(pmt=2, hv=900, n_files=3, dir_url="x/")
    assert p.key == "pmt_2_900"
    assert p.file_names() == [f"C1--n16deg--{i:05d}.trc" for i in range(3)]
    assert set(ENGINES) == {"fast", "root", "integral"} and ANALYSIS_VERSION >= 3

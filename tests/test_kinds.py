"""kinds.py: the kinds of campaign lines, and what follows from each."""

from pmtgain.config import PointSpec
from pmtgain.kinds import AFTERPULSE, DARK, GAIN, KINDS, LEDOFF, RUNS, SPE, kind_of
from pmtgain.results.store import inputs_of, job_remaps


def test_each_line_has_its_kind_and_the_kind_names_its_files():
    pt = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/")
    run = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/", kind="spe")
    assert kind_of(pt) is GAIN and kind_of(run) is SPE and set(KINDS) == {
        "gain", "spe", "dark", "afterpulse", "ledoff"}
    assert RUNS == (SPE, DARK, AFTERPULSE) and DARK.key(1, 900) == "dark_1_900"
    assert AFTERPULSE.key(1, 900) == "ap_1_900" and not DARK.uses_engine
    assert GAIN.key(1, "$(hv)") == "pmt_1_$(hv)" and SPE.key(2, 1300) == "spe_2_1300"
    assert job_remaps(2, "$(hv)", kind=SPE) == (
        "pmt_summary.json = ../condor_lists/spe_2_$(hv)_summary.json; "
        "pmt_spectra.npz = ../condor_lists/spe_2_$(hv)_spectra.npz")
    assert LEDOFF.job_outputs == () and not LEDOFF.uses_engine


def test_the_engine_is_an_input_only_of_kinds_that_fit_pulses():
    pt = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/")
    run = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/", kind="spe")
    assert inputs_of(pt, "fast")["engine"] == "fast" and inputs_of(pt, "fast")["settings"]
    assert inputs_of(run, "fast")["engine"] is None and inputs_of(run, "fast")["settings"] is None


def test_a_dark_runs_trigger_is_one_of_its_inputs():
    from pmtgain.results.store import encode_inputs, stale_reason

    run = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/", kind="dark",
                    extra={"trigger": "random"})
    saved = dict(inputs=encode_inputs(inputs_of(run, None)))
    assert stale_reason(saved, run, None) is None
    other = PointSpec(pmt=1, hv=900, n_files=3, dir_url="x/", kind="dark",
                      extra={"trigger": "self"})
    assert stale_reason(saved, other, None) == \
        "its trigger changed in the campaign (random -> self)"

"""One point recorded in every format gives the numbers of the same flashes as .trc."""

import math

import numpy as np
import pytest
from conftest import root_available

from devtools.writers import write_all
from pmtgain.io.flashes import read_many
from pmtgain.io.readers import (
    DEFAULT_READ,
    FORMATS,
    ReadError,
    ReadSettings,
    describe,
    export_csv,
    incomplete,
    read_blocks,
    reader_for,
)
from pmtgain.point.process import process_point
from pmtgain.sim.simulate import demo_pmt, scope_range, simulate_point


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    """300 simulated flashes of demo PMT 2 at 1100 V, as int8 codes, in every format."""
    pmt, hv = demo_pmt(2), 1100
    volts, _ = simulate_point(pmt, hv, 300, seed=7)
    gain, offset = scope_range(pmt, hv)
    codes = np.rint((volts + offset) / gain).astype(np.int8)
    g32, o32 = float(np.float32(gain)), float(np.float32(offset))  # as a .trc stores them
    dt = float(np.float32(pmt.dt_ns * 1e-9))
    d = tmp_path_factory.mktemp("formats")
    files = write_all(d, codes, g32, o32, dt, pmt.t0_ns * 1e-9, root=root_available())
    return d, files, codes, g32, o32, dt


def _settings(fields):
    return ReadSettings.from_fields(fields)


def test_every_format_reads_the_same_volts_and_sampling(formats):
    d, files, codes, g, o, dt = formats
    want = g * codes.astype(float) - o
    for name, (f, fields) in files.items():
        t = read_many([d / f], _settings(fields))
        assert t.errors == [], name
        assert t.volts.shape == codes.shape, name
        np.testing.assert_allclose(t.volts, want, rtol=0, atol=1e-12, err_msg=name)
        assert math.isclose(t.dt_s, dt, rel_tol=1e-12), name


def test_trigger_times_arrive_from_every_format_that_records_them(formats):
    d, files, codes, *_ = formats
    want = 1e-3 * np.arange(len(codes))
    for name in ("trc", "root", "wavedump", "wavedump_ascii", "wfm"):
        if name not in files:
            continue
        f, fields = files[name]
        t = read_many([d / f], _settings(fields))
        # a .trc adds its file's TRIGGER_TIME (s since 1970: a float64 keeps 0.3 us there)
        start = 1709294400.0 if name == "trc" else 0.0
        np.testing.assert_allclose(t.trigger_time_s - start, want,
                                   atol=5e-7 if start else 8e-9, err_msg=name)


@pytest.mark.slow
def test_a_point_in_each_format_gives_the_numbers_of_the_trc_to_1e9(formats):
    """The whole point pipeline on each format: every number of the summary within 1e-9
    (relative) of the .trc's, every flash's charge too."""
    d, files, *_ = formats
    ref = process_point([d / "run.trc"], pmt=2, hv=1100)
    # the .trc adds its file's TRIGGER_TIME to the flashes' times: float64 holds that
    # epoch to 0.2 us, so what comes of the times (the drift test) agrees to 1e-6
    skip = {"n_files"}
    timed = ("stability_", "drift_")
    for name, (f, fields) in files.items():
        if name == "trc":
            continue
        res = process_point([d / f], pmt=2, hv=1100, read=_settings(fields))
        for k, v in ref.summary.items():
            w = res.summary[k]
            if k in skip or not isinstance(v, float):
                continue
            if k.startswith(timed) and res.summary["stability_time_source"] != \
                    ref.summary["stability_time_source"]:
                continue  # a format without trigger times: the test in the flashes' order
            if math.isnan(v):
                assert math.isnan(w), (name, k)
            else:
                tol = 1e-6 if k.startswith(timed) else 1e-9
                assert math.isclose(w, v, rel_tol=tol, abs_tol=1e-15), (name, k, v, w)
        np.testing.assert_allclose(res.table["charge_pC"], ref.table["charge_pC"],
                                   rtol=1e-9, atol=1e-15, err_msg=name)
        assert list(res.table["status"]) == list(ref.table["status"]), name


def test_the_format_is_found_by_magic_bytes_before_the_extension(formats, tmp_path):
    d, files, *_ = formats
    for name, (f, _fields) in files.items():
        head = (d / f).read_bytes()[:64]
        fmt = name.split("_uproot")[0]
        assert reader_for("x.bin" if fmt != "wavedump" else "x.dat", head).name == \
            fmt, name
    with pytest.raises(ReadError, match="format="):
        reader_for("x.bin", b"\x00" * 64)


def test_a_format_named_in_the_campaign_needs_its_settings():
    with pytest.raises(ValueError, match="dt_ns and volts_per_code"):
        ReadSettings.from_fields({"format": "wavedump"})
    with pytest.raises(ValueError, match="unknown field"):
        ReadSettings.from_fields({"dtns": "2"})
    with pytest.raises(ValueError, match="not a float"):
        ReadSettings.from_fields({"dt_ns": "fast"})
    with pytest.raises(ValueError, match="known formats"):
        ReadSettings.from_fields({"format": "tek"})
    assert ReadSettings.from_fields({"dt_ns": "2"}).as_fields() == {"dt_ns": "2.0"}
    assert set(FORMATS) == {"trc", "root", "wavedump", "wavedump_ascii", "isf", "wfm", "hdf5",
                            "npy"}


def test_codes_without_a_scale_are_refused_with_the_reason(formats):
    d, files, *_ = formats
    t = read_many([d / "run.npy"], _settings({"dt_ns": "0.2"}))
    assert t.volts.shape[0] == 0
    assert "volts_per_code" in t.errors[0][1]
    t = read_many([d / "run.npy"], _settings({"volts_per_code": "0.001"}))
    assert "dt_ns" in t.errors[0][1]


def test_a_bad_file_among_good_ones_is_named_and_the_rest_kept(formats, tmp_path):
    d, files, codes, *_ = formats
    f, fields = files["npy"]
    bad = tmp_path / "bad.npy"
    bad.write_bytes((d / f).read_bytes()[:100])
    t = read_many([d / f, bad, d / f], _settings(fields))
    assert t.volts.shape[0] == 2 * len(codes)
    assert [p for p, _ in t.errors] == [str(bad)]


def test_inspect_and_export_work_on_every_format(formats, tmp_path):
    d, files, codes, g, o, dt = formats
    for name, (f, fields) in files.items():
        info = describe(d / f, _settings(fields))
        assert info["format"] == name.split("_uproot")[0]
        assert info["segments"] == len(codes) and info["points_per_segment"] == codes.shape[1]
        out = tmp_path / f"{name}.csv"
        assert export_csv(d / f, out, _settings(fields)) == codes.size
        row = out.read_text().splitlines()[1].split(",")
        assert int(row[0]) == 0 and math.isclose(float(row[2]), g * codes[0, 0] - o,
                                                 abs_tol=1e-12)


def test_a_download_is_complete_only_when_its_format_reads_it(formats):
    d, files, *_ = formats
    for name, (f, fields) in files.items():
        buf = (d / f).read_bytes()
        assert incomplete(buf, f, _settings(fields)) is None, name
    f, fields = files["isf"]
    assert "truncated" in incomplete((d / f).read_bytes()[:500], f, _settings(fields))
    assert read_blocks(d / "run.trc", DEFAULT_READ).codes.dtype == np.int8


def test_a_file_sampled_unlike_the_point_is_named_and_the_rest_kept(tmp_path, rng):
    from devtools.writers import write_isf

    for i, dt in enumerate((4e-10, 4e-10, 8e-10, 4e-10)):
        write_isf(tmp_path / f"tek{i}.isf", rng.integers(-50, 50, 500), 1e-3, 0.0, 0.0, dt,
                  0.0)
    t = read_many(sorted(tmp_path.glob("*.isf")))
    assert t.volts.shape[0] == 3 and t.dt_s == 4e-10
    assert [(p.rsplit("/", 1)[1], r) for p, r in t.errors] == [
        ("tek2.isf", "sample spacing 8e-10 s, most files of this point have 4e-10 s")]

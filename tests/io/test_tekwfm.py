"""Tektronix .wfm version 3: one record, FastFrame frames, and what is refused."""

import numpy as np
import pytest

from devtools.writers import write_wfm
from pmtgain.errors import TrcError
from pmtgain.io.readers import DEFAULT_READ
from pmtgain.io.tekwfm import WFM


def _parse(path):
    return WFM.parse(0, path.read_bytes(), str(path), DEFAULT_READ)


@pytest.mark.parametrize("fmt,dtype", [(7, np.int8), (0, np.int16)])
def test_a_record_without_its_pre_and_post_charge(tmp_path, rng, fmt, dtype):
    codes = rng.integers(-100, 100, 800).astype(dtype)
    f = tmp_path / "ch1.wfm"
    write_wfm(f, codes, 2e-3, 0.01, 2e-10, -5e-8, fmt=fmt)
    assert WFM.sniff(f.read_bytes()[:64])
    b = _parse(f)
    np.testing.assert_array_equal(b.codes[0], codes)
    volts = b.codes * b.gain[:, None] - b.voff[:, None]
    np.testing.assert_allclose(volts[0], codes * 2e-3 + 0.01, atol=1e-15)
    assert b.dt[0] == 2e-10 and b.offsets[0] == -5e-8 and b.floor[0] == np.iinfo(dtype).min


def test_fastframe_frames_are_segments_with_their_trigger_times(tmp_path, rng):
    codes = rng.integers(-100, 100, (9, 300)).astype(np.int8)
    f = tmp_path / "ff.wfm"
    write_wfm(f, codes, 1e-3, 0.0, 1e-9, 0.0, times=0.25 * np.arange(9))
    b = _parse(f)
    np.testing.assert_array_equal(b.codes, codes)
    np.testing.assert_allclose(b.times, 0.25 * np.arange(9), atol=1e-12)
    assert b.segment.tolist() == list(range(9))


def test_float_curves_are_volts(tmp_path, rng):
    v = rng.normal(0, 0.01, 200).astype(np.float32)
    f = tmp_path / "f.wfm"
    write_wfm(f, v, 1.0, 0.0, 1e-9, 0.0, fmt=4)
    b = _parse(f)
    np.testing.assert_allclose(b.codes[0], v)
    assert b.floor[0] == -np.inf


def test_bad_files_say_what_is_wrong(tmp_path, rng):
    f = tmp_path / "x.wfm"
    write_wfm(f, rng.integers(-9, 9, (3, 500)).astype(np.int8), 1e-3, 0.0, 1e-9, 0.0)
    good = f.read_bytes()
    f.write_bytes(good[:-100])
    with pytest.raises(TrcError, match="truncated"):
        _parse(f)
    f.write_bytes(good.replace(b":WFM#003", b":WFM#002"))
    with pytest.raises(TrcError, match="only :WFM#003"):
        _parse(f)
    f.write_bytes(b"\x0f\x0f" + bytes(100))
    with pytest.raises(TrcError, match="shorter than the 838-byte header"):
        _parse(f)
    bad = bytearray(good)
    bad[240:244] = (3).to_bytes(4, "little")
    f.write_bytes(bytes(bad))
    with pytest.raises(TrcError, match="format code 3"):
        _parse(f)
    bad = bytearray(good)
    bad[0:2] = b"\xf0\xf0"
    f.write_bytes(bytes(bad))
    with pytest.raises(TrcError, match="big-endian"):
        _parse(f)

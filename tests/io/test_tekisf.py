"""Tektronix .isf: the preamble in long and short forms, both byte orders, FastFrame."""

import numpy as np
import pytest

from devtools.writers import write_isf
from pmtgain.errors import TrcError
from pmtgain.io.readers import DEFAULT_READ
from pmtgain.io.tekisf import ISF, parse_preamble


def _parse(path):
    return ISF.parse(0, path.read_bytes(), str(path), DEFAULT_READ)


@pytest.mark.parametrize("msb,short,width", [(True, False, 1), (False, True, 2),
                                             (True, True, 2)])
def test_a_record_reads_in_volts_on_its_time_axis(tmp_path, rng, msb, short, width):
    codes = rng.integers(-100, 100, 1000)
    f = tmp_path / "tek0001.isf"
    write_isf(f, codes, 4e-3, 12.0, 0.05, 4e-10, -2e-7, msb=msb, short=short, width=width)
    assert ISF.sniff(f.read_bytes()[:64])
    b = _parse(f)
    volts = b.codes * b.gain[:, None] - b.voff[:, None]
    np.testing.assert_allclose(volts[0], (codes - 12.0) * 4e-3 + 0.05, atol=1e-15)
    assert b.dt[0] == 4e-10 and b.offsets[0] == -2e-7 and len(b) == 1


def test_fastframe_frames_are_segments(tmp_path, rng):
    codes = rng.integers(-100, 100, (7, 300))
    f = tmp_path / "ff.isf"
    write_isf(f, codes, 1e-3, 0.0, 0.0, 1e-9, 0.0, frames=7)
    b = _parse(f)
    np.testing.assert_array_equal(b.codes, codes)
    assert b.segment.tolist() == list(range(7))


def test_the_preamble_keys_have_one_name_each():
    h = parse_preamble(':WFMPRE:BYT_NR 2;BIT_N 16;YMU 1.0E-3;XINCR 4.0E-10;WFID "a;b"')
    assert h["BYT_NR"] == "2" and h["BIT_NR"] == "16" and h["YMULT"] == "1.0E-3"


def test_bad_files_say_what_is_wrong(tmp_path, rng):
    f = tmp_path / "x.isf"
    write_isf(f, rng.integers(-9, 9, 500), 1e-3, 0.0, 0.0, 1e-9, 0.0)
    good = f.read_bytes()
    f.write_bytes(good[:-200])
    with pytest.raises(TrcError, match="truncated"):
        _parse(f)
    f.write_bytes(good.replace(b"XINCR 1e-09", b"XINCR -1e-09"))
    with pytest.raises(TrcError, match="XINCR"):
        _parse(f)
    f.write_bytes(good.replace(b"NR_PT 500", b"NR_PT 499"))
    with pytest.raises(TrcError, match="NR_PT is 499"):
        _parse(f)
    f.write_bytes(good.replace(b"YMULT", b"YMUL_"))
    with pytest.raises(TrcError, match="no YMULT"):
        _parse(f)
    f.write_bytes(b":WFMPRE:BYT_NR 1" + bytes(100))
    with pytest.raises(TrcError, match="no :CURVE"):
        _parse(f)

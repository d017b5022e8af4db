"""CAEN WaveDump binary and ASCII files: real bytes as UM2091 describes them."""

import numpy as np
import pytest

from devtools.writers import write_wavedump, write_wavedump_ascii
from pmtgain.errors import TrcError
from pmtgain.io.readers import ReadSettings
from pmtgain.io.wavedump import ASCII, BINARY

S = ReadSettings(dt_ns=2.0, volts_per_code=2.0 / 16384)


@pytest.fixture
def codes(rng):
    c = rng.integers(15400, 15600, (40, 250)).astype(np.uint16)
    c[3, 100:110] = 0  # a saturated pulse
    return c


def _parse(fmt, path, s=S):
    return fmt.parse(0, path.read_bytes(), str(path), s)


def test_binary_with_headers_gives_codes_times_and_clipping(tmp_path, codes):
    f = tmp_path / "wave0.dat"
    ttt = np.arange(40) * 125_000  # 1 ms apart in 8 ns ticks
    write_wavedump(f, codes, ttt)
    b = _parse(BINARY, f)
    np.testing.assert_array_equal(b.codes, codes)
    np.testing.assert_allclose(b.times, ttt * 8e-9)
    assert b.dt[0] == 2e-9 and b.gain[0] == 2.0 / 16384
    assert (b.codes.min(axis=1) <= b.floor).tolist() == [i == 3 for i in range(40)]


def test_trigger_time_tag_roll_overs_are_unwrapped(tmp_path, codes):
    f = tmp_path / "wave0.dat"
    ticks = np.arange(40, dtype=np.int64) * 100_000_000  # 0.8 s apart: wraps at 2**31
    write_wavedump(f, codes, ticks % (1 << 31))
    np.testing.assert_allclose(_parse(BINARY, f).times, ticks * 8e-9)


def test_binary_without_headers_needs_the_record_length(tmp_path, codes):
    f = tmp_path / "wave0.dat"
    write_wavedump(f, codes, np.zeros(40), header=False)
    with pytest.raises(TrcError, match="record_length"):
        _parse(BINARY, f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, header=False))
    b = _parse(BINARY, f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, header=False,
                                       record_length=250))
    np.testing.assert_array_equal(b.codes, codes)


def test_a_last_event_cut_short_is_dropped_and_the_rest_read(tmp_path, codes):
    f = tmp_path / "wave0.dat"
    write_wavedump(f, codes, np.zeros(40))
    f.write_bytes(f.read_bytes()[:-100])
    assert len(_parse(BINARY, f)) == 39


def test_bad_binary_files_say_what_is_wrong(tmp_path, codes):
    f = tmp_path / "wave0.dat"
    write_wavedump(f, codes, np.zeros(40))
    buf = bytearray(f.read_bytes())
    buf[524 * 5:524 * 5 + 4] = (600).to_bytes(4, "little")  # event 5 of another length
    f.write_bytes(bytes(buf))
    with pytest.raises(TrcError, match="event 5 is 600 bytes"):
        _parse(BINARY, f)
    f.write_bytes(b"\x07" * 10)
    with pytest.raises(TrcError, match="shorter than one event header"):
        _parse(BINARY, f)
    f.write_bytes((10).to_bytes(4, "little") + bytes(40))
    with pytest.raises(TrcError, match="not a WaveDump event"):
        _parse(BINARY, f)
    with pytest.raises(TrcError, match="dt_ns"):
        write_wavedump(f, codes, np.zeros(40))
        _parse(BINARY, f, ReadSettings(volts_per_code=1e-4))


def test_ascii_with_headers(tmp_path, codes):
    f = tmp_path / "wave0.txt"
    write_wavedump_ascii(f, codes, np.arange(40) * 125_000)
    assert ASCII.sniff(f.read_bytes()[:64])
    b = _parse(ASCII, f)
    np.testing.assert_array_equal(b.codes, codes)
    np.testing.assert_allclose(b.times, np.arange(40) * 1e-3)


def test_ascii_without_headers_and_bad_lines(tmp_path, codes):
    f = tmp_path / "wave0.txt"
    f.write_text("\n".join(map(str, codes.ravel().tolist())) + "\n")
    with pytest.raises(TrcError, match="record_length"):
        _parse(ASCII, f)
    s = ReadSettings(dt_ns=2.0, volts_per_code=1e-4, record_length=250)
    np.testing.assert_array_equal(_parse(ASCII, f, s).codes, codes)
    f.write_text("Record Length: 4\n1\n2\n-3\n4\n")
    with pytest.raises(TrcError, match="negative"):
        _parse(ASCII, f)
    f.write_text("Record Length: 4\n1\n2\n3.5\n4\n")
    with pytest.raises(TrcError, match="neither a header nor a sample"):
        _parse(ASCII, f)


def test_a_sample_line_with_a_space_is_refused_not_skipped(tmp_path):
    f = tmp_path / "wave0.txt"
    f.write_text("Record Length: 2\n100\n 300\nRecord Length: 2\n5\n6\n")
    with pytest.raises(TrcError, match="neither a digit nor a letter"):
        _parse(ASCII, f)


def test_a_download_cut_short_is_not_complete(tmp_path, codes):
    from pmtgain.io.readers import incomplete

    f = tmp_path / "wave0.dat"
    write_wavedump(f, codes, np.zeros(40))
    s = ReadSettings(dt_ns=2.0, volts_per_code=1e-4, format="wavedump")
    assert incomplete(f.read_bytes(), "wave0.dat", s) is None
    assert "cut short" in incomplete(f.read_bytes()[:-100], "wave0.dat", s)

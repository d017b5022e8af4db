import struct

import numpy as np
import pytest

from pmtgain.errors import TrcError
from pmtgain.io.flashes import read_many
from pmtgain.io.trc import read_header, read_trc
from pmtgain.io.trcwrite import write_trc

DT = 1e-10


def _wave(rng, n=502):
    t = np.arange(n)
    return 0.02 * np.exp(-0.5 * ((t - 250) / 8.0) ** 2) * -1 + 1e-3 * rng.standard_normal(n)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("little", [True, False])
def test_roundtrip_volts_and_exact_time_axis(tmp_path, rng, bits, little):
    v = _wave(rng)
    gain = 2.5e-4 if bits == 8 else 1e-6
    path = tmp_path / "a.trc"
    write_trc(path, v, dt_s=DT, t0_s=-2.5e-8, bits=bits, little_endian=little,
              vertical_gain=gain, vertical_offset=0.004)
    tr = read_trc(path)
    h = tr.header
    assert (h.bits, h.little_endian, h.segments, h.points_per_segment) == (bits, little, 1, 502)
    expected = gain * np.clip(np.rint((v + 0.004) / gain), -(2 ** (bits - 1)),
                              2 ** (bits - 1) - 1) - 0.004
    np.testing.assert_allclose(tr.volts[0], expected, rtol=0, atol=gain * 1e-3)
    # t_i = HORIZ_OFFSET + i * dt exactly (float32 dt as stored)
    dt32 = float(np.float32(DT))
    np.testing.assert_allclose(tr.time[0], -2.5e-8 + np.arange(502) * dt32, rtol=0, atol=1e-22)


def test_user_text_trigtime_and_ris_are_skipped(tmp_path, rng):
    v = _wave(rng, 200)
    path = tmp_path / "b.trc"
    write_trc(path, v, dt_s=DT, t0_s=1e-9, bits=16, vertical_gain=1e-6,
              user_text=b"operator notes " * 7, ris_offsets=np.array([1e-12, 2e-12, 3e-12]),
              trigger_times=np.array([0.5]), trigger_offsets=np.array([1e-9]))
    tr = read_trc(path)
    assert tr.user_text == b"operator notes " * 7
    np.testing.assert_array_equal(tr.ris_offsets, [1e-12, 2e-12, 3e-12])
    np.testing.assert_allclose(tr.volts[0], np.rint(v / 1e-6) * 1e-6, atol=1e-9)
    # the batch reader agrees, byte offsets included
    many = read_many([path])
    np.testing.assert_array_equal(many.volts[0], tr.volts[0])
    assert many.t0_s[0] == pytest.approx(1e-9)


def test_sequence_mode_segments_times_and_offsets(tmp_path, rng):
    v = np.stack([_wave(rng, 100) for _ in range(3)])
    tt = np.array([0.0, 1e-3, 2.5e-3])
    to = np.array([-5e-9, -5.01e-9, -4.99e-9])
    for little in (True, False):
        path = tmp_path / f"seq{little}.trc"
        write_trc(path, v, dt_s=DT, bits=8, little_endian=little, vertical_gain=2.5e-4,
                  trigger_times=tt, trigger_offsets=to)
        tr = read_trc(path)
        assert tr.volts.shape == (3, 100)
        assert tr.header.segments == 3
        np.testing.assert_array_equal(tr.trigger_times, tt)
        np.testing.assert_array_equal(tr.trigger_offsets, to)
        dt32 = float(np.float32(DT))
        np.testing.assert_allclose(tr.time[2], to[2] + np.arange(100) * dt32, atol=1e-22)
        np.testing.assert_allclose(tr.volts, np.rint(v / 2.5e-4) * 2.5e-4, atol=1e-7)
    # the batch reader: one flash per segment, with its trigger time and offset
    many = read_many([path])
    assert many.volts.shape == (3, 100) and not many.errors
    np.testing.assert_array_equal(many.t0_s, to)
    # the fast reader adds the file's TRIGGER_TIME (the writer's default date)
    np.testing.assert_allclose(many.trigger_time_s - 1709294400.0, tt, rtol=0, atol=5e-7)


def test_cross_check_against_lecroyparser_and_pin_its_time_axis(tmp_path, rng):
    lecroyparser = pytest.importorskip("lecroyparser")
    for bits in (8, 16):
        v = _wave(rng)
        path = tmp_path / f"c{bits}.trc"
        write_trc(path, v, dt_s=DT, t0_s=2.75e-8, bits=bits)
        ours = read_trc(path)
        theirs = lecroyparser.ScopeData(str(path))
        # lecroyparser computes in float32; the same volts to float32 precision
        np.testing.assert_allclose(theirs.y, ours.volts[0], rtol=1e-6, atol=1e-9)
        # lecroyparser spaces its samples by dt*N/(N-1): 0.2 % too wide at 502 points
        spacing = np.diff(np.asarray(theirs.x))
        dt32 = float(np.float32(DT))
        assert spacing.mean() == pytest.approx(dt32 * 502 / 501, rel=1e-6)
        assert np.diff(ours.time[0]).mean() == pytest.approx(dt32, rel=1e-9)


def _good(tmp_path, rng, name="g.trc"):
    p = tmp_path / name
    write_trc(p, _wave(rng), dt_s=DT, bits=8)
    return p


def _raises(path, fragment):
    with pytest.raises(TrcError) as err:
        read_trc(path)
    msg = str(err.value)
    assert msg.startswith(str(path)) and fragment in msg, msg
    assert "\n" not in msg


def test_malformed_files_raise_one_error_type_naming_file_and_reason(tmp_path, rng):
    good = _good(tmp_path, rng).read_bytes()
    cases = {
        "empty.trc": (b"", "empty file"),
        "nodesc.trc": (b"#9000000010" + b"x" * 500, "no WAVEDESC"),
        "shorthead.trc": (good[:200], "truncated header"),
        "shortdata.trc": (good[:-50], "truncated"),
        "template.trc": (good.replace(b"LECROY_2_3", b"LECROY_1_0"), "template"),
    }
    # WAVE_ARRAY_1 that disagrees with WAVE_ARRAY_COUNT
    bad = bytearray(good)
    struct.pack_into("<i", bad, 11 + 60, 9999)
    cases["sizes.trc"] = (bytes(bad), "WAVE_ARRAY_1")
    for name, (data, fragment) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        _raises(p, fragment)
    _raises(tmp_path / "missing.trc", "no such file")
    _raises(tmp_path, "is a directory")


def test_clipping_is_flagged_only_at_the_lowest_code(tmp_path):
    v = np.zeros(100)
    v[50] = -1.0  # far below the range
    p = tmp_path / "clip.trc"
    write_trc(p, v, dt_s=DT, bits=8, vertical_gain=1e-3)
    q = tmp_path / "top.trc"
    v2 = np.zeros(100)
    v2[50] = +1.0
    write_trc(q, v2, dt_s=DT, bits=8, vertical_gain=1e-3)
    many = read_many([p, q])
    assert many.clipped.tolist() == [True, False]
    assert read_header(p).bits == 8

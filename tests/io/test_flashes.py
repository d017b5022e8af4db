"""flashes.py: a point's files as flashes, one odd file never spoiling the rest, sequence
files, and chunks that give back every flash in order."""

import struct
from pathlib import Path

import numpy as np
import pytest

from pmtgain.errors import TrcError
from pmtgain.io.flashes import ChunkReader, read_many
from pmtgain.io.trc import read_trc
from pmtgain.io.trcwrite import write_trc
from pmtgain.sim.simulate import DEMO_PMTS, write_point

DT = 1e-10


def _wave(rng, n=502):
    t = np.arange(n)
    return 0.02 * np.exp(-0.5 * ((t - 250) / 8.0) ** 2) * -1 + 1e-3 * rng.standard_normal(n)


def _good(tmp_path, rng, name):
    p = tmp_path / name
    write_trc(p, _wave(rng), dt_s=DT, bits=8, vertical_gain=2.5e-4)
    return p


def test_read_many_reports_bad_files_and_keeps_the_rest(tmp_path, rng):
    paths = [_good(tmp_path, rng, f"f{i}.trc") for i in range(5)]
    paths[2].write_bytes(paths[2].read_bytes()[:400])
    short = tmp_path / "short.trc"
    write_trc(short, _wave(rng, 300), dt_s=DT)
    many = read_many(paths + [short])
    assert many.volts.shape == (4, 502)
    assert [Path(p).name for p, _ in many.errors] == ["f2.trc", "short.trc"]
    assert "truncated" in many.errors[0][1] and "300 samples" in many.errors[1][1]
    np.testing.assert_array_equal(many.ok_index, [0, 1, 3, 4])
    for i, k in enumerate(many.ok_index):
        np.testing.assert_array_equal(many.volts[i], read_trc(paths[k]).volts[0])


def _patch_f32(path, offset_in_wavedesc, value):
    """Overwrite a float32 of a written file's WAVEDESC (little endian, with the prefix)."""
    b = bytearray(Path(path).read_bytes())
    struct.pack_into("<f", b, 11 + offset_in_wavedesc, value)
    Path(path).write_bytes(bytes(b))


def _point(tmp_path, rng, n=20):
    files = []
    for i in range(n):
        p = tmp_path / f"C1--n16deg--{i:05d}.trc"
        write_trc(p, _wave(rng), dt_s=DT, bits=8, vertical_gain=2.5e-4)
        files.append(p)
    return files


def test_one_odd_first_file_is_named_and_never_spoils_the_others(tmp_path, rng):
    """The point's sampling is the one most flashes share, not the first file's."""
    files = _point(tmp_path, rng)
    write_trc(files[0], _wave(rng, 300), dt_s=DT, bits=8, vertical_gain=2.5e-4)
    m = read_many(files)
    assert m.volts.shape == (19, 502) and m.n_files == 19
    assert m.errors == [(str(files[0]), "300 samples per segment, most files of this point "
                                        "have 502")]


@pytest.mark.parametrize("value, what", [(0.0, "HORIZ_INTERVAL is 0.0"),
                                         (float("nan"), "HORIZ_INTERVAL is nan")])
def test_a_bad_sample_spacing_in_file_0_is_named(tmp_path, rng, value, what):
    files = _point(tmp_path, rng)
    _patch_f32(files[0], 176, value)
    m = read_many(files)
    assert m.volts.shape == (19, 502)
    assert m.errors[0][0] == str(files[0]) and m.errors[0][1].startswith(what)


def test_a_nan_vertical_gain_is_named_not_counted(tmp_path, rng):
    files = _point(tmp_path, rng)
    _patch_f32(files[3], 156, float("nan"))
    m = read_many(files)
    assert np.isfinite(m.volts).all() and m.volts.shape[0] == 19
    assert m.errors[0][0] == str(files[3])
    assert m.errors[0][1].startswith("VERTICAL_GAIN is nan, not a positive volts per ADC step")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "pipe.trc"
    os.mkfifo(fifo)
    with pytest.raises(TrcError, match="not a regular file"):
        read_trc(fifo)
    assert read_many([fifo]).errors == [(str(fifo), "is not a regular file")]


def test_sequence_files_are_many_flashes_and_mix_with_single_ones(tmp_path, rng):
    v = np.array([_wave(rng) for _ in range(7)])
    write_trc(tmp_path / "seq.trc", v[:5], dt_s=DT, bits=8, vertical_gain=2.5e-4,
              trigger_times=np.arange(5) * 1e-3, trigger_offsets=np.full(5, -2e-8))
    write_trc(tmp_path / "one.trc", v[5], dt_s=DT, t0_s=-2e-8, bits=8, vertical_gain=2.5e-4)
    write_trc(tmp_path / "two.trc", v[6], dt_s=DT, t0_s=-2e-8, bits=8, vertical_gain=2.5e-4)
    m = read_many([tmp_path / "seq.trc", tmp_path / "one.trc", tmp_path / "two.trc"])
    assert m.volts.shape == (7, 502) and m.n_files == 3 and not m.errors
    assert m.segment.tolist() == [0, 1, 2, 3, 4, 0, 0]
    assert m.ok_index.tolist() == [0, 0, 0, 0, 0, 1, 2]
    # the file's TRIGGER_TIME (the writer's default, 2024-03-01 12:00:00) plus the segment's
    start = 1709294400.0
    np.testing.assert_allclose(m.trigger_time_s, start + np.r_[np.arange(5) * 1e-3, 0, 0],
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(m.t0_s, -2e-8)
    np.testing.assert_allclose(m.volts, 2.5e-4 * np.clip(np.rint(v / 2.5e-4), -128, 127))


def test_chunks_give_every_flash_in_order_cached_or_not(tmp_path):
    write_point(tmp_path / "a", DEMO_PMTS[0], 1000, 250, seed=1, segments=100)
    write_point(tmp_path / "b", DEMO_PMTS[0], 1000, 30, seed=2)
    files = sorted(tmp_path.glob("*/*.trc"))
    m = read_many(files)
    for cache in (1 << 30, 0):
        r = ChunkReader(files, chunk=64, cache_bytes=cache)
        for _ in range(2):  # a second pass: from the cache, or read again
            parts = list(r)
            assert max(p.volts.shape[0] for p in parts) < 2 * 64
            np.testing.assert_array_equal(np.concatenate([p.volts for p in parts]), m.volts)
            np.testing.assert_array_equal(np.concatenate([p.segment for p in parts]),
                                          m.segment)
        assert r.n_flashes == 280 and r.n_files == 33
        assert (r._cache is not None) == (cache > 0)


def test_batches_read_every_kind_of_file_as_the_one_file_reader_does(tmp_path, rng):
    """Standard files are parsed a batch at a time; anything else (16-bit, big endian, a
    user text, no prefix, sequence mode) alone. Every flash must equal ``read_trc``'s, in
    file order, and a bad file in the middle of a batch is named without losing the rest."""
    kinds = [dict(), dict(bits=16), dict(little_endian=False), dict(user_text=b"note" * 9),
             dict(prefix=False), dict(), dict(bits=16, little_endian=False), dict()]
    files = []
    for i, kw in enumerate(kinds * 3):
        p = tmp_path / f"f{i:03d}.trc"
        write_trc(p, _wave(rng), dt_s=DT, t0_s=-2e-8 + 1e-12 * i, vertical_offset=1e-3 * i,
                  **kw)
        files.append(p)
    write_trc(tmp_path / "seq.trc", np.array([_wave(rng) for _ in range(4)]), dt_s=DT,
              trigger_times=np.arange(4) * 1e-3, trigger_offsets=np.full(4, -2e-8))
    files.insert(5, tmp_path / "seq.trc")
    files[9].write_bytes(files[9].read_bytes()[:-7])  # truncated
    _patch_f32(files[12], 156, float("nan"))  # VERTICAL_GAIN
    for chunk in (1 << 30, 5):
        parts = list(ChunkReader(files, chunk=chunk, cache_bytes=0))
        errors = parts[0].errors
        assert [Path(p).name for p, _ in errors] == [files[9].name, files[12].name]
        assert "truncated" in errors[0][1] and "VERTICAL_GAIN" in errors[1][1]
        volts = np.concatenate([m.volts for m in parts])
        idx = np.concatenate([m.ok_index for m in parts])
        seg = np.concatenate([m.segment for m in parts])
        t0 = np.concatenate([m.t0_s for m in parts])
        good = [k for k in range(len(files)) if k not in (9, 12)]
        assert idx.tolist() == [k for k in good for _ in range(4 if k == 5 else 1)]
        assert seg.tolist()[5:9] == [0, 1, 2, 3]
        expect = np.concatenate([read_trc(files[k]).volts for k in good])
        np.testing.assert_array_equal(volts, expect)
        np.testing.assert_array_equal(
            t0, np.concatenate([read_trc(files[k]).trigger_offsets for k in good]))


def test_each_file_s_trigger_time_is_its_flash_s_time(tmp_path, rng):
    import datetime as dt

    from pmtgain.io.trcread import file_times

    when = [dt.datetime(2025, 12, 31, 23, 59, 59, 250000), dt.datetime(2026, 1, 1, 0, 0, 1)]
    for i, w in enumerate(when):  # the fast batch path and the one-by-one path (sequence)
        write_trc(tmp_path / f"{i}.trc", _wave(rng), dt_s=DT, bits=8, vertical_gain=2.5e-4,
                  trigger_time=w)
    write_trc(tmp_path / "2.trc", np.array([_wave(rng)] * 2), dt_s=DT, bits=8,
              vertical_gain=2.5e-4, trigger_time=when[1], trigger_times=[0.0, 0.5])
    m = read_many(sorted(tmp_path.glob("*.trc")))
    epoch = [w.replace(tzinfo=dt.timezone.utc).timestamp() for w in when]
    np.testing.assert_allclose(m.trigger_time_s, [epoch[0], epoch[1], epoch[1],
                                                  epoch[1] + 0.5], rtol=0, atol=1e-6)
    # a date no clock gives (a writer that leaves it blank): 0, the times within the file
    assert file_times(0.0, 0, 0, 0, 0, 0) == 0.0
    assert file_times(1.0, 2, 3, 29, 2, 2024) == 1709175721.0


def test_segment_times_keep_their_precision_beside_the_files_clock(tmp_path):
    """A sequence file stamped in 2026 whose segments are 4.0015 us apart: in seconds since
    1970 (float64 steps of 238 ns) the intervals would be 3.81 or 4.05 us; the segments'
    own times keep them."""
    import datetime as dt

    t = np.arange(50) * 4.0015e-6
    write_trc(tmp_path / "s.trc", np.zeros((50, 100)), dt_s=1e-9, t0_s=-50e-9,
              trigger_times=t, trigger_offsets=np.full(50, -50e-9),
              trigger_time=dt.datetime(2026, 12, 4, 2, 0, 0))
    tr = read_many([tmp_path / "s.trc"])
    assert np.diff(tr.segment_time_s) == pytest.approx(4.0015e-6, rel=1e-9)
    assert tr.trigger_time_s[0] > 1.7e9  # the file's clock is there too
    assert np.abs(np.diff(tr.trigger_time_s) - 4.0015e-6).max() > 1e-8

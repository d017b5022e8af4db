"""LeCroy ``.trc`` files as :class:`~pmtgain.io.block.Block`: the fast path of the reader.

What to use when
----------------
- :func:`parse_batch` - many files at once: standard single-segment files are checked and
  converted together (one header array, one ``frombuffer`` per run of alike files), the
  others one by one; what cannot be read is reported with its reason.
- :func:`parse_file` - one file (single or sequence mode), every number checked.
- :mod:`pmtgain.io.trc` - one file with everything in it (``pmtgain inspect``).

The format is described in :mod:`pmtgain.io.trc`.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from pmtgain.io.block import Block, Format, file_block
from pmtgain.io.trc import (
    WAVEDESC_LENGTH,
    TrcError,
    byte_order,
    cstr,
    find_wavedesc,
)

__all__ = ["parse_batch", "parse_file", "file_times", "sniff", "TRC"]


def sniff(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a ``.trc`` (its WAVEDESC block near the
    start: after the optional ``#9`` + 9 digits prefix)."""
    return b"WAVEDESC" in head[:64]


# everything the batch reader needs from WAVEDESC in one unpack (offsets 32 .. 188)
_FAST_FMT = "2h8i48xi24xi8x2f12xfd"
_FAST = {order: struct.Struct(order + _FAST_FMT) for order in "<>"}
assert _FAST["<"].size == 188 - 32


#: where TRIGGER_TIME sits in WAVEDESC: seconds (f8), then minutes, hours, days, months
#: (one byte each) and the year (i2)
_TIME_AT = 296


def file_times(sec, minute, hour, day, month, year) -> np.ndarray:
    """The files' TRIGGER_TIME as seconds since 1970-01-01 (the scope's clock, its own
    time zone), element-wise; 0 where the date is not a valid one (a writer that leaves
    it blank): the flashes then keep their times within the file only."""
    y, mo, d = (np.asarray(x, np.int64) for x in (year, month, day))
    h, mi = np.asarray(hour, np.int64), np.asarray(minute, np.int64)
    s = np.asarray(sec, float)
    ok = ((y >= 1970) & (y < 2200) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= 31)
          & (h >= 0) & (h < 24) & (mi >= 0) & (mi < 60) & np.isfinite(s) & (s >= 0)
          & (s < 61))
    ys, ms = np.where(ok, y - 1970, 0), np.where(ok, mo - 1, 0)
    days = ((ys.astype("datetime64[Y]").astype("datetime64[M]") + ms.astype("timedelta64[M]"))
            .astype("datetime64[D]").astype(np.int64) + np.where(ok, d - 1, 0))
    return np.where(ok, days * 86400.0 + h * 3600.0 + mi * 60.0 + s, 0.0)


def _parse(buf: bytes, path: str):
    """(raw segments x points, gain, offset, dt, trigger times, trigger offsets) of one
    file, every number checked; TrcError naming the file and the reason."""
    o = 11 if buf[11:19] == b"WAVEDESC" else find_wavedesc(buf, path)
    order = byte_order(buf, o, path)
    (comm_type, _, wdesc, utext, _, trig, ris, _, wa1, wa2, count, nsub, gain, voff,
     dt_i, t0) = _FAST[order].unpack_from(buf, o + 32)
    if buf[o + 16 : o + 27] != b"LECROY_2_3\x00":
        raise TrcError(path, f"template {cstr(buf[o + 16:o + 32])!r} is not supported")
    word = 1 if comm_type == 0 else 2 if comm_type == 1 else 0
    if word == 0:
        raise TrcError(path, f"COMM_TYPE is {comm_type}, expected 0 or 1")
    if count <= 0 or wa1 != count * word:
        raise TrcError(path, f"WAVE_ARRAY_1 is {wa1} bytes but WAVE_ARRAY_COUNT {count} x {word}")
    if min(wdesc, utext, trig, ris, wa2) < 0:
        raise TrcError(path, "negative array length in the header")
    if not (math.isfinite(dt_i) and dt_i > 0):
        raise TrcError(path, f"HORIZ_INTERVAL is {dt_i!r}, not a positive sample spacing")
    if not (math.isfinite(gain) and gain > 0):
        raise TrcError(path, f"VERTICAL_GAIN is {gain!r}, not a positive volts per ADC step "
                       "(a negative one would invert the pulse)")
    if wdesc < 346:  # the samples would start inside the header
        raise TrcError(path, f"WAVE_DESCRIPTOR is {wdesc} bytes, less than the 346 of the "
                       "block it describes")
    if not math.isfinite(voff):
        raise TrcError(path, f"VERTICAL_OFFSET is {voff!r}")
    nseg = max(int(nsub), 1) if trig else 1
    if trig and trig != 16 * nseg:
        raise TrcError(path, f"TRIGTIME_ARRAY is {trig} bytes for {nseg} segment(s), "
                       f"expected {16 * nseg}")
    if count % nseg:
        raise TrcError(path, f"{count} samples do not split into {nseg} segments")
    start = o + wdesc + utext + trig + ris
    if len(buf) < start + wa1 + wa2:
        raise TrcError(path, f"truncated: {len(buf)} bytes, the header describes "
                       f"{start + wa1 + wa2}")
    if trig:
        tt = np.frombuffer(buf, dtype=order + "f8", count=2 * nseg,
                           offset=o + wdesc + utext).reshape(nseg, 2)
        times, offsets = tt[:, 0], tt[:, 1]
        if not np.all(np.isfinite(tt)):
            raise TrcError(path, "a trigger time or offset is not a number")
    else:
        if not math.isfinite(t0):
            raise TrcError(path, f"HORIZ_OFFSET is {t0!r}")
        times, offsets = np.zeros(1), np.array([t0])
    sec, mi, hr, dd, mo, yr = struct.unpack_from(order + "d4bh", buf, o + _TIME_AT)
    epoch = float(file_times(sec, mi, hr, dd, mo, yr))
    raw = np.frombuffer(buf, dtype=order + ("i1" if word == 1 else "i2"), count=count,
                        offset=start).reshape(nseg, count // nseg)
    return raw, word, float(gain), float(voff), float(dt_i), times, offsets, epoch


def parse_file(k: int, buf: bytes, path: str) -> Block:
    """The flashes of one file (``k``: its position in the reader's list); TrcError
    naming the file and the reason."""
    raw, word, gain, voff, dt, times, offsets, epoch = _parse(buf, path)
    return file_block(k, raw, gain, voff, dt, times, offsets,
                      -128.0 if word == 1 else -32768.0, epoch)


# a standard header: 11 bytes of prefix, then WAVEDESC; the fields a batch needs, by offset
_HEAD = 11 + WAVEDESC_LENGTH
_HDR = np.dtype({
    "names": ["wavedesc", "template", "comm_type", "comm_order", "wdesc", "utext", "trig",
              "ris", "wa1", "wa2", "count", "gain", "voff", "dt", "t0", "tsec", "tmin",
              "thour", "tday", "tmon", "tyear"],
    "formats": ["S8", "S11", "<i2", "<i2", "<i4", "<i4", "<i4", "<i4", "<i4", "<i4", "<i4",
                "<f4", "<f4", "<f4", "<f8", "<f8", "i1", "i1", "i1", "i1", "<i2"],
    "offsets": [11 + x for x in (0, 16, 32, 34, 36, 40, 48, 52, 60, 64, 116, 156, 160, 176,
                                 180, _TIME_AT, _TIME_AT + 8, _TIME_AT + 9, _TIME_AT + 10,
                                 _TIME_AT + 11, _TIME_AT + 12)],
    "itemsize": _HEAD})


def parse_batch(batch: list[tuple[int, str, bytes | str]], errors: list | None
                ) -> list[Block]:
    """The files of ``batch`` (index, path, bytes or the reason they could not be read)
    as blocks, in order. Standard single-segment files are checked and converted together
    (one header array, one ``frombuffer`` per run of alike files); any other file, and any
    file that fails a check, goes through :func:`parse_file`, which names the reason."""
    if not batch:
        return []
    bufs = [b for _, _, b in batch]
    ok = np.fromiter((isinstance(b, bytes) and len(b) >= _HEAD for b in bufs), bool,
                     len(bufs))
    n = len(bufs)
    fast = np.zeros(n, bool)
    key, start_all, word_all = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, int)
    hdr = np.zeros(n, _HDR)
    if ok.any():
        pos = np.flatnonzero(ok)
        h = np.frombuffer(b"".join([bufs[i][:_HEAD] for i in pos]), _HDR)
        ct = h["comm_type"]
        word = np.where(ct == 0, 1, np.where(ct == 1, 2, 0))
        wdesc, utext, ris, wa1, wa2 = (h[k].astype(np.int64) for k in
                                       ("wdesc", "utext", "ris", "wa1", "wa2"))
        start = 11 + wdesc + utext + ris
        lens = np.fromiter((len(bufs[i]) for i in pos), np.int64, pos.size)
        with np.errstate(invalid="ignore", over="ignore"):
            good = ((h["wavedesc"] == b"WAVEDESC") & (h["template"] == b"LECROY_2_3")
                    & (h["comm_order"] == 1) & (word > 0) & (h["count"] > 0)
                    & (wa1 == h["count"] * word) & (h["trig"] == 0)
                    & (np.minimum.reduce([utext, ris, wa2]) >= 0) & (wdesc >= 346)
                    & np.isfinite(h["dt"]) & (h["dt"] > 0) & np.isfinite(h["gain"])
                    & (h["gain"] > 0) & np.isfinite(h["voff"]) & np.isfinite(h["t0"])
                    & (lens >= start + wa1 + wa2))
        fast[pos[good]] = True  # the others: parse_file, which says what is wrong
        key[pos] = h["count"].astype(np.int64) * 4 + word
        start_all[pos], word_all[pos], hdr[pos] = start, word, h
    # runs of consecutive fast files alike in points and word; each other file alone
    run_key = np.where(fast, key, -1 - np.arange(n))
    cuts = [0, *(np.flatnonzero(np.diff(run_key)) + 1).tolist(), n]
    blocks = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if fast[a]:
            w, count = int(word_all[a]), int(hdr["count"][a])
            data = b"".join([bufs[i][s:s + count * w] for i, s in
                             zip(range(a, b), start_all[a:b].tolist(), strict=True)])
            hh = hdr[a:b]
            blocks.append(Block(
                idx=np.array([k for k, _, _ in batch[a:b]], np.int64),
                codes=np.frombuffer(data, "i1" if w == 1 else "<i2").reshape(b - a, count),
                gain=hh["gain"].astype(float), voff=hh["voff"].astype(float),
                dt=hh["dt"].astype(float),
                times=np.zeros(b - a),
                epoch=file_times(hh["tsec"], hh["tmin"], hh["thour"], hh["tday"],
                                 hh["tmon"], hh["tyear"]),
                offsets=hh["t0"].astype(float), segment=np.zeros(b - a, np.int64),
                floor=np.full(b - a, -128.0 if w == 1 else -32768.0)))
            continue
        k, path, buf = batch[a]
        try:
            if not isinstance(buf, bytes):
                raise TrcError(path, buf)
            blocks.append(parse_file(k, buf, path))
        except TrcError as exc:
            if errors is not None:
                errors.append((path, exc.reason))
    return blocks


TRC = Format("trc", (".trc",), sniff,
             lambda k, buf, path, settings: parse_file(k, buf, path))

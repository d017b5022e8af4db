"""The flashes of a point: its files read fast into one ``flashes x points`` array.

What to use when
----------------
- :func:`read_many` - every file of one (PMT, HV) point, single-segment and sequence-mode
  alike (a segment is a flash), one ``frombuffer`` per file and one vectorised conversion
  to volts. Files that cannot be read, or whose sampling differs from the one most flashes
  share, are reported with the reason, never raised: one bad file never loses the rest.
- :class:`ManyTraces` - what it returns.
- :class:`ChunkReader` - the same in chunks of a bounded number of flashes, for points
  larger than memory should hold (:mod:`pmtgain.point`).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .trc import TrcError, _byte_order, _cstr, _find_wavedesc, _read_file_fast


@dataclass
class ManyTraces:
    """The flashes of one point, stacked: ``volts[i]`` is flash i, recorded in file
    ``ok_paths[i]`` as its segment ``segment[i]`` (0 for a single-segment file; a
    sequence-mode file of N segments is N flashes).

    ``t0_s[i]`` is the time of sample 0 of flash i (its trigger offset), ``trigger_time_s[i]``
    its trigger time (0 for single-segment files without one), ``dt_s`` the common sample
    spacing. ``clipped[i]`` is true when a sample sits at the ADC's lowest code (a saturated
    negative pulse). ``errors`` lists ``(path, reason)`` for the files that could not be
    read; ``n_files`` counts the files that could.
    """

    volts: np.ndarray
    t0_s: np.ndarray
    dt_s: float
    clipped: np.ndarray
    ok_paths: list[str]
    ok_index: np.ndarray  # position of each flash's file in the requested list
    errors: list[tuple[str, str]]
    segment: np.ndarray | None = None
    trigger_time_s: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return self.volts.shape[1] if self.volts.ndim == 2 else 0

    @property
    def n_files(self) -> int:
        return len(set(self.ok_index.tolist()))


# everything the batch reader needs from WAVEDESC in one unpack (offsets 32 .. 188)
_FAST_FMT = "2h8i48xi24xi8x2f12xfd"
_FAST = {order: struct.Struct(order + _FAST_FMT) for order in "<>"}
assert _FAST["<"].size == 188 - 32


_ZERO1 = np.zeros(1)
_ZERO1.flags.writeable = False  # shared by every single-segment file: the trigger time


def _parse_fast(buf: bytes, path: str):
    """(raw segments x points, gain, offset, dt, trigger times, trigger offsets) of one
    file, every number checked; TrcError naming the file and the reason."""
    o = 11 if buf[11:19] == b"WAVEDESC" else _find_wavedesc(buf, path)
    order = _byte_order(buf, o, path)
    (comm_type, _, wdesc, utext, _, trig, ris, _, wa1, wa2, count, nsub, gain, voff,
     dt_i, t0) = _FAST[order].unpack_from(buf, o + 32)
    if buf[o + 16 : o + 27] != b"LECROY_2_3\x00":
        raise TrcError(path, f"template {_cstr(buf[o + 16:o + 32])!r} is not supported")
    word = 1 if comm_type == 0 else 2 if comm_type == 1 else 0
    if word == 0:
        raise TrcError(path, f"COMM_TYPE is {comm_type}, expected 0 or 1")
    if count <= 0 or wa1 != count * word:
        raise TrcError(path, f"WAVE_ARRAY_1 is {wa1} bytes but WAVE_ARRAY_COUNT {count} x {word}")
    if min(wdesc, utext, trig, ris, wa2) < 0:
        raise TrcError(path, "negative array length in the header")
    if not (math.isfinite(dt_i) and dt_i > 0):
        raise TrcError(path, f"HORIZ_INTERVAL is {dt_i!r}, not a positive sample spacing")
    if not (math.isfinite(gain) and gain != 0):
        raise TrcError(path, f"VERTICAL_GAIN is {gain!r}, not a usable volts per ADC step")
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
        times, offsets = _ZERO1, np.array([t0])
    raw = np.frombuffer(buf, dtype=order + ("i1" if word == 1 else "i2"), count=count,
                        offset=start).reshape(nseg, count // nseg)
    return raw, word, float(gain), float(voff), float(dt_i), times, offsets


def _sampling(parsed: list) -> tuple[int | None, float | None]:
    """(points per segment, spacing) most flashes of ``parsed`` share (ties: the first)."""
    votes: dict[tuple[int, float], int] = {}
    for _, _, rec in parsed:
        raw, dt_i = rec[0], rec[4]
        key = (raw.shape[1], float(np.float32(dt_i)))
        votes[key] = votes.get(key, 0) + raw.shape[0]
    if not votes:
        return None, None
    npts, dt32 = max(votes, key=votes.get)  # dict order: the first file wins a tie
    dt = next(rec[4] for _, _, rec in parsed
              if rec[0].shape[1] == npts and float(np.float32(rec[4])) == dt32)
    return npts, dt


def _check_sampling(parsed, npts, dt, errors) -> list:
    keep = []
    for k, path, rec in parsed:
        raw, dt_i = rec[0], rec[4]
        if raw.shape[1] != npts:
            errors.append((path, f"{raw.shape[1]} samples per segment, most files of this "
                                 f"point have {npts}"))
        elif abs(dt_i - dt) > 1e-6 * abs(dt):
            errors.append((path, f"sample spacing {dt_i:g} s, most files of this point "
                                 f"have {dt:g} s"))
        else:
            keep.append((k, path, rec))
    return keep


def _stack(keep: list, npts: int, dt: float, errors: list, paths: bool = True
           ) -> ManyTraces:
    """One ManyTraces from checked records (one vectorised conversion for all files);
    ``paths=False`` leaves ``ok_paths`` empty (``ok_index`` names the files)."""
    if not keep:
        return ManyTraces(volts=np.empty((0, npts or 0)), t0_s=np.zeros(0),
                          dt_s=float(dt) if dt is not None else float("nan"),
                          clipped=np.zeros(0, bool), ok_paths=[],
                          ok_index=np.zeros(0, np.int64), errors=errors,
                          segment=np.zeros(0, np.int64), trigger_time_s=np.zeros(0))
    nseg = np.array([rec[0].shape[0] for _, _, rec in keep])
    # one conversion for all files: stack the codes (8-bit promoted where 16-bit files are
    # mixed in), then volts = gain * code - offset with per-flash gain and offset
    raws = [rec[0] for _, _, rec in keep]
    codes = np.concatenate(raws) if len({r.dtype.itemsize for r in raws}) == 1 else \
        np.concatenate([r.astype(np.int16) for r in raws])
    words = np.repeat([rec[1] for _, _, rec in keep], nseg)
    clipped = codes.min(axis=1) <= np.where(words == 1, -128, -32768)
    volts = codes.astype(np.float64)
    volts *= np.repeat([rec[2] for _, _, rec in keep], nseg)[:, None]
    volts -= np.repeat([rec[3] for _, _, rec in keep], nseg)[:, None]
    first_seg = [rec[7] if len(rec) > 7 else 0 for _, _, rec in keep]
    return ManyTraces(
        volts=volts,
        t0_s=np.concatenate([rec[6] for _, _, rec in keep]),
        dt_s=float(dt),
        clipped=clipped,
        ok_paths=[path for _, path, rec in keep for _ in range(rec[0].shape[0])]
        if paths else [],
        ok_index=np.repeat(np.array([k for k, _, _ in keep], np.int64), nseg),
        errors=errors,
        segment=(np.arange(int(nseg.sum())) - np.repeat(np.cumsum(nseg) - nseg, nseg)
                 + np.repeat(np.asarray(first_seg, np.int64), nseg)).astype(np.int64),
        trigger_time_s=np.concatenate([rec[5] for _, _, rec in keep]),
    )


def read_many(paths: Sequence[str | os.PathLike] | Iterable[str | os.PathLike]) -> ManyTraces:
    """Read the files of one point, single-segment and sequence-mode alike, into one
    ``flashes x points`` array (see :class:`ManyTraces`).

    The point's sampling (points per segment and sample spacing) is the one most of its
    flashes share, not the first file's: one odd file is reported in ``errors`` with the
    reason and never makes the others "unreadable". Files whose header numbers cannot be
    used (a spacing of 0 or NaN, a NaN gain) are reported the same way.
    """
    reader = ChunkReader(paths, chunk=1 << 62, cache_bytes=0, with_paths=True)
    return next(iter(reader))  # one chunk: the sampling is the majority of all files


class ChunkReader:
    """A point's flashes in chunks of at most ``chunk`` flashes (a sequence file larger
    than that is split by segments), each a :class:`ManyTraces` whose ``ok_index`` refers
    to ``paths``; iterate as often as needed, the flashes come in the same order.

    The point's sampling is the one most flashes of the first chunk share (a chunk holds
    thousands of flashes). The raw ADC codes are kept between iterations while they fit
    ``cache_bytes`` (1 byte per 8-bit sample: 16 MB hold 30,000 GIN flashes); beyond, every
    iteration reads the files again, so that memory stays flat at any number of flashes.
    ``errors`` (files that could not be read) is complete after the first iteration.
    """

    def __init__(self, paths: Sequence[str | os.PathLike], chunk: int = 1024,
                 cache_bytes: int = 16 << 20, with_paths: bool = False):
        self.paths = [os.fspath(p) for p in paths]
        self.chunk = max(int(chunk), 1)
        self.cache_bytes = cache_bytes
        self.with_paths = with_paths  # fill ok_paths (ok_index names the files anyway)
        self.errors: list[tuple[str, str]] = []
        self.npts: int | None = None
        self.dt: float | None = None
        self.n_flashes = 0
        self._cache: list | None = None
        self._passes = 0

    @property
    def n_files(self) -> int:
        bad = {p for p, _ in self.errors}
        return sum(1 for p in self.paths if p not in bad)

    def _records(self) -> Iterator[tuple]:
        """(index, path, parsed) per readable file, from the cache or the disk."""
        if self._cache is not None:
            yield from self._cache
            return
        first = self._passes == 0
        cache: list | None = [] if first else None
        size = 0
        for k, path in enumerate(self.paths):
            try:
                rec = _parse_fast(_read_file_fast(path), path)
            except TrcError as exc:
                if first:
                    self.errors.append((path, exc.reason))
                continue
            if cache is not None:
                size += rec[0].nbytes
                if size <= self.cache_bytes:
                    cache.append((k, path, rec))
                else:
                    cache = None
            yield k, path, rec
        if first and cache is not None:
            self._cache = cache

    def __iter__(self) -> Iterator[ManyTraces]:
        pending: list = []
        n_pending = 0
        first = self._passes == 0
        errors = self.errors if first else []
        total = 0
        chunk = self.chunk
        for k, path, rec in self._records():
            raw = rec[0]
            m = raw.shape[0]
            if m <= chunk:  # the usual case (one flash per file): no slicing
                pending.append((k, path, rec))
                n_pending += m
                if n_pending >= chunk:
                    mt = self._emit(pending, errors)
                    total += mt.volts.shape[0]
                    yield mt
                    pending, n_pending = [], 0
                continue
            for s0 in range(0, m, chunk):
                part = (raw[s0:s0 + self.chunk], *rec[1:5], rec[5][s0:s0 + self.chunk],
                        rec[6][s0:s0 + self.chunk], s0)
                pending.append((k, path, part))
                n_pending += part[0].shape[0]
                if n_pending >= self.chunk:
                    mt = self._emit(pending, errors)
                    total += mt.volts.shape[0]
                    yield mt
                    pending, n_pending = [], 0
        if pending or total == 0:
            mt = self._emit(pending, errors)
            total += mt.volts.shape[0]
            yield mt
        if first:
            self.n_flashes = total
        self._passes += 1

    def _emit(self, pending: list, errors: list) -> ManyTraces:
        if self.npts is None:
            self.npts, self.dt = _sampling(pending)
        keep = _check_sampling(pending, self.npts, self.dt, errors if self._passes == 0
                               else [])
        return _stack(keep, self.npts, self.dt, errors, paths=self.with_paths)

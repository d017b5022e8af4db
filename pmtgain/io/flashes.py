"""The flashes of a point: its files read fast into one ``flashes x points`` array.

What to use when
----------------
- :func:`read_many` - every file of one (PMT, HV) point, single-segment and sequence-mode
  alike (a segment is a flash), one ``frombuffer`` per file and one vectorised conversion
  to volts. Files that cannot be read, or whose sampling differs from the one most flashes
  share, are reported with the reason, never raised: one bad file never loses the rest.
- :class:`ManyTraces` - what it returns.
- :class:`ChunkReader` - the same in chunks of a bounded number of flashes, for points
  larger than memory should hold (:mod:`pmtgain.point.process`).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np

from pmtgain.io.align import align, check_offsets, sample_shifts
from pmtgain.io.trc import (
    WAVEDESC_LENGTH,
    TrcError,
    byte_order,
    cstr,
    find_wavedesc,
    read_file_fast,
)

__all__ = ["ManyTraces", "read_many", "ChunkReader"]


@dataclass
class ManyTraces:
    """The flashes of one point, stacked: ``volts[i]`` is flash i, recorded in file
    ``ok_paths[i]`` as its segment ``segment[i]`` (0 for a single-segment file; a
    sequence-mode file of N segments is N flashes).

    Flashes are on one time axis: a record whose trigger offset differs from the point's
    by whole samples is shifted (:mod:`pmtgain.io.align`); ``t0_s[i]`` is then the time of
    sample 0 of flash i on that axis (its trigger offset less the shift), ``trigger_time_s[i]``
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
        times, offsets = _ZERO1, np.array([t0])
    raw = np.frombuffer(buf, dtype=order + ("i1" if word == 1 else "i2"), count=count,
                        offset=start).reshape(nseg, count // nseg)
    return raw, word, float(gain), float(voff), float(dt_i), times, offsets


# a standard header: 11 bytes of prefix, then WAVEDESC; the fields a batch needs, by offset
_HEAD = 11 + WAVEDESC_LENGTH
_HDR = np.dtype({
    "names": ["wavedesc", "template", "comm_type", "comm_order", "wdesc", "utext", "trig",
              "ris", "wa1", "wa2", "count", "gain", "voff", "dt", "t0"],
    "formats": ["S8", "S11", "<i2", "<i2", "<i4", "<i4", "<i4", "<i4", "<i4", "<i4", "<i4",
                "<f4", "<f4", "<f4", "<f8"],
    "offsets": [11 + x for x in (0, 16, 32, 34, 36, 40, 48, 52, 60, 64, 116, 156, 160, 176,
                                 180)],
    "itemsize": _HEAD})


@dataclass
class _Block:
    """Flashes of consecutive files that share their points per segment and word size:
    the unit the reader parses, checks, chunks and caches (``codes`` are the raw ADC codes,
    every other array has one value per flash)."""

    idx: np.ndarray  # the file of each flash (position in the reader's list)
    codes: np.ndarray  # (n, points) int8 or int16
    gain: np.ndarray
    voff: np.ndarray
    dt: np.ndarray
    times: np.ndarray  # trigger times
    offsets: np.ndarray  # time of sample 0
    segment: np.ndarray
    clipped: np.ndarray | None = None  # filled when packed

    def __len__(self) -> int:
        return self.codes.shape[0]

    def arrays(self) -> dict[str, np.ndarray | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def rows(self, sel) -> _Block:
        return _Block(**{k: None if v is None else v[sel] for k, v in self.arrays().items()})

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.arrays().values() if v is not None)


def _one_file(k: int, rec) -> _Block:
    raw, word, gain, voff, dt, times, offsets = rec
    n = raw.shape[0]
    return _Block(idx=np.full(n, k, np.int64), codes=raw, gain=np.full(n, gain),
                  voff=np.full(n, voff), dt=np.full(n, dt), times=np.asarray(times, float),
                  offsets=np.asarray(offsets, float), segment=np.arange(n, dtype=np.int64))


def _parse_batch(batch: list[tuple[int, str, bytes | str]], errors: list | None
                 ) -> list[_Block]:
    """The files of ``batch`` (index, path, bytes or the reason they could not be read)
    as blocks, in order. Standard single-segment files are checked and converted together
    (one header array, one ``frombuffer`` per run of alike files); any other file, and any
    file that fails a check, goes through :func:`_parse_fast`, which names the reason."""
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
        fast[pos[good]] = True  # the others: _parse_fast, which says what is wrong
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
            blocks.append(_Block(
                idx=np.array([k for k, _, _ in batch[a:b]], np.int64),
                codes=np.frombuffer(data, "i1" if w == 1 else "<i2").reshape(b - a, count),
                gain=hh["gain"].astype(float), voff=hh["voff"].astype(float),
                dt=hh["dt"].astype(float), times=np.zeros(b - a),
                offsets=hh["t0"].astype(float), segment=np.zeros(b - a, np.int64)))
            continue
        k, path, buf = batch[a]
        try:
            if not isinstance(buf, bytes):
                raise TrcError(path, buf)
            blocks.append(_one_file(k, _parse_fast(buf, path)))
        except TrcError as exc:
            if errors is not None:
                errors.append((path, exc.reason))
    return blocks


def _sampling(blocks: list[_Block]) -> tuple[int | None, float | None]:
    """(points per segment, spacing) most flashes of ``blocks`` share (ties: the first)."""
    votes: dict[tuple[int, float], int] = {}
    first: dict[tuple[int, float], float] = {}
    for b in blocks:
        d32 = b.dt.astype(np.float32)
        u, at, cnt = np.unique(d32, return_index=True, return_counts=True)
        for j in np.argsort(at, kind="stable"):
            key = (b.codes.shape[1], float(u[j]))
            votes[key] = votes.get(key, 0) + int(cnt[j])
            first.setdefault(key, float(b.dt[at[j]]))
    if not votes:
        return None, None
    best = max(votes, key=votes.get)  # dict order: the first file wins a tie
    return best[0], first[best]


def _check_sampling(blocks: list[_Block], npts: int, dt: float, paths: list[str],
                    errors: list | None) -> list[_Block]:
    """The flashes of ``blocks`` sampled like the point; the others' files reported."""
    keep = []
    for b in blocks:
        if b.codes.shape[1] != npts:
            bad = b.idx
            why = [f"{b.codes.shape[1]} samples per segment, most files of this point "
                   f"have {npts}"] * len(b)
        else:
            off = np.abs(b.dt - dt) > 1e-6 * abs(dt)
            if not off.any():
                keep.append(b)
                continue
            bad = b.idx[off]
            why = [f"sample spacing {x:g} s, most files of this point have {dt:g} s"
                   for x in b.dt[off]]
            keep.append(b.rows(~off))
        if errors is not None:
            _, at = np.unique(bad, return_index=True)
            errors.extend((paths[bad[j]], why[j]) for j in np.sort(at))
    return keep


def _pack(blocks: list[_Block]) -> _Block:
    """One block of a chunk's blocks (8-bit codes promoted where 16-bit files are mixed
    in), with ``clipped``: a sample at the ADC's lowest code."""
    clipped = np.concatenate([b.codes.min(axis=1) <= (-128 if b.codes.itemsize == 1
                                                      else -32768) for b in blocks])
    raws = [b.codes for b in blocks]
    if len({r.dtype.itemsize for r in raws}) > 1:
        raws = [r.astype(np.int16) for r in raws]
    out = {k: np.concatenate([getattr(b, k) for b in blocks])
           for k in blocks[0].arrays() if k not in ("codes", "clipped")}
    return _Block(**out, codes=raws[0] if len(raws) == 1 else np.concatenate(raws),
                  clipped=clipped)


def _take(pending: list[_Block], n: int) -> tuple[list[_Block], list[_Block]]:
    """The first ``n`` flashes of ``pending`` and the rest (a block split if need be)."""
    out, got = [], 0
    for i, b in enumerate(pending):
        if got + len(b) <= n:
            out.append(b)
            got += len(b)
            if got == n:
                return out, pending[i + 1:]
            continue
        r = n - got
        return out + [b.rows(slice(0, r))], [b.rows(slice(r, None))] + pending[i + 1:]
    return out, []


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
    """A point's flashes in chunks of ``chunk`` flashes (the last one shorter; a sequence
    file may be split between chunks by segments), each a :class:`ManyTraces` whose
    ``ok_index`` refers to ``paths``; iterate as often as needed, the flashes come in the
    same order.

    Files are read in batches (at most ``chunk`` files or ``batch_bytes``) and the standard
    single-segment ones parsed together (:func:`_parse_batch`). The point's sampling is
    the one most flashes of the first chunk share (a chunk holds thousands of flashes).
    The first pass keeps each chunk's raw ADC codes while they fit ``cache_bytes`` (about
    1 byte per 8-bit sample: 16 MB hold 30,000 GIN flashes), so that later passes only
    convert them to volts; beyond, every pass reads the files again, so that memory stays
    flat at any number of flashes. ``errors`` (files that could not be read) is complete
    after the first pass.
    """

    def __init__(self, paths: Sequence[str | os.PathLike], chunk: int = 1024,
                 cache_bytes: int = 16 << 20, with_paths: bool = False,
                 batch_bytes: int = 8 << 20):
        self.paths = [os.fspath(p) for p in paths]
        self.chunk = max(int(chunk), 1)
        self.cache_bytes = cache_bytes
        self.batch_bytes = batch_bytes
        self.with_paths = with_paths  # fill ok_paths (ok_index names the files anyway)
        self.errors: list[tuple[str, str]] = []
        self.npts: int | None = None
        self.dt: float | None = None
        self.t0_ref: float | None = None  # the time of sample 0 every flash is aligned to
        self.n_flashes = 0
        self._cache: list[_Block] | None = None
        self._passes = 0

    @property
    def n_files(self) -> int:
        bad = {p for p, _ in self.errors}
        return sum(1 for p in self.paths if p not in bad)

    def _batches(self, errors: list | None) -> Iterator[list[_Block]]:
        batch: list = []
        size = 0
        for k, path in enumerate(self.paths):
            try:
                buf: bytes | str = read_file_fast(path)
            except TrcError as exc:
                buf = exc.reason
            batch.append((k, path, buf))
            size += len(buf)
            if len(batch) >= self.chunk or size >= self.batch_bytes:
                yield _parse_batch(batch, errors)
                batch, size = [], 0
        if batch:
            yield _parse_batch(batch, errors)

    def _traces(self, pack: _Block, errors: list) -> ManyTraces:
        volts = np.multiply(pack.codes, pack.gain[:, None], dtype=np.float64)  # one pass
        volts -= pack.voff[:, None]
        k = sample_shifts(pack.offsets, self.t0_ref, self.dt)
        t0 = pack.offsets
        if k.any():  # on the point's time axis (pmtgain.io.align)
            align(volts, k)
            t0 = pack.offsets - k * self.dt
        return ManyTraces(
            volts=volts, t0_s=t0, dt_s=float(self.dt), clipped=pack.clipped,
            ok_paths=[self.paths[k] for k in pack.idx.tolist()] if self.with_paths else [],
            ok_index=pack.idx, errors=errors, segment=pack.segment,
            trigger_time_s=pack.times)

    def _empty(self, errors: list) -> ManyTraces:
        npts = self.npts or 0
        return ManyTraces(volts=np.empty((0, npts)), t0_s=np.zeros(0),
                          dt_s=float(self.dt) if self.dt is not None else float("nan"),
                          clipped=np.zeros(0, bool), ok_paths=[],
                          ok_index=np.zeros(0, np.int64), errors=errors,
                          segment=np.zeros(0, np.int64), trigger_time_s=np.zeros(0))

    def __iter__(self) -> Iterator[ManyTraces]:
        first = self._passes == 0
        if self._cache is not None:
            for pack in self._cache:
                yield self._traces(pack, [])
            self._passes += 1
            return
        errors = self.errors if first else []
        cache: list[_Block] | None = [] if first and self.cache_bytes > 0 else None
        size = total = 0
        pending: list[_Block] = []
        n_pending = 0

        def emit(blocks: list[_Block]) -> ManyTraces:
            nonlocal cache, size, total
            if self.npts is None:
                self.npts, self.dt = _sampling(blocks)
            keep = _check_sampling(blocks, self.npts, self.dt, self.paths,
                                   errors if first else None)
            keep = [b for b in keep if len(b)]
            if self.t0_ref is None and keep:
                self.t0_ref = float(np.median(np.concatenate([b.offsets for b in keep])))
            keep = [b for b in check_offsets(keep, self.npts, self.dt, self.t0_ref,
                                              self.paths, errors if first else None)
                    if len(b)]
            if not keep:
                return self._empty(errors)
            pack = _pack(keep)
            total += len(pack)
            if cache is not None:
                size += pack.nbytes
                if size <= self.cache_bytes:
                    cache.append(pack)
                else:
                    cache = None
            return self._traces(pack, errors)

        for blocks in self._batches(errors if first else None):
            pending += blocks
            n_pending += sum(len(b) for b in blocks)
            while n_pending >= self.chunk:
                out, pending = _take(pending, self.chunk)
                n_pending -= self.chunk
                yield emit(out)
        if pending or total == 0:
            yield emit(pending) if pending else self._empty(errors)
        if first:
            self.n_flashes = total
            self._cache = cache
        self._passes += 1

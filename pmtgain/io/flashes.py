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

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from pmtgain.io.align import align, check_offsets, sample_shifts
from pmtgain.io.block import Block, take
from pmtgain.io.block import pack as pack_blocks
from pmtgain.io.readers import DEFAULT_READ, ReadSettings, parse_batch
from pmtgain.io.trc import TrcError, read_file_fast

__all__ = ["ManyTraces", "read_many", "ChunkReader"]


@dataclass
class ManyTraces:
    """The flashes of one point, stacked: ``volts[i]`` is flash i, recorded in file
    ``ok_paths[i]`` as its segment ``segment[i]`` (0 for a single-segment file; a
    sequence-mode file of N segments is N flashes).

    Flashes are on one time axis: a record whose trigger offset differs from the point's
    by whole samples is shifted (:mod:`pmtgain.io.align`); ``t0_s[i]`` is then the time of
    sample 0 of flash i on that axis (its trigger offset less the shift), ``trigger_time_s[i]``
    its trigger time (seconds since 1970 where the file says when, 0 for single-segment files
without one; ``segment_time_s`` the same within its file, at full precision: a float64
of 1.7e9 s has steps of 238 ns), ``dt_s`` the common sample
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
    #: the trigger time within its file (a sequence's segments), to full precision
    segment_time_s: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return self.volts.shape[1] if self.volts.ndim == 2 else 0

    @property
    def n_files(self) -> int:
        return len(set(self.ok_index.tolist()))


def _sampling(blocks: list[Block]) -> tuple[int | None, float | None]:
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


def _check_sampling(blocks: list[Block], npts: int, dt: float, paths: list[str],
                    errors: list | None) -> list[Block]:
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


def read_many(paths: Sequence[str | os.PathLike] | Iterable[str | os.PathLike],
              read: ReadSettings = DEFAULT_READ) -> ManyTraces:
    """Read the files of one point, single-segment and sequence-mode alike, into one
    ``flashes x points`` array (see :class:`ManyTraces`).

    The point's sampling (points per segment and sample spacing) is the one most of its
    flashes share, not the first file's: one odd file is reported in ``errors`` with the
    reason and never makes the others "unreadable". Files whose header numbers cannot be
    used (a spacing of 0 or NaN, a NaN gain) are reported the same way.
    """
    reader = ChunkReader(paths, chunk=1 << 62, cache_bytes=0, with_paths=True, read=read)
    return next(iter(reader))  # one chunk: the sampling is the majority of all files


class ChunkReader:
    """A point's flashes in chunks of ``chunk`` flashes (the last one shorter; a sequence
    file may be split between chunks by segments), each a :class:`ManyTraces` whose
    ``ok_index`` refers to ``paths``; iterate as often as needed, the flashes come in the
    same order.

    Files are read in batches (at most ``chunk`` files or ``batch_bytes``) by their format's
    reader (:mod:`pmtgain.io.readers`, ``read``: what the format needs from the campaign;
    standard single-segment ``.trc`` files are parsed together). The point's sampling is
    the one most flashes of the first chunk share (a chunk holds thousands of flashes).
    The first pass keeps each chunk's raw ADC codes while they fit ``cache_bytes`` (about
    1 byte per 8-bit sample: 16 MB hold 30,000 GIN flashes), so that later passes only
    convert them to volts; beyond, every pass reads the files again, so that memory stays
    flat at any number of flashes. ``errors`` (files that could not be read) is complete
    after the first pass.
    """

    def __init__(self, paths: Sequence[str | os.PathLike], chunk: int = 1024,
                 cache_bytes: int = 16 << 20, with_paths: bool = False,
                 batch_bytes: int = 8 << 20, read: ReadSettings = DEFAULT_READ):
        self.read = read  # what the files' format needs (pmtgain.io.readers)
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
        self._cache: list[Block] | None = None
        self._passes = 0

    @property
    def n_files(self) -> int:
        bad = {p for p, _ in self.errors}
        return sum(1 for p in self.paths if p not in bad)

    def _batches(self, errors: list | None) -> Iterator[list[Block]]:
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
                yield parse_batch(batch, self.read, errors)
                batch, size = [], 0
        if batch:
            yield parse_batch(batch, self.read, errors)

    def _traces(self, pack: Block, errors: list) -> ManyTraces:
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
            trigger_time_s=pack.times + (pack.epoch if pack.epoch is not None else 0.0),
            segment_time_s=pack.times)

    def _empty(self, errors: list) -> ManyTraces:
        npts = self.npts or 0
        return ManyTraces(volts=np.empty((0, npts)), t0_s=np.zeros(0),
                          dt_s=float(self.dt) if self.dt is not None else float("nan"),
                          clipped=np.zeros(0, bool), ok_paths=[],
                          ok_index=np.zeros(0, np.int64), errors=errors,
                          segment=np.zeros(0, np.int64), trigger_time_s=np.zeros(0),
                          segment_time_s=np.zeros(0))

    def __iter__(self) -> Iterator[ManyTraces]:
        first = self._passes == 0
        if self._cache is not None:
            for pack in self._cache:
                yield self._traces(pack, [])
            self._passes += 1
            return
        errors = self.errors if first else []
        cache: list[Block] | None = [] if first and self.cache_bytes > 0 else None
        size = total = 0
        pending: list[Block] = []
        n_pending = 0

        def emit(blocks: list[Block]) -> ManyTraces:
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
            pack = pack_blocks(keep)
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
                out, pending = take(pending, self.chunk)
                n_pending -= self.chunk
                yield emit(out)
        if pending or total == 0:
            yield emit(pending) if pending else self._empty(errors)
        if first:
            self.n_flashes = total
            self._cache = cache
        self._passes += 1

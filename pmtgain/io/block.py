"""The unit every reader delivers: the flashes of consecutive files as raw codes.

What to use when
----------------
- :class:`Block` - what a reader (:mod:`pmtgain.io.readers`) returns for a file and what
  :class:`pmtgain.io.flashes.ChunkReader` checks, chunks and caches: one row of raw codes
  per flash with its file, gain, offset, sample spacing, trigger time and segment.
- :func:`file_block` - one file's flashes as a block (the readers' common constructor).
- :class:`Format` - a reader made of its functions (each format module has one; the
  interface is :class:`pmtgain.io.readers.Reader`).
- :func:`pack` / :func:`take` - several blocks as one (dtypes promoted, clipping marked);
  the first ``n`` flashes of a list of blocks.

``volts = codes * gain - voff``, whatever the format (LeCroy's VERTICAL_GAIN and
VERTICAL_OFFSET; a digitizer's volts per ADC step and offset; ``gain = 1, voff = 0`` for
data stored as volts). ``floor`` is the ADC's lowest code: a flash with a sample at it is
clipped (a saturated negative pulse); ``-inf`` where the format does not know its range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Block", "Format", "file_block", "pack", "take"]


@dataclass
class Block:
    """Flashes of consecutive files that share their points per segment: ``codes`` are the
    raw values (int8/int16/uint16/int32 ADC codes, or float volts), every other array has
    one value per flash."""

    idx: np.ndarray  # the file of each flash (position in the reader's list)
    codes: np.ndarray  # (n, points)
    gain: np.ndarray
    voff: np.ndarray
    dt: np.ndarray
    times: np.ndarray  # trigger times (s) since the file's epoch (a sequence's segments')
    offsets: np.ndarray  # time of sample 0 relative to the trigger (s)
    segment: np.ndarray
    floor: np.ndarray  # the ADC's lowest code per flash (-inf: unknown)
    clipped: np.ndarray | None = None  # filled when packed
    #: the file's own time (s since 1970; 0: none): apart, so that the segments' times
    #: keep their precision (a float64 of 1.7e9 s has steps of 238 ns)
    epoch: np.ndarray | None = None

    def __len__(self) -> int:
        return self.codes.shape[0]

    def arrays(self) -> dict[str, np.ndarray | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def rows(self, sel) -> Block:
        return Block(**{k: None if v is None else v[sel] for k, v in self.arrays().items()})

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.arrays().values() if v is not None)


def _no_settings_needed(settings) -> None:
    return None


@dataclass(frozen=True)
class Format:
    """A format's reader: its name, extensions, magic-byte test, settings check and parser
    (:class:`pmtgain.io.readers.Reader`)."""

    name: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    parse: Callable  # (k, buf, path, settings) -> Block
    check: Callable = _no_settings_needed  # (settings) -> None, ValueError if incomplete


def file_block(k: int, codes: np.ndarray, gain: float, voff: float, dt: float,
               times, offsets, floor: float, epoch: float = 0.0) -> Block:
    """The ``codes.shape[0]`` flashes of file ``k`` (a single record: one row)."""
    n = codes.shape[0]
    return Block(idx=np.full(n, k, np.int64), codes=codes, gain=np.full(n, float(gain)),
                 voff=np.full(n, float(voff)), dt=np.full(n, float(dt)),
                 times=np.broadcast_to(np.asarray(times, float), (n,)).copy(),
                 offsets=np.broadcast_to(np.asarray(offsets, float), (n,)).copy(),
                 segment=np.arange(n, dtype=np.int64), floor=np.full(n, float(floor)),
                 epoch=np.full(n, float(epoch)))


def pack(blocks: list[Block]) -> Block:
    """One block of a chunk's blocks (codes promoted to a dtype that holds them all, e.g.
    8-bit files among 16-bit ones), with ``clipped``: a sample at the ADC's lowest code."""
    clipped = np.concatenate([b.codes.min(axis=1) <= b.floor if len(b)
                              else np.zeros(0, bool) for b in blocks])
    raws = [b.codes for b in blocks]
    if len({r.dtype for r in raws}) > 1:
        common = np.result_type(*raws)
        raws = [r.astype(common) for r in raws]
    out = {k: np.concatenate([np.zeros(len(b)) if getattr(b, k) is None else getattr(b, k)
                              for b in blocks])
           for k in blocks[0].arrays() if k not in ("codes", "clipped")}
    return Block(**out, codes=raws[0] if len(raws) == 1 else np.concatenate(raws),
                 clipped=clipped)


def take(pending: list[Block], n: int) -> tuple[list[Block], list[Block]]:
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

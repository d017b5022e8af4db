"""CAEN WaveDump files: one channel of a digitizer's run, binary or ASCII.

What to use when
----------------
- :data:`BINARY` - ``wave<ch>.dat`` written with ``OUTPUT_FILE_FORMAT BINARY``: each event
  is a header of six little-endian 32-bit words (event size in bytes with the header,
  board, pattern, channel, event counter, trigger time tag) followed by the samples
  (uint16 ADC codes; float32 on the x742 boards: ``sample_bytes=4``). Without
  ``OUTPUT_FILE_HEADER YES`` give ``header=no record_length=<samples>``.
- :data:`ASCII` - ``wave<ch>.txt`` (``OUTPUT_FILE_FORMAT ASCII``): per event the header
  lines (``Record Length: N``, ``BoardID``, ``Channel``, ``Event Number``, ``Pattern``,
  ``Trigger Time Stamp``, ``DC offset (DAC)``) then one sample per line.

Source: CAEN, "WaveDump User Manual" (UM2091), output file formats. Neither records the
sampling or the volts per code: ``dt_ns=`` (2 on a V1730, 4 on a V1725) and
``volts_per_code=`` (the input range / 2**bits, e.g. 2 V / 16384) are needed. Codes are
unsigned: a sample at code 0 (or ``adc_min=``) is clipped. The trigger time tag counts
``tick_ns`` periods in 31 bits; its roll-overs are unwrapped. A last event cut short (a
run stopped while writing) is not a flash: the complete events before it are read.
"""

from __future__ import annotations

import math
import re

import numpy as np

from pmtgain.errors import TrcError
from pmtgain.io.block import Block, Format, file_block

__all__ = ["BINARY", "ASCII", "HEADER_BYTES"]

HEADER_BYTES = 24
_SAMPLE = {1: "u1", 2: "<u2", 4: "<f4"}


def _needs(settings) -> None:
    missing = [n for n in ("dt_ns", "volts_per_code") if math.isnan(getattr(settings, n))]
    if missing:
        raise ValueError(f"format={settings.format} needs {' and '.join(missing)} (WaveDump "
                         "records neither)")


def _times(ttt: np.ndarray, tick_ns: float) -> np.ndarray:
    """Trigger times (s) from 31-bit trigger time tags, roll-overs unwrapped."""
    t = (ttt.astype(np.int64) & 0x7FFFFFFF)
    wraps = np.concatenate([[0], np.cumsum(np.diff(t) < 0)])
    return (t + wraps * (1 << 31)) * tick_ns * 1e-9


def _block(k: int, codes: np.ndarray, ttt: np.ndarray | None, path: str, settings) -> Block:
    settings.require(path, "dt_ns", "volts_per_code")
    if codes.shape[0] == 0 or codes.shape[1] < 2:
        raise TrcError(path, "no complete event")
    floor = settings.floor(0.0 if codes.dtype.kind == "u" else -math.inf)
    times = 0.0 if ttt is None else _times(ttt, settings.tick_ns)
    return file_block(k, codes, settings.scale(path, True), settings.offset_V,
                      settings.dt_s(path), times, settings.t0_ns * 1e-9, floor)


def _binary(k: int, buf: bytes, path: str, settings) -> Block:
    sample = np.dtype(_SAMPLE[settings.sample_bytes])
    if not settings.header:
        n = settings.record_length
        if n <= 0:
            raise TrcError(path, "a WaveDump file without headers needs record_length=")
        count = len(buf) // (n * sample.itemsize)
        return _block(k, np.frombuffer(buf, sample, count * n).reshape(count, n), None,
                      path, settings)
    if len(buf) < HEADER_BYTES:
        raise TrcError(path, f"{len(buf)} bytes, shorter than one event header")
    size = int(np.frombuffer(buf, "<u4", 1)[0])
    n, rem = divmod(size - HEADER_BYTES, sample.itemsize)
    if size <= HEADER_BYTES or rem:
        raise TrcError(path, f"the first event header gives {size} bytes: not a WaveDump "
                       f"event of {sample.itemsize}-byte samples (give header=no "
                       "record_length= for files without headers)")
    if size > len(buf):
        raise TrcError(path, f"the first event is {size} bytes, the file {len(buf)}")
    ev = np.dtype([("h", "<u4", (6,)), ("s", sample, (n,))])
    events = np.frombuffer(buf, ev, len(buf) // size)
    sizes = events["h"][:, 0]
    if (sizes != size).any():
        j = int(np.flatnonzero(sizes != size)[0])
        raise TrcError(path, f"event {j} is {int(sizes[j])} bytes, the first {size}: records "
                       "of one length per point")
    return _block(k, events["s"], events["h"][:, 5], path, settings)


def _sample_lines(buf: bytes, path: str) -> np.ndarray:
    """Every line of ``buf`` that starts with a digit, as an unsigned number of at most
    five digits; the others (header lines) skipped. Vectorised over the bytes (about 20 ns
    a sample, a quarter of ``int()`` per line): each line's last five characters are
    weighed by their place."""
    b = np.frombuffer(buf, np.uint8)
    end = np.flatnonzero(b == 10)
    if b.size and b[-1] != 10:
        end = np.append(end, b.size)
    start = np.empty_like(end)
    start[:1], start[1:] = 0, end[:-1] + 1
    padded = np.append(b, np.uint8(10))
    end = end - (padded[np.maximum(end - 1, 0)] == 13)  # CRLF
    first = padded[np.minimum(start, b.size)]
    digit = ((first - np.uint8(48)) <= 9) & (end > start)
    letter = ((first | np.uint8(32)) - np.uint8(97)) <= 25
    if (~(digit | letter | (end <= start))).any():  # a space, tab or sign: not skipped
        raise TrcError(path, "a line starts with neither a digit nor a letter (a sample "
                       "with a sign or a space?)")
    start, end = start[digit], end[digit]
    width = end - start
    if width.size and width.max() > 5:
        raise TrcError(path, "a sample line has more than 5 digits: not ADC codes")
    v = np.zeros(start.size, np.int32)
    bad = np.zeros(start.size, bool)
    for j, place in enumerate((1, 10, 100, 1000, 10000), start=1):
        dj = padded[np.maximum(end - j, 0)].astype(np.int32) - 48
        inside = width >= j
        bad |= inside & ((dj < 0) | (dj > 9))
        v += np.where(inside, dj, 0) * place
    if bad.any():
        raise TrcError(path, "a line is neither a header nor a sample")
    return v


def _ascii(k: int, buf: bytes, path: str, settings) -> Block:
    n = settings.record_length
    stamps = None
    if buf.startswith(b"Record Length:"):
        m = re.match(rb"Record Length:\s*(\d+)", buf)
        if m is None:
            raise TrcError(path, "Record Length is not a number")
        n = int(m.group(1))
        stamps = np.array(re.findall(rb"Trigger Time Stamp:\s*(\d+)", buf), np.int64)
        lengths = set(re.findall(rb"Record Length:\s*(\d+)", buf))
        if len(lengths) > 1:
            raise TrcError(path, f"records of {len(lengths)} lengths: one length per point")
    elif n <= 0:
        raise TrcError(path, "a WaveDump text file without headers needs record_length=")
    if buf.startswith(b"-") or b"\n-" in buf:
        raise TrcError(path, "a sample is negative: not ADC codes")
    values = _sample_lines(buf, path)
    count = values.size // max(n, 1)
    if stamps is not None and stamps.size == 0:
        stamps = None  # headers without the time stamp line
    if stamps is not None and stamps.size not in (count, count + 1):
        raise TrcError(path, f"{stamps.size} event headers for {count} events of {n} samples")
    codes = values[:count * n].reshape(count, n)
    if count and codes.max() > 65535:
        raise TrcError(path, "a sample is outside 0..65535: not ADC codes")
    return _block(k, codes.astype(np.uint16), None if stamps is None else stamps[:count],
                  path, settings)


BINARY = Format("wavedump", (".dat",), lambda head: False, _binary, _needs)
ASCII = Format("wavedump_ascii", (".txt",),
               lambda head: head.startswith(b"Record Length:"), _ascii, _needs)

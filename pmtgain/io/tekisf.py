"""Tektronix ``.isf`` files: the scope's waveform preamble, then the binary curve.

What to use when
----------------
- :data:`ISF` - a file saved by a Tektronix scope (TDS, DPO, MSO series) as ``.isf``:
  one record, or FastFrame frames (``NR_FR`` frames of ``NR_PT`` points) as segments.

Source: Tektronix programmer manuals, ``WFMOutpre`` (``WFMPre``) and ``CURVe``: the
preamble is ``;``-separated ``KEY value`` items, long (``BYT_NR``) or short (``BYT_N``)
forms, ending with ``:CURVE #<d><length><bytes>``. ``volts = (code - YOFF) * YMULT +
YZERO`` and sample i is at ``XZERO + (i - PT_OFF) * XINCR``. Binary encoding only
(``ENCDG BIN``), 1 or 2 bytes per point, signed (``RI``) or unsigned (``RP``), either byte
order; a sample at the lowest code is clipped. Every inconsistency raises a one-line
error naming the file.
"""

from __future__ import annotations

import math
import re

import numpy as np

from pmtgain.errors import TrcError
from pmtgain.io.block import Block, Format, file_block

__all__ = ["ISF", "parse_preamble"]

#: canonical preamble keys and their short forms
_KEYS = {"BYT_NR": "BYT_N", "BIT_NR": "BIT_N", "ENCDG": "ENC", "BN_FMT": "BN_F",
         "BYT_OR": "BYT_O", "NR_PT": "NR_P", "XINCR": "XIN", "XZERO": "XZE", "PT_OFF": "PT_O",
         "YMULT": "YMU", "YOFF": "YOF", "YZERO": "YZE", "NR_FR": "NR_FR", "WFID": "WFI",
         "XUNIT": "XUN", "YUNIT": "YUN", "PT_FMT": "PT_F"}
_CANON = {**{k: k for k in _KEYS}, **{v: k for k, v in _KEYS.items()}}
_CURVE = re.compile(rb":CURV(?:E)?\s+#(\d)")


def parse_preamble(text: str) -> dict[str, str]:
    """The preamble's items by canonical key (``BYT_N 2`` -> ``{"BYT_NR": "2"}``)."""
    out: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if item.startswith(":"):  # ':WFMPRE:BYT_NR 2' / ':WFMOUTPRE:BYT_NR 2'
            item = item.rsplit(":", 1)[1]
        key, _, value = item.partition(" ")
        canon = _CANON.get(key.upper())
        if canon:
            out[canon] = value.strip().strip('"')
    return out


def _number(h: dict, key: str, path: str, kind=float):
    if key not in h:
        raise TrcError(path, f"the preamble has no {key}")
    try:
        v = kind(h[key])
    except ValueError:
        raise TrcError(path, f"{key} is {h[key]!r}, not a number") from None
    if not math.isfinite(v):
        raise TrcError(path, f"{key} is {h[key]!r}")
    return v


def _parse(k: int, buf: bytes, path: str, settings) -> Block:
    m = _CURVE.search(buf, 0, 4096)
    if m is None:
        raise TrcError(path, "no :CURVE block in the first 4 kB: not an .isf file")
    h = parse_preamble(buf[:m.start()].decode("latin-1"))
    d = int(m.group(1))
    digits = buf[m.end():m.end() + d]
    if d == 0 or len(digits) < d or not digits.isdigit():
        raise TrcError(path, "the :CURVE block's length is not a number")
    start, length = m.end() + d, int(digits)
    if h.get("ENCDG", "BIN").upper() not in ("BIN", "BINARY"):
        raise TrcError(path, f"encoding {h['ENCDG']!r}: only binary curves are read")
    width = _number(h, "BYT_NR", path, int)
    if width not in (1, 2):
        raise TrcError(path, f"BYT_NR is {width}, expected 1 or 2")
    signed = h.get("BN_FMT", "RI").upper() != "RP"
    order = ">" if h.get("BYT_OR", "MSB").upper() == "MSB" else "<"
    dtype = np.dtype(f"{order}{'i' if signed else 'u'}{width}")
    npt, dt = _number(h, "NR_PT", path, int), _number(h, "XINCR", path)
    if dt <= 0:
        raise TrcError(path, f"XINCR is {dt!r}, not a positive sample spacing")
    ymult = _number(h, "YMULT", path)
    if ymult <= 0:
        raise TrcError(path, f"YMULT is {ymult!r}, not a positive volts per code")
    yoff, yzero = _number(h, "YOFF", path), _number(h, "YZERO", path)
    xzero = _number(h, "XZERO", path)
    pt_off = _number(h, "PT_OFF", path) if h.get("PT_OFF") else 0.0
    frames = _number(h, "NR_FR", path, int) if h.get("NR_FR") else 1
    if frames < 1:
        raise TrcError(path, f"NR_FR is {frames}, not a number of frames")
    if len(buf) < start + length:
        raise TrcError(path, f"truncated: the curve is {length} bytes, "
                       f"{len(buf) - start} present")
    if length % width:
        raise TrcError(path, f"a curve of {length} bytes is not whole {width}-byte points")
    total = length // width
    per = npt if total == npt * frames else total // frames
    if per < 2 or per * frames != total or npt not in (per, total):
        raise TrcError(path, f"the curve holds {total} points, NR_PT is {npt} for {frames} "
                       "frame(s)")
    codes = np.frombuffer(buf, dtype, total, start).reshape(frames, per)
    floor = settings.floor(float(np.iinfo(dtype).min))
    return file_block(k, codes, ymult, yoff * ymult - yzero, dt, 0.0,
                      xzero - pt_off * dt, floor)


ISF = Format("isf", (".isf",), lambda head: bool(re.match(rb":WFM(?:P|O)", head)), _parse)

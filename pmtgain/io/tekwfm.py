"""Tektronix ``.wfm`` files (version 3, the DPO/MSO 5/6/7000 series): FastFrame included.

What to use when
----------------
- :data:`WFM` - a waveform saved by a Tektronix performance scope as ``.wfm``: one record,
  or the frames of a FastFrame acquisition as segments, each with its trigger time.

Source: Tektronix, "Performance Oscilloscope Reference Waveform File Format" (077-0220-11),
little-endian version 3 (``:WFM#003``): an 838-byte static header; for N+1 FastFrame
frames, N update specs (24 bytes: real point offset, trigger time offset, fractional
second, GMT second) and N curve specs (30 bytes) follow it; the curve buffer holds each
frame's pre-charge, data and post-charge points (the first curve spec's data start,
post-charge start and stop offsets, in bytes). ``volts = code * scale + offset`` of the
explicit dimension; sample i is at ``offset + i * scale`` of the implicit one. int8,
int16 and float32 curves; a sample at an integer curve's lowest code is clipped.
Versions 1 and 2 and big-endian files are refused with the reason (their header offsets
differ).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from pmtgain.errors import TrcError
from pmtgain.io.block import Block, Format, file_block

__all__ = ["WFM", "HEADER_BYTES", "UPDATE_SPEC", "CURVE_SPEC_BYTES", "FORMAT_CODES"]

HEADER_BYTES = 838
#: per extra FastFrame frame: real point offset, trigger time offset, fractional second,
#: GMT second
UPDATE_SPEC = np.dtype([("point", "<i4"), ("tt", "<f8"), ("frac", "<f8"), ("gmt", "<i4")])
CURVE_SPEC_BYTES = 30
#: the explicit dimension's format code -> (dtype, bytes per point)
FORMAT_CODES = {7: "i1", 0: "<i2", 4: "<f4"}

_F = {"order": ("<H", 0), "version": ("8s", 2), "bps": ("<b", 15), "curve": ("<i", 16),
      "n_extra": ("<I", 72), "fastframe": ("<I", 78), "imp_dims": ("<I", 114),
      "exp_dims": ("<I", 118), "record_type": ("<I", 122), "vscale": ("<d", 168),
      "voffset": ("<d", 176), "code": ("<i", 240), "dt": ("<d", 488), "t0": ("<d", 496),
      "tt": ("<d", 788), "frac": ("<d", 796), "gmt": ("<i", 804), "pre": ("<I", 822),
      "post": ("<I", 826), "stop": ("<I", 830)}


def _header(buf: bytes, path: str) -> dict:
    if len(buf) < HEADER_BYTES:
        raise TrcError(path, f"{len(buf)} bytes, shorter than the {HEADER_BYTES}-byte header")
    h = {k: struct.unpack_from(f, buf, o)[0] for k, (f, o) in _F.items()}
    if h["order"] != 0x0F0F:
        raise TrcError(path, "a big-endian .wfm: only little-endian files are read")
    if h["version"] != b":WFM#003":
        raise TrcError(path, f"version {h['version'].decode('latin-1')!r}: only :WFM#003 "
                       "files are read")
    if (h["imp_dims"], h["exp_dims"], h["record_type"]) != (1, 1, 2):
        raise TrcError(path, "not a single-channel waveform vector (dimensions "
                       f"{h['imp_dims']}/{h['exp_dims']}, record type {h['record_type']})")
    return h


def _parse(k: int, buf: bytes, path: str, settings) -> Block:
    h = _header(buf, path)
    if h["code"] not in FORMAT_CODES:
        raise TrcError(path, f"curve format code {h['code']}: int8, int16 or float32 only")
    dtype = np.dtype(FORMAT_CODES[h["code"]])
    if dtype.itemsize != h["bps"]:
        raise TrcError(path, f"{h['bps']} bytes per point for a {dtype} curve")
    for name in ("dt", "vscale", "voffset", "t0"):
        if not math.isfinite(h[name]):
            raise TrcError(path, f"{name} is {h[name]!r}")
    if h["dt"] <= 0 or h["vscale"] <= 0:
        raise TrcError(path, f"sample spacing {h['dt']!r} s and volts per code "
                       f"{h['vscale']!r} must be positive")
    frames = h["n_extra"] + 1 if h["fastframe"] else 1
    pre, post, stop = h["pre"], h["post"], h["stop"]
    if not pre <= post <= stop or (post - pre) % dtype.itemsize or stop % dtype.itemsize \
            or post - pre < 2 * dtype.itemsize:
        raise TrcError(path, f"curve offsets {pre}/{post}/{stop} bytes are inconsistent")
    need = h["curve"] + frames * stop
    if h["curve"] < HEADER_BYTES + (frames - 1) * (UPDATE_SPEC.itemsize + CURVE_SPEC_BYTES) \
            or len(buf) < need:
        raise TrcError(path, f"truncated: {len(buf)} bytes, the header describes {need}")
    curve = np.frombuffer(buf, dtype, frames * stop // dtype.itemsize, h["curve"])
    codes = curve.reshape(frames, stop // dtype.itemsize)[
        :, pre // dtype.itemsize:post // dtype.itemsize]
    times = np.zeros(frames)
    if frames > 1:
        specs = np.frombuffer(buf, UPDATE_SPEC, frames - 1, HEADER_BYTES)
        times[1:] = (specs["gmt"] - h["gmt"]) + (specs["frac"] - h["frac"])
    floor = settings.floor(float(np.iinfo(dtype).min) if dtype.kind == "i" else -np.inf)
    if dtype.kind == "f":
        codes = codes.astype(np.float64)
        if not np.isfinite(codes).all():
            raise TrcError(path, "a sample is not a number (NaN or infinite)")
    return file_block(k, codes, h["vscale"], -h["voffset"], h["dt"], times, h["t0"], floor)


WFM = Format("wfm", (".wfm",), lambda head: head[:2] == b"\x0f\x0f" and
             head[2:7] == b":WFM#", _parse)

"""Write LeCroy ``.trc`` files (template ``LECROY_2_3``): what the simulator and the tests
use to produce real bytes. The format is described in :mod:`pmtgain.io.trc`."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np

from pmtgain.io.trc import DESC, DESC_FIELDS, TEMPLATE, WAVEDESC_LENGTH

__all__ = ["write_trc"]


def write_trc(
    path: str | os.PathLike | None,
    volts: np.ndarray,
    *,
    dt_s: float,
    t0_s: float = 0.0,
    bits: int = 8,
    little_endian: bool = True,
    vertical_gain: float | None = None,
    vertical_offset: float = 0.0,
    trigger_times: np.ndarray | None = None,
    trigger_offsets: np.ndarray | None = None,
    ris_offsets: np.ndarray | None = None,
    user_text: bytes = b"",
    instrument: str = "LECROYWR640Zi",
    trigger_time: _dt.datetime | None = None,
    prefix: bool = True,
) -> bytes:
    """Quantise ``volts`` (points, or segments x points) and write a LECROY_2_3 file.

    ``raw = round((volts + vertical_offset) / vertical_gain)``, clipped to the ADC range
    (that is how an oscilloscope saturates). ``vertical_gain`` defaults to the step that
    maps +-max|volts| onto the ADC range. Sequence mode is written when ``volts`` is 2-D
    or trigger arrays are given. Returns the bytes; writes them when ``path`` is given.
    """
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    v = np.atleast_2d(np.asarray(volts, dtype=np.float64))
    nseg, npts = v.shape
    lo, hi = (-128, 127) if bits == 8 else (-32768, 32767)
    if vertical_gain is None:
        span = float(np.max(np.abs(v + vertical_offset))) or 1.0
        vertical_gain = span / (hi - 1)
    raw = np.clip(np.rint((v + vertical_offset) / vertical_gain), lo, hi)
    order = "<" if little_endian else ">"
    raw = raw.astype(order + ("i1" if bits == 8 else "i2"))
    sequence = nseg > 1 or trigger_times is not None or trigger_offsets is not None
    if sequence:
        tt = np.zeros(nseg) if trigger_times is None else np.asarray(trigger_times, float)
        to = (np.full(nseg, t0_s) if trigger_offsets is None
              else np.asarray(trigger_offsets, float))
        trig_bytes = np.column_stack([tt, to]).astype(order + "f8").tobytes()
        horiz_offset = float(to[0])
    else:
        trig_bytes = b""
        horiz_offset = float(t0_s)
    ris_bytes = b"" if ris_offsets is None else np.asarray(ris_offsets, order + "f8").tobytes()
    data = raw.tobytes()
    when = trigger_time or _dt.datetime(2024, 3, 1, 12, 0, 0)
    f = dict.fromkeys(DESC_FIELDS, 0)
    f.update(
        descriptor_name=b"WAVEDESC",
        template=TEMPLATE.encode(),
        comm_type=0 if bits == 8 else 1,
        comm_order=1 if little_endian else 0,
        wave_descriptor=WAVEDESC_LENGTH,
        user_text=len(user_text),
        trigtime_array=len(trig_bytes),
        ris_time_array=len(ris_bytes),
        wave_array_1=len(data),
        instrument_name=instrument.encode()[:15],
        trace_label=b"",
        wave_array_count=nseg * npts,
        pnts_per_screen=npts,
        first_valid_pnt=0,
        last_valid_pnt=nseg * npts - 1,
        subarray_count=nseg,
        sweeps_per_acq=1,
        vertical_gain=vertical_gain,
        vertical_offset=vertical_offset,
        max_value=hi * vertical_gain - vertical_offset,
        min_value=lo * vertical_gain - vertical_offset,
        nominal_bits=bits,
        nom_subarray_count=nseg,
        horiz_interval=dt_s,
        horiz_offset=horiz_offset,
        pixel_offset=horiz_offset,
        vertunit=b"V",
        horunit=b"S",
        trig_seconds=when.second + when.microsecond * 1e-6,
        trig_minutes=when.minute,
        trig_hours=when.hour,
        trig_days=when.day,
        trig_months=when.month,
        trig_year=when.year,
        record_type=7 if sequence else 0,
        probe_att=1.0,
        vertical_vernier=1.0,
        wave_source=0,
    )
    desc = DESC[order].pack(*(f[name] for name in DESC_FIELDS))
    body = desc + user_text + trig_bytes + ris_bytes + data
    out = (b"#9%09d" % len(body) + body) if prefix else body
    if path is not None:
        Path(path).write_bytes(out)
    return out

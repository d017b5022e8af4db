"""The LeCroy ``.trc`` format (WAVEDESC template ``LECROY_2_3``) and reading one file.

What to use when
----------------
- :func:`read_trc` - one file, everything in it: the header as a typed :class:`TrcHeader`,
  volts as a ``segments x points`` array, the exact time axis, trigger times and offsets.
- :func:`read_header` - only the header (``pmtgain inspect``).
- :mod:`pmtgain.io.flashes` - the files of a point, fast, as flashes (``read_many``, chunks).
- :mod:`pmtgain.io.trcwrite` - write a file (the simulator and the tests use it).

Every malformed file raises :class:`TrcError`, whose message names the file and the reason.

Format (LeCroy "Remote Control Manual", WAVEDESC template LECROY_2_3): an optional ``#9``
+ 9 digit prefix, the 346-byte WAVEDESC block, then USER_TEXT, TRIGTIME (float64 pairs of
trigger time and trigger offset per segment), RIS_TIME (float64 per sweep) and the sample
array(s). ``volts = VERTICAL_GAIN * raw - VERTICAL_OFFSET``; sample i of segment k is at
``t = offset_k + i * HORIZ_INTERVAL`` where ``offset_k`` is the segment's trigger offset
(``HORIZ_OFFSET`` for single-sweep records). ``lecroyparser`` builds its time axis with
``linspace(0, N*dt, N)``, a spacing of ``dt*N/(N-1)``; this reader does not.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import stat
import struct
from dataclasses import asdict, dataclass

import numpy as np

from pmtgain.errors import TrcError

__all__ = ["TrcHeader", "Trace", "read_trc", "read_header", "parse_trc", "parse_header",
           "check_bytes", "describe", "export_csv", "MAX_TRC_BYTES", "TEMPLATE",
           "WAVEDESC_LENGTH"]

#: a .trc larger than this is refused (a sequence file of 10^5 segments x 2000 16-bit
#: samples is 0.4 GB); see docs/design.md, "Limits"
MAX_TRC_BYTES = 1 << 30

TEMPLATE = "LECROY_2_3"
WAVEDESC_LENGTH = 346
# The whole WAVEDESC block, field by field (offsets in the module docstring's manual).
_DESC_FORMAT = "16s16s2h10i16si16s2h9i2h4f2hf2d48s48sfd4b2hf6hf2h2fh"
DESC = {order: struct.Struct(order + _DESC_FORMAT) for order in "<>"}
assert DESC["<"].size == WAVEDESC_LENGTH
DESC_FIELDS = (
    "descriptor_name template comm_type comm_order wave_descriptor user_text res_desc1 "
    "trigtime_array ris_time_array res_array1 wave_array_1 wave_array_2 res_array2 "
    "res_array3 instrument_name instrument_number trace_label reserved1 reserved2 "
    "wave_array_count pnts_per_screen first_valid_pnt last_valid_pnt first_point "
    "sparsing_factor segment_index subarray_count sweeps_per_acq points_per_pair "
    "pair_offset vertical_gain vertical_offset max_value min_value nominal_bits "
    "nom_subarray_count horiz_interval horiz_offset pixel_offset vertunit horunit "
    "horiz_uncertainty trig_seconds trig_minutes trig_hours trig_days trig_months "
    "trig_year trig_unused acq_duration record_type processing_done reserved5 "
    "ris_sweeps timebase vert_coupling probe_att fixed_vert_gain bandwidth_limit "
    "vertical_vernier acq_vert_offset wave_source"
).split()
assert len(DESC_FIELDS) == len(DESC["<"].unpack(bytes(WAVEDESC_LENGTH)))


def cstr(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


@dataclass(frozen=True)
class TrcHeader:
    """The WAVEDESC block of one file, as typed attributes (SI units)."""

    template: str
    instrument: str
    instrument_number: int
    trace_label: str
    bits: int  # 8 or 16: the sample word size
    little_endian: bool
    wave_descriptor: int
    user_text_bytes: int
    trigtime_bytes: int
    ris_time_bytes: int
    wave_array_1_bytes: int
    wave_array_2_bytes: int
    wave_array_count: int
    first_valid_pnt: int
    last_valid_pnt: int
    subarray_count: int
    vertical_gain: float
    vertical_offset: float
    nominal_bits: int
    horiz_interval: float
    horiz_offset: float
    vertical_unit: str
    horizontal_unit: str
    trigger_time: str  # ISO 8601, as the instrument wrote it
    record_type: int
    timebase: int
    vert_coupling: int
    wave_source: int
    wavedesc_offset: int  # absolute offset of the WAVEDESC block in the file
    data_offset: int  # absolute offset of the first sample

    @property
    def segments(self) -> int:
        return max(1, self.subarray_count) if self.trigtime_bytes else 1

    @property
    def points_per_segment(self) -> int:
        return self.wave_array_count // self.segments

    @property
    def dt_s(self) -> float:
        return self.horiz_interval

    def as_dict(self) -> dict:
        d = asdict(self)
        d["segments"] = self.segments
        d["points_per_segment"] = self.points_per_segment
        return d


@dataclass(frozen=True)
class Trace:
    """One file: header, volts (segments x points), trigger times and offsets (s)."""

    path: str
    header: TrcHeader
    volts: np.ndarray
    raw: np.ndarray
    trigger_times: np.ndarray
    trigger_offsets: np.ndarray
    ris_offsets: np.ndarray
    user_text: bytes

    @property
    def time(self) -> np.ndarray:
        """Exact time axis, ``segments x points``: ``offset_k + i * dt``."""
        i = np.arange(self.header.points_per_segment)
        return self.trigger_offsets[:, None] + i[None, :] * self.header.horiz_interval


def find_wavedesc(buf: bytes | memoryview, path) -> int:
    if len(buf) == 0:
        raise TrcError(path, "empty file")
    if bytes(buf[11:19]) == b"WAVEDESC":
        return 11
    pos = bytes(buf[:4096]).find(b"WAVEDESC")
    if pos < 0:
        raise TrcError(path, "no WAVEDESC block (not a LeCroy .trc file)")
    return pos


def byte_order(buf, o: int, path) -> str:
    if len(buf) < o + WAVEDESC_LENGTH:
        raise TrcError(
            path, f"truncated header: {len(buf) - o} bytes after WAVEDESC, need {WAVEDESC_LENGTH}"
        )
    value = buf[o + 34] | (buf[o + 35] << 8)  # COMM_ORDER read as little endian
    if value == 1:
        return "<"
    if value == 0:
        return ">"
    raise TrcError(path, f"COMM_ORDER is {value}, expected 0 (big endian) or 1 (little endian)")


def parse_header(buf: bytes | memoryview, path: str | os.PathLike | None = None) -> TrcHeader:
    """Parse and validate the WAVEDESC block of a file's bytes."""
    o = find_wavedesc(buf, path)
    order = byte_order(buf, o, path)
    v = DESC[order].unpack_from(buf, o)
    f = dict(zip(DESC_FIELDS, v, strict=True))
    template = cstr(f["template"])
    if template != TEMPLATE:
        raise TrcError(path, f"template {template!r} is not supported (only {TEMPLATE})")
    if f["comm_type"] not in (0, 1):
        raise TrcError(path, f"COMM_TYPE is {f['comm_type']}, expected 0 (8 bit) or 1 (16 bit)")
    for name in ("wave_descriptor", "user_text", "trigtime_array", "ris_time_array",
                 "wave_array_1", "wave_array_2", "wave_array_count"):
        if f[name] < 0:
            raise TrcError(path, f"{name.upper()} is negative ({f[name]})")
    if f["wave_descriptor"] < WAVEDESC_LENGTH:  # the samples would start inside the header
        raise TrcError(path, f"WAVE_DESCRIPTOR is {f['wave_descriptor']} bytes, less than "
                       f"the {WAVEDESC_LENGTH} of the block it describes")
    if not (math.isfinite(f["vertical_gain"]) and f["vertical_gain"] > 0):
        raise TrcError(path, f"VERTICAL_GAIN is {f['vertical_gain']!r}, not a positive volts "
                       "per ADC step (a negative one would invert the pulse)")
    try:
        trig = _dt.datetime(
            f["trig_year"], f["trig_months"], f["trig_days"], f["trig_hours"], f["trig_minutes"]
        ) + _dt.timedelta(seconds=f["trig_seconds"])
        trigger_time = trig.isoformat()
    except (ValueError, OverflowError):
        trigger_time = ""
    return TrcHeader(
        template=template,
        instrument=cstr(f["instrument_name"]),
        instrument_number=f["instrument_number"],
        trace_label=cstr(f["trace_label"]),
        bits=8 if f["comm_type"] == 0 else 16,
        little_endian=order == "<",
        wave_descriptor=f["wave_descriptor"],
        user_text_bytes=f["user_text"],
        trigtime_bytes=f["trigtime_array"],
        ris_time_bytes=f["ris_time_array"],
        wave_array_1_bytes=f["wave_array_1"],
        wave_array_2_bytes=f["wave_array_2"],
        wave_array_count=f["wave_array_count"],
        first_valid_pnt=f["first_valid_pnt"],
        last_valid_pnt=f["last_valid_pnt"],
        subarray_count=f["subarray_count"],
        vertical_gain=float(f["vertical_gain"]),
        vertical_offset=float(f["vertical_offset"]),
        nominal_bits=f["nominal_bits"],
        horiz_interval=float(f["horiz_interval"]),
        horiz_offset=float(f["horiz_offset"]),
        vertical_unit=cstr(f["vertunit"]),
        horizontal_unit=cstr(f["horunit"]),
        trigger_time=trigger_time,
        record_type=f["record_type"],
        timebase=f["timebase"],
        vert_coupling=f["vert_coupling"],
        wave_source=f["wave_source"],
        wavedesc_offset=o,
        data_offset=o + f["wave_descriptor"] + f["user_text"] + f["trigtime_array"]
        + f["ris_time_array"],
    )


def _check_sizes(h: TrcHeader, n_bytes: int, path) -> None:
    word = h.bits // 8
    if h.wave_array_count <= 0:
        raise TrcError(path, f"WAVE_ARRAY_COUNT is {h.wave_array_count}: no samples")
    if h.wave_array_1_bytes != h.wave_array_count * word:
        raise TrcError(
            path,
            f"WAVE_ARRAY_1 is {h.wave_array_1_bytes} bytes but WAVE_ARRAY_COUNT "
            f"{h.wave_array_count} x {word} byte samples = {h.wave_array_count * word}",
        )
    end = h.data_offset + h.wave_array_1_bytes + h.wave_array_2_bytes
    if n_bytes < end:
        raise TrcError(path, f"truncated: {n_bytes} bytes, the header describes {end}")
    if h.trigtime_bytes and h.trigtime_bytes != 16 * max(1, h.subarray_count):
        raise TrcError(
            path,
            f"TRIGTIME_ARRAY is {h.trigtime_bytes} bytes, expected 16 x SUBARRAY_COUNT "
            f"({h.subarray_count})",
        )
    if h.wave_array_count % h.segments:
        raise TrcError(
            path, f"{h.wave_array_count} samples do not split into {h.segments} segments"
        )
    if not (h.horiz_interval > 0 and np.isfinite(h.horiz_interval)):
        raise TrcError(path, f"HORIZ_INTERVAL is {h.horiz_interval}, not a positive time step")


def parse_trc(buf: bytes, path: str | os.PathLike | None = None) -> Trace:
    """Parse the bytes of a whole file."""
    h = parse_header(buf, path)
    _check_sizes(h, len(buf), path)
    order = "<" if h.little_endian else ">"
    o = h.wavedesc_offset + h.wave_descriptor
    user_text = bytes(buf[o : o + h.user_text_bytes])
    o += h.user_text_bytes
    nseg = h.segments
    if h.trigtime_bytes:
        tt = np.frombuffer(buf, dtype=order + "f8", count=2 * nseg, offset=o).reshape(nseg, 2)
        trigger_times, trigger_offsets = tt[:, 0].copy(), tt[:, 1].copy()
    else:
        trigger_times = np.zeros(1)
        trigger_offsets = np.array([h.horiz_offset])
    o += h.trigtime_bytes
    ris = np.frombuffer(buf, dtype=order + "f8", count=h.ris_time_bytes // 8, offset=o).copy()
    o += h.ris_time_bytes
    dtype = order + ("i1" if h.bits == 8 else "i2")
    raw = np.frombuffer(buf, dtype=dtype, count=h.wave_array_count, offset=o)
    raw = raw.reshape(nseg, h.points_per_segment)
    volts = h.vertical_gain * raw.astype(np.float64) - h.vertical_offset
    return Trace(
        path=str(path) if path is not None else "<bytes>",
        header=h,
        volts=volts,
        raw=raw.astype(raw.dtype.newbyteorder("=")),
        trigger_times=trigger_times,
        trigger_offsets=trigger_offsets,
        ris_offsets=ris,
        user_text=user_text,
    )


def _read_bytes(path: str | os.PathLike) -> bytes:
    return read_file_fast(os.fspath(path))


def read_trc(path: str | os.PathLike) -> Trace:
    """Read one ``.trc`` file. Raises :class:`TrcError` naming the file and the reason."""
    return parse_trc(_read_bytes(path), path)


def check_bytes(buf: bytes, path: str | os.PathLike | None = None) -> TrcHeader:
    """The header of a file's bytes, its array sizes checked against their length:
    :class:`TrcError` unless they are a complete file."""
    h = parse_header(buf, path)
    _check_sizes(h, len(buf), path)
    return h


def read_header(path: str | os.PathLike) -> TrcHeader:
    """Read and check one file's header (the array sizes are checked against the file)."""
    return check_bytes(_read_bytes(path), path)


_FIRST_READ = 1 << 16


def read_file_fast(path: str) -> bytes:
    """open + one read for a file under 64 KiB (a single-flash ``.trc`` is about 1 KiB):
    about a third of the cost of ``open(path, 'rb').read()``. A larger file, an empty read
    or a failed one is looked at with ``fstat``: only regular files (a FIFO would block
    forever, so it is opened non-blocking), at most :data:`MAX_TRC_BYTES`."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise TrcError(path, "no such file") from None
    except OSError as exc:
        raise TrcError(path, exc.strerror or str(exc)) from None
    try:
        try:
            buf = os.read(fd, _FIRST_READ)
            if 0 < len(buf) < _FIRST_READ:
                return buf  # the whole file (a FIFO without a writer gives 0 bytes)
        except OSError:
            buf = b""
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise TrcError(path, "is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise TrcError(path, "is not a regular file")
        if st.st_size > MAX_TRC_BYTES:
            raise TrcError(path, f"{st.st_size} bytes, more than the {MAX_TRC_BYTES} a file "
                           "may have here")
        return os.pread(fd, st.st_size + 1, 0)  # the whole file, from its start
    except OSError as exc:
        raise TrcError(path, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def describe(path: str | os.PathLike) -> dict:
    """Everything ``pmtgain inspect`` shows about one file."""
    tr = read_trc(path)
    h = tr.header
    return {
        "file": str(path), "instrument": h.instrument, "template": h.template,
        "bits": h.bits, "nominal_bits": h.nominal_bits, "little_endian": h.little_endian,
        "segments": h.segments, "points_per_segment": h.points_per_segment,
        "dt_s": h.horiz_interval, "t0_s": float(tr.trigger_offsets[0]),
        "vertical_gain": h.vertical_gain, "vertical_offset": h.vertical_offset,
        "vertical_unit": h.vertical_unit, "horizontal_unit": h.horizontal_unit,
        "trigger_time": h.trigger_time,
        "trigger_times_s": [float(x) for x in tr.trigger_times],
        "trigger_offsets_s": [float(x) for x in tr.trigger_offsets],
        "user_text_bytes": h.user_text_bytes, "ris_time_bytes": h.ris_time_bytes,
        "record_type": h.record_type, "volts_min": float(tr.volts.min()),
        "volts_max": float(tr.volts.max()),
    }


def export_csv(path: str | os.PathLike, out: str | os.PathLike) -> int:
    """``segment,time_s,volts`` rows of one file into ``out``; returns the number of rows.
    OSError (a directory, an unwritable place, a closed pipe) is the caller's to report."""
    import csv

    tr = read_trc(path)
    t = tr.time
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["segment", "time_s", "volts"])
        for k in range(tr.volts.shape[0]):
            w.writerows(zip([k] * t.shape[1], map(repr, t[k].tolist()),
                            map(repr, tr.volts[k].tolist()), strict=True))
    return int(tr.volts.size)

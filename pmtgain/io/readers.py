"""One interface for every format a point's flashes can be recorded in.

What to use when
----------------
- :class:`ReadSettings` - what a format does not say about itself (sampling, volts per
  ADC step, the tree and branch of a ROOT file, ...): ``key=value`` fields of a campaign
  line (:mod:`pmtgain.io.campaign`), each with its default here.
- :data:`FORMATS` / :func:`reader_for` - the readers by name; the one for a file, from the
  name the campaign gives, else the file's magic bytes, else its extension.
- :func:`parse_batch` - the files of a batch as :class:`~pmtgain.io.block.Block` (what
  :class:`pmtgain.io.flashes.ChunkReader` reads); a file that cannot be read is reported
  with its reason, never raised.
- :func:`read_blocks` - one file of any format; :func:`describe` and :func:`export_csv`
  (``pmtgain inspect`` and ``pmtgain export``).

Formats (each a :class:`Reader`; the module that reads it):

=========  ==========================================  =================================
name       what                                        module
=========  ==========================================  =================================
trc        LeCroy ``.trc`` (single and sequence)       :mod:`pmtgain.io.trcread`
root       ROOT TTree, one waveform branch (uproot)    :mod:`pmtgain.io.rootread`
wavedump   CAEN WaveDump binary ``.dat``               :mod:`pmtgain.io.wavedump`
wavedump_ascii  CAEN WaveDump ASCII ``.txt``           :mod:`pmtgain.io.wavedump`
isf        Tektronix ``.isf`` (FastFrame: segments)    :mod:`pmtgain.io.tekisf`
wfm        Tektronix ``.wfm`` v3 (FastFrame: segments) :mod:`pmtgain.io.tekwfm`
hdf5       an HDF5 dataset, flashes x samples (h5py)   :mod:`pmtgain.io.arrays`
npy        a NumPy ``.npy`` array, flashes x samples   :mod:`pmtgain.io.arrays`
=========  ==========================================  =================================
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from typing import Protocol

from pmtgain.errors import TrcError
from pmtgain.io import arrays, rootread, tekisf, tekwfm, trcread, wavedump
from pmtgain.io.block import Block

__all__ = ["ReadSettings", "DEFAULT_READ", "Reader", "FORMATS", "format_names",
           "reader_for", "parse_batch", "read_blocks", "ReadError", "incomplete", "describe",
           "export_csv"]

#: a file that cannot be read, whatever its format: ``str(err)`` is ``"<file>: <reason>"``
ReadError = TrcError


@dataclass(frozen=True)
class ReadSettings:
    """What a point's files need besides their bytes: ``key=value`` fields of its campaign
    line. Times in ns, voltages in V; NaN: not given (the file's own value, or an error
    where the format has none)."""

    #: the format's name (:data:`FORMATS`); "": from each file's magic bytes or extension
    format: str = ""
    #: the sample spacing, for formats that do not record it (wavedump, npy, hdf5, root)
    dt_ns: float = math.nan
    #: volts per ADC step (e.g. 2 V / 2**14 for a 14-bit CAEN V1730); 1 for data in volts
    volts_per_code: float = math.nan
    #: subtracted after scaling: volts = code * volts_per_code - offset_V
    offset_V: float = 0.0
    #: the ADC's lowest code (a sample there is clipped); NaN: the format's own
    adc_min: float = math.nan
    #: the time of a record's first sample relative to its trigger
    t0_ns: float = 0.0
    #: ROOT: the TTree ("": the file's only tree); HDF5: the dataset ("": the only one)
    tree: str = ""
    #: ROOT: the waveform branch (e.g. wf0: channel 0)
    branch: str = ""
    #: ROOT: a branch of trigger times (optional), and its unit in seconds
    time_branch: str = ""
    time_unit_s: float = 1.0
    #: WaveDump: samples per record (needed only without the per-event header)
    record_length: int = 0
    #: WaveDump binary: whether each event has the 24-byte header, and the sample size
    #: (2: uint16 codes; 4: float32, the x742 boards)
    header: bool = True
    sample_bytes: int = 2
    #: WaveDump: the trigger time tag's clock period (8 ns on V1725/V1730/V1751)
    tick_ns: float = 8.0

    @classmethod
    def from_fields(cls, pairs: dict[str, str]) -> ReadSettings:
        """From a campaign line's ``key=value`` text; ValueError naming a bad key or
        value."""
        types = {f.name: f.type for f in fields(cls)}
        out: dict = {}
        for key, text in pairs.items():
            if key not in types:
                raise ValueError(f"unknown field {key}= (known: {', '.join(types)}, files)")
            kind = types[key]
            try:
                if kind == "float":
                    out[key] = float(text)
                    if not math.isfinite(out[key]):
                        raise ValueError
                elif kind == "int":
                    out[key] = int(text)
                elif kind == "bool":
                    if text.lower() not in ("yes", "no", "true", "false", "1", "0"):
                        raise ValueError
                    out[key] = text.lower() in ("yes", "true", "1")
                else:
                    out[key] = text
            except ValueError:
                raise ValueError(f"{key}={text!r} is not a {kind}") from None
        s = cls(**out)
        s.check()
        return s

    def check(self) -> None:
        """ValueError naming what the format needs and is not given."""
        if self.format and self.format not in FORMATS:
            raise ValueError(f"format={self.format!r}: known formats are "
                             f"{', '.join(FORMATS)}")
        for name in ("dt_ns", "volts_per_code", "tick_ns", "time_unit_s"):
            v = getattr(self, name)
            if not math.isnan(v) and v <= 0:
                raise ValueError(f"{name}={v:g} must be positive")
        if self.sample_bytes not in (1, 2, 4):
            raise ValueError(f"sample_bytes={self.sample_bytes}: 1, 2 or 4")
        if self.record_length < 0:
            raise ValueError(f"record_length={self.record_length} is negative")
        if self.format:
            FORMATS[self.format].check(self)

    def as_fields(self) -> dict[str, str]:
        """The fields that differ from the defaults, as text (what a point's saved inputs
        record)."""
        d = DEFAULT_READ
        return {f.name: repr(getattr(self, f.name)) for f in fields(self)
                if repr(getattr(self, f.name)) != repr(getattr(d, f.name))}

    def require(self, path: str, *names: str) -> None:
        """ReadError naming every one of ``names`` that is not given."""
        missing = [f"{n}=" for n in names if math.isnan(getattr(self, n))]
        if missing:
            raise ReadError(path, f"the format does not record {' or '.join(missing)}: give "
                            f"{' and '.join(missing)} in the campaign line (--set on the "
                            "command line)")

    def dt_s(self, path: str) -> float:
        if math.isnan(self.dt_ns):
            raise ReadError(path, "the format does not record its sampling: give dt_ns= "
                            "in the campaign line")
        return self.dt_ns * 1e-9

    def scale(self, path: str, integer: bool) -> float:
        """Volts per code: ``volts_per_code``, or 1 for data stored as volts."""
        if not math.isnan(self.volts_per_code):
            return self.volts_per_code
        if integer:
            raise ReadError(path, "the file holds ADC codes: give volts_per_code= (the "
                            "digitizer's range / 2**bits) in the campaign line")
        return 1.0

    def floor(self, default: float) -> float:
        return default if math.isnan(self.adc_min) else self.adc_min


DEFAULT_READ = ReadSettings()


class Reader(Protocol):
    """What every format's reader provides (iminuit's ``typing.py`` is the model)."""

    #: the format's name in campaigns, and the extensions that mean it
    name: str
    extensions: tuple[str, ...]

    def sniff(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (its first 64 bytes) is of this format."""

    def check(self, settings: ReadSettings) -> None:
        """ValueError naming a setting the format needs and does not have."""

    def parse(self, k: int, buf: bytes, path: str, settings: ReadSettings) -> Block:
        """The flashes of file ``k`` of the reader's list; ReadError naming the reason."""


#: the readers by name (the order in which magic bytes are tried)
FORMATS: dict[str, Reader] = {r.name: r for r in (
    trcread.TRC, rootread.ROOT_TREE, wavedump.BINARY, wavedump.ASCII, tekisf.ISF,
    tekwfm.WFM, arrays.HDF5, arrays.NPY)}


def format_names() -> tuple[str, ...]:
    return tuple(FORMATS)


def reader_for(path: str, head: bytes, settings: ReadSettings = DEFAULT_READ) -> Reader:
    """The reader of a file: the campaign's ``format=``, else the one whose magic bytes
    ``head`` starts with, else the one of its extension; ReadError if none."""
    if settings.format:
        return FORMATS[settings.format]
    for r in FORMATS.values():
        if r.sniff(head):
            return r
    ext = os.path.splitext(path)[1].lower()
    for r in FORMATS.values():
        if ext in r.extensions:
            return r
    raise ReadError(path, "not a format this reader knows (by its first bytes or its "
                    f"extension {ext or '(none)'}): give format= in the campaign line "
                    f"({', '.join(FORMATS)})")


def parse_batch(batch: list[tuple[int, str, bytes | str]], settings: ReadSettings,
                errors: list | None) -> list[Block]:
    """The files of ``batch`` (index, path, bytes or the reason they could not be read)
    as blocks, in order; each file that cannot be read goes to ``errors`` as ``(path,
    reason)``. Runs of ``.trc`` files take the fast batch path
    (:func:`pmtgain.io.trcread.parse_batch`)."""
    out: list[Block] = []
    run: list = []
    trc_ok = settings.format in ("", "trc")
    for item in batch:
        k, path, buf = item
        if not isinstance(buf, bytes) or trc_ok and buf[11:19] == b"WAVEDESC":
            run.append(item)  # a standard .trc, or a reason the trc path reports
            continue
        try:
            r = reader_for(path, buf[:64], settings)
        except ReadError as exc:
            out += trcread.parse_batch(run, errors)
            run = []
            if errors is not None:
                errors.append((path, exc.reason))
            continue
        if r.name == "trc":
            run.append(item)
            continue
        out += trcread.parse_batch(run, errors)
        run = []
        try:
            out.append(r.parse(k, buf, path, settings))
        except ReadError as exc:
            if errors is not None:
                errors.append((path, exc.reason))
    out += trcread.parse_batch(run, errors)
    return out


def read_blocks(path: str | os.PathLike, settings: ReadSettings = DEFAULT_READ) -> Block:
    """Every flash of one file of any format (ReadError naming the reason)."""
    from pmtgain.io.trc import read_file_fast

    p = os.fspath(path)
    buf = read_file_fast(p)
    errors: list = []
    blocks = parse_batch([(0, p, buf)], settings, errors)
    if errors:
        raise ReadError(p, errors[0][1])
    return blocks[0]


def incomplete(buf: bytes, path: str, settings: ReadSettings = DEFAULT_READ) -> str | None:
    """Why bytes are not one whole readable file of their format (None: they are); a
    download is kept only then. A ``.trc``'s sizes are checked against its length; any
    other format is parsed."""
    from pmtgain.io.trc import check_bytes

    try:
        r = reader_for(path, buf[:64], settings)
        if r.name == "trc":
            check_bytes(buf, path)
        elif r.name == "wavedump" and settings.header and len(buf) >= 4 and \
                len(buf) % max(int.from_bytes(buf[:4], "little"), 1):
            return "not a whole number of events (cut short)"
        else:
            r.parse(0, buf, path, settings)
        return None
    except ReadError as exc:
        return exc.reason


def _volts(b: Block):
    import numpy as np

    return np.multiply(b.codes, b.gain[:, None], dtype=np.float64) - b.voff[:, None]


def describe(path: str | os.PathLike, settings: ReadSettings = DEFAULT_READ) -> dict:
    """What ``pmtgain inspect`` shows about a file of any format (a ``.trc``: its whole
    header, :func:`pmtgain.io.trc.describe`)."""
    from pmtgain.io import trc
    from pmtgain.io.trc import read_file_fast

    p = os.fspath(path)
    fmt = reader_for(p, read_file_fast(p)[:64], settings).name
    if fmt == "trc":
        return {"format": "trc", **trc.describe(p)}
    b = read_blocks(p, settings)
    v = _volts(b)
    return {"file": p, "format": fmt, "segments": len(b), "points_per_segment":
            int(b.codes.shape[1]), "dtype": str(b.codes.dtype), "dt_s": float(b.dt[0]),
            "t0_s": float(b.offsets[0]), "volts_per_code": float(b.gain[0]),
            "offset_V": float(b.voff[0]), "adc_min": float(b.floor[0]),
            "trigger_times_s": [float(x) + (float(b.epoch[i]) if b.epoch is not None else 0.0)
                                for i, x in enumerate(b.times)],
            "volts_min": float(v.min()), "volts_max": float(v.max())}


def export_csv(path: str | os.PathLike, out: str | os.PathLike,
               settings: ReadSettings = DEFAULT_READ) -> int:
    """``segment,time_s,volts`` rows of a file of any format into ``out``; the number of
    rows. Sample i of segment k is at ``t0 + i * dt`` (its trigger offset for a .trc)."""
    import csv

    import numpy as np

    b = read_blocks(path, settings)
    v = _volts(b)
    t = b.offsets[:, None] + np.arange(v.shape[1]) * b.dt[:, None]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["segment", "time_s", "volts"])
        for k in range(v.shape[0]):
            w.writerows(zip([k] * v.shape[1], map(repr, t[k].tolist()),
                            map(repr, v[k].tolist()), strict=True))
    return int(v.size)

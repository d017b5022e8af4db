"""The same flashes written in every format the readers know, for tests and benchmarks.

What to use when
----------------
- :func:`write_all` - one point's flashes (integer codes with their gain, offset and
  sampling) as one file of each format in a directory, with the campaign fields each
  needs: ``{format: (file name, {key: value})}``.
- the ``write_<format>`` functions - one format each, from the format's own tool where one
  is installable (PyROOT for ``TTree`` files, uproot, h5py, NumPy), else the bytes the
  format's manual describes (CAEN WaveDump, Tektronix ``.isf`` and ``.wfm``).

Codes are stored as their digitizers do: ``.trc``, ``.isf``, ``.npy`` and HDF5 as signed
8-bit codes; ROOT (``wf0[N]/I``) and WaveDump (uint16) as unsigned codes (``code + 128``,
with the offset moved into ``offset_V``), as a CAEN digitizer records them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from pmtgain.io.trcwrite import write_trc

__all__ = ["write_trc_seq", "write_root", "write_root_uproot", "write_wavedump",
           "write_wavedump_ascii", "write_isf", "write_wfm", "write_hdf5", "write_npy", "write_all",
           "SHIFT"]

#: the unsigned formats store ``code + SHIFT``
SHIFT = 128


def write_trc_seq(path, codes, gain, voff, dt_s, t0_s, times) -> None:
    write_trc(path, gain * codes.astype(float) - voff, dt_s=dt_s, bits=8,
              vertical_gain=gain, vertical_offset=voff, trigger_times=times,
              trigger_offsets=np.full(len(codes), t0_s))


_PYROOT = r"""
import sys, numpy as np, ROOT
codes, times = np.load(sys.argv[1]), np.load(sys.argv[2])
f = ROOT.TFile(sys.argv[3], "RECREATE")
t = ROOT.TTree("t1", "CAEN V1730 LED run")
n = codes.shape[1]
wf0 = np.zeros(n, np.int32); wf1 = np.zeros(n, np.int32); tm = np.zeros(1, np.float64)
t.Branch("wf0", wf0, f"wf0[{n}]/I"); t.Branch("wf1", wf1, f"wf1[{n}]/I")
t.Branch("Time", tm, "Time/D")
for i in range(codes.shape[0]):
    wf0[:] = codes[i]; wf1[:] = 15500; tm[0] = times[i]
    t.Fill()
t.Write(); f.Close()
"""


def write_root(path, codes, times) -> None:
    """A TTree ``t1`` with ``wf0[N]/I`` (the flashes), ``wf1[N]/I`` (a flat second
    channel) and ``Time/D`` written by ROOT itself (PyROOT, in a subprocess: importing ROOT
    costs a test process half a gigabyte)."""
    path = Path(path)
    a, b = path.with_suffix(".codes.npy"), path.with_suffix(".times.npy")
    np.save(a, np.asarray(codes, np.int32))
    np.save(b, np.asarray(times, float))
    try:
        subprocess.run([sys.executable, "-c", _PYROOT, str(a), str(b), str(path)],
                       check=True, capture_output=True, timeout=600,
                       env={**os.environ, "PYTHONWARNINGS": "ignore"})
    finally:
        a.unlink()
        b.unlink()


def write_root_uproot(path, codes, times) -> None:
    """The same tree written by uproot (``mktree``: a TTree, not an RNTuple)."""
    import uproot

    with uproot.recreate(path) as f:
        f.mktree("t1", {"wf0": (np.int32, (codes.shape[1],)), "Time": np.float64})
        f["t1"].extend({"wf0": np.asarray(codes, np.int32), "Time": np.asarray(times)})


def write_wavedump(path, codes, ttt, header=True, board=3, channel=0) -> None:
    """WaveDump binary: per event six little-endian uint32 (size, board, pattern, channel,
    event counter, trigger time tag) and uint16 samples (CAEN UM2091)."""
    n, m = codes.shape
    ev = np.zeros(n, [("h", "<u4", (6,)), ("s", "<u2", (m,))])
    ev["h"] = np.column_stack([np.full(n, 24 + 2 * m), np.full(n, board), np.zeros(n),
                               np.full(n, channel), np.arange(n), np.asarray(ttt)])
    ev["s"] = codes
    Path(path).write_bytes(ev.tobytes() if header else ev["s"].tobytes())


def write_wavedump_ascii(path, codes, ttt) -> None:
    """WaveDump ASCII with headers: seven header lines per event, one sample per line."""
    out = []
    for i, row in enumerate(codes):
        out.append(f"Record Length: {codes.shape[1]}\nBoardID:  3\nChannel: 0\n"
                   f"Event Number: {i}\nPattern: 0x0000\nTrigger Time Stamp: {int(ttt[i])}\n"
                   "DC offset (DAC): 0x1999\n")
        out.append("\n".join(map(str, row.tolist())) + "\n")
    Path(path).write_text("".join(out))


def write_isf(path, codes, ymult, yoff, yzero, dt_s, xzero, msb=True, short=False,
              frames: int = 1, width: int = 1) -> None:
    """A Tektronix ``.isf``: the ``WFMPRE`` preamble (long or short keys) and the binary
    curve of ``codes`` (all frames, FastFrame when ``frames > 1``)."""
    order = ">" if msb else "<"
    data = np.asarray(codes, f"{order}i{width}").tobytes()
    npt = codes.shape[-1]
    keys = (["BYT_N", "BIT_N", "ENC", "BN_F", "BYT_O", "NR_P", "XIN", "XZE", "PT_O", "YMU",
             "YOF", "YZE"] if short else
            ["BYT_NR", "BIT_NR", "ENCDG", "BN_FMT", "BYT_OR", "NR_PT", "XINCR", "XZERO",
             "PT_OFF", "YMULT", "YOFF", "YZERO"])
    vals = [width, 8 * width, "BIN", "RI", "MSB" if msb else "LSB", npt, repr(dt_s),
            repr(xzero), 0, repr(ymult), repr(yoff), repr(yzero)]
    items = [f"{k} {v}" for k, v in zip(keys, vals, strict=True)]
    items.insert(5, 'WFID "Ch1, DC coupling, 5.0E-2 V/div, 2.0E-8 s/div, Sample mode"')
    if frames > 1:
        items.append(f"NR_FR {frames}")
    head = (":WFMP:" if short else ":WFMPRE:") + ";".join(items)
    n = str(len(data))
    Path(path).write_bytes(f"{head};:CURVE #{len(n)}{n}".encode() + data + b"\n")


def write_wfm(path, codes, vscale, voffset, dt_s, t0_s, times=None, pre: int = 16,
              post: int = 16, fmt: int = 7) -> None:
    """A Tektronix ``.wfm`` version 3 (little-endian) of ``codes`` (frames x points), in
    the layout of the Reference Waveform File Format manual (077-0220-11): FastFrame when
    there is more than one frame, each frame with ``pre`` and ``post`` charge points."""
    import struct

    codes = np.atleast_2d(codes)
    frames, npt = codes.shape
    dtype = {7: "i1", 0: "<i2", 4: "<f4"}[fmt]
    bps = np.dtype(dtype).itemsize
    per = pre + npt + post
    curve_at = 838 + (frames - 1) * 54
    h = bytearray(838)
    times = np.zeros(frames) if times is None else np.asarray(times, float)
    gmt, frac = np.floor(times).astype(np.int64) + 1_700_000_000, times - np.floor(times)

    def put(fmt_, off, v):
        struct.pack_into(fmt_, h, off, v)

    put("<H", 0, 0x0F0F)
    put("8s", 2, b":WFM#003")
    put("<b", 15, bps)
    put("<i", 16, curve_at)
    put("<I", 72, frames - 1)
    put("<I", 78, int(frames > 1))
    put("<I", 114, 1)
    put("<I", 118, 1)
    put("<I", 122, 2)
    put("<d", 168, vscale)
    put("<d", 176, voffset)
    put("<i", 240, fmt)
    put("<d", 488, dt_s)
    put("<d", 496, t0_s)
    put("<d", 796, float(frac[0]))
    put("<i", 804, int(gmt[0]))
    put("<I", 822, pre * bps)
    put("<I", 826, (pre + npt) * bps)
    put("<I", 830, per * bps)
    put("<I", 834, per * bps)
    spec = np.zeros(frames - 1, [("point", "<i4"), ("tt", "<f8"), ("frac", "<f8"),
                                 ("gmt", "<i4")])
    spec["frac"], spec["gmt"] = frac[1:], gmt[1:]
    buf = np.zeros((frames, per), dtype)
    buf[:, :pre] = codes[:, :1]
    buf[:, pre:pre + npt] = codes
    buf[:, pre + npt:] = codes[:, -1:]
    Path(path).write_bytes(bytes(h) + spec.tobytes() + bytes(30 * (frames - 1))
                           + buf.tobytes())


def write_hdf5(path, codes, dt_s=None, name="waveforms/ch1") -> None:
    import h5py

    with h5py.File(path, "w") as f:
        ds = f.create_dataset(name, data=codes)
        if dt_s is not None:
            ds.attrs["dt_s"] = dt_s


def write_npy(path, codes) -> None:
    np.save(path, codes)


def write_all(d, codes: np.ndarray, gain: float, voff: float, dt_s: float, t0_s: float,
              root: bool = True) -> dict[str, tuple[str, dict[str, str]]]:
    """Every format of ``codes`` (int8, flashes x samples) into directory ``d``: the file
    and the campaign fields of each (``root=False``: no PyROOT-written file)."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    n = len(codes)
    times = 1e-3 * np.arange(n)  # flashes 1 ms apart
    ttt = np.rint(times / 8e-9).astype(np.int64)  # 8 ns ticks
    dt_ns = repr(dt_s * 1e9)
    t0_ns = repr(t0_s * 1e9)
    shifted = codes.astype(np.int32) + SHIFT
    off_u = repr(voff + SHIFT * gain)
    common = {"volts_per_code": repr(gain), "dt_ns": dt_ns, "t0_ns": t0_ns}
    out: dict[str, tuple[str, dict[str, str]]] = {}
    write_trc_seq(d / "run.trc", codes, gain, voff, dt_s, t0_s, times)
    out["trc"] = ("run.trc", {})
    if root:
        write_root(d / "run_root.root", shifted, times)
        out["root"] = ("run_root.root", {**common, "offset_V": off_u, "tree": "t1",
                                         "branch": "wf0", "time_branch": "Time"})
    write_root_uproot(d / "run_uproot.root", shifted, times)
    out["root_uproot"] = ("run_uproot.root", {**common, "offset_V": off_u})
    write_wavedump(d / "wave0.dat", shifted, ttt)
    out["wavedump"] = ("wave0.dat", {**common, "offset_V": off_u})
    write_wavedump_ascii(d / "wave0.txt", shifted, ttt)
    out["wavedump_ascii"] = ("wave0.txt", {**common, "offset_V": off_u})
    write_isf(d / "run.isf", codes, gain, voff / gain, 0.0, dt_s, t0_s, frames=n)
    out["isf"] = ("run.isf", {})
    write_wfm(d / "run.wfm", codes, gain, -voff, dt_s, t0_s, times=times)
    out["wfm"] = ("run.wfm", {})
    write_hdf5(d / "run.h5", codes, dt_s=None)
    out["hdf5"] = ("run.h5", {**common, "offset_V": repr(voff)})
    write_npy(d / "run.npy", codes)
    out["npy"] = ("run.npy", {**common, "offset_V": repr(voff)})
    return out

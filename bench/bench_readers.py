"""Cost per flash of reading a point in each format, side by side in one run.

    python bench/bench_readers.py [--n 5000] [--files 10]

The same ``n`` simulated flashes (demo PMT 2 at 1100 V, 502 samples) are written in every
format (:mod:`devtools.writers`) as ``--files`` files each (one ``.trc`` file per flash as
GIN records them, and the same split into sequence ``.trc`` files), then read with
:class:`pmtgain.io.flashes.ChunkReader` (one full pass, no cache: the first pass of a
point). Prints microseconds per flash (the best of 5) and the ratio to GIN's one ``.trc``
per flash, the reference of issue-free speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # devtools


def _best(f, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--files", type=int, default=10, help="files per format")
    ap.add_argument("--no-pyroot", action="store_true", help="skip the ROOT-written tree")
    args = ap.parse_args()
    import numpy as np

    from devtools.writers import write_all
    from pmtgain.io.flashes import ChunkReader
    from pmtgain.io.readers import ReadSettings
    from pmtgain.io.trcwrite import write_trc
    from pmtgain.sim.simulate import demo_pmt, scope_range, simulate_point

    pmt, hv = demo_pmt(2), 1100
    volts, _ = simulate_point(pmt, hv, args.n, seed=1)
    gain, offset = scope_range(pmt, hv)
    codes = np.rint((volts + offset) / gain).astype(np.int8)
    g, o = float(np.float32(gain)), float(np.float32(offset))
    dt = float(np.float32(pmt.dt_ns * 1e-9))
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[str, list[str]] = {}
        fields: dict[str, dict] = {}
        single = Path(tmp) / "single"
        single.mkdir()
        for i in range(args.n):
            write_trc(single / f"C1--n16deg--{i:05d}.trc", g * codes[i] - o, dt_s=dt,
                      vertical_gain=g, vertical_offset=o, t0_s=pmt.t0_ns * 1e-9)
        paths["trc, one file per flash (GIN)"] = sorted(map(str, single.iterdir()))
        fields["trc, one file per flash (GIN)"] = {}
        for j, part in enumerate(np.array_split(codes, args.files)):
            out = write_all(Path(tmp) / str(j), part, g, o, dt, pmt.t0_ns * 1e-9,
                            root=not args.no_pyroot)
            for name, (f, kv) in out.items():
                label = "trc, sequence files" if name == "trc" else name
                paths.setdefault(label, []).append(str(Path(tmp) / str(j) / f))
                fields[label] = kv
        rows = []
        for label, ps in paths.items():
            read = ReadSettings.from_fields(fields[label])

            def one(ps=ps, read=read, label=label):
                r = ChunkReader(ps, cache_bytes=0, read=read)
                n = sum(t.volts.shape[0] for t in r)
                assert n == args.n and not r.errors, (label, n, r.errors[:1])

            rows.append((label, 1e6 * _best(one) / args.n))
    ref = rows[0][1]
    print(f"{args.n} flashes x {codes.shape[1]} samples; sequence formats in {args.files} "
          "files each; ChunkReader, one pass")
    print(f"{'format':<32} {'us/flash':>9} {'x GIN .trc':>11}")
    for label, us in rows:
        print(f"{label:<32} {us:9.2f} {us / ref:11.2f}")


if __name__ == "__main__":
    main()

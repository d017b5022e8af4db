"""Speed and memory of one point, all engines on the same files, in one run.

    python bench/bench_point.py [--n 500]

Prints microseconds per waveform for parse-only (read_many), fast / integral / root
(read + fit + charge, i.e. process_point), the ratio to parse-only and to the original
path (31 ms per waveform, measured on the original code, quoted from the issue), and the
peak heap of process_point against the number of files (tracemalloc).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ORIGINAL_US = 31_000.0


def _best(f, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def _peak_mb(files: list[str]) -> float:
    """Peak Python+numpy heap of process_point (numpy reports its buffers to tracemalloc)."""
    import tracemalloc

    from pmtgain.point.process import process_point

    tracemalloc.start()
    process_point(files, pmt=1, hv=1000, cut_V=-0.005)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--root-n", type=int, default=200)
    args = ap.parse_args()
    from pmtgain.io.flashes import read_many
    from pmtgain.point.process import process_point
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for pmt, hv, label in ((DEMO_PMTS[0], 1200, "high signal (free onsets)"),
                               (DEMO_PMTS[1], 800, "low signal (fixed onset)")):
            d = Path(tmp) / f"{pmt.pmt}_{hv}"
            write_point(d, pmt, hv, args.n, seed=1)
            files = sorted(str(p) for p in d.glob("*.trc"))
            cut = pmt.cut_V(hv)
            parse = _best(lambda files=files: read_many(files)) / len(files) * 1e6
            res = {"parse-only": parse}
            for engine in ("fast", "integral"):
                res[engine] = _best(lambda e=engine, files=files, cut=cut, hv=hv: process_point(
                    files, pmt=1, hv=hv, cut_V=cut, engine=e)) / len(files) * 1e6
            try:
                import importlib.util

                if importlib.util.find_spec("ROOT"):
                    sub = files[: args.root_n]
                    process_point(sub[:5], pmt=1, hv=hv, cut_V=cut, engine="root")  # import
                    res["root"] = _best(lambda sub=sub, cut=cut, hv=hv: process_point(
                        sub, pmt=1, hv=hv, cut_V=cut, engine="root"), 2) / len(sub) * 1e6
            except Exception as exc:  # pragma: no cover
                print(f"root engine skipped: {exc}")
            rows.append((label, res))
        print(f"\nµs per waveform, {args.n} files of 502 samples, one core, warm cache")
        print(f"{'point':<28}{'step':<12}{'µs/wf':>10}{'x parse':>10}{'x faster than orig':>20}")
        for label, res in rows:
            for step, us in res.items():
                print(f"{label:<28}{step:<12}{us:>10.1f}{us / res['parse-only']:>10.2f}"
                      f"{ORIGINAL_US / us:>20.0f}")
        # memory against the number of files (fresh process each)
        big = Path(tmp) / "big"
        write_point(big, DEMO_PMTS[0], 1000, 8000, seed=2)
        print("\npeak memory of process_point (fast) against the number of files")
        print(f"{'files':>8}{'peak heap (MB)':>18}{'KB per file':>14}")
        allf = sorted(str(p) for p in big.glob("*.trc"))
        for n in (500, 2000, 8000):
            mb = _peak_mb(allf[:n])
            print(f"{n:>8}{mb:>18.1f}{mb * 1024 / n:>14.2f}")

if __name__ == "__main__":
    main()

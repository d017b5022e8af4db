"""Scale, in one run, every ratio side by side: per-flash cost against the original, memory
against the number of flashes, sequence files against single files, fetching against
sequential requests.

    python bench/bench_scale.py [--small 500] [--large 5000] [--timing 20000] [--seq 100000]
                                [--repeat 3]

- per flash, end to end: ``analysis.py --jobs 1`` on one point of ``--timing`` files minus
  the same with ``--small`` files (the difference cancels start-up), per extra flash,
  against the original SC_exam code's 31 ms per flash (goal >= 1000x);
- peak RSS of those two runs (goal: 10x the flashes <= 1.2x the RSS), and of a point of
  ``--seq`` flashes in sequence files against one of ``--seq``/10;
- sequence files against single files: the per-flash cost of the same flashes;
- fetching: ``bench/bench_fetch.py``'s 500 files at 20 ms per request, threads against
  sequential (goal >= 25x);
- a campaign: ``bench/bench_campaign.py``'s GIN-size campaign against only reading its
  files, the marginal between 10 % and all of its files (goal <= 3).
Scratch files go to ``TMPDIR`` (see ``bench/bench_fetch.py`` on this machine's disk).
Every analysis runs in its own process (its peak RSS: ``VmHWM`` in /proc/self/status),
``--repeat`` times: the shortest time counts (this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_US = 31_000.0

_RUN = r"""
import json, sys, time
sys.argv = ["analysis.py", "--data-info", sys.argv[1], "--outputs", sys.argv[2],
            "--jobs", "1", "--no-progress", "--force"]
sys.path.insert(0, {root!r})
t = time.perf_counter()
from pmtgain.cli.main import run_analysis
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    rc = run_analysis()
dt = time.perf_counter() - t
# VmHWM: this process's peak RSS (ru_maxrss would carry the parent's across exec)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps(dict(rc=rc, seconds=dt, rss_mb=hwm / 1024)))
"""


def _analyse(info: Path, out: Path, repeat: int = 1) -> dict:
    """One analysis per process, ``repeat`` times: the shortest time (the usual estimate
    on a shared machine, as ``timeit``) and the largest peak RSS."""
    code = _RUN.format(root=str(ROOT))
    runs = []
    for _ in range(repeat):
        r = subprocess.run([sys.executable, "-c", code, str(info), str(out)],
                           capture_output=True, text=True,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        if r.returncode:
            sys.exit(f"bench_scale: analysis failed: {r.stderr[-800:]}")
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if res["rc"]:
            sys.exit(f"bench_scale: analysis exit status {res['rc']}")
        runs.append(res)
    return dict(rc=0, seconds=min(x["seconds"] for x in runs),
                rss_mb=max(x["rss_mb"] for x in runs))


def _campaign(tmp: Path, name: str, n: int, segments: int = 1) -> Path:
    from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

    simulate_campaign(tmp / name, DEMO_PMTS[:1], hv=[1100], n=n, seed=5, segments=segments)
    return tmp / name / "data_info"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--large", type=int, default=5000)
    ap.add_argument("--seq", type=int, default=100_000,
                    help="flashes of the large sequence-file point (1000 per file)")
    ap.add_argument("--timing", type=int, default=20_000,
                    help="files of the point the per-flash time is taken at (against --small:"
                         " the ~1 s of start-up and merge is then a small part of the "
                         "difference)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each analysis: the shortest time counts")
    ap.add_argument("--no-fetch", action="store_true", help="skip the fetch benchmark")
    ap.add_argument("--no-campaign", action="store_true",
                    help="skip the campaign benchmark (about a minute)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = time.perf_counter()
        small = _campaign(tmp, "small", args.small)
        large = _campaign(tmp, "large", args.large)
        timing = _campaign(tmp, "timing", args.timing)
        seq_s = _campaign(tmp, "seq_small", args.seq // 10, segments=1000)
        seq_l = _campaign(tmp, "seq_large", args.seq, segments=1000)
        seq_same = _campaign(tmp, "seq_same", args.large, segments=1000)
        print(f"simulated in {time.perf_counter() - t:.0f} s")
        for info in (small, large):  # warm the page cache and the imports
            _analyse(info, tmp / "warm")
        n = args.repeat
        a, b = _analyse(small, tmp / "o1", n), _analyse(large, tmp / "o2", n)
        g = _analyse(timing, tmp / "o6", n)
        c, e = _analyse(seq_s, tmp / "o3", n), _analyse(seq_l, tmp / "o4", n)
        f = _analyse(seq_same, tmp / "o5", n)
    per_flash = 1e6 * (g["seconds"] - a["seconds"]) / (args.timing - args.small)
    per_seq = 1e6 * (e["seconds"] - c["seconds"]) / (args.seq - args.seq // 10)
    rows.append((f"per flash, single files ({args.small} -> {args.timing})",
                 f"{per_flash:.1f} us",
                 f"{ORIGINAL_US / per_flash:.0f}x the original (31 ms)", ">= 1000x"))
    rows.append(("per flash, sequence files (marginal)", f"{per_seq:.1f} us",
                 f"{ORIGINAL_US / per_seq:.0f}x the original", ">= 1000x"))
    rows.append((f"RSS {args.small} -> {args.large} files",
                 f"{a['rss_mb']:.0f} -> {b['rss_mb']:.0f} MB",
                 f"{b['rss_mb'] / a['rss_mb']:.2f}x for 10x the flashes", "<= 1.2x"))
    rows.append((f"RSS {args.seq // 10} -> {args.seq} flashes (sequence)",
                 f"{c['rss_mb']:.0f} -> {e['rss_mb']:.0f} MB",
                 f"{e['rss_mb'] / c['rss_mb']:.2f}x for 10x the flashes", "<= 1.2x"))
    rows.append((f"{args.large} flashes: sequence vs single files",
                 f"{f['seconds']:.2f} vs {b['seconds']:.2f} s",
                 f"{b['seconds'] / f['seconds']:.1f}x faster in sequence files", ""))
    if not args.no_fetch:
        r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_fetch.py"),
                            "--json"], capture_output=True, text=True)
        try:
            fr = json.loads(r.stdout.strip().splitlines()[-1])
            rows.append(("fetch 500 files, 20 ms per request", f"{fr['threads_s']:.2f} s",
                         f"{fr['speedup']:.1f}x sequential", ">= 25x"))
            rows.append(("  (a file creation in TMPDIR)", f"{fr['create_ms']:.3f} ms", "", ""))
        except (ValueError, IndexError, KeyError):
            rows.append(("fetch", "failed", r.stderr[-200:], ""))
    if not args.no_campaign:
        r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_campaign.py"),
                            "--json"], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
        try:
            cr = json.loads(r.stdout.strip().splitlines()[-1])
            rows.append((f"campaign of {cr['n_large']} files, 2 processes",
                         f"{cr['analysis_s']:.2f} vs {cr['read_s']:.2f} s",
                         f"{cr['marginal']:.2f}x read-only (marginal)", "<= 3x"))
        except (ValueError, IndexError, KeyError):
            rows.append(("campaign", "failed", r.stderr[-200:], ""))
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':<22}  {'ratio':<36}  goal")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:<22}  {r[2]:<36}  {r[3]}")


if __name__ == "__main__":
    main()

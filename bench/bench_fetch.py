"""Fetching 500 files from a loopback server that adds ~20 ms per request: this project's
fetcher against sequential ``requests.get``, and its lean first attempt
(:class:`pmtgain.io.http.LeanGet`) against urllib3 alone (wall time and this process's
CPU per file), measured in one run.

    python bench/bench_fetch.py [--n 500] [--delay 0.02] [--workers 32] [--repeat 3]

The files land in a temporary directory (``TMPDIR``); what creating a file there costs
is measured and printed too. On this machine that swings between 0.03 and 0.9 ms from
one directory to the next on the same disk (ext4 on a VM; /tmp one hour, /var/tmp the
next), and the 32 threads' creations queue on their directory's lock: at 0.9 ms the
disk, not the fetcher, sets the time. ``TMPDIR=/dev/shm`` measures the fetcher alone.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path


def _serve(root: str, delay: float, ready) -> None:
    # keep-alive, TCP_NODELAY and a listen backlog for many connections, as object stores
    from pmtgain.sim.demo import StoreServer, _QuietHandler

    class Slow(_QuietHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def do_GET(self):
            time.sleep(delay)  # a distant object store
            super().do_GET()

    srv = StoreServer(("127.0.0.1", 0), Slow)
    ready.put(srv.server_address[1])
    srv.serve_forever()


def _creation_ms(d: Path, n: int = 500) -> float:
    """What writing a small file atomically (a temporary name, then a rename) costs in
    a fresh directory ``d``, in ms: the fetcher's write of every file."""
    d.mkdir()
    t = time.perf_counter()
    for i in range(n):
        (d / f".f{i}.part").write_bytes(b"x" * 900)
        os.replace(d / f".f{i}.part", d / f"f{i}")
    return (time.perf_counter() - t) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--delay", type=float, default=0.02)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each threaded fetch")
    ap.add_argument("--json", action="store_true", help="also a last line of JSON")
    args = ap.parse_args()
    import requests

    from pmtgain.config import PointSpec
    from pmtgain.io.fetch import fetch_point, make_session
    from pmtgain.sim.simulate import DEMO_PMTS, write_point

    with tempfile.TemporaryDirectory() as tmp:
        create_ms = _creation_ms(Path(tmp) / "probe")
        src = Path(tmp) / "src"
        write_point(src, DEMO_PMTS[0], 1000, args.n)
        delay = args.delay
        # the server runs in its own process, as a real object store would: in this
        # process its threads would compete with the fetcher's for the GIL
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Queue()
        proc = ctx.Process(target=_serve, args=(str(src), delay, ready), daemon=True)
        proc.start()
        port = ready.get(timeout=30)
        url = f"http://127.0.0.1:{port}/"
        names = [f"C1--n16deg--{i:05d}.trc" for i in range(args.n)]
        seq_dir = Path(tmp) / "seq"
        seq_dir.mkdir()
        t = time.perf_counter()
        for name in names:
            (seq_dir / name).write_bytes(requests.get(url + name).content)
        t_seq = time.perf_counter() - t
        point = PointSpec(pmt=1, hv=1000, n_files=args.n, dir_url=url)

        def timed(dest: Path, lean: bool) -> tuple[float, float]:
            session = make_session(pool=args.workers, lean=lean)
            t, c = time.perf_counter(), time.process_time()
            rep = fetch_point(point, dest, workers=args.workers, session=session)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            session.close()
            assert rep.fetched == args.n, rep.failed[:3]
            return dt, dc

        # each way --repeat times into a fresh directory, alternating: the shortest counts
        ours, u3 = [], []
        for i in range(args.repeat):
            ours.append(timed(Path(tmp) / f"ours{i}", True))
            # the same with every request through urllib3 (no lean first attempt)
            u3.append(timed(Path(tmp) / f"urllib3_{i}", False))
        t = time.perf_counter()
        again = fetch_point(point, Path(tmp) / "ours0", workers=args.workers)
        t_cached = time.perf_counter() - t
        proc.terminate()
    assert again.cached == args.n
    (t_ours, c_ours), (t_u3, c_u3) = min(ours), min(u3)
    print(f"{args.n} files, {delay * 1e3:.0f} ms per request added by the server; "
          f"threads: best of {args.repeat} runs; creating a file in {tempfile.gettempdir()}"
          f" costs {create_ms:.3f} ms")
    print(f"{'method':<44}{'seconds':>9}{'speed-up':>10}{'CPU ms/file':>13}  all runs (s)")
    print(f"{'sequential requests.get':<44}{t_seq:>9.2f}{1:>10.1f}")
    print(f"{f'pmtgain fetch_point ({args.workers} threads)':<44}{t_ours:>9.2f}"
          f"{t_seq / t_ours:>10.1f}{1e3 * c_ours / args.n:>13.3f}  "
          + " ".join(f"{x:.2f}" for x, _ in ours))
    print(f"{'  the same, every request through urllib3':<44}{t_u3:>9.2f}"
          f"{t_seq / t_u3:>10.1f}{1e3 * c_u3 / args.n:>13.3f}  "
          + " ".join(f"{x:.2f}" for x, _ in u3))
    print(f"{'pmtgain fetch_point, all cached (re-run)':<44}{t_cached:>9.2f}"
          f"{t_seq / t_cached:>10.1f}")
    if args.json:
        import json

        print(json.dumps(dict(sequential_s=t_seq, threads_s=t_ours, speedup=t_seq / t_ours,
                              create_ms=create_ms)))


if __name__ == "__main__":
    main()

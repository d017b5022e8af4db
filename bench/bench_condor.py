"""The demo campaign through the HTCondor pool against analysis.py on the same machine.

    sudo python bench/bench_condor.py [--n 150]   # as root: it submits as pmtuser

Both read the same campaign from a loopback HTTP server into an empty data directory.
Pool: ``source submit_condor_jobs.sh`` -> ``pmtgain condor wait`` -> ``condor_transfer_data``
per cluster, timed end to end. Local: ``analysis.py`` (process pool, all cores). Prints
both times and their ratio; needs the pool of ``scripts/condor-pool.sh`` (start, jobenv).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def as_user(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    from devtools.devpool import as_user as run_as_user

    r = run_as_user(cmd, cwd, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"bench_condor: `{cmd}` failed: {r.stderr.strip()[-400:]}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=150, help="files per point (default 150)")
    args = ap.parse_args()
    from devtools.devpool import chown_to_user, pool_problem, project_copy
    from pmtgain.sim.demo import DEMO_HV, serve_directory, write_data_info

    why = pool_problem()
    if why:
        sys.exit(f"bench_condor: {why}")
    from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

    work = Path(tempfile.mkdtemp(prefix="pmtgain-bench-condor-"))
    try:
        project_copy(work)
        camp = simulate_campaign(work / "served" / "campaign", DEMO_PMTS, list(DEMO_HV),
                                 n=args.n, seed=3)
        base, server = serve_directory(work / "served")
        write_data_info(camp, base + "campaign/", work / "data_info")
        chown_to_user(work)
        n_files = 4 * len(DEMO_HV) * args.n

        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "analysis.py", "--outputs", "local_out",
                            "--data-dir", "local_data"], cwd=work, capture_output=True,
                           text=True)
        t_local = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"bench_condor: analysis.py failed: {r.stderr[-400:]}")

        as_user("python3 list_directories_condor.py", work)
        t0 = time.perf_counter()
        as_user("source submit_condor_jobs.sh", work)
        t_submit = time.perf_counter() - t0
        as_user("pmtgain condor wait --timeout 1800", work)
        t_run = time.perf_counter() - t0
        clusters = json.loads((work / "outputs/condor_clusters.json").read_text())
        for c in clusters:
            as_user(f"condor_transfer_data {c['cluster']}", work)
        t_pool = time.perf_counter() - t0
        as_user("pmtgain condor retrieve", work)
        server.shutdown()
        slots = as_user("condor_status -af Cpus", work).stdout.split()  # inside the pool
        print(f"demo campaign: 32 points, {n_files} files over loopback HTTP; "
              f"{os.cpu_count()} cores, pool slot cpus: {' '.join(slots)}")
        print(f"{'analysis.py (local process pool)':40s} {t_local:8.1f} s   1.00x")
        print(f"{'HTCondor pool, submit -> transferred':40s} {t_pool:8.1f} s   "
              f"{t_pool / t_local:.2f}x   (submit {t_submit:.1f} s, jobs done at "
              f"{t_run:.1f} s)")
    finally:
        from devtools.devpool import as_user as run_as_user

        run_as_user("condor_rm -all", Path("/tmp"))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

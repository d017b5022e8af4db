#!/usr/bin/env bash
# Install everything (PyROOT, test tools, the HTCondor pool) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh root,test,condor
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # a real single-node HTCondor pool for the condor end-to-end tests
    # (and the jobs' Python); from here on the condor tests fail rather than skip
    bash scripts/condor-pool.sh install
    bash scripts/condor-pool.sh start
    bash scripts/condor-pool.sh jobenv
    export PMTGAIN_REQUIRE_CONDOR=1
    # Debian's chromium for the report's headless-browser test (fails rather than skips)
    bash scripts/browser.sh
    export PMTGAIN_REQUIRE_BROWSER=1
fi
export OPENBLAS_NUM_THREADS=1
.venv/bin/python -m ruff check pmtgain tests bench *.py
exec .venv/bin/python -m pytest -ra "$@"

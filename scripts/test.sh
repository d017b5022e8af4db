#!/usr/bin/env bash
# Install everything (PyROOT, test tools, the HTCondor pool) and run the whole test suite.
#
# As root with apt-get (a fresh Debian bookworm, say), it also builds the HTCondor pool in
# a Debian trixie root of its own (/var/lib/pmtgain-pool; the host's packages stay as they
# are: scripts/condor-pool.sh), installs Debian's chromium for the report's browser test and
# podman for the job image (scripts/image.sh); all are then required, not skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh root,test; then
    # PyPI's ROOT wheel is built for one Python only (3.11 in 2026): elsewhere, go on
    # without it; the ROOT engine's tests then skip and say why
    echo "test: PyROOT is not installable for $(python3 --version 2>&1); going on without it" >&2
    bash scripts/setup.sh test
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash scripts/condor-pool.sh install
    bash scripts/condor-pool.sh start
    export PMTGAIN_REQUIRE_CONDOR=1
    bash scripts/browser.sh
    export PMTGAIN_REQUIRE_BROWSER=1
    # the job image is built from the Dockerfile and a job run inside it (tests/test_image.py)
    command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 || {
        echo "test: installing podman, buildah and runc (Debian's) for the job image" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            podman buildah runc >/dev/null; }
    export PMTGAIN_REQUIRE_IMAGE=1
fi
export OPENBLAS_NUM_THREADS=1
.venv/bin/python -m ruff check pmtgain devtools tests bench *.py
exec .venv/bin/python -m pytest -ra "$@"

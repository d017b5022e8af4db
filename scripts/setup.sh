#!/usr/bin/env bash
# Create ./.venv and install pmtgain into it with the given extras (default: none).
#   bash scripts/setup.sh            # the analysis
#   bash scripts/setup.sh root,test  # plus PyROOT and the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
log=.venv/pip-install.log
.venv/bin/python -m pip install -q --upgrade pip >"$log" 2>&1 || true
spec="."
[ -n "$extras" ] && spec=".[$extras]"
echo "setup: installing pmtgain${extras:+ [$extras]} into .venv (pip's output: $log)"
# the versions of constraints.txt (shared with the Dockerfile): the same packages every day
if ! .venv/bin/python -m pip install -q -c constraints.txt -e "$spec" >>"$log" 2>&1; then
    grep -v -E "^WARNING: Location|^$" "$log" | tail -n 30 >&2
    echo "setup: pip install -e '$spec' failed (whole output in $log)" >&2
    exit 1
fi
.venv/bin/python -c "import pmtgain, numpy, scipy, pandas, matplotlib, urllib3" \
    || { echo "setup: the installation is incomplete" >&2; exit 1; }

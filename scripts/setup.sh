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
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q -e "$spec" 2>&1 | grep -v -E "^WARNING: Location|^$" || true
.venv/bin/python -c "import pmtgain, numpy, scipy, pandas, matplotlib, requests" \
    || { echo "setup: the installation is incomplete" >&2; exit 1; }

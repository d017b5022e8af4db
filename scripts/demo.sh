#!/usr/bin/env bash
# Install what is needed and run the main job on the built-in demo campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python analysis.py --demo "$@"

#!/usr/bin/env bash
# Install Debian's chromium (headless) for the campaign report's browser test and for
# 'pmtgain report --screenshot'. Quick when it is already there. Needs root and apt-get.
set -euo pipefail
log() { printf 'browser: %s\n' "$*" >&2; }
if command -v chromium >/dev/null 2>&1; then
    log "chromium already installed ($(chromium --version 2>/dev/null | head -n1))"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install chromium here (needs root and apt-get); the browser test will skip"
    exit 0
fi
log "apt-get update"
apt-get update -qq >/dev/null
log "installing chromium (about 100 MB)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
log "$(chromium --version 2>/dev/null | head -n1)"

#!/usr/bin/env bash
# A real single-node HTCondor pool (Debian trixie's minicondor) for development and CI.
#
#   scripts/condor-pool.sh install   # add trixie (pinned low), install minicondor; quick if present
#   scripts/condor-pool.sh start     # start condor_master, wait for a slot, create the submit user
#   scripts/condor-pool.sh jobenv    # the jobs' Python (/opt/pmtgain-jobenv); quick if present
#   scripts/condor-pool.sh stop      # condor_off -master
#   scripts/condor-pool.sh status    # print the slots
#
# Must run as root (it uses apt-get and creates a user). Root cannot submit jobs to
# HTCondor, so jobs are submitted as the unprivileged user $PMTGAIN_CONDOR_USER (default
# "pmtuser"): `runuser -u pmtuser -- condor_submit ...`.
set -euo pipefail

CONDOR_USER=${PMTGAIN_CONDOR_USER:-pmtuser}
# The jobs run as $CONDOR_USER, who cannot read the project's .venv (its interpreter lives
# under /root here). On CYGNO's pool the container image supplies Python; on this pool a
# world-readable venv built from the system python3 plays that part. Its packages are
# pinned to the versions in the project's .venv, so jobs compute the same numbers.
JOBENV=${PMTGAIN_JOBENV:-/opt/pmtgain-jobenv}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NUM_CPUS=${PMTGAIN_CONDOR_CPUS:-8}

log() { printf 'condor-pool: %s\n' "$*" >&2; }

# trixie and trixie-security pinned low: only what is asked for with -t trixie comes from
# there (pinning only n=trixie let trixie-security's chromium win over bookworm's, and its
# dependencies cannot be met on bookworm)
pin_trixie() {
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n\nPackage: *\nPin: release n=trixie-security\nPin-Priority: 100\n' \
        > /etc/apt/preferences.d/pmtgain-trixie
}

install_pool() {
    if [ -f /etc/apt/sources.list.d/trixie.sources ]; then
        pin_trixie
    fi
    if command -v condor_master >/dev/null 2>&1; then
        log "minicondor already installed ($(condor_version | head -n1))"
    else
        if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
            log "adding the Debian trixie source, pinned at priority 100"
            sed -e 's/^Suites:.*bookworm-security.*/Suites: trixie-security/' \
                -e 's/^Suites:.*bookworm.*/Suites: trixie/' \
                /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/trixie.sources
        fi
        pin_trixie
        log "apt-get update"
        apt-get update -qq >/dev/null
        log "installing minicondor from trixie (about 50 MB)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -t trixie minicondor >/dev/null 2>&1 || {
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t trixie minicondor
        }
    fi
    mkdir -p /etc/condor/config.d
    cat > /etc/condor/config.d/90-pmtgain.conf <<CONF
# pmtgain development pool: several one-core slots on a small machine
NUM_CPUS = ${NUM_CPUS}
CONF
    if ! id -u "$CONDOR_USER" >/dev/null 2>&1; then
        log "creating the submit user $CONDOR_USER"
        useradd --create-home --shell /bin/bash "$CONDOR_USER"
    fi
}

start_pool() {
    install -d -o condor -g condor -m 0775 /run/condor /var/lock/condor
    if ! pgrep -x condor_master >/dev/null; then
        log "starting condor_master"
        condor_master
    fi
    for _ in $(seq 1 120); do
        if [ -n "$(condor_status -af Name 2>/dev/null)" ]; then
            log "pool ready: $(condor_status -af Name | wc -l) slot(s)"
            return 0
        fi
        sleep 0.5
    done
    log "the pool did not come up within 60 s"; return 1
}

build_jobenv() {
    local pins
    pins=$("$HERE/.venv/bin/python" -m pip freeze 2>/dev/null \
        | grep -i -E '^(numpy|scipy|pandas|matplotlib|requests|urllib3|tqdm)==' || true)
    [ -n "$pins" ] || pins="numpy scipy pandas matplotlib requests urllib3 tqdm"
    if [ -x "$JOBENV/bin/python" ] && [ "$(cat "$JOBENV/pins.txt" 2>/dev/null)" = "$pins" ]; then
        log "job environment $JOBENV is up to date"; return 0
    fi
    log "building the job environment $JOBENV ($(/usr/bin/python3 --version))"
    rm -rf "$JOBENV"
    /usr/bin/python3 -m venv --without-pip "$JOBENV"
    # shellcheck disable=SC2086
    "$HERE/.venv/bin/python" -m pip --python "$JOBENV/bin/python" install -q \
        --disable-pip-version-check --only-binary=:all: $pins 2>&1 | grep -v "is ignored: it is neither" >&2 || true
    "$JOBENV/bin/python" -c 'import numpy, scipy, pandas, matplotlib, requests, tqdm' || {
        log "the job environment $JOBENV could not be built"; return 1; }
    printf '%s' "$pins" > "$JOBENV/pins.txt"
    chmod -R a+rX "$JOBENV"
}

stop_pool() {
    if pgrep -x condor_master >/dev/null; then
        condor_off -master >/dev/null 2>&1 || true
        for _ in $(seq 1 40); do pgrep -x condor_master >/dev/null || break; sleep 0.5; done
    fi
    log "stopped"
}

case "${1:-}" in
    install) install_pool ;;
    start) start_pool ;;
    jobenv) build_jobenv ;;
    stop) stop_pool ;;
    status) condor_status ;;
    *) echo "usage: $0 install|start|jobenv|stop|status" >&2; exit 2 ;;
esac

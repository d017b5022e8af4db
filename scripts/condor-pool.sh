#!/usr/bin/env bash
# A real single-node HTCondor pool (Debian trixie's minicondor) for development and CI.
#
#   scripts/condor-pool.sh install   # add trixie (pinned low), install minicondor; quick if present
#   scripts/condor-pool.sh start     # start condor_master, wait for a slot, create the submit user
#   scripts/condor-pool.sh stop      # condor_off -master
#   scripts/condor-pool.sh status    # print the slots
#
# Must run as root (it uses apt-get and creates a user). Root cannot submit jobs to
# HTCondor, so jobs are submitted as the unprivileged user $PMTGAIN_CONDOR_USER (default
# "pmtuser"): `runuser -u pmtuser -- condor_submit ...`.
set -euo pipefail

CONDOR_USER=${PMTGAIN_CONDOR_USER:-pmtuser}
NUM_CPUS=${PMTGAIN_CONDOR_CPUS:-8}

log() { printf 'condor-pool: %s\n' "$*" >&2; }

install_pool() {
    if command -v condor_master >/dev/null 2>&1; then
        log "minicondor already installed ($(condor_version | head -n1))"
    else
        if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
            log "adding the Debian trixie source, pinned at priority 100"
            sed -e 's/^Suites:.*bookworm-security.*/Suites: trixie-security/' \
                -e 's/^Suites:.*bookworm.*/Suites: trixie/' \
                /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/trixie.sources
            printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' \
                > /etc/apt/preferences.d/pmtgain-trixie
        fi
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
    stop) stop_pool ;;
    status) condor_status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac

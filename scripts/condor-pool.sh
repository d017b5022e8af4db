#!/usr/bin/env bash
# A real single-node HTCondor pool for development and CI, in a Debian trixie root of its
# own: the host's packages (its python3, its glibc) are never touched.
#
#   scripts/condor-pool.sh install   # debootstrap trixie into $POOL_ROOT, minicondor and the
#                                    # jobs' Python inside it; quick when already there
#   scripts/condor-pool.sh start     # mount, start condor_master inside, wait for a slot
#   scripts/condor-pool.sh stop      # condor_off -master inside, unmount
#   scripts/condor-pool.sh status    # the pool's slots
#   scripts/condor-pool.sh run CMD   # run a bash command line inside, as the submit user,
#                                    # in the current directory (which must be under /tmp,
#                                    # the project, or $PMTGAIN_POOL_BIND)
#   scripts/condor-pool.sh remove    # stop, unmount, and delete the root only once nothing
#                                    # is mounted in it (never through a bind mount)
#
# This is how CYGNO users work: they submit from a container that holds the HTCondor
# client. Here the "container" is a chroot at $PMTGAIN_POOL_ROOT (default
# /var/lib/pmtgain-pool) with the host's /tmp and this project bind-mounted at the same
# paths, so a path means the same inside and outside. Root cannot submit to HTCondor: the
# users' commands run as the unprivileged $PMTGAIN_CONDOR_USER (default pmtuser), who
# exists only inside the root. The jobs' Python is the root's python3 with Debian's numpy,
# scipy, pandas, matplotlib, urllib3 and tqdm.
#
# Needs root, debootstrap (installed from the host's apt sources if missing: it is the
# only package added to the host) and the network for the first install (~25 s
# debootstrap + ~25 s packages; its size on disk: the README, measured).
set -euo pipefail

POOL_ROOT=${PMTGAIN_POOL_ROOT:-/var/lib/pmtgain-pool}
CONDOR_USER=${PMTGAIN_CONDOR_USER:-pmtuser}
NUM_CPUS=${PMTGAIN_CONDOR_CPUS:-8}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=trixie
PACKAGES="minicondor python3 python3-numpy python3-scipy python3-pandas python3-matplotlib
python3-urllib3 python3-tqdm python3-threadpoolctl ca-certificates"

log() { printf 'condor-pool: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it builds a chroot and mounts into it)"
}

mirror() {  # the host's Debian mirror (deb822 or one-line sources), else deb.debian.org
    local m=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
    fi
    printf '%s' "${m:-http://deb.debian.org/debian}"
}

inside() { chroot "$POOL_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 "$@"; }

bind_dirs() {  # host directories visible inside at the same path
    printf '%s\n' /tmp "$HERE"
    local d
    for d in ${PMTGAIN_POOL_BIND:-}; do printf '%s\n' "$d"; done
}

mount_all() {
    local d
    mountpoint -q "$POOL_ROOT" || mount --bind "$POOL_ROOT" "$POOL_ROOT"
    mountpoint -q "$POOL_ROOT/proc" || mount -t proc proc "$POOL_ROOT/proc"
    mountpoint -q "$POOL_ROOT/sys" || mount --rbind /sys "$POOL_ROOT/sys"
    mountpoint -q "$POOL_ROOT/dev" || mount --rbind /dev "$POOL_ROOT/dev"
    mkdir -p "$POOL_ROOT/dev/shm"
    mountpoint -q "$POOL_ROOT/dev/shm" || mount -t tmpfs -o mode=1777 shm "$POOL_ROOT/dev/shm"
    while read -r d; do
        [ -d "$d" ] || continue
        mkdir -p "$POOL_ROOT$d"
        mountpoint -q "$POOL_ROOT$d" || mount --bind "$d" "$POOL_ROOT$d"
    done < <(bind_dirs)
    cp -L /etc/resolv.conf "$POOL_ROOT/etc/resolv.conf" 2>/dev/null || true
}

umount_all() {
    [ -d "$POOL_ROOT" ] || return 0
    # deepest first; lazy, so a shell left inside does not keep the host busy
    mounts_left | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

install_pool() {
    need_root
    if [ -x "$POOL_ROOT/usr/sbin/condor_master" ] && [ -f "$POOL_ROOT/.pmtgain-ready" ]; then
        log "pool root $POOL_ROOT is ready ($(inside condor_version | head -n1))"
    else
        if ! command -v debootstrap >/dev/null 2>&1; then
            command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get"
            log "installing debootstrap on the host (the only host package this adds)"
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                debootstrap >/dev/null
        fi
        if [ ! -x "$POOL_ROOT/usr/bin/apt-get" ]; then
            umount_all
            [ -z "$(mounts_left)" ] || die "refusing to delete $POOL_ROOT: still mounted: $(mounts_left | tr '\n' ' ')"
            rm -rf --one-file-system "$POOL_ROOT"
            log "debootstrap $SUITE into $POOL_ROOT from $(mirror) (about 25 s)"
            mkdir -p "$(dirname "$POOL_ROOT")"
            debootstrap --variant=minbase "$SUITE" "$POOL_ROOT" "$(mirror)" \
                > /tmp/pmtgain-debootstrap.log 2>&1 \
                || { tail -n 20 /tmp/pmtgain-debootstrap.log >&2; rm -rf "$POOL_ROOT";
                     die "debootstrap failed (log: /tmp/pmtgain-debootstrap.log)"; }
        fi
        mount_all
        log "installing minicondor and the jobs' Python inside (about 25 s)"
        # shellcheck disable=SC2086
        inside sh -c "apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends $(echo $PACKAGES) >/dev/null \
            && apt-get clean" \
            || die "apt-get inside $POOL_ROOT failed"
        touch "$POOL_ROOT/.pmtgain-ready"
    fi
    mkdir -p "$POOL_ROOT/etc/condor/config.d"
    printf '# pmtgain development pool: several one-core slots on a small machine\nNUM_CPUS = %s\n' \
        "$NUM_CPUS" > "$POOL_ROOT/etc/condor/config.d/90-pmtgain.conf"
    if ! inside id -u "$CONDOR_USER" >/dev/null 2>&1; then
        log "creating the submit user $CONDOR_USER inside the pool root"
        inside useradd --create-home --shell /bin/bash "$CONDOR_USER"
    fi
    install_entry_point
}

# `pmtgain` on the submit user's PATH, as `pip install .` of the project gives a CYGNO
# submit container: the README's `pmtgain condor status` works verbatim. It runs the
# package of the project directory it is started in (the code under test, never a copy
# installed earlier).
install_entry_point() {
    mkdir -p "$POOL_ROOT/usr/local/bin"
    cat > "$POOL_ROOT/usr/local/bin/pmtgain" <<'ENTRY'
#!/bin/sh
# pmtgain's entry point in the development pool (scripts/condor-pool.sh): the package of
# the project directory it runs in, as `pip install .` of that project would give.
if [ ! -f pmtgain/cli/main.py ]; then
    echo "pmtgain: run it in the project directory (the one holding pmtgain/ and submit_condor_jobs.sh)" >&2
    exit 2
fi
exec python3 -c 'import sys; from pmtgain.cli import main; sys.exit(main())' "$@"
ENTRY
    chmod 755 "$POOL_ROOT/usr/local/bin/pmtgain"
}

pool_pids() {  # processes whose root is the pool root (pgrep is not in a minbase root)
    local pid
    for pid in $(pgrep -f . 2>/dev/null || true); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$POOL_ROOT" ] && printf '%s\n' "$pid"
    done
    return 0
}

master_running() {
    local pid
    for pid in $(pgrep -x condor_master 2>/dev/null || true); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$POOL_ROOT" ] && return 0
    done
    return 1
}

start_pool() {
    need_root
    [ -x "$POOL_ROOT/usr/sbin/condor_master" ] || die "no pool at $POOL_ROOT (scripts/condor-pool.sh install)"
    mount_all
    if pgrep -x condor_master >/dev/null && ! master_running; then
        die "another condor_master runs on this machine (a host pool?): stop it first, they share ports"
    fi
    inside install -d -o condor -g condor -m 0775 /run/condor /var/lock/condor /var/log/condor
    if ! master_running; then
        log "starting condor_master in $POOL_ROOT"
        inside condor_master
    fi
    for _ in $(seq 1 120); do
        if [ -n "$(inside condor_status -af Name 2>/dev/null)" ]; then
            log "pool ready: $(inside condor_status -af Name | wc -l) slot(s)"
            return 0
        fi
        sleep 0.5
    done
    die "the pool did not come up within 60 s (logs: $POOL_ROOT/var/log/condor)"
}

stop_pool() {
    need_root
    if [ -x "$POOL_ROOT/usr/sbin/condor_master" ] && master_running; then
        mount_all
        inside condor_off -master >/dev/null 2>&1 || true
        for _ in $(seq 1 60); do [ -z "$(pool_pids)" ] && break; sleep 0.5; done
    fi
    local left
    left=$(pool_pids)
    if [ -n "$left" ]; then
        log "ending what is left in the pool root: $(echo $left)"
        # shellcheck disable=SC2086
        kill $left 2>/dev/null || true
        sleep 1
    fi
    umount_all
    log "stopped"
}

mounts_left() {  # mount points at or under the pool root, one per line
    [ -d "$POOL_ROOT" ] || return 0
    awk -v r="$POOL_ROOT" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts
}

remove_pool() {  # never deletes through a bind mount into the host's /tmp or the project
    need_root
    stop_pool
    local left
    left=$(mounts_left)
    [ -z "$left" ] || die "refusing to delete $POOL_ROOT: still mounted: $(echo $left) (umount them first)"
    rm -rf --one-file-system "$POOL_ROOT"
    log "removed $POOL_ROOT"
}

run_in_pool() {  # run CMD... inside, as the submit user, in the current directory
    need_root
    local cwd
    cwd=$(pwd)
    [ -d "$POOL_ROOT$cwd" ] || die "$cwd is not visible inside the pool root (put it under /tmp or set PMTGAIN_POOL_BIND)"
    mount_all
    chroot "$POOL_ROOT" /usr/sbin/runuser -u "$CONDOR_USER" -- /usr/bin/env -i \
        PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$CONDOR_USER" LANG=C.UTF-8 USER="$CONDOR_USER" \
        PMTGAIN_JOB_PYTHON=/usr/bin/python3 /bin/bash -c \
        'cd "$1" && shift && cmd="$*" && set -- && eval "$cmd"' run "$cwd" "$@"
}

case "${1:-}" in
    install) install_pool ;;
    start) start_pool ;;
    jobenv) log "the jobs' Python is the pool root's python3 (installed by 'install')" ;;
    stop) stop_pool ;;
    status)  # never mounts: a stopped pool stays unmounted
        if master_running; then inside condor_status; else log "the pool is stopped"; fi ;;
    run) shift; run_in_pool "$@" ;;
    remove) remove_pool ;;
    *) echo "usage: $0 install|start|stop|status|run CMD|remove" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The HTCondor job image: build the Dockerfile unmodified with podman, run a command in
# it, export it for sites that convert to Apptainer.
#
#   scripts/image.sh build [--root]   # localhost/pmtgain:latest (or :root with PyROOT + g++)
#   scripts/image.sh run [--root] CMD # CMD in a container of the image (runc, the host's CA
#                                     # bundle and network, the current directory at /work)
#   scripts/image.sh save OUT.tar     # oci-archive: apptainer build pmtgain.sif oci-archive://OUT.tar
#   scripts/image.sh base             # the local stand-in for python:3.11-slim-bookworm
#
# As root with apt-get, `build` installs podman, buildah and runc (Debian's) if missing. Where
# no registry is reachable (an offline build host), `build` first makes the base image locally:
# debootstrap bookworm, python3 and pip, tagged docker.io/library/python:3.11-slim-bookworm,
# so that `FROM python:3.11-slim-bookworm` needs no network (~1 min the first time). pip
# inside the build reaches PyPI with the host's CA bundle mounted read-only at build time;
# the bundle is never committed into the image. Always `podman --runtime runc`: crun 1.8
# refuses hybrid cgroup hierarchies.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_TAG=docker.io/library/python:3.11-slim-bookworm
BASE_ROOT=${PMTGAIN_IMAGE_BASE_ROOT:-/var/lib/pmtgain-image-base}
CA=/etc/ssl/certs/ca-certificates.crt
PODMAN=(podman --runtime runc)

log() { printf 'image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

tools() {
    ensure_cgroups
    command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        || die "podman and runc are missing (Debian: apt-get install podman buildah runc)"
    log "installing podman, buildah and runc (Debian's)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        podman buildah runc >/dev/null
}

# runc needs the cgroup hierarchies. A machine's own root has them mounted; a chroot (the
# fresh-machine check of these tests) does not: mount them there, as the host has them
# (cgroup2 alone, or hybrid: one v1 hierarchy per controller plus cgroup2 "unified").
ensure_cgroups() {
    grep -q ' - cgroup2\? ' /proc/self/mountinfo && return 0
    [ "$(id -u)" = 0 ] || die "no cgroup hierarchy is mounted (runc needs one)"
    log "no cgroup hierarchy mounted here (a chroot?): mounting them under /sys/fs/cgroup"
    mkdir -p /sys/fs/cgroup
    if awk 'NR > 1 && $2 != 0 {found = 1} END {exit !found}' /proc/cgroups; then
        mountpoint -q /sys/fs/cgroup || mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
        local c
        for c in $(awk 'NR > 1 && $2 != 0 && $4 == 1 {print $1}' /proc/cgroups); do
            mkdir -p "/sys/fs/cgroup/$c"
            mountpoint -q "/sys/fs/cgroup/$c" || mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || true
        done
        mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
        mountpoint -q /sys/fs/cgroup/systemd || mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd || true
        mountpoint -q /sys/fs/cgroup/unified || mount -t cgroup2 none /sys/fs/cgroup/unified || true
    else
        mount -t cgroup2 none /sys/fs/cgroup
    fi
}

mirror() {  # the host's Debian mirror, else deb.debian.org
    local m=""
    [ -f /etc/apt/sources.list.d/debian.sources ] && m=$(awk '/^URIs:/ && $2 !~ /security/ \
        {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf '%s' "${m:-http://deb.debian.org/debian}"
}

base() {
    tools
    if "${PODMAN[@]}" image exists "$BASE_TAG"; then
        log "base image $BASE_TAG is here"
        return 0
    fi
    command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq >/dev/null;
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    log "no registry here: making $BASE_TAG from Debian bookworm (debootstrap, ~1 min)"
    rm -rf --one-file-system "$BASE_ROOT"
    debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
        bookworm "$BASE_ROOT" "$(mirror)" > /tmp/pmtgain-image-base.log 2>&1 \
        || { tail -n 20 /tmp/pmtgain-image-base.log >&2; die "debootstrap failed"; }
    # the official image's python is not Debian's: pip may install into it
    rm -f "$BASE_ROOT"/usr/lib/python3*/EXTERNALLY-MANAGED
    chroot "$BASE_ROOT" apt-get clean
    tar --numeric-owner -C "$BASE_ROOT" -c . \
        | "${PODMAN[@]}" import --change 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
    rm -rf --one-file-system "$BASE_ROOT"
    log "base image $BASE_TAG made"
}

tag_of() { [ "${1:-}" = "--root" ] && echo localhost/pmtgain:root || echo localhost/pmtgain:latest; }

build() {
    local tag args=()
    tag=$(tag_of "${1:-}")
    [ "${1:-}" = "--root" ] && args=(--build-arg WITH_ROOT=1)
    base
    [ -f "$CA" ] && args+=(-v "$CA:$CA:ro")
    log "building $tag from $HERE/Dockerfile"
    "${PODMAN[@]}" build --pull=never "${args[@]}" -t "$tag" "$HERE"
    log "built $tag ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$tag" | \
        awk '{printf "%.0f MB", $1 / 1e6}'))"
}

run() {
    local tag
    ensure_cgroups
    tag=$(tag_of "${1:-}")
    [ "${1:-}" = "--root" ] && shift
    local ca=()
    [ -f "$CA" ] && ca=(-v "$CA:$CA:ro" -e REQUESTS_CA_BUNDLE="$CA")
    "${PODMAN[@]}" run --rm --network host "${ca[@]}" -v "$PWD:/work" -w /work "$tag" "$@"
}

case "${1:-}" in
    base) base ;;
    build) shift; build "$@" ;;
    run) shift; run "$@" ;;
    save) [ -n "${2:-}" ] || die "usage: $0 save OUT.tar"
          "${PODMAN[@]}" save --format oci-archive -o "$2" "$(tag_of "${3:-}")"
          log "wrote $2: apptainer build pmtgain.sif oci-archive://$2" ;;
    *) echo "usage: $0 build [--root] | run [--root] CMD... | save OUT.tar | base" >&2; exit 2 ;;
esac

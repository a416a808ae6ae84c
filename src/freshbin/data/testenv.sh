#!/usr/bin/env bash
# freshbin test environment: Docker engine, buildx, a loopback registry and a Rust builder image.
#
#   scripts/testenv.sh up      install what is missing, start what is not running (idempotent)
#   scripts/testenv.sh up --engine 26 [--containerd-store]
#                              also a second dockerd: Debian 13's docker.io 26 (see engine26.sh)
#   scripts/testenv.sh up --engine buildkit
#                              also a standalone BuildKit (../shared/buildkit) as buildx's remote
#                              builder `freshbin-buildkit`, base images pushed to the registry (buildkit.sh)
#   scripts/testenv.sh down [--engine 26 [--containerd-store] | --engine buildkit]
#                              stop only what `up` started (by pid file)
#   scripts/testenv.sh status  print what is installed and running, engine by engine
#   scripts/testenv.sh deps-image   build localhost/rust-builder-deps:bookworm (benchmarks)
#   scripts/testenv.sh cross-image [--engine 26 --containerd-store]
#                              build localhost/rust-builder-cross:bookworm (cargo for aarch64) and
#                              with --engine 26 --containerd-store a linux/arm64 runtime (cross.sh)
#   scripts/testenv.sh big-image    build localhost/rust-builder-big:bookworm (the big benchmark workload)
#   scripts/testenv.sh prune [--engine 26 [--containerd-store] | --engine buildkit]
#                              free the disk a test run took on that engine: its build cache and
#                              every image but the localhost/rust-* ones this script builds; without
#                              --engine also the loopback registry's blobs (CI runs it between legs)
#
# Why a script and not Python: it must run before the kit (and its Python deps) is installed,
# both on a developer's machine and on a fresh CI machine.  Exit codes: 0 ok, 2 environment
# cannot be prepared here (not root, not Debian, install failed).
set -euo pipefail
# This script manages the default daemon on its default socket (and, with --engine 26, a second
# one on a socket of its own): a DOCKER_HOST or context pointing elsewhere must not redirect it.
unset DOCKER_HOST DOCKER_CONTEXT

STATE_DIR=${FRESHBIN_ENV_DIR:-/var/lib/freshbin-env}
REGISTRY_ADDR=${FRESHBIN_REGISTRY_ADDR:-127.0.0.1:5000}
BUILDER_IMAGE=localhost/rust-builder:bookworm
RUNTIME_IMAGE=localhost/rust-runtime:bookworm
DEPS_IMAGE=localhost/rust-builder-deps:bookworm
CROSS_IMAGE=localhost/rust-builder-cross:bookworm
SUITE=bookworm
# Crate sources from Debian, used by the benchmark workload (see benchmarks/README.md).
DEPS_CRATES="librust-serde-dev librust-serde-derive-dev librust-serde-json-dev librust-regex-dev librust-clap-dev librust-tokio-dev"
BIG_IMAGE=localhost/rust-builder-big:bookworm
# An HTTP service's dependencies as Debian 12 has them (no axum there: hyper 0.14 + tower).
BIG_CRATES="$DEPS_CRATES librust-hyper-dev librust-tower-dev librust-tracing-dev librust-tracing-subscriber-dev
 librust-reqwest-dev librust-rustls-dev librust-tokio-rustls-dev librust-hyper-rustls-dev librust-chrono-dev
 librust-uuid-dev librust-futures-dev librust-tokio-util-dev librust-tokio-stream-dev librust-prometheus-dev
 librust-anyhow-dev librust-thiserror-dev librust-toml-dev librust-serde-yaml-dev librust-base64-dev
 librust-sha2-dev librust-rand-dev librust-bytes-dev librust-url-dev librust-http-dev librust-tokio-postgres-dev
 librust-jsonwebtoken-dev librust-dashmap-dev librust-parking-lot-dev librust-once-cell-dev librust-humantime-dev
 librust-mime-dev librust-itertools-dev"

log() { printf 'testenv: %s\n' "$*" >&2; }
die() { printf 'testenv: error: %s\n' "$*" >&2; exit 2; }

require_root_debian() {
    local need="docker.io (>= 20.10), docker-buildx, docker-registry, debootstrap"
    if [ "$(id -u)" != 0 ]; then
        die "must run as root to install and start services; as root install: $need"
    fi
    if [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null; then
        die "only Debian 12/13 is automated; install by hand: $need, then start dockerd and a registry on $REGISTRY_ADDR"
    fi
}

# The Debian mirror configured on this machine (never hard-coded in the repo).
debian_mirror() {
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || die "cannot read a Debian mirror from /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
    printf '%s\n' "$uri"
}

apt_updated=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $apt_updated = 0 ]; then
        apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

have_buildx() { docker buildx version >/dev/null 2>&1; }

# apt options for a throwaway sources/lists/archives dir under TMP, on SUITE of this machine's mirror:
# packages of another suite without touching the system's apt configuration.  Sets APT_OPTS.
# Further arguments are foreign architectures (e.g. arm64) whose package lists are read too.
private_apt() {
    local tmp=$1 suite=$2 mirror arch
    shift 2
    mirror=$(debian_mirror)
    chmod 755 "$tmp"  # apt drops to the _apt user for downloads
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial" "$tmp/parts"
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$suite" >"$tmp/parts/$suite.sources"
    : >"$tmp/status"
    APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/parts"
              -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives"
              -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
    if [ $# -gt 0 ]; then
        APT_OPTS+=(-o "APT::Architectures::=$(dpkg --print-architecture)")
        for arch in "$@"; do APT_OPTS+=(-o "APT::Architectures::=$arch"); done
    fi
    apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update for $suite failed"
}

# Debian 12 has no docker-buildx package: fetch Debian 13's (it needs only libc6 >= 2.34).
install_buildx() {
    have_buildx && return 0
    if apt-cache show docker-buildx >/dev/null 2>&1 && apt_install docker-buildx 2>/dev/null; then
        have_buildx && return 0
    fi
    log "fetching docker-buildx from Debian 13 (trixie)"
    local tmp
    tmp=$(mktemp -d)
    private_apt "$tmp" trixie
    local opts=("${APT_OPTS[@]}")
    (cd "$tmp" && apt-get "${opts[@]}" download docker-buildx >/dev/null) || die "cannot download docker-buildx from trixie"
    dpkg -i --force-depends "$tmp"/docker-buildx_*.deb >/dev/null || die "dpkg -i docker-buildx failed"
    rm -rf "$tmp"
    have_buildx || die "docker buildx still not available after installing docker-buildx"
}

daemon_up() { timeout 10 docker info >/dev/null 2>&1; }

start_dockerd() {
    daemon_up && return 0
    mkdir -p "$STATE_DIR"
    log "starting dockerd"
    # iptables may be unavailable in sandboxes; the registry is reached over loopback only.
    drop_stale_pidfile "$STATE_DIR/dockerd.pid"
    nohup dockerd --pidfile "$STATE_DIR/dockerd.pid" >"$STATE_DIR/dockerd.log" 2>&1 &
    await_daemon dockerd daemon_up "$STATE_DIR"
}

# Wait up to 60 s for CHECK to pass; then mark DIR/dockerd.started (for `down`), else show DIR's log.
await_daemon() {
    local name=$1 check=$2 dir=$3
    for _ in $(seq 1 60); do
        "$check" && { touch "$dir/dockerd.started"; return 0; }
        sleep 1
    done
    tail -n 20 "$dir/dockerd.log" >&2 || true
    die "$name did not answer within 60 s (log: $dir/dockerd.log)"
}

registry_up() { curl -fsS -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

start_registry() {
    registry_up && return 0
    mkdir -p "$STATE_DIR/registry-data"
    cat >"$STATE_DIR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry-data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
    log "starting registry on $REGISTRY_ADDR"
    nohup docker-registry serve "$STATE_DIR/registry.yml" >"$STATE_DIR/registry.log" 2>&1 &
    echo $! >"$STATE_DIR/registry.pid"
    for _ in $(seq 1 30); do
        registry_up && return 0
        sleep 0.5
    done
    die "registry did not answer on $REGISTRY_ADDR (log: $STATE_DIR/registry.log)"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Import directory ROOT as IMAGE (with a PATH, which `docker import` leaves unset); ROOT is removed.
import_dir() {
    local root=$1 image=$2
    tar -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$image" >/dev/null || { rm -rf "$root"; die "docker import $image failed"; }
    rm -rf "$root"
}

# debootstrap a minimal Debian with the given extra packages and import it as IMAGE.
import_rootfs() {
    local image=$1 include=$2 root
    root=$(mktemp -d /var/tmp/freshbin-rootfs.XXXXXX)
    log "debootstrap $SUITE for $image (about a minute)"
    debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$(debian_mirror)" \
        >"$STATE_DIR/debootstrap.log" 2>&1 || { rm -rf "$root"; die "debootstrap failed (log: $STATE_DIR/debootstrap.log)"; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    import_dir "$root" "$image"
}

build_builder_image() {
    image_exists "$BUILDER_IMAGE" && return 0
    mkdir -p "$STATE_DIR"
    import_rootfs "$BUILDER_IMAGE" "cargo,rustc,gcc,libc6-dev"
}

# A few-MB runtime (glibc, libgcc_s, sh) cut from the builder image: the stand-in for
# debian:bookworm-slim, which cannot be pulled here.  Small images keep pushes and saves fast.
build_runtime_image() {
    image_exists "$RUNTIME_IMAGE" && return 0
    local cid root
    root=$(mktemp -d /var/tmp/freshbin-runtime.XXXXXX)
    cid=$(docker create "$BUILDER_IMAGE" /bin/true)
    docker export "$cid" | tar -C "$root" -x \
        bin lib lib64 sbin usr/lib64 usr/bin/dash usr/bin/sh usr/bin/true usr/bin/cat \
        usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 usr/lib/x86_64-linux-gnu/libc.so.6 \
        usr/lib/x86_64-linux-gnu/libgcc_s.so.1 usr/lib/x86_64-linux-gnu/libm.so.6 \
        etc/passwd etc/group || { docker rm "$cid" >/dev/null; rm -rf "$root"; die "cannot cut the runtime image from $BUILDER_IMAGE"; }
    docker rm "$cid" >/dev/null
    mkdir -p "$root/tmp" "$root/usr/local/bin"
    chmod 1777 "$root/tmp"
    import_dir "$root" "$RUNTIME_IMAGE"
}

# The builder plus crate sources from Debian's librust-*-dev packages of the builder's suite, in
# /usr/share/cargo/registry (a cargo directory source).  The packages hold only source files, so
# they are unpacked with dpkg-deb rather than installed (debootstrap fails configuring them).
# IMAGE (default the deps image) from the builder plus the sources of CRATES (Debian package names).
build_deps_image() {
    local image=${1:-$DEPS_IMAGE} crates=${2:-$DEPS_CRATES}
    image_exists "$image" && return 0
    image_exists "$BUILDER_IMAGE" || build_builder_image
    local tmp cid
    tmp=$(mktemp -d)
    log "fetching crate sources from $SUITE: $(echo $crates)"
    private_apt "$tmp" "$SUITE"
    # An empty dpkg status: the whole dependency closure is downloaded, whatever this host has.
    # shellcheck disable=SC2086  # the crate list is split into package names on purpose
    (cd "$tmp" && apt-get "${APT_OPTS[@]}" -o "Dir::State::status=$tmp/status" install -y -qq \
        --download-only --no-install-recommends $crates >/dev/null) || die "cannot download $(echo $crates)"
    mkdir -p "$tmp/root"
    for deb in "$tmp"/archives/librust-*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
    [ -d "$tmp/root/usr/share/cargo/registry" ] || die "no crate sources in the downloaded packages"
    cid=$(docker create "$BUILDER_IMAGE" /bin/true)
    tar -C "$tmp/root" -c usr/share/cargo/registry | docker cp - "$cid:/" || die "cannot copy crate sources"
    docker commit "$cid" "$image" >/dev/null || die "docker commit $image failed"
    docker rm "$cid" >/dev/null
    log "built $image with $(ls "$tmp/root/usr/share/cargo/registry" | wc -l) crates"
    rm -rf "$tmp"
}

# A pidfile left by a daemon that died with the machine names a PID the kernel may have given to
# another process since; dockerd then refuses to start ("process with PID … is still running").
drop_stale_pidfile() {
    local pidfile=$1 pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || rm -f "$pidfile"
}

stop_pidfile() {
    local name=$1 pidfile=$2 pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        log "stopping $name (pid $pid)"
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
    rm -f "$pidfile"
}

# A library beside this file (engine26.sh: the second engine; cross.sh: the arm64 images).
source_lib() {
    local lib
    lib="$(dirname "${BASH_SOURCE[0]}")/$1"
    [ -f "$lib" ] || die "$1 is missing beside $0; run the script from its directory in the package"
    # shellcheck disable=SC1090
    . "$lib"
}
engine26_lib() { source_lib engine26.sh; }

cmd_up() {
    require_root_debian
    apt_install docker.io docker-registry debootstrap curl ca-certificates git tini
    install_buildx
    start_dockerd
    start_registry
    build_builder_image
    build_runtime_image
    log "ready: $(docker buildx version | head -n1); registry http://$REGISTRY_ADDR; images $BUILDER_IMAGE $RUNTIME_IMAGE"
    case "$ENGINE" in
        26) engine26_lib; engine26_up ;;
        buildkit) source_lib buildkit.sh; buildkit_up ;;
    esac
}

cmd_down() {
    source_lib buildkit.sh
    if [ "$ENGINE" = buildkit ]; then buildkit_down; return 0; fi
    engine26_lib
    if [ -n "$ENGINE" ]; then engine26_down; return 0; fi
    buildkit_down
    for store in classic containerd; do STORE=$store engine26_down; done
    stop_pidfile registry "$STATE_DIR/registry.pid"
    if [ -f "$STATE_DIR/dockerd.started" ]; then
        stop_pidfile dockerd "$STATE_DIR/dockerd.pid"
        rm -f "$STATE_DIR/dockerd.started"
    fi
}

# The e2e suite leaves build cache and tagged test images behind (tens of GB over a CI run on three
# engines); a machine's disk is shared, so a run must give back what it took.
prune_engine() {
    local kept
    docker builder prune -af >/dev/null || die "docker builder prune failed"
    kept=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -c '^localhost/rust-' || true)
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '^localhost/rust-' | grep -v '<none>' \
        | xargs -r docker rmi >/dev/null 2>&1 || true
    docker image prune -f >/dev/null || true
    log "pruned $1: build cache and test images gone, $kept localhost/rust-* images kept"
}

prune_registry() {
    [ -f "$STATE_DIR/registry.pid" ] || { log "registry not started by this script: left as it is"; return 0; }
    stop_pidfile registry "$STATE_DIR/registry.pid"
    rm -rf "${STATE_DIR:?}/registry-data"
    start_registry
}

cmd_prune() {
    if [ "$ENGINE" = buildkit ]; then source_lib buildkit.sh; buildkit_prune; return 0; fi
    if [ -n "$ENGINE" ]; then
        engine26_lib; engine26_vars
        engine26_answers || { log "$E26_NAME is not running: nothing to prune"; return 0; }
        DOCKER_HOST=unix://$E26_SOCK prune_engine "$E26_NAME"
        return 0
    fi
    daemon_up || { log "the default engine is not running: nothing to prune"; return 0; }
    prune_engine default
    prune_registry
}

cmd_status() {
    printf 'client:   %s\n' "$(docker --version 2>/dev/null || echo missing)"
    printf 'buildx:   %s\n' "$(docker buildx version 2>/dev/null | head -n1 || echo missing)"
    printf 'registry: %s\n' "$(registry_up && echo "running on $REGISTRY_ADDR" || echo down)"
    printf 'builder:  %s\n' "$(image_exists "$BUILDER_IMAGE" 2>/dev/null && echo "$BUILDER_IMAGE" || echo missing)"
    printf 'runtime:  %s\n' "$(image_exists "$RUNTIME_IMAGE" 2>/dev/null && echo "$RUNTIME_IMAGE" || echo missing)"
    engine26_lib
    engine_status default unix:///var/run/docker.sock
    for store in classic containerd; do
        STORE=$store engine26_vars
        [ -S "$E26_SOCK" ] && engine_status "$E26_NAME" "unix://$E26_SOCK"
    done
    source_lib buildkit.sh
    printf 'buildkit: %s\n' "$(buildkit_answers && echo "running: buildx builder $BK_NAME on $BK_SOCK" || echo down)"
    return 0
}

ACTION=${1:-}
shift || true
ENGINE="" STORE=classic
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=${2:-}; shift 2 || true ;;
        --engine=*) ENGINE=${1#--engine=}; shift ;;
        --containerd-store) STORE=containerd; shift ;;
        *) echo "testenv: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$ENGINE" in
    ""|26|buildkit) ;;
    *) echo "testenv: --engine $ENGINE is not automated; use --engine 26 (Debian 13's docker.io) or --engine buildkit" >&2; exit 2 ;;
esac
if [ "$STORE" = containerd ] && [ "$ENGINE" != 26 ]; then
    echo "testenv: --containerd-store needs --engine 26 (the default engine stays as it is)" >&2; exit 2
fi

case "$ACTION" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    prune) cmd_prune ;;
    deps-image) require_root_debian; start_dockerd; build_deps_image ;;
    cross-image) require_root_debian; start_dockerd; source_lib cross.sh; cross_up ;;
    big-image) require_root_debian; start_dockerd; build_deps_image "$BIG_IMAGE" "$BIG_CRATES" ;;
    *) echo "usage: $0 up|down|status|prune|deps-image|cross-image|big-image [--engine 26 [--containerd-store]]" >&2; exit 2 ;;
esac

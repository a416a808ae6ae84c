# Sourced by testenv.sh: a second Docker engine (Debian 13's docker.io 26 + containerd 1.7) beside
# the default one, for running the suite on today's BuildKit.  Measured recipe: see docs/engines.md.
#
# - The .debs come from Debian 13 through private_apt (download only, nothing installed) and are
#   unpacked with `dpkg-deb -x` into a prefix of their own; Debian 12's runc stays (Debian 13's
#   needs glibc 2.38: dockerd then fails "failed to retrieve runc version").
# - Each store (classic, containerd) gets its own daemon: data-root, exec-root, pidfile, socket,
#   daemon config and bridge, so both can run at once and neither touches the default daemon's
#   docker0 (a second daemon on the default bridge can leave the first without it).
# - The base images are copied from the default daemon with `docker save | docker load`.

E26_PREFIX=${FRESHBIN_ENGINE26_PREFIX:-/opt/freshbin-docker26}
E26_PACKAGES="docker.io containerd"

# Names and paths of the daemon for $STORE (classic | containerd).
engine26_vars() {
    if [ "$STORE" = containerd ]; then
        E26_NAME=docker26-containerd E26_BRIDGE=fb26c E26_ADDR=10.226.27.1/24
    else
        E26_NAME=docker26 E26_BRIDGE=fb26 E26_ADDR=10.226.26.1/24
    fi
    E26_DIR=$STATE_DIR/$E26_NAME
    E26_SOCK=$STATE_DIR/$E26_NAME.sock
}

engine26_answers() { DOCKER_HOST=unix://$E26_SOCK timeout 10 docker info >/dev/null 2>&1; }

# Download (not install) Debian 13's docker.io and containerd; unpack them into E26_PREFIX.
engine26_install() {
    [ -x "$E26_PREFIX/usr/sbin/dockerd" ] && [ -x "$E26_PREFIX/usr/bin/containerd" ] && return 0
    log "fetching $E26_PACKAGES from Debian 13 (trixie) into $E26_PREFIX"
    local tmp deb
    tmp=$(mktemp -d)
    private_apt "$tmp" trixie
    (cd "$tmp" && apt-get "${APT_OPTS[@]}" download $E26_PACKAGES >/dev/null) \
        || { rm -rf "$tmp"; die "cannot download $E26_PACKAGES from trixie"; }
    mkdir -p "$E26_PREFIX"
    for deb in "$tmp"/*.deb; do
        dpkg-deb -x "$deb" "$E26_PREFIX" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
    done
    rm -rf "$tmp"
    [ -x "$E26_PREFIX/usr/sbin/dockerd" ] || die "no dockerd in the unpacked docker.io package"
}

# A bridge of the daemon's own, with a small private /24 (created once; marked for `down`).
engine26_bridge() {
    ip link show "$E26_BRIDGE" >/dev/null 2>&1 && { ip link set "$E26_BRIDGE" up; return 0; }
    ip link add "$E26_BRIDGE" type bridge || die "cannot create bridge $E26_BRIDGE (needs CAP_NET_ADMIN)"
    ip addr add "$E26_ADDR" dev "$E26_BRIDGE" || die "cannot give $E26_BRIDGE the address $E26_ADDR"
    ip link set "$E26_BRIDGE" up
    touch "$E26_DIR/bridge.created"
}

engine26_start() {
    engine26_answers && return 0
    mkdir -p "$E26_DIR/data" "$E26_DIR/exec"
    engine26_bridge
    if [ "$STORE" = containerd ]; then
        printf '{"features": {"containerd-snapshotter": true}}\n' >"$E26_DIR/daemon.json"
    else
        printf '{}\n' >"$E26_DIR/daemon.json"
    fi
    drop_stale_pidfile "$E26_DIR/dockerd.pid"
    log "starting $E26_NAME ($("$E26_PREFIX/usr/sbin/dockerd" --version)) on $E26_SOCK, $STORE image store"
    # The prefix first on PATH: dockerd starts the prefix's containerd and shim, which find
    # Debian 12's runc in /usr/sbin.
    PATH="$E26_PREFIX/usr/sbin:$E26_PREFIX/usr/bin:$PATH" nohup "$E26_PREFIX/usr/sbin/dockerd" \
        --config-file "$E26_DIR/daemon.json" --data-root "$E26_DIR/data" --exec-root "$E26_DIR/exec" \
        --pidfile "$E26_DIR/dockerd.pid" -H "unix://$E26_SOCK" --iptables=false --ip6tables=false \
        --bridge "$E26_BRIDGE" >"$E26_DIR/dockerd.log" 2>&1 &
    await_daemon "$E26_NAME" engine26_answers "$E26_DIR"
}

# The base images, copied from the default daemon (no pulls: there is nothing to pull them from).
engine26_images() {
    local missing=() image
    for image in "$BUILDER_IMAGE" "$RUNTIME_IMAGE"; do
        DOCKER_HOST=unix://$E26_SOCK docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "copying ${missing[*]} into $E26_NAME"
    docker save "${missing[@]}" | DOCKER_HOST=unix://$E26_SOCK docker load >/dev/null \
        || die "docker save | docker load into $E26_NAME failed"
}

# After the second daemon is up, the default one must still have its bridge and build.
engine26_check_default() {
    ip link show docker0 >/dev/null 2>&1 \
        || die "the default daemon lost its bridge docker0; restart it (it was not touched by this script)"
    printf 'FROM %s\nRUN true\n' "$RUNTIME_IMAGE" \
        | docker buildx build --quiet --no-cache - >/dev/null 2>&1 \
        || die "the default daemon no longer builds a RUN step after $E26_NAME started; check $STATE_DIR/dockerd.log"
}

engine26_up() {
    engine26_vars
    engine26_install
    engine26_start
    engine26_images
    engine26_check_default
    log "ready: $E26_NAME on unix://$E26_SOCK (DOCKER_HOST=unix://$E26_SOCK, FRESHBIN_TEST_ENGINE=$E26_NAME)"
}

engine26_down() {
    engine26_vars
    if [ -f "$E26_DIR/dockerd.started" ]; then
        stop_pidfile "$E26_NAME" "$E26_DIR/dockerd.pid"
        rm -f "$E26_DIR/dockerd.started"
    fi
    if [ -f "$E26_DIR/bridge.created" ]; then
        ip link del "$E26_BRIDGE" 2>/dev/null || true
        rm -f "$E26_DIR/bridge.created"
    fi
}

# One engine's facts: server version, image store, BuildKit version, buildx builders and drivers.
engine_status() {
    local name=$1 host=$2 version store buildkit builders
    if ! version=$(DOCKER_HOST=$host timeout 10 docker info --format '{{.ServerVersion}}' 2>/dev/null); then
        printf 'engine %-20s down (%s)\n' "$name" "$host"
        return 0
    fi
    store=$(DOCKER_HOST=$host docker info --format '{{.Driver}} {{range .DriverStatus}}{{index . 1}}{{end}}' 2>/dev/null)
    case "$store" in *snapshotter*) store="containerd (${store%% *})" ;; *) store="classic (${store%% *})" ;; esac
    buildkit=$(DOCKER_HOST=$host docker buildx inspect 2>/dev/null | awk -F': *' '/^BuildKit version/ {print $2; exit}')
    builders=$(DOCKER_HOST=$host docker buildx ls 2>/dev/null | awk 'NR > 1 && $1 !~ /\\_/ {sub(/\*$/, "", $1); print $1 "(" $2 ")"}' | tr '\n' ' ')
    printf 'engine %-20s %s on %s\n' "$name" "$version" "$host"
    printf '  store %s; BuildKit %s; builders %s\n' "$store" "${buildkit:-unknown}" "${builders:-none}"
}

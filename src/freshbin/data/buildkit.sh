# Sourced by testenv.sh: a standalone BuildKit (buildkitd v0.26.3, ../shared/buildkit/) as buildx's
# `remote` builder — the shape CI builds with (setup-buildx-action's docker-container driver cannot
# start here: it runs BuildKit privileged; the remote driver stands in for it).
#
# - The binaries come from the archive in ../shared/buildkit/ beside the repository (or the file
#   BUILDKIT_TARBALL names); they are unpacked into $STATE_DIR/buildkit/bin.
# - buildkitd runs the OCI worker with Debian's runc, its state under $STATE_DIR/buildkit/root, on a
#   socket of its own; the loopback registry is plain http to it.
# - It cannot see dockerd's image store: the base images are pushed to the registry
#   ($REGISTRY_ADDR/freshbin-base/…) and builds on it name those.
# - `prune --engine buildkit` empties its cache (`buildctl prune --all`): a fresh CI runner.

BK_NAME=freshbin-buildkit
BK_DIR=$STATE_DIR/buildkit
BK_RUN=/run/freshbin-buildkit
BK_SOCK=$BK_RUN/buildkitd.sock
BK_BASE=$REGISTRY_ADDR/freshbin-base

buildkit_tarball() {
    local here candidate
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    for candidate in "${BUILDKIT_TARBALL:-}" "$here"/../../../../shared/buildkit/buildkit-*-linux-amd64.tar.xz \
                     "$PWD"/../shared/buildkit/buildkit-*-linux-amd64.tar.xz; do
        [ -n "$candidate" ] && [ -f "$candidate" ] && { echo "$candidate"; return 0; }
    done
    return 1
}

buildkit_answers() { [ -S "$BK_SOCK" ] && "$BK_DIR/bin/buildctl" --addr "unix://$BK_SOCK" debug workers >/dev/null 2>&1; }

buildkit_install() {
    [ -x "$BK_DIR/bin/buildkitd" ] && [ -x "$BK_DIR/bin/buildctl" ] && return 0
    local tarball
    tarball=$(buildkit_tarball) || die "no BuildKit archive: put buildkit-*-linux-amd64.tar.xz in ../shared/buildkit/ beside the repository or name it in BUILDKIT_TARBALL"
    mkdir -p "$BK_DIR/bin"
    tar -xJf "$tarball" -C "$BK_DIR/bin" buildkitd buildctl || die "cannot unpack $tarball"
}

buildkit_start() {
    buildkit_answers && return 0
    command -v runc >/dev/null 2>&1 || apt_install runc
    mkdir -p "$BK_DIR/root" "$BK_RUN"
    printf '[registry."%s"]\n  http = true\n' "$REGISTRY_ADDR" >"$BK_DIR/buildkitd.toml"
    log "starting buildkitd ($("$BK_DIR/bin/buildkitd" --version | awk '{print $3}')) on $BK_SOCK"
    setsid "$BK_DIR/bin/buildkitd" --oci-worker=true --containerd-worker=false \
        --oci-worker-binary "$(command -v runc)" --root "$BK_DIR/root" --addr "unix://$BK_SOCK" \
        --config "$BK_DIR/buildkitd.toml" >"$BK_DIR/buildkitd.log" 2>&1 </dev/null &
    echo $! >"$BK_DIR/buildkitd.pid"
    for _ in $(seq 1 60); do buildkit_answers && return 0; sleep 0.5; done
    die "buildkitd did not answer on $BK_SOCK (see $BK_DIR/buildkitd.log)"
}

buildkit_builder() {
    docker buildx inspect "$BK_NAME" >/dev/null 2>&1 \
        || docker buildx create --name "$BK_NAME" --driver remote "unix://$BK_SOCK" >/dev/null \
        || die "docker buildx create --driver remote failed"
    docker buildx inspect --bootstrap "$BK_NAME" >/dev/null || die "the remote builder $BK_NAME does not start"
}

buildkit_push_bases() {
    local image
    for image in "$BUILDER_IMAGE" "$RUNTIME_IMAGE"; do
        docker tag "$image" "$BK_BASE/${image#localhost/}"
        docker push -q "$BK_BASE/${image#localhost/}" >/dev/null || die "cannot push $image to $REGISTRY_ADDR"
    done
}

buildkit_up() {
    buildkit_install
    buildkit_start
    buildkit_builder
    buildkit_push_bases
    log "ready: buildx builder $BK_NAME (remote driver, BuildKit $("$BK_DIR/bin/buildkitd" --version | awk '{print $3}')); base images $BK_BASE/rust-builder:bookworm $BK_BASE/rust-runtime:bookworm"
}

buildkit_down() {
    docker buildx rm "$BK_NAME" >/dev/null 2>&1 || true
    stop_pidfile buildkitd "$BK_DIR/buildkitd.pid"
}

buildkit_prune() {
    buildkit_answers || { log "buildkitd is not running: nothing to prune"; return 0; }
    "$BK_DIR/bin/buildctl" --addr "unix://$BK_SOCK" prune --all >/dev/null || die "buildctl prune failed"
    log "pruned $BK_NAME: its build cache is empty (a fresh runner)"
}

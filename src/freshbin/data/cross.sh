# Sourced by testenv.sh: the images a cross build for linux/arm64 needs, without QEMU.
#
# - localhost/rust-builder-cross:bookworm: the builder plus Debian's aarch64 cross toolchain
#   (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) and libstd-rust-dev:arm64, so that
#   `cargo build --target aarch64-unknown-linux-gnu` links with
#   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc.  It runs on the build
#   platform (`FROM --platform=$BUILDPLATFORM`).  The .debs are downloaded on the host (private
#   apt, this machine's mirror, the builder's own dpkg status: only what it lacks) and installed
#   with dpkg in a container without network.
# - with --engine 26 --containerd-store, in that daemon: the cross image (copied),
#   localhost/rust-runtime-arm64:bookworm (glibc, libgcc_s and libm for aarch64 cut from the
#   cross image, imported as linux/arm64; no shell: nothing can run it here, and a stage that
#   only COPYs into it needs no emulator), and localhost/rust-runtime-multi:bookworm, one name
#   for the amd64 and arm64 runtimes (an image index, as debian:bookworm-slim is).  Only the
#   containerd image store holds such an image; Docker 20.10 ignores `docker import --platform`.

CROSS_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstd-rust-dev:arm64"
RUNTIME_ARM64_IMAGE=localhost/rust-runtime-arm64:bookworm
RUNTIME_MULTI_IMAGE=localhost/rust-runtime-multi:bookworm

build_cross_image() {
    image_exists "$CROSS_IMAGE" && return 0
    image_exists "$BUILDER_IMAGE" || build_builder_image
    local tmp cid started
    started=$(date +%s)
    tmp=$(mktemp -d)
    private_apt "$tmp" "$SUITE" arm64
    cid=$(docker create "$BUILDER_IMAGE" /bin/true)
    docker cp "$cid:/var/lib/dpkg/status" "$tmp/status" >/dev/null || die "cannot read $BUILDER_IMAGE's dpkg status"
    docker rm "$cid" >/dev/null
    log "fetching $CROSS_PACKAGES from $SUITE"
    (cd "$tmp" && apt-get "${APT_OPTS[@]}" -o "Dir::State::status=$tmp/status" install -y -qq \
        --download-only --no-install-recommends $CROSS_PACKAGES >/dev/null) || die "cannot download $CROSS_PACKAGES"
    cid=$(docker create --network none -e DEBIAN_FRONTEND=noninteractive -v "$tmp/archives:/debs:ro" "$BUILDER_IMAGE" \
        sh -c 'dpkg --add-architecture arm64 && dpkg -i /debs/*.deb >/dev/null && rm -rf /var/lib/apt/lists/*')
    docker start -a "$cid" >/dev/null || { docker rm "$cid" >/dev/null; die "dpkg -i of the cross packages failed"; }
    docker commit --change 'CMD ["/bin/sh"]' \
        --change 'ENV CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc' \
        "$cid" "$CROSS_IMAGE" >/dev/null || die "docker commit $CROSS_IMAGE failed"
    docker rm "$cid" >/dev/null
    rm -rf "$tmp"
    log "built $CROSS_IMAGE in $(( $(date +%s) - started )) s"
}

# The aarch64 glibc, libgcc_s and libm from the cross image, imported as a linux/arm64 image
# into the containerd-store daemon.
build_runtime_arm64_image() {
    DOCKER_HOST=unix://$E26_SOCK docker image inspect "$RUNTIME_ARM64_IMAGE" >/dev/null 2>&1 && return 0
    local cid root lib=usr/lib/aarch64-linux-gnu
    root=$(mktemp -d /var/tmp/freshbin-runtime-arm64.XXXXXX)
    cid=$(docker create "$CROSS_IMAGE" /bin/true)
    docker export "$cid" | tar -C "$root" -x bin lib sbin usr/lib/ld-linux-aarch64.so.1 \
        "$lib/ld-linux-aarch64.so.1" "$lib/libc.so.6" "$lib/libgcc_s.so.1" "$lib/libm.so.6" etc/passwd etc/group \
        || { docker rm "$cid" >/dev/null; rm -rf "$root"; die "cannot cut the arm64 runtime from $CROSS_IMAGE"; }
    docker rm "$cid" >/dev/null
    mkdir -p "$root/tmp" "$root/usr/local/bin"
    chmod 1777 "$root/tmp"
    tar -C "$root" -c . | DOCKER_HOST=unix://$E26_SOCK docker import --platform linux/arm64 - "$RUNTIME_ARM64_IMAGE" >/dev/null \
        || { rm -rf "$root"; die "docker import $RUNTIME_ARM64_IMAGE failed"; }
    rm -rf "$root"
}

# In the containerd-store daemon: one image name for both runtimes (an index), made by a
# multi-platform build whose stages only pick the platform's base.
build_runtime_multi_image() {
    local host=unix://$E26_SOCK
    DOCKER_HOST=$host docker image inspect "$RUNTIME_MULTI_IMAGE" >/dev/null 2>&1 && return 0
    printf 'FROM %s AS base-amd64\nFROM %s AS base-arm64\nFROM base-$TARGETARCH\n' "$RUNTIME_IMAGE" "$RUNTIME_ARM64_IMAGE" \
        | DOCKER_HOST=$host docker buildx build --quiet --platform linux/amd64,linux/arm64 \
            --output "type=image,name=$RUNTIME_MULTI_IMAGE" --provenance=false - >/dev/null \
        || die "cannot make $RUNTIME_MULTI_IMAGE in $E26_NAME (a multi-platform image needs the containerd store)"
}

cross_up() {
    build_cross_image
    [ -n "$ENGINE" ] || { log "ready: $CROSS_IMAGE"; return 0; }
    [ "$STORE" = containerd ] || die "a multi-platform runtime needs the containerd store: pass --engine 26 --containerd-store"
    engine26_lib
    engine26_vars
    engine26_answers || die "$E26_NAME does not answer; run \`testenv.sh up --engine 26 --containerd-store\` first"
    if ! DOCKER_HOST=unix://$E26_SOCK docker image inspect "$CROSS_IMAGE" >/dev/null 2>&1; then
        log "copying $CROSS_IMAGE into $E26_NAME"
        docker save "$CROSS_IMAGE" | DOCKER_HOST=unix://$E26_SOCK docker load >/dev/null \
            || die "docker save | docker load into $E26_NAME failed"
    fi
    build_runtime_arm64_image
    build_runtime_multi_image
    log "ready in $E26_NAME: $CROSS_IMAGE $RUNTIME_MULTI_IMAGE (linux/amd64, linux/arm64)"
}

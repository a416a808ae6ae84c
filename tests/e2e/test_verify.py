"""verify on the real engine, registry and cargo: the three binaries decide, the digests do not."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import FRESHBIN, commit_all, set_revision, unique_dummy, write, engine_name
from .conftest import BUILD_ARGS, buildx_push, reproducible_digests, run_image, unique_image
from .test_deploy import freshbin_deploy, ok_json
from .test_hazard import COPY_ALL, PINNED_MTIME

pytestmark = pytest.mark.e2e

CACHE_MOUNT_DOCKERFILE = """ARG BUILDER=rust:1-bookworm
ARG RUNTIME=debian:bookworm-slim
FROM ${{BUILDER}} AS builder
WORKDIR /app
COPY . .
RUN --mount=type=cache,id={mount_id},target=/app/target cargo build --release && cp target/release/worker /worker
FROM ${{RUNTIME}} AS worker
COPY --from=builder /worker /usr/local/bin/worker
ENTRYPOINT ["/usr/local/bin/worker"]
"""


def freshbin_verify(repo: Path, *args: str, target: str = "worker") -> subprocess.CompletedProcess:
    argv = [*FRESHBIN, "verify", "--target", target, "--json"]
    for key, value in BUILD_ARGS.items():
        argv += ["--build-arg", f"{key}={value}"]
    return subprocess.run(argv + list(args), cwd=repo, capture_output=True, text=True, timeout=1800)


def check(result: dict, name: str) -> dict:
    return next(c for c in result["checks"] if c["name"] == name)


def bump_worker_manifest(repo: Path) -> None:
    """A manifest change: the dependency pre-build re-runs after the checkout (the hazard's trigger)."""
    manifest = repo / "bin" / "worker" / "Cargo.toml"
    lines = [ln for ln in manifest.read_text().splitlines() if not ln.startswith("description")]
    at = lines.index("[package]") + 1
    lines.insert(at, f'description = "worker {uuid.uuid4().hex[:8]}"')
    manifest.write_text("\n".join(lines) + "\n")


def test_hazardous_worker_change_is_stale_by_cargo_mtime_and_fixed_dockerfile_is_fresh(engine, example_repo):
    image = unique_image("verify-mtime")
    unique_dummy(example_repo)
    revision = f"worker-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    bump_worker_manifest(example_repo)
    commit_all(example_repo, "worker change with a manifest change")
    # The how-to's deploy shipped the dummy, and deploy itself says so from the build's record.
    deployed = ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached"), code=1)
    assert run_image(f"{image}:{deployed['tag']}") == "dummy"
    assert deployed["evidence"]["not_compiled"] == ["worker"]

    # Named from the deploy's own step record: no --no-cache build runs.
    stale = ok_json(freshbin_verify(example_repo, "--image", image), code=1)
    assert stale["verdict"] == "stale" and stale["cause"] == "cargo mtime freshness"
    assert stale["nocache"] is None
    assert stale["evidence"]["decided_by"] == "step cache record" and stale["evidence"]["source"] == "deploy record"
    assert "RUN touch crates/*/src/lib.rs && cargo build --release" in stale["evidence"]["detail"]
    assert "did not compile worker" in stale["evidence"]["detail"] and "FB001" in stale["evidence"]["note"]
    assert stale["deployed"]["binary_sha256"] != stale["reference"]["binary_sha256"]
    assert stale["cached"] is not None  # built after the reference: the deployed binary differs from it
    assert check(stale, "registry tag")["ok"] is True and check(stale, "revision label")["ok"] is True
    shipped = [row for row in stale["differing_files"] if row["path"] == "/usr/local/bin/worker"]
    assert shipped and shipped[0]["reference"]["sha256"] == stale["reference"]["binary_sha256"]

    # The cross-check: the how-to's --no-cache build ships the same dummy, as the cause says it would.
    crossed = ok_json(freshbin_verify(example_repo, "--image", image, "--no-cache-build"), code=1)
    assert crossed["cause"] == "cargo mtime freshness" and crossed["evidence"] == stale["evidence"]
    if engine_name() != "buildkit":  # the how-to sees agreement: its cached build reuses the deploy's layers
        assert crossed["cached"]["binary_sha256"] == crossed["nocache"]["binary_sha256"]
    # (BuildKit v0.26 keeps the older pre-build layer instead: its cached build compiles the change, and the
    # how-to's two builds disagree — the deployed image is stale all the same, for the same cause.)
    assert crossed["deployed"]["binary_sha256"] == crossed["nocache"]["binary_sha256"]
    assert check(crossed, "cross-check: cargo mtime freshness")["ok"] is True
    assert check(crossed, "binary no-cache == reference")["ok"] is False

    set_revision(example_repo, "worker", revision + "-fixed")
    bump_worker_manifest(example_repo)
    commit_all(example_repo, "same kind of change, fixed Dockerfile")
    fresh = ok_json(freshbin_verify(example_repo, "--dockerfile", "Dockerfile.fixed"))
    assert fresh["verdict"] == "fresh" and fresh["cause"] is None and fresh["deployed"] is None
    assert fresh["cached"]["binary_sha256"] == fresh["reference"]["binary_sha256"]
    assert fresh["nocache"] is None  # nothing stale, no cause to name: the slow build is skipped
    assert fresh["differing_files"] == []
    if reproducible_digests():  # timestamps pinned: the same files are the same digest
        assert fresh["cached"]["digest"] == fresh["reference"]["digest"]
    else:  # twins that differ only in timestamps: different digests, no differing file, noted, still fresh
        assert fresh["cached"]["digest"] != fresh["reference"]["digest"]
        assert any("non-reproducible" in note for note in fresh["notes"])
    tags = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                          capture_output=True, text=True).stdout.split()
    assert not [t for t in tags if fresh["commit"][:12] in t], "verify left its local tags behind"


def test_cache_mount_keeping_an_old_binary_is_stale(engine, example_repo):
    image = unique_image("verify-mount")
    write(example_repo / "Dockerfile.mount", CACHE_MOUNT_DOCKERFILE.format(mount_id=uuid.uuid4().hex))
    first = f"mount-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", first)
    commit_all(example_repo, "first")
    ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--dockerfile", "Dockerfile.mount"))
    # The next commit's source carries an mtime older than the last build (git-restore-mtime, a
    # cache restored in CI, a clock skew): cargo's fingerprints in the mount look newer.
    set_revision(example_repo, "worker", first + "-second")
    main = example_repo / "bin" / "worker" / "src" / "main.rs"
    os.utime(main, (1_000_000_000, 1_000_000_000))
    commit_all(example_repo, "second")
    deployed = ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--dockerfile",
                                       "Dockerfile.mount"), code=1)  # deploy's own ledger rule flags it
    assert run_image(f"{image}:{deployed['tag']}") == f"worker revision={first}"

    stale = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.mount"), code=1)
    assert stale["verdict"] == "stale" and stale["cause"] == "cache mount" and stale["nocache"] is None
    assert stale["evidence"]["decided_by"] == "Dockerfile line"
    assert stale["evidence"]["detail"].startswith("Dockerfile.mount:6 RUN --mount=type=cache")
    assert stale["reference"]["binary_sha256"] != stale["deployed"]["binary_sha256"]
    # A plain mount: the cause says --no-cache empties it, and the how-to's --no-cache build agrees.
    crossed = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.mount",
                                      "--no-cache-build"), code=1)
    assert crossed["cause"] == "cache mount" and check(crossed, "cross-check: cache mount")["ok"] is True
    assert crossed["nocache"]["binary_sha256"] == crossed["reference"]["binary_sha256"] != crossed["deployed"]["binary_sha256"]


def test_a_rustflags_change_the_ignore_file_drops_is_stale_with_its_pattern(engine, example_repo):
    image = unique_image("verify-ignore")
    write(example_repo / "Dockerfile.ignore", COPY_ALL)
    ignore = example_repo / ".dockerignore"
    ignore.write_text(ignore.read_text() + ".*\n")
    set_revision(example_repo, "worker", f"ignore-{uuid.uuid4().hex[:8]}")
    commit_all(example_repo, "ignore dot files")
    first = ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--dockerfile", "Dockerfile.ignore"))
    write(example_repo / ".cargo" / "config.toml", '[build]\nrustflags = ["-C", "opt-level=1"]\n')
    commit_all(example_repo, "build the worker at opt-level 1")
    second = ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--dockerfile", "Dockerfile.ignore"),
                     code=1)  # deploy's history rule: a cargo input changed, the binary did not
    assert second["binary"]["sha256"] == first["binary"]["sha256"]  # the flags never reached the build

    stale = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.ignore"), code=1)
    assert stale["verdict"] == "stale" and stale["cause"] == ".dockerignore" and stale["nocache"] is None
    assert stale["evidence"]["decided_by"] == "ignore pattern"
    assert stale["evidence"]["detail"] == ".dockerignore: line 4 .* drops .cargo/config.toml"
    assert stale["deployed"]["binary_sha256"] == first["binary"]["sha256"] != stale["reference"]["binary_sha256"]
    crossed = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.ignore",
                                      "--no-cache-build"), code=1)
    assert crossed["cause"] == ".dockerignore" and check(crossed, "cross-check: .dockerignore")["ok"] is True
    assert crossed["nocache"]["binary_sha256"] == first["binary"]["sha256"]  # --no-cache sees the same context


def test_a_same_size_edit_the_context_never_resent_is_served_by_the_build_cache(engine, example_repo):
    """Pinned mtimes, a same-size edit: BuildKit keeps its copy of the context (moby/buildkit#4950),
    so the compile step's cache key is the previous commit's and the step comes from the cache."""
    image = unique_image("verify-cache")
    write(example_repo / "Dockerfile.all", COPY_ALL)
    main = example_repo / "bin" / "worker" / "src" / "main.rs"
    first, second = f"cache-{uuid.uuid4().hex[:8]}", f"cache-{uuid.uuid4().hex[:8]}"
    deployed = []
    for revision in (first, second):
        set_revision(example_repo, "worker", revision)
        os.utime(main, (PINNED_MTIME, PINNED_MTIME))
        commit_all(example_repo, revision)
        proc = freshbin_deploy(example_repo, image, "--strategy", "cached", "--dockerfile", "Dockerfile.all")
        deployed.append(ok_json(proc, code=proc.returncode if deployed else 0))
    assert run_image(f"{image}:{deployed[1]['tag']}") == f"worker revision={first}"
    assert deployed[1]["evidence"]["ran"] is False  # the deploy's own record: the compile step was cached

    stale = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.all"), code=1)
    assert stale["verdict"] == "stale" and stale["cause"] == "build cache" and stale["nocache"] is None
    assert stale["evidence"]["decided_by"] == "step cache record" and stale["evidence"]["source"] == "deploy record"
    assert stale["evidence"]["detail"] == "[builder 4] RUN cargo build --release came from the build cache"
    # The cross-check: --no-cache reuses the context BuildKit kept, so it ships the old binary too —
    # the cached layers were not the stale input, the context was; verify says so.
    crossed = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.all",
                                      "--no-cache-build"), code=1)
    assert crossed["cause"] == "build cache" and crossed["evidence"] == stale["evidence"]
    assert check(crossed, "cross-check: build cache")["actual"] == "no-cache does not fix"
    assert crossed["nocache"]["binary_sha256"] == crossed["deployed"]["binary_sha256"]
    assert any("moby/buildkit#4950" in note for note in crossed["notes"])


def test_a_fresh_deploy_is_verified_with_the_reference_build_alone(engine, example_repo):
    """The deployed binary equals the reference: the how-to's cached build would decide nothing,
    so it is skipped; --no-cache-build still runs the how-to's whole comparison."""
    image = unique_image("verify-fresh")
    set_revision(example_repo, "worker", f"fresh-{uuid.uuid4().hex[:8]}")
    commit_all(example_repo, "a change, deployed with guard")
    deployed = ok_json(freshbin_deploy(example_repo, image))
    fresh = ok_json(freshbin_verify(example_repo, "--image", image))
    assert fresh["verdict"] == "fresh" and fresh["cached"] is None and fresh["nocache"] is None
    assert fresh["deployed"]["binary_sha256"] == fresh["reference"]["binary_sha256"] == deployed["binary"]["sha256"]
    assert any(note.startswith("cached build skipped") for note in fresh["notes"])
    assert [c["name"] for c in fresh["checks"] if c["name"].startswith(("binary", "digest", "files"))] == [
        "binary deployed == reference"]
    assert fresh["differing_files"] == []
    proc = freshbin_verify(example_repo, "--image", image, "--no-cache-build")
    full = ok_json(proc, code=proc.returncode)
    assert proc.returncode in (0, 1) and full["cached"] is not None and full["nocache"] is not None  # the how-to's two builds ran
    assert full["deployed"]["binary_sha256"] == full["reference"]["binary_sha256"] == fresh["reference"]["binary_sha256"]
    if not reproducible_digests():
        assert proc.returncode == 0 and full["verdict"] == "fresh"
    # Where digests are pinned, `digest cached == no-cache` decides, and the example's hazardous
    # Dockerfile can make the how-to's own two builds differ: the verdict then speaks of them.


def test_tag_overwritten_after_deploy_is_flagged_by_quick_verify(engine, example_repo, tmp_path):
    image = unique_image("verify-tag")
    set_revision(example_repo, "worker", f"tag-{uuid.uuid4().hex[:8]}")
    commit_all(example_repo, "deployed")
    deployed = ok_json(freshbin_deploy(example_repo, image, "--tag", "prod"))
    quick = ok_json(freshbin_verify(example_repo, "--image", image, "--quick"))
    assert quick["verdict"] == "fresh" and quick["cached"] is None and quick["reference"] is None
    assert quick["deployed"]["digest"] == deployed["digest"]

    other = tmp_path / "other"
    subprocess.run(["cp", "-r", str(example_repo), str(other)], check=True)
    set_revision(other, "worker", "pushed-over")
    buildx_push(other, dockerfile="Dockerfile.fixed", target="worker", ref=f"{image}:prod")
    moved = ok_json(freshbin_verify(example_repo, "--image", image, "--quick"), code=1)
    assert moved["verdict"] == "stale" and moved["cause"] == "tag moved"
    assert check(moved, "registry tag")["ok"] is False
    assert deployed["digest"].startswith(check(moved, "registry tag")["expected"])
    assert moved["deployed"]["digest"] != deployed["digest"]


def test_verify_without_a_deploy_and_bad_input(engine, example_repo):
    nothing = freshbin_verify(example_repo, "--image", unique_image("verify-none"), "--quick")
    data = ok_json(nothing, code=2)
    assert data["verdict"] == "inconclusive" and any("nothing deployed" in n for n in data["notes"])
    bad = freshbin_verify(example_repo, target="nope")
    assert bad.returncode == 2 and "no stage 'nope'" in bad.stderr and "Traceback" not in bad.stderr
    assert bad.stdout == ""


def test_verify_table_fits_100_columns(engine, example_repo):
    set_revision(example_repo, "worker", f"width-{uuid.uuid4().hex[:8]}")
    bump_worker_manifest(example_repo)
    commit_all(example_repo, "stale on the hazardous Dockerfile")
    argv = [*FRESHBIN, "verify", "--target", "worker", "--no-cache-build"]
    argv += [f"--build-arg={k}={v}" for k, v in BUILD_ARGS.items()]
    proc = subprocess.run(argv, cwd=example_repo, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1 and "verdict: STALE" in proc.stdout, proc.stderr[-1500:]
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100
    assert "\x1b[" not in proc.stdout  # not a TTY: no colour

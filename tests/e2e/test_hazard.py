"""The stale binary, reproduced on the real engine with the example's two Dockerfiles.

A change committed in bin/worker has a checkout-time mtime.  Whenever the dependency pre-build
runs after that checkout (a --no-cache build, or a cached build after a Cargo.toml change), the
dummy artefacts are newer than the real source and the hazardous Dockerfile ships the dummy.
Dockerfile.fixed refreshes every source first and ships the change.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from ..conftest import FRESHBIN, commit_all, set_revision, write
from .conftest import BUILD_ARGS, buildx_push, platform_manifest_digest, run_image, unique_image

pytestmark = pytest.mark.e2e
PINNED_MTIME = 1_600_000_000  # e.g. a checkout tool that sets every file to the commit time


def _unique(prefix: str) -> str:
    """A revision no earlier build has seen, so no layer of this test can come from cache."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _change_worker(repo, revision: str, touch_manifest: bool = False) -> None:
    set_revision(repo, "worker", revision)
    if touch_manifest:
        manifest = repo / "bin" / "worker" / "Cargo.toml"
        manifest.write_text(manifest.read_text() + f'description = "{revision}"\n')
    commit_all(repo, f"worker: {revision}")


@pytest.mark.parametrize("dockerfile, fresh", [("Dockerfile", False), ("Dockerfile.fixed", True)])
def test_no_cache_build_ships_stale_worker_unless_fixed(engine, example_repo, dockerfile, fresh):
    revision = _unique("worker-v2")
    _change_worker(example_repo, revision)
    ref = unique_image("hazard-nocache") + ":v2"
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=ref, no_cache=True)
    output = run_image(ref)
    if fresh:
        assert output == f"worker revision={revision}"
    else:
        assert output == "dummy", f"expected the dummy binary from the pre-build, got {output!r}"


@pytest.mark.parametrize("dockerfile, fresh", [("Dockerfile", False), ("Dockerfile.fixed", True)])
def test_cached_build_after_manifest_change_ships_stale_worker_unless_fixed(engine, example_repo, dockerfile, fresh):
    image = unique_image("hazard-manifest")
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=f"{image}:v1")  # warm the cache
    revision = _unique("worker-v3")
    _change_worker(example_repo, revision, touch_manifest=True)
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=f"{image}:v3")
    output = run_image(f"{image}:v3")
    if fresh:
        assert output == f"worker revision={revision}"
    else:
        assert output == "dummy", f"expected the dummy binary from the re-run pre-build, got {output!r}"


def test_api_picks_up_touched_library_change_even_in_hazardous_dockerfile(engine, example_repo):
    """The partial touch does cover crates/greeting, so `api` (which depends on it) is rebuilt."""
    lib = example_repo / "crates" / "greeting" / "src" / "lib.rs"
    hello = _unique("hello")
    lib.write_text(lib.read_text().replace("hello from greeting", hello))
    commit_all(example_repo, "greeting changed")
    ref = unique_image("hazard-api") + ":v2"
    buildx_push(example_repo, dockerfile="Dockerfile", target="api", ref=ref, no_cache=True)
    assert run_image(ref) == f"api revision=api-initial pg storage ({hello})"


def test_doctor_fix_makes_the_hazardous_dockerfile_ship_the_change(engine, example_repo):
    import subprocess

    fixed = subprocess.run([*FRESHBIN, "doctor", "--fix"], cwd=example_repo, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    again = subprocess.run([*FRESHBIN, "doctor", "--fix"], cwd=example_repo, capture_output=True, text=True)
    assert "nothing to fix" in again.stderr
    revision = _unique("worker-fixed")
    _change_worker(example_repo, revision)
    ref = unique_image("doctor-fix") + ":v2"
    buildx_push(example_repo, dockerfile="Dockerfile", target="worker", ref=ref, no_cache=True)
    assert run_image(ref) == f"worker revision={revision}"


COPY_ALL = """ARG BUILDER=rust:1-bookworm
ARG RUNTIME=debian:bookworm-slim
FROM ${BUILDER} AS builder
WORKDIR /app
COPY . .
RUN cargo build --release
FROM ${RUNTIME} AS worker
COPY --from=builder /app/target/release/worker /usr/local/bin/worker
ENTRYPOINT ["/usr/local/bin/worker"]
"""
LOUD_MAIN = """const REVISION: &str = "{revision}";

fn main() {{
    println!("worker revision={{}}", REVISION);
    if cfg!(loud) {{
        println!("loud");
    }}
}}
"""


@pytest.mark.parametrize("dockerignore, reaches_build", [(".*\ntarget\n", False), ("target\n.git\n", True)])
def test_dockerignore_dot_star_drops_cargo_config_change(engine, example_repo, dockerignore, reaches_build):
    """A `.cargo/config.toml` change (rustflags) never reaches the build when `.*` is ignored."""
    write(example_repo / "Dockerfile.all", COPY_ALL)
    write(example_repo / ".dockerignore", dockerignore)
    write(example_repo / "bin" / "worker" / "src" / "main.rs", LOUD_MAIN.format(revision=_unique("ignore")))
    commit_all(example_repo, "no cargo config yet")
    image = unique_image("hazard-ignore")
    buildx_push(example_repo, dockerfile="Dockerfile.all", target="worker", ref=f"{image}:before")
    write(example_repo / ".cargo" / "config.toml", '[build]\nrustflags = ["--cfg", "loud"]\n')
    commit_all(example_repo, "rustflags: --cfg loud")
    buildx_push(example_repo, dockerfile="Dockerfile.all", target="worker", ref=f"{image}:after")
    assert ("loud" in run_image(f"{image}:after").splitlines()) is reaches_build
    if not reaches_build:  # the identical context gives the identical image (an index's attestation aside)
        assert platform_manifest_digest(f"{image}:after") == platform_manifest_digest(f"{image}:before")
    findings = subprocess.run([*FRESHBIN, "doctor", "--dockerfile", "Dockerfile.all", "--format", "json",
                               "--failure-threshold", "none"], cwd=example_repo, capture_output=True, text=True)
    assert ("FB004" in {f["rule"] for f in json.loads(findings.stdout)}) is not reaches_build


def test_same_size_edit_with_pinned_mtime_is_not_sent_again(engine, example_repo):
    """BuildKit re-sends only context files whose size or mtime changed (moby/buildkit#4950)."""
    write(example_repo / "Dockerfile.all", COPY_ALL)
    main = example_repo / "bin" / "worker" / "src" / "main.rs"
    first, second = _unique("pinned"), _unique("pinned")
    assert len(first) == len(second)
    image = unique_image("hazard-pinned")
    for revision in (first, second):
        set_revision(example_repo, "worker", revision)
        os.utime(main, (PINNED_MTIME, PINNED_MTIME))
        commit_all(example_repo, revision)
        buildx_push(example_repo, dockerfile="Dockerfile.all", target="worker", ref=f"{image}:{revision}")
    assert run_image(f"{image}:{second}") == f"worker revision={first}"  # the edit never reached the build
    # The guard's context carries unique mtimes, so the same commit deploys correctly.
    argv = [*FRESHBIN, "deploy", "--image", image, "--target", "worker", "--dockerfile", "Dockerfile.all",
            "--tag", "guarded", "--json"] + [f"--build-arg={k}={v}" for k, v in BUILD_ARGS.items()]
    proc = subprocess.run(argv, cwd=example_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert run_image(f"{image}:guarded") == f"worker revision={second}"

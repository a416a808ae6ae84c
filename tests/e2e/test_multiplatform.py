"""`--platform linux/amd64,linux/arm64`: an image index deployed and verified platform by platform.

Cross-compiled without QEMU (examples/workspace/Dockerfile.cross: the builder runs on the build
platform, the arm64 runtime stage only copies), so it needs the cross builder and a runtime for
both platforms (`testenv.sh cross-image --engine 26 --containerd-store`) and an engine whose
builder builds two platforms at once: the containerd image store.  Each platform's binary is
read from the pushed index through the registry and checked to be an ELF for its machine.
"""

from __future__ import annotations

import json
import struct
import subprocess
import uuid

import pytest

from freshbin import registry_files

from ..conftest import EXAMPLE, commit_all, engine_name, in_ci, set_revision, unique_dummy, write
from .conftest import unique_image
from .test_deploy import freshbin_deploy, ok_json
from .test_verify import bump_worker_manifest, freshbin_verify

pytestmark = pytest.mark.e2e

PLATFORMS = "linux/amd64,linux/arm64"
CROSS = {"BUILDER": "localhost/rust-builder-cross:bookworm", "RUNTIME": "localhost/rust-runtime-multi:bookworm"}
ELF_MACHINE = {"linux/amd64": 62, "linux/arm64": 183}  # EM_X86_64, EM_AARCH64
CONTAINERD = "docker26-containerd"


@pytest.fixture
def cross_engine(engine):
    """The containerd-store engine with the cross images; skipped (failed in CI) otherwise."""
    if engine_name() == "buildkit":
        pytest.skip("the remote builder builds several platforms, but the cross images it would need are made for the "
                    "containerd-store leg only (testenv.sh cross-image): multi-platform deploys run there")
    if engine_name() != CONTAINERD:
        pytest.skip("multi-platform builds need the containerd image store (FRESHBIN_TEST_ENGINE=26-containerd); "
                    "the docker driver refuses them on the classic store and on Docker 20.10")
    for image in CROSS.values():
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            reason = f"{image} is missing; run `bash src/freshbin/data/testenv.sh cross-image --engine 26 --containerd-store`"
            pytest.fail(reason) if in_ci() else pytest.skip(reason)
    return engine


def cross_args(*args: str) -> list[str]:
    out = ["--platform", PLATFORMS]
    for key, value in CROSS.items():
        out += ["--build-arg", f"{key}={value}"]
    return out + list(args)


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF file"
    return int(struct.unpack_from("<H", data, 18)[0])


def index_platforms(ref: str) -> list[str]:
    raw = json.loads(subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", ref],
                                    capture_output=True, text=True, check=True).stdout)
    return sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in raw.get("manifests") or []
                  if m["platform"]["os"] != "unknown")


def assert_binaries_from_the_index(image: str, deployed: dict) -> dict[str, bytes]:
    """Each platform's recorded sha256 is the binary read from the pushed index, of its machine."""
    ref = f"{image}@{deployed['digest']}"
    assert index_platforms(ref) == ["linux/amd64", "linux/arm64"]
    binaries = {}
    for platform, facts in deployed["platforms"].items():
        data = registry_files.read_file(ref, facts["path"], platform)
        assert data is not None, f"no {facts['path']} in the {platform} image"
        assert registry_files.sha256_of(data) == facts["sha256"]
        assert elf_machine(data) == ELF_MACHINE[platform], platform
        binaries[platform] = data
    return binaries


def test_two_platforms_deploy_an_index_hashed_per_platform_and_verify_fresh(cross_engine, example_repo):
    image = unique_image("multi-fresh")
    unique_dummy(example_repo, "Dockerfile.cross")
    revision = f"multi-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    commit_all(example_repo, "worker change")
    deployed = ok_json(freshbin_deploy(example_repo, image, "--dockerfile", "Dockerfile.cross", *cross_args()))
    assert deployed["fresh"] is not False and set(deployed["platforms"]) == {"linux/amd64", "linux/arm64"}
    binaries = assert_binaries_from_the_index(image, deployed)
    assert all(revision.encode() in data for data in binaries.values())  # both carry the commit's code
    assert deployed["binary"]["sha256"] == deployed["platforms"]["linux/amd64"]["sha256"]
    record = json.loads((example_repo / ".freshbin" / "deploys.jsonl").read_text().splitlines()[-1])
    assert record["platform"] == PLATFORMS
    assert {p: f["sha256"] for p, f in record["platforms"].items()} == {
        p: f["sha256"] for p, f in deployed["platforms"].items()}
    verified = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.cross",
                                       *cross_args()))
    assert verified["verdict"] == "fresh"
    for platform, result in verified["platforms"].items():
        assert result["verdict"] == "fresh", platform
        assert result["deployed"]["binary_sha256"] == deployed["platforms"][platform]["sha256"]
        assert result["reference"]["binary_sha256"] == deployed["platforms"][platform]["sha256"]


def builder_stage(dockerfile: str, name: str, triple: str) -> str:
    """The example Dockerfile's builder stage, run on the build platform, compiling for `triple`."""
    text = (EXAMPLE / dockerfile).read_text()
    stage = text[text.index("FROM ${BUILDER} AS builder"):text.index("FROM ${RUNTIME}")]
    return (stage.replace("FROM ${BUILDER} AS builder", f"FROM --platform=$BUILDPLATFORM ${{BUILDER}} AS {name}")
            .replace("cargo build --release", f"cargo build --release --target {triple}"))


# The amd64 build is the team's fixed recipe; the arm64 build was added later by copying the old
# hazardous one (only crates/*/src/lib.rs touched), so only target/aarch64-…/release holds the
# pre-build's dummy worker whenever that pre-build runs after the checkout.
DRIFTED = "".join([
    "ARG BUILDER\nARG RUNTIME\n",
    builder_stage("Dockerfile.fixed", "build-amd64", "x86_64-unknown-linux-gnu"),
    builder_stage("Dockerfile", "build-arm64", "aarch64-unknown-linux-gnu"),
    "FROM ${RUNTIME} AS worker-amd64\n"
    "COPY --from=build-amd64 /app/target/x86_64-unknown-linux-gnu/release/worker /usr/local/bin/worker\n"
    "FROM ${RUNTIME} AS worker-arm64\n"
    "COPY --from=build-arm64 /app/target/aarch64-unknown-linux-gnu/release/worker /usr/local/bin/worker\n"
    "FROM worker-${TARGETARCH} AS worker\n"
    'ENTRYPOINT ["/usr/local/bin/worker"]\n',
])


def test_one_stale_platform_is_caught_and_named_by_deploy_and_verify(cross_engine, example_repo):
    image = unique_image("multi-stale")
    write(example_repo / "Dockerfile.drift", DRIFTED)
    unique_dummy(example_repo, "Dockerfile.drift")
    revision = f"drift-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    bump_worker_manifest(example_repo)  # the pre-build re-runs after the checkout
    commit_all(example_repo, "worker change with a manifest change")
    deployed = ok_json(freshbin_deploy(example_repo, image, "--dockerfile", "Dockerfile.drift", "--strategy", "cached",
                                       *cross_args()), code=1)
    assert deployed["fresh"] is False and deployed["reason"].startswith("linux/arm64: STALE")
    assert deployed["platforms"]["linux/arm64"]["fresh"] is False
    assert deployed["platforms"]["linux/amd64"]["fresh"] is not False
    assert deployed["evidence"]["not_compiled"] == ["worker"] and "build-arm64" in deployed["evidence"]["step"]
    binaries = assert_binaries_from_the_index(image, deployed)
    assert revision.encode() in binaries["linux/amd64"] and revision.encode() not in binaries["linux/arm64"]
    verified = ok_json(freshbin_verify(example_repo, "--image", image, "--dockerfile", "Dockerfile.drift",
                                       *cross_args()), code=1)
    assert verified["verdict"] == "stale" and verified["cause"] == "cargo mtime freshness"
    assert verified["platforms"]["linux/amd64"]["verdict"] == "fresh"
    assert verified["platforms"]["linux/arm64"]["verdict"] == "stale"
    assert "stale on linux/arm64" in verified["notes"]
    guarded = ok_json(freshbin_deploy(example_repo, image, "--dockerfile", "Dockerfile.drift", "--tag", "guarded",
                                      *cross_args()))
    assert all(f["fresh"] is not False for f in guarded["platforms"].values())
    assert all(revision.encode() in data for data in assert_binaries_from_the_index(image, guarded).values())


def test_several_platforms_on_an_engine_that_cannot_is_one_sentence_exit_2(engine, example_repo):
    if engine_name() in (CONTAINERD, "buildkit"):
        pytest.skip("this builder builds several platforms at once (the containerd image store, a remote BuildKit)")
    proc = freshbin_deploy(example_repo, unique_image("multi-refused"), "--dockerfile", "Dockerfile.cross",
                           "--platform", PLATFORMS)
    assert proc.returncode == 2 and proc.stdout == ""
    message = proc.stderr.strip().splitlines()[-1]
    assert "cannot build linux/amd64, linux/arm64 at once" in message and "containerd image store" in message
    assert "Traceback" not in proc.stderr

"""End-to-end fixtures: the real Docker engine, buildx, the loopback registry and cargo.

Outside CI a missing engine skips these tests with one line; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from ..conftest import BUILD_ARGS, REGISTRY, engine_name, write


# Measured (docs/engines.md): do two `--no-cache` builds of one commit get one digest when
# verify builds them (OCI exporter, SOURCE_DATE_EPOCH, rewrite-timestamp)?  The docker driver of
# each engine; "buildkit": the standalone BuildKit v0.26.3 as buildx's remote builder.
REPRODUCIBLE_DIGESTS = {"default": False, "docker26": False, "docker26-containerd": True, "buildkit": True}
# Does `--push` push an OCI index (the image plus a provenance attestation `unknown/unknown`)?
PUSHES_INDEX = {"default": False, "docker26": False, "docker26-containerd": True, "buildkit": True}


def reproducible_digests() -> bool:
    """What the table says for the engine the suite runs on."""
    return REPRODUCIBLE_DIGESTS[engine_name()]


def unique_image(name: str) -> str:
    return f"{REGISTRY}/freshbin-test/{name}-{uuid.uuid4().hex[:8]}"


def buildx_push(context: Path, *, dockerfile: str, target: str, ref: str, no_cache: bool = False,
                extra: list[str] | None = None) -> dict:
    """`docker buildx build … --push`; returns the metadata file's JSON."""
    meta = context.parent / f"meta-{uuid.uuid4().hex[:8]}.json"
    argv = ["docker", "buildx", "build", "--platform", "linux/amd64", "--target", target,
            "-f", str(context / dockerfile), "-t", ref, "--push", "--metadata-file", str(meta)]
    for key, value in BUILD_ARGS.items():
        argv += ["--build-arg", f"{key}={value}"]
    if no_cache:
        argv.append("--no-cache")
    argv += (extra or []) + [str(context)]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(meta.read_text())


def platform_manifest_digest(ref: str, platform: str = "linux/amd64") -> str:
    """The image manifest's digest: `ref`'s own, or its platform entry's when `ref` is an index.

    On the containerd store a push is an index whose provenance attestation differs per build,
    so two pushes of one identical image differ in their index digest only.
    """
    out = subprocess.run(["docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"],
                         capture_output=True, text=True, check=True).stdout
    manifest = json.loads(out)
    os_, arch = platform.split("/")[:2]
    for entry in manifest.get("manifests") or []:
        if (entry.get("platform") or {}).get("os") == os_ and entry["platform"].get("architecture") == arch:
            return entry["digest"]
    return manifest["digest"]


def run_image(ref: str) -> str:
    proc = subprocess.run(["docker", "run", "--rm", ref], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def private_registry(tmp_path):
    """A registry of this test's own on a free loopback port, so stopping it disturbs nobody."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write(tmp_path / "registry.yml", f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                   f"    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["curl", "-fsS", f"http://127.0.0.1:{port}/v2/"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    yield f"127.0.0.1:{port}", proc
    proc.kill()
    proc.wait()


def forget_poisoned_cache() -> None:
    """Prune the build cache after a test that files two results under one cache record.

    After the how-to's `--no-cache` rebuild of a commit whose cached build compiled the real
    binary, every later build on Docker 26.1 (both stores) that compiles the dummy — another
    commit, another clone — ships that commit's *real* binary (measured: a verify test then got
    "worker revision=poison-…"); BuildKit v0.8 goes the other way (the real binary's build ships
    the dummy, see test_deploy).
    Only on the suite's own second engine: the default daemon is shared with concurrent runs,
    whose warm caches a prune would invalidate mid-test.
    """
    if engine_name() != "default":
        subprocess.run(["docker", "buildx", "prune", "--all", "--force"], capture_output=True, timeout=300)

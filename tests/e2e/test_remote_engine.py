"""Builds on another engine: a Docker context whose engine builds and pushes, judged from here.

The second engine (Docker 26, either store: `invoke env.up --engine 26 [--containerd-store]`) is
the "remote" one, reached through a Docker context of this test's own; the session's engine is
the local one.  The image goes from
the remote engine to the registry and is read back through the registry only: the local engine
must never have it.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import ENV_DIR, FRESHBIN, commit_all, engine_name, in_ci, set_revision, unique_dummy
from .conftest import unique_image
from .test_deploy import freshbin_deploy, ok_json
from .test_verify import bump_worker_manifest, check, freshbin_verify

pytestmark = pytest.mark.e2e


# classic store: pushes an image manifest; containerd store: an index with a provenance attestation
REMOTES = ("docker26", "docker26-containerd")


@pytest.fixture(params=REMOTES)
def remote_context(engine, request):
    """A Docker context of this test's own for a second engine (never the session's own)."""
    if request.param == engine_name():
        pytest.skip(f"the session runs on {engine_name()}: it is the local engine here")
    if engine_name() == "buildkit":
        pytest.skip("BUILDX_BUILDER names the remote builder: buildx builds there whatever the Docker context")
    socket = ENV_DIR / (request.param + ".sock")
    if not socket.exists():  # not started for this run (e.g. FRESHBIN_CI_ENGINES without it)
        pytest.skip(f"no {request.param} engine here; start it with `invoke env.up --engine 26"
                    f"{' --containerd-store' if 'containerd' in request.param else ''}`")
    host = f"unix://{socket}"
    name = f"fb-remote-{uuid.uuid4().hex[:10]}"
    made = subprocess.run(["docker", "context", "create", name, "--docker", f"host={host}"],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    try:
        answers = subprocess.run(["docker", "--context", name, "image", "inspect", "localhost/rust-builder:bookworm"],
                                 capture_output=True, text=True, timeout=30).returncode == 0
        if not answers:
            reason = f"no second engine with the builder images at {host}; run `invoke env.up --engine 26`"
            pytest.fail(reason) if in_ci() else pytest.skip(reason)
        yield name
    finally:
        subprocess.run(["docker", "context", "rm", "--force", name], capture_output=True)


def remote_context_engine(context: str) -> str:
    """The image store the context's engine runs (`docker info`): containerd or classic."""
    status = subprocess.run(["docker", "--context", context, "info", "--format", "{{json .DriverStatus}}"],
                            capture_output=True, text=True, check=True).stdout
    return "containerd" if "io.containerd.snapshotter" in status else "classic"


def _has_image(ref: str, context: str = "") -> bool:
    argv = ["docker", *(["--context", context] if context else []), "image", "inspect", ref]
    return subprocess.run(argv, capture_output=True).returncode == 0


def _local_repositories(image: str) -> list[str]:
    out = subprocess.run(["docker", "image", "ls", "--digests", "--format", "{{.Repository}}"],
                         capture_output=True, text=True, check=True).stdout.split()
    return [repo for repo in out if repo == image]


def test_build_on_a_remote_context_judged_here_through_the_registry(remote_context, example_repo):
    image = unique_image("remote")
    unique_dummy(example_repo)
    set_revision(example_repo, "worker", f"remote-{uuid.uuid4().hex[:8]}")
    bump_worker_manifest(example_repo)
    commit_all(example_repo, "worker change with a manifest change")
    try:
        # The how-to's --no-cache deploy of the hazardous Dockerfile, built on the remote engine,
        # ships the dummy; deploy reads the binary through the registry and says STALE.
        stale = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache",
                                        "--docker-context", remote_context), code=1)
        assert stale["fresh"] is False and "docker --context" in stale["commands"][0]
        ref = f"{image}@{stale['digest']}"
        assert _has_image(f"{image}:{stale['tag']}", remote_context), "the remote engine built it"
        assert not _has_image(ref) and not _local_repositories(image), "the local engine got the image"
        pushed = json.loads(subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", ref],
                                           capture_output=True, text=True, check=True).stdout)
        assert ("manifests" in pushed) == ("containerd" in remote_context_engine(remote_context))

        # verify, on the local engine, reads the deployed image through the registry: STALE.
        judged = ok_json(freshbin_verify(example_repo, "--image", image), code=1)
        assert judged["verdict"] == "stale" and judged["cause"] == "cargo mtime freshness"
        assert judged["deployed"]["digest"] == stale["digest"]
        assert judged["deployed"]["binary_sha256"] == stale["binary"]["sha256"] != judged["reference"]["binary_sha256"]
        assert check(judged, "registry tag")["ok"] is True
        assert not _has_image(ref) and not _local_repositories(image), "verify pulled the deployed image"

        # The next commit with guard (the default strategy), on the remote engine: fresh, and verify
        # with its builds on the remote engine too agrees.
        set_revision(example_repo, "worker", f"remote-fixed-{uuid.uuid4().hex[:8]}")
        commit_all(example_repo, "worker change")
        fresh = ok_json(freshbin_deploy(example_repo, image, "--docker-context", remote_context))
        assert fresh["fresh"] is True and fresh["binary"]["sha256"] != stale["binary"]["sha256"]
        again = ok_json(freshbin_verify(example_repo, "--image", image, "--docker-context", remote_context))
        assert again["verdict"] == "fresh" and again["deployed"]["binary_sha256"] == fresh["binary"]["sha256"]
        assert not _local_repositories(image), "the local engine got the image"
    finally:
        subprocess.run(["docker", "--context", remote_context, "image", "rm", "--force",
                        *(f"{image}:{tag}" for tag in _tags(example_repo))], capture_output=True)


def _tags(repo: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), "log", "--format=%h", "--abbrev=12", "-5"],
                         capture_output=True, text=True).stdout.split()
    return out


def test_a_missing_or_malformed_context_is_one_sentence(engine, example_repo):
    missing = f"fb-missing-{uuid.uuid4().hex[:8]}"
    proc = subprocess.run([*FRESHBIN, "deploy", "--image", unique_image("remote"), "--dry-run",
                           "--docker-context", missing], cwd=example_repo, capture_output=True, text=True)
    assert proc.returncode == 2 and f"Docker context {missing!r} does not exist" in proc.stderr
    assert "docker context create" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([*FRESHBIN, "verify", "--quick", "--image", unique_image("remote"),
                           "--docker-context", "-H tcp://x"], cwd=example_repo, capture_output=True, text=True)
    assert proc.returncode == 2 and "is not a Docker context name" in proc.stderr

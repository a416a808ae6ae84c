"""End-to-end fixtures: the real Docker engine, buildx, the loopback registry and cargo.

Outside CI a missing engine skips these tests with one line; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import BUILD_ARGS, BUILDER, REGISTRY, RUNTIME  # noqa: F401  (re-exported)


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


def run_image(ref: str) -> str:
    proc = subprocess.run(["docker", "run", "--rm", ref], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()

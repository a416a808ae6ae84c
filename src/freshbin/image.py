"""Image inspection: configuration, the shipped binary and its sha256, read from the real image."""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import subprocess
import tarfile
from dataclasses import dataclass

from . import runner
from .errors import EnvironmentProblem


@dataclass(frozen=True)
class BinaryFacts:
    path: str
    sha256: str
    size: int


def is_local(name: str) -> bool:
    return runner.run(["docker", "image", "inspect", name], check=False).returncode == 0


def pull(ref: str) -> str:
    runner.run(["docker", "pull", "--quiet", ref], timeout=600, hint="pull needs the registry to be reachable")
    return ref


def ensure_local(image_id: str, ref: str) -> str:
    """The local image for `image_id`, pulling `ref` when the builder did not load it locally."""
    return image_id if is_local(image_id) else pull(ref)


def config_of(image: str) -> dict:
    out = runner.run(["docker", "image", "inspect", "--format", "{{json .Config}}", image]).stdout
    return json.loads(out) or {}


def binary_path(config: dict, override: str = "") -> str:
    """The shipped binary: `override`, else the entrypoint's (or cmd's) first word, resolved on PATH."""
    if override:
        return override
    words = (config.get("Entrypoint") or []) or (config.get("Cmd") or [])
    if not words:
        raise EnvironmentProblem("the image has no ENTRYPOINT or CMD; set freshbin.binary_path to the binary's path")
    first = words[0]
    if first in ("/bin/sh", "sh", "/bin/bash") and len(words) >= 3:
        raise EnvironmentProblem("the image starts through a shell; set freshbin.binary_path to the binary's path")
    if posixpath.isabs(first):
        return first
    for env in config.get("Env") or []:
        if env.startswith("PATH="):
            return f"{env[5:].split(':')[0]}/{first}"  # resolved for real in read_binary
    return f"/usr/local/bin/{first}"


def read_binary(image: str, path: str, config: dict | None = None) -> BinaryFacts:
    """sha256 of one file inside `image`, read with `docker create` + `docker cp` (no run)."""
    created = runner.run(["docker", "create", image, "/freshbin-never-runs"])
    cid = created.stdout.strip()
    try:
        for candidate in candidates(path, config or {}):
            proc = subprocess.run(["docker", "cp", f"{cid}:{candidate}", "-"], capture_output=True)
            if proc.returncode == 0:
                return _hash_from_tar(proc.stdout, candidate)
        raise EnvironmentProblem(f"{path} does not exist in the image; set freshbin.binary_path to the shipped binary")
    finally:
        runner.run(["docker", "rm", "-f", cid], check=False)


def candidates(path: str, config: dict) -> list[str]:
    if posixpath.isabs(path) and "/" in path.strip("/"):
        return [path]
    name = posixpath.basename(path)
    dirs = ["/usr/local/bin", "/usr/bin", "/bin", "/app"]
    for env in config.get("Env") or []:
        if env.startswith("PATH="):
            dirs = env[5:].split(":") + dirs
    return [path] + [posixpath.join(d, name) for d in dirs]


def _hash_from_tar(data: bytes, path: str) -> BinaryFacts:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        if member is None:
            raise EnvironmentProblem(f"{path} in the image is not a regular file; point freshbin.binary_path at the binary")
        content = tar.extractfile(member).read()
    return BinaryFacts(path=path, sha256=hashlib.sha256(content).hexdigest(), size=len(content))

"""Image inspection: configuration, the shipped binary and its sha256, read from the real image —
from the engine's image store (`docker create` + `docker cp`), or through the registry when the
store never had the image (registry_files.py: a remote Docker context, a docker-container driver).

`docker_context` aims every docker call at that context's engine (runner.docker)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import posixpath
import tarfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import engine_api, registry_files, runner
from .errors import EnvironmentProblem
from .shipped import BinaryLocation


@dataclass(frozen=True)
class BinaryFacts:
    path: str
    sha256: str
    size: int
    name: str = ""  # the cargo binary's name (the file may be copied under another)
    found_by: str = ""  # which rule named it: config, dockerfile, entrypoint, cmd

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "name": self.name or self.path.rsplit("/", 1)[-1],
                "found_by": self.found_by}


def is_local(name: str, docker_context: str = "") -> bool:
    if not name:
        return False
    sock = engine_api.socket_for(docker_context)
    if sock:
        try:
            return engine_api.image_config(sock, name) is not None
        except engine_api.EngineAPIError:
            pass
    return runner.run([*runner.docker(docker_context), "image", "inspect", name], check=False).returncode == 0


def pull(ref: str, docker_context: str = "") -> str:
    runner.run([*runner.docker(docker_context), "pull", "--quiet", ref], timeout=600,
               hint="pull needs the registry to be reachable")
    return ref


def ensure_local(image_id: str, ref: str, docker_context: str = "") -> str:
    """The local image for `image_id`, pulling `ref` when the builder did not load it locally."""
    return image_id if is_local(image_id, docker_context) else pull(ref, docker_context)


def config_of(image: str, docker_context: str = "") -> dict[str, Any]:
    sock = engine_api.socket_for(docker_context)
    if sock:
        try:
            config = engine_api.image_config(sock, image)
            if config is not None:
                return config
        except engine_api.EngineAPIError:
            pass
    out = runner.run([*runner.docker(docker_context), "image", "inspect", "--format", "{{json .Config}}", image]).stdout
    return json.loads(out) or {}


def read_binary(image: str, location: BinaryLocation, docker_context: str = "") -> BinaryFacts:
    """sha256 of the shipped binary inside `image`, from a container that never runs: the first of
    the location's candidates that is a regular file.  Over the engine's socket when the CLI
    would use it (three API calls, the tar hashed as it streams), else `docker create` + `cp`
    (always for another Docker context)."""
    sock = engine_api.socket_for(docker_context)
    if sock:
        try:
            return _read_binary_api(sock, image, location)
        except engine_api.EngineAPIError:
            pass  # the CLI below reports what is wrong in its own words
    docker = runner.docker(docker_context)
    created = runner.run([*docker, "create", image, "/freshbin-never-runs"])
    cid = created.stdout.strip()
    try:
        for candidate in location.candidates:
            proc = runner.run_b([*docker, "cp", "-L", f"{cid}:{candidate}", "-"], check=False)
            if proc.returncode == 0:
                facts = _hash_from_tar(proc.stdout, candidate)
                if facts is not None:
                    return dataclasses.replace(facts, name=location.name, found_by=location.found_by)
        raise _not_a_file(location, "the image")
    finally:
        runner.run([*docker, "rm", "-f", cid], check=False)


def registry_binary(remote: registry_files.RemoteImage, location: BinaryLocation) -> BinaryFacts:
    """The shipped binary of a pushed image, read through the registry (top layers first)."""
    found = registry_files.first_file(remote, location.candidates)
    if found is None:
        raise _not_a_file(location, f"{remote.repository}@{remote.digest[:19]}")
    return BinaryFacts(found.path, found.sha256, found.size, location.name, location.found_by)


def _not_a_file(location: BinaryLocation, where: str) -> EnvironmentProblem:
    tried = ", ".join(location.candidates[:4]) + (" …" if len(location.candidates) > 4 else "")
    return EnvironmentProblem(f"the shipped binary ({location.evidence}) is not a file in {where} (tried {tried}); "
                              "set freshbin.binary_path to its path")


def _read_binary_api(sock: str, image: str, location: BinaryLocation) -> BinaryFacts:
    cid = engine_api.create_container(sock, image)
    try:
        for candidate in location.candidates:
            facts = _hash_archive(sock, cid, candidate)
            if facts is not None:
                return dataclasses.replace(facts, name=location.name, found_by=location.found_by)
    finally:
        engine_api.remove_container(sock, cid)
    raise _not_a_file(location, "the image")


SYMLINK_HOPS = 8


def _hash_archive(sock: str, cid: str, path: str) -> BinaryFacts | None:
    """The facts of the file at `path` (symlinks followed, as `docker cp -L`), hashed while the
    archive streams; None when it is missing or not a regular file."""
    target = path
    for _ in range(SYMLINK_HOPS):
        with engine_api.response(sock, "GET", f"/containers/{cid}/archive?path={quote(target, safe='')}") as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                raise engine_api.EngineAPIError(f"archive {target}: HTTP {resp.status}")
            with tarfile.open(fileobj=resp, mode="r|") as tar:
                member = tar.next()
                if member is None:
                    return None
                if member.issym():
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(target), member.linkname))
                    continue
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is None:
                    return None
                digest, size = hashlib.sha256(), 0
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
        return BinaryFacts(path=path, sha256=digest.hexdigest(), size=size)
    return None


def _hash_from_tar(data: bytes, path: str) -> BinaryFacts | None:
    """The file's facts; None when `path` is a directory (a COPY destination the binary landed in)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        member = members[0] if members else None
        handle = tar.extractfile(member) if member is not None and member.isfile() else None
        if handle is None:
            return None
        content = handle.read()
    return BinaryFacts(path=path, sha256=hashlib.sha256(content).hexdigest(), size=len(content))

"""Every file of an image with its sha256: `docker save`, layers merged in order, whiteouts applied.

Digests of two builds of one commit rarely match (timestamps in the config and in layer tar
headers; only an engine whose OCI exporter honours rewrite-timestamp pins them, see engines.py),
so "are these images the same program?" is answered file by file: path, kind, size and sha256 of
the content — never mtimes.  The tarball is parsed with the standard library's `tarfile`:
`docker save` archives carry a `manifest.json`; BuildKit's OCI exporter writes only an OCI
layout (`index.json` → manifest → config and layer blobs), read by `oci_image`.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from . import runner
from .errors import EnvironmentProblem

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class EntryKind(StrEnum):
    FILE = "file"
    SYMLINK = "symlink"  # directories are not listed
    DELETED = "deleted"  # a whiteout over a layer that was not read (layer_reader.py: shared base layers)


@dataclass(frozen=True)
class FileEntry:
    path: str  # absolute, e.g. /usr/local/bin/api
    kind: EntryKind
    size: int
    sha256: str  # of the content; for a symlink, of its target string


def image_files(image: str, docker_context: str = "", skip: int = 0) -> dict[str, FileEntry]:
    """All regular files and symlinks of an image in the engine's store, keyed by absolute path
    (`docker save`); the first `skip` layers are not read."""
    with tempfile.TemporaryDirectory(prefix="freshbin-save-") as tmp:
        archive = Path(tmp) / "image.tar"
        with open(archive, "wb") as out:
            runner.run_b([*runner.docker(docker_context), "save", image], stdout_to=out,
                         hint="the image must be in the local store")
        return files_of_archive(archive, skip)


def files_of_archive(archive: Path, skip: int = 0) -> dict[str, FileEntry]:
    """Merge the layers of a docker-archive tarball (first image in manifest.json); the first
    `skip` layers are not read (shared with every image compared, see layer_reader.py)."""
    with tarfile.open(archive) as outer:
        try:
            manifest = _load_json(outer, "manifest.json")
        except (KeyError, json.JSONDecodeError, TypeError) as exc:
            raise EnvironmentProblem(f"{archive} is not an image archive (no manifest.json)") from exc
        files: dict[str, FileEntry] = {}
        for layer_name in manifest[0]["Layers"][skip:]:
            layer = outer.extractfile(layer_name)
            if layer is None:
                raise EnvironmentProblem(f"layer {layer_name} is missing from the image archive")
            with tarfile.open(fileobj=layer, mode="r|*") as tar:
                apply_layer(files, tar, mark_deleted=skip > 0)
    return files


def oci_image(archive: Path, platform: str = "linux/amd64",
              skip: int | None = 0) -> tuple[str, dict[str, Any], dict[str, FileEntry]]:
    """(manifest digest, image config, files) of the `platform` image in an OCI layout tarball;
    the first `skip` layers are not read, and `skip=None` reads no layer at all (config only).

    Indexes are followed down to the platform's image manifest; attestation manifests (platform
    `unknown/unknown`, which buildx adds for provenance) are never chosen.
    """
    with tarfile.open(archive) as outer:
        def blob(digest: str) -> dict[str, Any]:
            member = outer.extractfile("blobs/" + digest.replace(":", "/", 1))
            if member is None:
                raise EnvironmentProblem(f"blob {digest} is missing from the OCI archive {archive}")
            data: dict[str, Any] = json.load(member)
            return data

        try:
            descriptor = {"digest": "", "manifests": _load_json(outer, "index.json")["manifests"]}
        except (KeyError, json.JSONDecodeError, TypeError) as exc:
            raise EnvironmentProblem(f"{archive} is not an OCI layout (no index.json)") from exc
        for _ in range(4):  # index -> (nested index) -> manifest
            if "manifests" not in descriptor:
                break
            chosen = pick_platform(descriptor["manifests"], platform)
            if chosen is None:
                raise EnvironmentProblem(f"the OCI archive {archive} has no {platform} image")
            descriptor = {**blob(chosen["digest"]), "digest": chosen["digest"]}
        config = blob(descriptor["config"]["digest"])
        files: dict[str, FileEntry] = {}
        for layer in descriptor.get("layers", [])[skip:] if skip is not None else []:
            stream = outer.extractfile("blobs/" + layer["digest"].replace(":", "/", 1))
            if stream is None:
                raise EnvironmentProblem(f"layer {layer['digest']} is missing from the OCI archive {archive}")
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                apply_layer(files, tar, mark_deleted=bool(skip))
    return descriptor["digest"], config, files


def pick_platform(manifests: list[dict[str, Any]], platform: str) -> dict[str, Any] | None:
    """The descriptor for `platform` (os/arch[/variant]); never an attestation (`unknown/unknown`).

    A descriptor without a platform counts as a match (single-platform layouts often omit it).
    """
    wanted = platform.split("/")
    candidates = [m for m in manifests if (m.get("platform") or {}).get("os") != "unknown"
                  and "attestation-manifest" not in (m.get("annotations") or {}).values()]
    for m in candidates:
        plat = m.get("platform")
        if plat and [plat.get("os"), plat.get("architecture")] == wanted[:2] and (
                len(wanted) < 3 or plat.get("variant") == wanted[2]):
            return m
    return next((m for m in candidates if not m.get("platform")), None)


def apply_layer(files: dict[str, FileEntry], tar: tarfile.TarFile, *, mark_deleted: bool = False) -> None:
    """Apply one layer (a streamed tar) over `files`, honouring OCI whiteouts.  `mark_deleted`:
    the layers below were not read, so a whiteout leaves a DELETED entry to compare."""
    hardlinks: list[tuple[str, str]] = []
    for member in tar:
        path = _absolute(member.name)
        parent, name = posixpath.split(path)
        if name == OPAQUE:
            remove_under(files, parent, keep_self=True)
            continue
        if name.startswith(WHITEOUT):
            remove(files, posixpath.join(parent, name[len(WHITEOUT):]), mark_deleted)
            continue
        if member.isdir():
            continue
        remove_under(files, path)  # a file replaces whatever was there, directory included
        if member.isfile():
            files[path] = FileEntry(path, EntryKind.FILE, member.size, _sha256(tar.extractfile(member)))
        elif member.issym():
            files[path] = FileEntry(path, EntryKind.SYMLINK, len(member.linkname),
                                    hashlib.sha256(member.linkname.encode()).hexdigest())
        elif member.islnk():
            hardlinks.append((path, _absolute(member.linkname)))
    for path, target in hardlinks:  # a streamed tar cannot seek back: resolve after the pass
        if target in files:
            files[path] = FileEntry(path, files[target].kind, files[target].size, files[target].sha256)


def remove(files: dict[str, FileEntry], path: str, mark_deleted: bool) -> None:
    remove_under(files, path)
    if mark_deleted:
        files[path] = FileEntry(path, EntryKind.DELETED, 0, "")


def _absolute(name: str) -> str:
    """`./usr/bin/x`, `usr/bin/x` and `/usr/bin/x` all name `/usr/bin/x`."""
    return "/" + posixpath.normpath("/" + name).lstrip("/")


def remove_under(files: dict[str, FileEntry], path: str, *, keep_self: bool = False) -> None:
    """Drop `path` and everything below it (a whiteout, an opaque directory, a file over a directory)."""
    prefix = path.rstrip("/") + "/"
    for key in [k for k in files if k.startswith(prefix) or (k == path and not keep_self)]:
        del files[key]


def _load_json(tar: tarfile.TarFile, name: str) -> Any:
    """A JSON member of an archive; KeyError when it is absent or not a regular file."""
    handle = tar.extractfile(name)
    if handle is None:
        raise KeyError(name)
    return json.load(handle)


def _sha256(stream: IO[bytes] | None) -> str:
    """sha256 of a member's content (tarfile has a stream for every regular file)."""
    if stream is None:
        raise EnvironmentProblem("a layer's regular file has no content; the image archive is damaged")
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def differing(images: dict[str, dict[str, FileEntry]]) -> list[dict[str, Any]]:
    """Paths whose content differs between any of the named listings, sorted by path."""
    names = list(images)
    paths = sorted(set().union(*(set(listing) for listing in images.values())))
    rows = []
    for path in paths:
        entries = {name: images[name].get(path) for name in names}
        if len({(e.kind, e.sha256) if e else None for e in entries.values()}) > 1:
            rows.append({"path": path, **{name: ({"size": e.size, "sha256": e.sha256} if e else None)
                                          for name, e in entries.items()}})
    return rows

"""Files of a pushed image, read through the registry: no pull, no local engine.

An image built on another engine (a remote Docker context, a `docker-container` or remote
BuildKit driver) is in the registry, not in the local image store, so `docker create`/`docker cp`
cannot read it.  This module resolves a reference (tag or digest; an index is followed to the
platform's image manifest, never an attestation `unknown/unknown`), then reads layers **top layer
first**, streamed, and stops at the first layer that decides the path:

- the path itself (a regular file; a symlink is followed, as `docker cp -L` does; a hard link is
  read from its target in the same layer);
- a whiteout `.wh.NAME` of the path or of a directory above it, or an opaque directory marker
  `.wh..wh..opq` above it (lower layers hidden): the file does not exist;
- a directory above it replaced by a file (absent) or a symlink (the path is resolved through it
  and the search starts again at the top).

Layers below the deciding one are never fetched.  Every fetched layer is read to its end and its
sha256 checked against the digest, so what is hashed is what the manifest names.  gzip and plain
tar layers are read with the standard library; zstd layers need the `zstandard` module.

API (platform always explicit, e.g. "linux/arm64"):
  open_image(ref, platform) -> RemoteImage        manifest, config and layers
  read_file(ref, path, platform) -> bytes | None  the file's content
  file_sha256(ref, path, platform) -> FileHash | None
  first_file(image, candidates) -> FileHash | None  the first candidate that is a file
  all_files(image) -> {path: FileEntry}            every file, all layers merged (verify's listing)
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import IO, Any

from .errors import EnvironmentProblem
from .layers import OPAQUE, WHITEOUT, FileEntry, apply_layer, pick_platform
from .oci import Descriptor, RegistryError, Repository

SYMLINK_HOPS = 16  # a bound on symlink resolution (loops end as "absent")
CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteImage:
    repository: str  # host/name
    reference: str  # what was asked for: a tag or a digest
    resolved: str  # the digest the reference names (an index or a manifest)
    digest: str  # the platform's image manifest
    platform: str
    config: dict[str, Any]  # the image configuration blob; its "config" holds Labels, Entrypoint, Env…
    layers: tuple[Descriptor, ...]  # bottom first, as in the manifest
    repo: Repository = field(repr=False, compare=False)  # the open connection, credentials loaded

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.config.get("config") or {}).get("Labels") or {})


@dataclass(frozen=True)
class FileHash:
    path: str  # the path asked for
    sha256: str
    size: int
    layer: str  # digest of the layer that holds the content
    resolved: str = ""  # the path after symlinks, when it differs


def split_reference(ref: str) -> tuple[str, str]:
    """(repository, tag or digest): `host/name@sha256:…`, `host/name:tag`, `host/name` (latest)."""
    name, at, digest = ref.partition("@")
    if at:
        return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name, digest
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = name.rsplit(":", 1)
        return repository, tag
    return name, "latest"


def open_image(ref: str, platform: str) -> RemoteImage:
    """The `platform` image `ref` names, from the registry: index → manifest → config."""
    repository, reference = split_reference(ref)
    repo = _repository(repository)
    found = _manifest(repo, reference, ref)
    resolved = found[1].digest
    manifest, digest = found[0], resolved
    for _ in range(4):  # index -> (nested index) -> image manifest
        if "manifests" not in manifest:
            break
        chosen = pick_platform(list(manifest.get("manifests") or []), platform)
        if chosen is None:
            raise EnvironmentProblem(f"{ref} has no {platform} image (only other platforms or attestations); "
                                     "pass the --platform it was built for")
        manifest, digest = _manifest(repo, chosen["digest"], ref)[0], chosen["digest"]
    try:
        config = json.loads(_call(repo.blob, manifest["config"]["digest"]))
        layers = tuple(Descriptor.from_json(layer) for layer in manifest.get("layers") or [])
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise EnvironmentProblem(f"{ref} is not an image manifest the registry can serve as one") from exc
    return RemoteImage(repository, reference, resolved, digest, platform, config, layers, repo)


def read_file(ref: str, path: str, platform: str) -> bytes | None:
    """The content of the regular file at `path` in `ref`'s `platform` image; None when absent."""
    return _find(open_image(ref, platform), path, keep=True)[1]


def file_sha256(ref: str, path: str, platform: str) -> FileHash | None:
    """sha256 and size of the file at `path` (streamed: the file is never held); None when absent."""
    return first_file(open_image(ref, platform), (path,))


def first_file(image: RemoteImage, candidates: tuple[str, ...] | list[str]) -> FileHash | None:
    """The first of `candidates` that is a regular file (after symlinks) in `image`."""
    for path in candidates:
        found = _find(image, path, keep=False)[0]
        if found is not None:
            return found
    return None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def all_files(image: RemoteImage) -> dict[str, FileEntry]:
    """Every regular file and symlink of the image, layers applied bottom first (like layers.py's
    `docker save` listing, so the two compare)."""
    files: dict[str, FileEntry] = {}
    for layer in image.layers:
        with _LayerStream(image.repo, layer) as tar:
            apply_layer(files, tar)
    return files


# --- the top-down search ---------------------------------------------------------------------

@dataclass
class _Outcome:
    """What one layer says about a path."""

    found: FileHash | None = None
    content: bytes | None = None
    link: str = ""  # the path continues elsewhere (a symlink at it or above it)
    hardlink: str = ""  # the content is this other path's, in the same layer
    hidden: bool = False  # whiteout, opaque directory, or a file where a directory should be


def _find(image: RemoteImage, path: str, *, keep: bool) -> tuple[FileHash | None, bytes | None]:
    wanted = _absolute(path)
    for _ in range(SYMLINK_HOPS):
        outcome = _search(image.repo, image.layers, wanted, keep)
        if outcome.link:
            wanted = outcome.link
            continue
        if outcome.found is not None and wanted != _absolute(path):
            outcome.found = FileHash(path, outcome.found.sha256, outcome.found.size, outcome.found.layer, wanted)
        elif outcome.found is not None:
            outcome.found = FileHash(path, outcome.found.sha256, outcome.found.size, outcome.found.layer)
        return outcome.found, outcome.content
    return None, None


def _search(repo: Repository, layers: tuple[Descriptor, ...], wanted: str, keep: bool) -> _Outcome:
    for layer in reversed(layers):  # top layer first
        outcome = _scan(repo, layer, wanted, keep)
        if outcome.hardlink:
            outcome = _scan(repo, layer, outcome.hardlink, keep)  # the target precedes it in this layer
        if outcome.found or outcome.link or outcome.hidden:
            return outcome
    return _Outcome(hidden=True)


def _scan(repo: Repository, layer: Descriptor, wanted: str, keep: bool) -> _Outcome:
    """Read one layer for `wanted`; the layer is always read to its end (digest check)."""
    ancestors = _ancestors(wanted)
    outcome = _Outcome()
    with _LayerStream(repo, layer) as tar:
        for member in tar:
            path = _absolute(member.name)
            parent, name = posixpath.split(path)
            if name == OPAQUE and parent in ancestors:
                outcome.hidden = outcome.hidden or outcome.found is None
            elif name.startswith(WHITEOUT) and posixpath.join(parent, name[len(WHITEOUT):]) in (*ancestors, wanted):
                outcome.hidden = outcome.hidden or outcome.found is None
            elif path == wanted:
                _take(outcome, tar, member, layer, keep)
            elif path in ancestors and not member.isdir():
                if member.issym():
                    rest = wanted[len(path):]
                    outcome.link = _absolute(posixpath.join(posixpath.dirname(path), member.linkname) + rest)
                else:
                    outcome.hidden = True
    return outcome


def _take(outcome: _Outcome, tar: tarfile.TarFile, member: tarfile.TarInfo, layer: Descriptor, keep: bool) -> None:
    if member.isfile():
        stream = tar.extractfile(member)
        digest, size, kept = hashlib.sha256(), 0, []
        for block in iter(lambda: stream.read(CHUNK) if stream else b"", b""):
            digest.update(block)
            size += len(block)
            if keep:
                kept.append(block)
        outcome.found = FileHash(_absolute(member.name), digest.hexdigest(), size, layer.digest)
        outcome.content = b"".join(kept) if keep else None
    elif member.issym():
        outcome.link = _absolute(posixpath.join(posixpath.dirname(_absolute(member.name)), member.linkname))
    elif member.islnk():
        outcome.hardlink = _absolute(member.linkname)
    else:
        outcome.hidden = True  # a directory, device or fifo: not a file


def _ancestors(path: str) -> tuple[str, ...]:
    parts = path.strip("/").split("/")[:-1]
    return tuple("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))


def _absolute(name: str) -> str:
    return "/" + posixpath.normpath("/" + name).lstrip("/")


# --- blobs -----------------------------------------------------------------------------------

class _Hashing:
    """A read-only stream that hashes what passes through (the layer's compressed bytes)."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size) if size >= 0 else self.raw.read()
        self.digest.update(data)
        return data

    def drain(self) -> str:
        while self.read(CHUNK):
            pass
        return "sha256:" + self.digest.hexdigest()


class _LayerStream:
    """`with _LayerStream(repo, layer) as tar:` a streamed tar of one layer blob, decompressed as it
    arrives; on leaving, the rest is read and the blob's sha256 must be the layer's digest."""

    def __init__(self, repo: Repository, layer: Descriptor):
        self.repo, self.layer = repo, layer

    def __enter__(self) -> tarfile.TarFile:
        self.response = _call(self.repo.blob_stream, self.layer.digest)
        self.hashing = _Hashing(self.response.raw)
        source: Any = self.hashing
        if "zstd" in self.layer.media_type:
            source = _zstd_reader(self.hashing)
        try:
            self.tar = tarfile.open(fileobj=source, mode="r|*")
        except tarfile.TarError as exc:
            self.response.close()
            raise EnvironmentProblem(f"layer {self.layer.digest[:19]} is not a tar archive "
                                     f"({self.layer.media_type or 'no media type'})") from exc
        return self.tar

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if kind is None:
                for _member in self.tar:  # the tar's end, then the stream's (padding, gzip trailer)
                    pass
                if self.hashing.drain() != self.layer.digest:
                    raise EnvironmentProblem(f"the registry served layer {self.layer.digest[:19]} with other "
                                             "content; retry, or check the registry")
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise EnvironmentProblem(f"layer {self.layer.digest[:19]} could not be read to its end "
                                     f"({exc.__class__.__name__}); retry, or check the registry") from None
        finally:
            self.tar.close()
            self.response.close()


def _zstd_reader(source: _Hashing) -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]  # optional: only zstd layers need it
    except ImportError:
        raise EnvironmentProblem("the image has zstd-compressed layers; install the `zstandard` Python package "
                                 "(pip install zstandard) or push gzip layers") from None
    return zstandard.ZstdDecompressor().stream_reader(source)


def _repository(repository: str) -> Repository:
    try:
        return Repository(repository)
    except RegistryError as exc:
        raise EnvironmentProblem(f"{exc}; check the registry is running and reachable") from None


def _manifest(repo: Repository, reference: str, ref: str) -> tuple[dict[str, Any], Descriptor]:
    found: tuple[dict[str, Any], Descriptor] | None = _call(repo.manifest, reference)
    if found is None:
        raise EnvironmentProblem(f"the registry has no {ref}; push it first (deploy) or check the name")
    return found


def _call(method: Any, *args: Any) -> Any:
    """A registry call whose failures end as one EnvironmentProblem sentence."""
    try:
        return method(*args)
    except RegistryError as exc:
        raise EnvironmentProblem(f"{exc}; check the registry and the credentials (`docker login`)") from None

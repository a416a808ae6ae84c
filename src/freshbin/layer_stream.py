"""One layer blob as a streamed tar: hashed and decompressed as it arrives, never held whole.

`with LayerStream(repo, layer) as tar:` yields a stream-mode `tarfile` over the blob (gzip or
plain tar by magic bytes; zstd by media type, with the optional `zstandard` module); on leaving,
the rest of the blob is read and its sha256 must be the layer's digest, so what was read is
what the manifest names.
"""

from __future__ import annotations

import hashlib
import tarfile
from typing import IO, Any

from .errors import EnvironmentProblem
from .oci import Descriptor, RegistryError, Repository

CHUNK = 1 << 20


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


class LayerStream:
    """`with LayerStream(repo, layer) as tar:` a streamed tar of one layer blob, decompressed as it
    arrives; on leaving, the rest is read and the blob's sha256 must be the layer's digest."""

    def __init__(self, repo: Repository, layer: Descriptor):
        self.repo, self.layer = repo, layer

    def __enter__(self) -> tarfile.TarFile:
        try:
            self.response = self.repo.blob_stream(self.layer.digest)
        except RegistryError as exc:
            raise EnvironmentProblem(f"{exc}; check the registry and the credentials (`docker login`)") from None
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

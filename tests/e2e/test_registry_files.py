"""registry_files against the real loopback registry: images assembled layer by layer (whiteouts,
opaque directories, symlinked directories, hard links, an index with an attestation and two
platforms), pushed with oci.Repository, read back top layer first."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

from freshbin import registry_files
from freshbin.errors import EnvironmentProblem
from freshbin.oci import INDEX, MANIFEST, Repository

from .conftest import unique_image

pytestmark = pytest.mark.e2e

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"


def _layer(*entries: tuple) -> bytes:
    """A gzip tar of (kind, path[, content or link]) entries: file, dir, sym, hard."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for kind, path, *rest in entries:
            info = tarfile.TarInfo(path)
            if kind == "file":
                info.size = len(rest[0])
                tar.addfile(info, io.BytesIO(rest[0]))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
            info.linkname = rest[0] if rest else ""
            tar.addfile(info)
    return gzip.compress(raw.getvalue(), mtime=0)


def _push_image(repo: Repository, layers: list[bytes], arch: str = "amd64") -> dict:
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Labels": {"arch": arch}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": repo.push_blob(config, CONFIG).to_json(),
                "layers": [repo.push_blob(data, LAYER).to_json() for data in layers]}
    desc, _ = repo.push_manifest(manifest)
    return {**desc.to_json(), "platform": {"os": "linux", "architecture": arch}}


@pytest.fixture(scope="module")
def pushed() -> dict[str, str]:
    image = unique_image("registry-files")
    repo = Repository(image)
    base = _layer(("dir", "usr"), ("dir", "usr/bin"), ("file", "usr/bin/tool", b"base tool"),
                  ("sym", "bin", "usr/bin"), ("file", "etc/gone", b"x"), ("dir", "opt/data"),
                  ("file", "opt/data/old", b"old"), ("file", "app/api", b"old api"))
    top = _layer(("file", "app/api", b"new api"), ("file", "etc/.wh.gone", b""),
                 ("file", "opt/data/.wh..wh..opq", b""), ("file", "opt/data/new", b"new"),
                 ("hard", "app/api-link", "app/api"), ("sym", "app/current", "api"))
    amd64 = _push_image(repo, [base, top])
    arm64 = _push_image(repo, [_layer(("file", "app/api", b"arm api"))], "arm64")
    attestation = {**_push_image(repo, [_layer(("file", "in-toto.json", b"{}"))], "unknown"),
                   "platform": {"os": "unknown", "architecture": "unknown"},
                   "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}
    index, _ = repo.push_manifest({"schemaVersion": 2, "mediaType": INDEX,
                                   "manifests": [attestation, arm64, amd64]}, "multi")
    single, _ = repo.push_manifest({"schemaVersion": 2, "mediaType": MANIFEST,
                                    "config": repo.push_blob(b'{"config":{}}', CONFIG).to_json(),
                                    "layers": [repo.push_blob(base, LAYER).to_json()]}, "single")
    return {"index": f"{image}@{index.digest}", "tag": f"{image}:multi", "single": f"{image}:single",
            "amd64": amd64["digest"], "arm64": arm64["digest"]}


def test_the_platform_manifest_of_an_index_never_the_attestation(pushed):
    amd = registry_files.open_image(pushed["index"], "linux/amd64")
    arm = registry_files.open_image(pushed["tag"], "linux/arm64")
    assert (amd.digest, arm.digest) == (pushed["amd64"], pushed["arm64"])
    assert amd.resolved == arm.resolved == pushed["index"].split("@")[1]
    assert amd.labels == {"arch": "amd64"} and arm.labels == {"arch": "arm64"}
    assert registry_files.read_file(pushed["index"], "/app/api", "linux/arm64") == b"arm api"
    with pytest.raises(EnvironmentProblem, match="no linux/s390x image"):
        registry_files.open_image(pushed["index"], "linux/s390x")


def test_top_layer_wins_and_whiteouts_hide(pushed):
    read = lambda path: registry_files.read_file(pushed["index"], path, "linux/amd64")  # noqa: E731
    assert read("/app/api") == b"new api"
    assert read("app/api-link") == b"new api"  # hard link to the top layer's file
    assert read("/app/current") == b"new api"  # symlink followed
    assert read("/bin/tool") == b"base tool"  # through a symlinked directory of a lower layer
    assert read("/etc/gone") is None  # whiteout
    assert read("/opt/data/old") is None  # opaque directory above it
    assert read("/opt/data/new") == b"new"
    assert read("/usr/bin") is None and read("/nowhere") is None  # a directory is not a file
    assert registry_files.read_file(pushed["single"], "/app/api", "linux/amd64") == b"old api"


def test_hashes_stream_and_match_the_content(pushed):
    image = registry_files.open_image(pushed["index"], "linux/amd64")
    found = registry_files.first_file(image, ["/usr/local/bin/api", "/bin/tool"])
    assert found is not None and found.path == "/bin/tool" and found.resolved == "/usr/bin/tool"
    assert found.sha256 == hashlib.sha256(b"base tool").hexdigest() == registry_files.sha256_of(b"base tool")
    assert found.size == len(b"base tool")
    top = registry_files.file_sha256(pushed["index"], "/app/api", "linux/amd64")
    assert top is not None and top.layer == image.layers[-1].digest  # the base layer was never needed
    files = registry_files.all_files(image)
    assert files["/app/api"].sha256 == top.sha256 and "/etc/gone" not in files and "/opt/data/old" not in files


def test_a_missing_image_is_one_sentence(pushed):
    with pytest.raises(EnvironmentProblem, match="the registry has no .*push it first"):
        registry_files.open_image(pushed["tag"].replace(":multi", ":absent"), "linux/amd64")

"""OCI layouts as Docker 26 writes them (index → attestation + image) and the probe cache: no engine."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time

import pytest

from freshbin import engines, layers
from freshbin.errors import EnvironmentProblem

ATTESTATION = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "a" * 64,
               "platform": {"architecture": "unknown", "os": "unknown"},
               "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}


def _tar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _oci_archive(tmp_path, nested: bool):
    """An OCI layout: (nested index with an attestation →) image manifest → config + one gzip layer."""
    blobs: dict[str, bytes] = {}

    def add(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    layer = add(gzip.compress(_tar({"usr/local/bin/worker": b"binary", "etc/x": b"x"})))
    config = add(json.dumps({"config": {"Labels": {"org.opencontainers.image.revision": "abc"}}}).encode())
    manifest = add(json.dumps({"config": {"digest": config}, "layers": [{"digest": layer}]}).encode())
    image = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest,
             "platform": {"architecture": "amd64", "os": "linux"}}
    top = [image]
    if nested:
        top = [{"mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": add(json.dumps({"manifests": [ATTESTATION, image]}).encode())}]
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": json.dumps({"manifests": top}).encode()}
    files.update({"blobs/" + d.replace(":", "/"): data for d, data in blobs.items()})
    archive = tmp_path / "image.tar"
    archive.write_bytes(_tar(files))
    return archive, manifest


@pytest.mark.parametrize("nested", [False, True])
def test_oci_image_follows_indexes_to_the_platform_manifest(tmp_path, nested):
    archive, manifest = _oci_archive(tmp_path, nested)
    digest, config, files = layers.oci_image(archive, "linux/amd64")
    assert digest == manifest
    assert config["config"]["Labels"]["org.opencontainers.image.revision"] == "abc"
    assert files["/usr/local/bin/worker"].sha256 == hashlib.sha256(b"binary").hexdigest()


def test_oci_image_without_the_platform_says_so(tmp_path):
    archive, _ = _oci_archive(tmp_path, True)
    with pytest.raises(EnvironmentProblem, match="no linux/arm64 image"):
        layers.oci_image(archive, "linux/arm64")


def test_pick_platform_never_picks_an_attestation():
    assert layers.pick_platform([ATTESTATION], "linux/amd64") is None
    bare = {"digest": "sha256:" + "b" * 64}
    assert layers.pick_platform([ATTESTATION, bare], "linux/amd64") is bare
    arm = {"digest": "sha256:" + "c" * 64, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
    assert layers.pick_platform([ATTESTATION, arm], "linux/arm64/v8") is arm
    assert layers.pick_platform([arm], "linux/amd64") is None


def test_probe_cache_round_trip_and_expiry(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    found = engines.Behaviour("26.1.5", "containerd", True, "note")
    engines._cache_write("k", found)
    assert engines._cache_read("k") == found
    data = json.loads((tmp_path / "freshbin" / "engines.json").read_text())
    data["k"]["at"] = time.time() - engines.CACHE_SECONDS - 1
    (tmp_path / "freshbin" / "engines.json").write_text(json.dumps(data))
    assert engines._cache_read("k") is None
    (tmp_path / "freshbin" / "engines.json").write_text("not json")
    assert engines._cache_read("k") is None


def test_notes_name_the_builder_that_showed_the_behaviour():
    from freshbin import buildx
    remote = buildx.Engine("0.13.1", "freshbin-buildkit", "remote", "v0.26.3", True)
    note = engines.note_of(remote, "20.10.24", engines.ImageStore.CLASSIC, True)
    assert note.startswith("builder freshbin-buildkit (remote driver, BuildKit v0.26.3): the OCI exporter pins")
    assert "Docker" not in note  # the daemon beside a remote builder showed nothing
    local = buildx.Engine("0.13.1", "default", "docker", "v0.8+unknown", True)
    assert engines.note_of(local, "20.10.24", engines.ImageStore.CLASSIC, False).startswith(
        "builder default (docker driver, BuildKit v0.8+unknown) in Docker 20.10.24, classic image store: two builds")

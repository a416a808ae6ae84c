"""The shipped binary read over the engine's socket equals what `docker cp -L` reads (real engine)."""

import hashlib
import subprocess

import pytest

from freshbin import engine_api, image
from freshbin.shipped import BinaryLocation

from ..conftest import RUNTIME

pytestmark = pytest.mark.e2e


def cli_sha(path: str) -> str:
    cid = subprocess.run(["docker", "create", RUNTIME, "/x"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        data = subprocess.run(["docker", "cp", "-L", f"{cid}:{path}", "-"], capture_output=True, check=True).stdout
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmembers()[0]
        handle = tar.extractfile(member)
        assert handle is not None
        return hashlib.sha256(handle.read()).hexdigest()


def test_api_and_cli_read_the_same_file_following_symlinks(engine, monkeypatch):
    assert engine_api.socket_path(), "the test engine is on a unix socket"
    # /bin/sh is a symlink to dash; a missing first candidate is skipped like the CLI skips it.
    location = BinaryLocation(("/usr/local/bin/absent", "/bin/sh"), "sh", "config", "test")
    via_api = image.read_binary(RUNTIME, location)
    config_api = image.config_of(RUNTIME)
    assert image.is_local(RUNTIME) and not image.is_local("localhost/freshbin-never-built:none")
    monkeypatch.setattr(engine_api, "socket_path", lambda: None)
    assert via_api == image.read_binary(RUNTIME, location)
    assert via_api.path == "/bin/sh" and via_api.sha256 == cli_sha("/bin/sh") == cli_sha("/usr/bin/dash")
    assert config_api == image.config_of(RUNTIME) and config_api.get("Env")


def test_no_container_is_left_behind(engine):
    ours = ["docker", "ps", "-aq", "--filter", f"label={engine_api.PROBE_LABEL}"]
    before = subprocess.run(ours, capture_output=True, text=True, check=True).stdout.split()
    image.read_binary(RUNTIME, BinaryLocation(("/bin/sh",), "sh", "config", "test"))
    after = subprocess.run(ours, capture_output=True, text=True, check=True).stdout.split()
    assert set(after) <= set(before)

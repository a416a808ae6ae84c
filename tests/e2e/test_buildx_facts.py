"""buildx.preflight's cache on the real engine: a hit runs no docker CLI process, and a change to
what decides the answers (buildx's current builder, the buildx plugin binary) is a miss.

The docker CLI is counted through a recorder first on PATH that execs the real `docker`: every
answer still comes from the real CLI and daemon.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from freshbin import buildx

from ..conftest import engine_name

pytestmark = pytest.mark.e2e


@pytest.fixture()
def counted_docker(engine, tmp_path, monkeypatch):
    """PATH starts with a `docker` that logs each call and runs the real one; a private cache and
    a private copy of the docker config (so the test may change buildx's state)."""
    real = shutil.which("docker")
    assert real, "docker is not on PATH"
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    recorder = bin_dir / "docker"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    recorder.chmod(0o755)
    config = tmp_path / "docker-config"
    home_config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    if home_config.is_dir():
        shutil.copytree(home_config, config, symlinks=True, ignore=shutil.ignore_patterns("activity", "refs"))
    config.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def calls() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []
    return config, calls


def test_the_second_preflight_asks_no_cli_and_says_the_same(counted_docker):
    if engine_name() == "buildkit":
        pytest.skip("a remote builder is asked every time: the daemon behind its address can change (buildx_facts.py)")
    _, calls = counted_docker
    first = buildx.preflight()
    asked = len(calls())
    assert asked >= 3, calls()  # info, buildx version, inspect, build --help
    assert buildx.preflight() == first
    assert len(calls()) == asked, calls()[asked:]


def test_another_current_builder_is_a_miss(counted_docker):
    config, calls = counted_docker
    buildx.preflight()
    asked = len(calls())
    current = config / "buildx" / "current"
    current.parent.mkdir(parents=True, exist_ok=True)
    current.write_text('{"Key":"unix:///var/run/docker.sock","Name":"another","Global":false}')
    buildx.preflight()  # buildx may still answer with the default builder; it must be asked
    assert len(calls()) > asked


def test_a_replaced_buildx_plugin_is_a_miss(counted_docker):
    config, calls = counted_docker
    buildx.preflight()
    asked = len(calls())
    plugin = next((Path(d) / "docker-buildx" for d in ("/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
                                                      "/usr/local/lib/docker/cli-plugins")
                   if (Path(d) / "docker-buildx").exists()), None)
    if plugin is None:
        pytest.skip("buildx is not installed as a system plugin here")
    (config / "cli-plugins").mkdir(exist_ok=True)
    shutil.copy2(plugin, config / "cli-plugins" / "docker-buildx")  # the user's own plugin now wins
    buildx.preflight()
    assert len(calls()) > asked


def test_another_docker_context_is_never_cached(counted_docker):
    _, calls = counted_docker
    buildx.preflight()
    asked = len(calls())
    with pytest.raises(Exception):
        buildx.preflight(docker_context="freshbin-no-such-context")
    assert len(calls()) > asked  # asked the CLI, which says the context does not exist

"""Which daemon the socket client may talk to: only the one the docker CLI would use itself."""

import json

import pytest

from freshbin import engine_api


@pytest.fixture
def docker_env(monkeypatch, tmp_path):
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    return tmp_path


def test_a_unix_docker_host_is_its_socket(docker_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/lib/freshbin-env/docker26.sock")
    assert engine_api.socket_path() == "/var/lib/freshbin-env/docker26.sock"


@pytest.mark.parametrize("host", ["tcp://10.0.0.2:2376", "ssh://builder@host", "npipe:////./pipe/docker_engine"])
def test_other_hosts_are_left_to_the_cli(docker_env, monkeypatch, host):
    monkeypatch.setenv("DOCKER_HOST", host)
    assert engine_api.socket_path() is None


def test_a_chosen_context_is_left_to_the_cli(docker_env, monkeypatch):
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    assert engine_api.socket_path() is None
    monkeypatch.delenv("DOCKER_CONTEXT")
    (docker_env / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert engine_api.socket_path() is None


def test_a_dead_socket_is_an_api_error_not_a_crash(tmp_path):
    with pytest.raises(engine_api.EngineAPIError):
        engine_api.image_config(str(tmp_path / "no.sock"), "anything")

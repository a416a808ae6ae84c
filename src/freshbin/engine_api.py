"""The Docker Engine API over its unix socket, for the questions a deploy asks after every build.

Why not the docker CLI: each `docker` process costs 40–100 ms of start-up on a busy 2-core machine,
and reading the shipped binary took three (`create`, `cp`, `rm`).  Over the socket the same
questions are a few milliseconds each, and the binary's tar is hashed as it streams.

Only the plain case is served here: DOCKER_HOST unset or `unix://…`, no docker context chosen.
Everything else (tcp, ssh, contexts, TLS) returns None from `socket_path`, and callers use the
CLI, which knows those.  Stdlib only (http.client): no dependency, no import cost for --help.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_SOCKET = "/var/run/docker.sock"
TIMEOUT_S = 120.0
PROBE_LABEL = "org.freshbin.probe"  # on the never-started containers the binary is read from


class EngineAPIError(Exception):
    """The socket did not answer as the API documents; the caller falls back to the CLI."""


def socket_for(docker_context: str) -> str | None:
    """The socket to ask instead of `docker --context NAME …`: none for a named context (its
    engine may be on another host), else socket_path()."""
    return None if docker_context else socket_path()


def socket_path() -> str | None:
    """The daemon's unix socket when the CLI would use it too; None when a context or a non-unix
    DOCKER_HOST is in play (the CLI resolves those)."""
    if os.environ.get("DOCKER_CONTEXT"):
        return None
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        return host[len("unix://"):] if host.startswith("unix://") else None
    if _current_context() not in ("", "default"):
        return None
    return DEFAULT_SOCKET if os.path.exists(DEFAULT_SOCKET) else None


def _current_context() -> str:
    config_dir = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        data = json.loads((config_dir / "config.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("currentContext") or "") if isinstance(data, dict) else ""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT_S)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT_S)
        sock.connect(self._path)
        self.sock = sock


@contextmanager
def response(sock: str, method: str, path: str, body: dict[str, Any] | None = None
             ) -> Iterator[http.client.HTTPResponse]:
    """One request; the open response (status not judged: 404 means something to some callers)."""
    conn = _UnixConnection(sock)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        yield conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        raise EngineAPIError(f"{method} {path}: {exc}") from exc
    finally:
        conn.close()


def call(sock: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """(status, decoded JSON or None) of one request."""
    with response(sock, method, path, body) as resp:
        data = resp.read()
        status = resp.status
    try:
        return status, json.loads(data) if data else None
    except ValueError as exc:
        raise EngineAPIError(f"{method} {path}: the answer is not JSON") from exc


def image_inspect(sock: str, image: str) -> dict[str, Any] | None:
    """`docker image inspect` of one image as the API gives it, or None when the engine lacks it."""
    status, data = call(sock, "GET", f"/images/{quote(image, safe='')}/json")
    if status == 404:
        return None
    if status != 200 or not isinstance(data, dict):
        raise EngineAPIError(f"image inspect {image}: HTTP {status}")
    return data


def image_config(sock: str, image: str) -> dict[str, Any] | None:
    """The image's `.Config` (empty fields left out, as `docker image inspect --format '{{json .Config}}'`
    leaves them out: readers use Entrypoint, Cmd, WorkingDir, Env, Labels), or None when the engine
    does not hold it."""
    data = image_inspect(sock, image)
    if data is None:
        return None
    config = data.get("Config") or {}
    return {k: v for k, v in config.items() if v not in (None, "", [], {}, False)} if isinstance(config, dict) else {}


def remove_image(sock: str, image: str) -> bool:
    """`docker image rm IMAGE` (untag; the layers go when nothing else holds them): removed?"""
    status, _ = call(sock, "DELETE", f"/images/{quote(image, safe='')}")
    return status == 200


def create_container(sock: str, image: str) -> str:
    """A container that is never started: only its filesystem is read."""
    status, data = call(sock, "POST", "/containers/create", {"Image": image, "Cmd": ["/freshbin-never-runs"],
                                                            "Labels": {PROBE_LABEL: "binary-read"}})
    if status != 201 or not isinstance(data, dict) or "Id" not in data:
        raise EngineAPIError(f"container create {image}: HTTP {status}")
    return str(data["Id"])


def remove_container(sock: str, cid: str) -> None:
    try:
        call(sock, "DELETE", f"/containers/{cid}?force=1")
    except EngineAPIError:
        pass  # best effort, like `docker rm -f … check=False`

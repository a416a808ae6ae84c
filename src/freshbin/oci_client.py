"""Talking to a registry: which host and repository an image names, plain http for loopback,
credentials from the Docker config through oras' auth backends, and a small client without
oras' Registry class (its retries, its jsonschema import).

requests and oras' auth are imported when a registry is first used: about 0.08 s, which a CLI
start that never talks to a registry should not pay.
"""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # oras and requests load when a registry is first used
    import requests

TIMEOUT = (5, 60)  # connect, read (seconds)


class RegistryError(Exception):
    """The registry refused or did not answer; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


def split_image(image: str) -> tuple[str, str]:
    """(registry host[:port], repository path) the way docker reads an image name."""
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", image if "/" in image else f"library/{image}"


def insecure_host(host: str) -> bool:
    """Plain http, as docker allows without configuration: loopback addresses and localhost."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def docker_config_path() -> str:
    """The Docker client's config.json: $DOCKER_CONFIG/config.json, else ~/.docker/config.json."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


def client_for(host: str, name: str) -> Client:
    """A client for `host` with the Docker config's credentials, its oras auth backend chosen by
    the registry's challenge (htpasswd registries answer `Basic`, token services `Bearer`)."""
    from http.cookiejar import DefaultCookiePolicy

    import requests
    import oras.auth
    import oras.container
    from oras.logger import logger as oras_logger

    oras_logger.log_handler = []  # the core never prints; oras would log to stderr
    insecure = insecure_host(host)
    server = "registry-1.docker.io" if host == "docker.io" else host
    try:
        ping = requests.get(f"{'http' if insecure else 'https'}://{server}/v2/", timeout=TIMEOUT)
        challenge = ping.headers.get("WWW-Authenticate", "")
    except requests.RequestException as exc:
        raise RegistryError(f"{host} did not answer ({reason(exc)})") from None
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # as oras: some registries set CSRF cookies
    backend = "basic" if challenge.lower().startswith("basic") else "token"
    auth = oras.auth.get_auth_backend(backend, session, insecure)
    auth.load_configs(oras.container.Container(f"{host}/{name}"), configs=[docker_config_path()])
    if not hasattr(auth, "_basic_auth"):
        auth._basic_auth = None  # no credentials: a 401 is answered as such, not an AttributeError
    return Client(session, auth)


def reason(exc: Exception) -> str:
    """A short cause, never the exception's text (it may quote a URL or a header)."""
    name = exc.__class__.__name__
    if "Timeout" in name:
        return "timed out"
    return "connection refused or unreachable" if "Connection" in name else name


def registry_message(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return f" ({errors[0].get('code', '')}: {errors[0].get('message', '')})"[:160] if errors else ""
    except ValueError:
        return ""


class Client:
    """oras' session and auth backend (Docker config credentials, Basic or Bearer token flow)
    without oras' Registry class: its import pulls in jsonschema (~0.04 s of every deploy's tag
    check) for manifest validation freshbin does not use, and its retry decorator sleeps 3 s, 5 s,
    11 s… on any error, turning a registry that is down into minutes of waiting."""

    def __init__(self, session: requests.Session, auth: Any):
        self.session = session
        self.auth = auth

    def do_request(self, url: str, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None,
                   stream: bool = False) -> requests.Response:
        headers = dict(headers or {})
        if getattr(self.auth, "token", None) or getattr(self.auth, "_basic_auth", None):
            headers.update(self.auth.get_auth_header())  # credentials known: skip the 401 round trip
        response = self._send(method, url, data, headers, stream)
        if response.status_code not in (401, 403) or not (getattr(self.auth, "_basic_auth", None)
                                                           or hasattr(self.auth, "token")):
            return response
        headers, changed = self.auth.authenticate_request(response, headers)
        if not changed:
            return response
        response.close()
        return self._send(method, url, data, headers, stream)

    def _send(self, method: str, url: str, data: Any, headers: dict[str, str],
              stream: bool = False) -> requests.Response:
        """One request with timeouts; `stream` leaves the body unread (a layer is read as it arrives)."""
        response: requests.Response = self.session.request(method, url, data=data, headers=headers,
                                                           timeout=TIMEOUT, stream=stream)
        return response

"""What decides buildx's answers on the local engine: the cache key of `buildx.preflight`.

preflight asks four questions (daemon version, buildx version, the builder, `--no-cache-filter`
support), each a docker CLI process.  On the local engine their answers depend only on the docker
CLI and buildx plugin binaries, buildx's own state (the current builder, its instances), the
environment that selects them, and the daemon: so the key is the stat of those binaries and
files, those variables, and the daemon's `/version` answer over its socket (one in-process
request, which also proves the daemon answers).  Another Docker context, a DOCKER_HOST over TCP or
a daemon that does not answer on its socket give no key: the CLI is asked, as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from . import engine_api, fact_cache

CACHE = "buildx"
ENVIRONMENT = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "BUILDX_BUILDER", "BUILDX_CONFIG", "PATH")
PLUGIN_DIRS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
               "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")


def local_key(builder: str, docker_context: str) -> str | None:
    """The cache key of the local engine's buildx facts; None when they must be asked for."""
    sock = engine_api.socket_for(docker_context)
    if not sock:
        return None
    try:
        status, version = engine_api.call(sock, "GET", "/version")
    except engine_api.EngineAPIError:
        return None
    if status != 200 or not isinstance(version, dict):
        return None
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    buildx_dir = Path(os.environ.get("BUILDX_CONFIG") or config / "buildx")
    return fact_cache.key_of({
        "builder": builder, "socket": sock, "daemon": version,
        "env": {name: os.environ.get(name, "") for name in ENVIRONMENT},
        "binaries": [_stat(shutil.which("docker") or "docker"),
                     *(_stat(str(Path(d) / "docker-buildx")) for d in (str(config / "cli-plugins"), *PLUGIN_DIRS))],
        "state": [*_contents(config / "config.json"), *_contents(buildx_dir / "current"),
                  *_contents(buildx_dir / "instances"), *_contents(buildx_dir / "defaults")],
    })


def cached(key: str) -> dict[str, Any] | None:
    return fact_cache.read(CACHE, key)


def store(key: str, facts: dict[str, Any]) -> None:
    fact_cache.write(CACHE, key, facts)


def _stat(path: str) -> list[Any]:
    """Enough of a file's identity to see it replaced: [path, inode, size, mtime], or [path]."""
    try:
        st = os.stat(path)
    except OSError:
        return [path]
    return [path, st.st_ino, st.st_size, st.st_mtime_ns]


def _contents(path: Path) -> list[list[str]]:
    """What a small state file says, or every file under a directory (buildx keeps one per
    builder): contents, not mtimes, because buildx rewrites `current` on every call."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out = []
    for file in files:
        try:
            out.append([str(file), hashlib.sha256(file.read_bytes()).hexdigest()])
        except OSError:
            out.append([str(file)])
    return out

"""What the engine does, found by trying it — never by reading version strings.

Debian's builds of Docker 26 report their embedded BuildKit as `v0.0.0+unknown`, and the classic
and containerd image stores of one engine version behave differently, so each behaviour freshbin
relies on is probed with a tiny build (`FROM scratch`, one copied file, no base image, no push):

  store         `docker info`: the containerd snapshotter or a classic graph driver
  oci_rewrite   two `--no-cache` builds to the OCI exporter with SOURCE_DATE_EPOCH and
                `rewrite-timestamp=true`, the copied file's mtime moved in between: the same
                manifest digest means the engine pins every timestamp (measured: Docker 26.1
                yes on both stores; Docker 20.10 / BuildKit v0.8 no)
  multi_platform a `--platform linux/amd64,linux/arm64` build of `FROM scratch` to the cache only:
                the `docker` driver refuses it unless the image store is containerd's
                (measured: Docker 26.1 containerd store yes; 26.1 classic and 20.10 no)

The answer is cached for a day, in $XDG_CACHE_HOME/freshbin/engines.json (a probe costs two
builds, about 2 s), keyed on the engine (socket or context, server version, image store) and on
the builder the build really runs on — its name as buildx resolves it (`--builder`, else
BUILDX_BUILDER, else the Docker config's current builder), its driver and its BuildKit version —
because each of those picks the builder, and one builder's answer is not another's (a remote
BuildKit pins timestamps where Docker 20.10's docker driver cannot export OCI at all).
"""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from . import buildx, engine_api, fact_cache, runner

CACHE_SECONDS = fact_cache.MAX_AGE_S
PROBES = "oci_rewrite,multi_platform,builder-named"  # in the cache key: a new probe is never answered by an old entry
# SOURCE_DATE_EPOCH for pinned builds: earlier than any layer a cache can hold (see verify_builds.builds).
PINNED_EPOCH = 1


class ImageStore(StrEnum):
    """The engine's image store: it decides how images, indexes and digests behave."""

    CLASSIC = "classic"  # a graph driver (overlay2)
    CONTAINERD = "containerd"  # the containerd snapshotter


@dataclass(frozen=True)
class Behaviour:
    server: str  # the daemon's version string, for the record only
    store: ImageStore
    oci_rewrite: bool  # two no-cache OCI builds with rewrite-timestamp have one digest
    note: str
    multi_platform: bool = False  # one build may produce an image index of several platforms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def behaviour(builder: str = "", docker_context: str = "", engine: buildx.Engine | None = None) -> Behaviour:
    """The probed behaviour of the builder buildx picks for `builder` on the engine `docker_context`,
    else DOCKER_HOST/the current context, reaches (cached).  `engine`: that builder's preflight
    answer when the caller has it already (verify), else it is asked for here."""
    server, status = _server_and_storage(docker_context)
    store = ImageStore.CONTAINERD if "io.containerd.snapshotter" in status else ImageStore.CLASSIC
    used = engine or buildx.preflight(builder, docker_context)  # the builder really used
    key = fact_cache.key_of([os.environ.get("DOCKER_HOST", ""), os.environ.get("DOCKER_CONTEXT", ""),
                             server, store, docker_context, used.builder, used.driver, used.buildkit, PROBES])
    cached = _cache_read(key)
    if cached is not None:
        return cached
    with ThreadPoolExecutor(2) as pool:
        rewrite_probe = pool.submit(probe_oci_rewrite, used.builder, docker_context)
        multi = probe_multi_platform(used.builder, docker_context)
        rewrite = rewrite_probe.result()
    found = Behaviour(server, store, rewrite, note_of(used, server, store, rewrite), multi)
    _cache_write(key, found)
    return found


def who(engine: buildx.Engine, server: str, store: ImageStore) -> str:
    """The builder that showed a behaviour, in words: its name, driver and BuildKit version, and
    for the docker driver the daemon and image store it builds in."""
    kit = f", BuildKit {engine.buildkit}" if engine.buildkit else ""
    where = f" in Docker {server}, {store} image store" if engine.driver == "docker" else ""
    return f"builder {engine.builder} ({engine.driver or 'unknown'} driver{kit}){where}"


def note_of(engine: buildx.Engine, server: str, store: ImageStore, rewrite: bool) -> str:
    if rewrite:
        return (f"{who(engine, server, store)}: the OCI exporter pins timestamps (rewrite-timestamp), so two builds "
                "of one commit have one digest")
    return (f"{who(engine, server, store)}: two builds of one commit get different digests (no working "
            "rewrite-timestamp), so files and binaries are compared instead")


def _server_and_storage(docker_context: str) -> tuple[str, str]:
    """(server version, its storage driver status as JSON text): over the local socket in process
    when the CLI would use it (a docker CLI start costs ~0.1 s), else `docker info`."""
    sock = engine_api.socket_for(docker_context)
    if sock:
        try:
            code, info = engine_api.call(sock, "GET", "/info")
            if code == 200 and isinstance(info, dict):
                return str(info.get("ServerVersion", "")), json.dumps(info.get("DriverStatus") or [])
        except engine_api.EngineAPIError:
            pass
    info = runner.run([*runner.docker(docker_context), "info", "--format", "{{.ServerVersion}}|{{json .DriverStatus}}"],
                      check=False, timeout=30)
    server, _, status = info.stdout.strip().partition("|")
    return server, status


def probe_oci_rewrite(builder: str = "", docker_context: str = "") -> bool:
    """Two `--no-cache` OCI builds of one file whose mtime differs: one digest?"""
    with tempfile.TemporaryDirectory(prefix="freshbin-probe-") as tmp:
        root = Path(tmp)
        contexts = []
        for index, mtime in enumerate((PINNED_EPOCH + 10, PINNED_EPOCH + 20_000)):
            ctx = root / f"ctx{index}"
            ctx.mkdir()
            (ctx / "Dockerfile").write_text("FROM scratch\nCOPY probe /probe\n")
            (ctx / "probe").write_text("freshbin probe\n")
            os.utime(ctx / "probe", (mtime, mtime))
            contexts.append(ctx)
        with ThreadPoolExecutor(2) as pool:
            digests = list(pool.map(lambda ctx: _oci_digest(ctx, builder, docker_context), contexts))
    return digests[0] is not None and digests[0] == digests[1]


def probe_multi_platform(builder: str = "", docker_context: str = "") -> bool:
    """Does the builder build two platforms at once?  A `FROM scratch` build to the cache only."""
    with tempfile.TemporaryDirectory(prefix="freshbin-probe-") as tmp:
        (Path(tmp) / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /probe\n")
        argv = [*runner.docker(docker_context), "buildx", "build", *(["--builder", builder] if builder else []),
                "--platform", "linux/amd64,linux/arm64", "--output", "type=cacheonly", "--progress", "quiet", tmp]
        return runner.run(argv, check=False, timeout=300).returncode == 0


def _oci_digest(ctx: Path, builder: str, docker_context: str) -> str | None:
    meta = ctx.parent / f"{ctx.name}.json"
    argv = [*runner.docker(docker_context), "buildx", "build", *(["--builder", builder] if builder else []), "--no-cache",
            "--build-arg", f"SOURCE_DATE_EPOCH={PINNED_EPOCH}",
            "--output", f"type=oci,dest={ctx.parent / (ctx.name + '.tar')},rewrite-timestamp=true",
            "--metadata-file", str(meta), "--progress", "quiet", str(ctx)]
    if runner.run(argv, check=False, timeout=300).returncode != 0:
        return None
    try:
        digest: str | None = json.loads(meta.read_text()).get("containerimage.digest")
        return digest
    except (OSError, json.JSONDecodeError):
        return None


def _cache_read(key: str) -> Behaviour | None:
    entry = fact_cache.read("engines", key, CACHE_SECONDS)
    try:
        return Behaviour(**{**entry, "store": ImageStore(entry["store"])}) if entry else None
    except (TypeError, KeyError, ValueError):
        return None


def _cache_write(key: str, found: Behaviour) -> None:
    fact_cache.write("engines", key, found.to_json())

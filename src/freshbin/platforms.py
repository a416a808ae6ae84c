"""Several platforms in one deploy: `--platform linux/amd64,linux/arm64` pushes an image index.

Only a builder that builds several platforms at once can (engines.probe_multi_platform: the
`docker` driver on the containerd image store can; on the classic store and on Docker 20.10 it
refuses).  Each platform's shipped binary is read through the registry (registry_files: that
platform's image manifest in the pushed index; the local store of a containerd engine holds the
index but unpacks only the host's platform), located with the Dockerfile model under that
platform's automatic build arguments (TARGETARCH…: `FROM worker-${TARGETARCH}` and its
`COPY --from=builder …/target/<triple>/release/worker`), and judged on its own, so a stale
platform is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import engines, registry_files
from .errors import EnvironmentProblem, UsageError
from .image import BinaryFacts
from .shipped import BinaryLocation

_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")
DEFAULT = "linux/amd64"


def parse(value: str) -> tuple[str, ...]:
    """The platforms of a `--platform` value (comma-separated, in order, without repeats)."""
    found: list[str] = []
    for word in (value or DEFAULT).split(","):
        word = word.strip()
        if not _PLATFORM.match(word):
            raise UsageError(f"--platform {value!r}: {word!r} is not os/arch[/variant]; "
                             "pass e.g. linux/amd64 or linux/amd64,linux/arm64")
        if word not in found:
            found.append(word)
    return tuple(found)


def target_args(platform: str) -> dict[str, str]:
    """The build arguments BuildKit defines for a stage built for `platform` (TARGETARCH…), so the
    Dockerfile model resolves `FROM worker-${TARGETARCH}` as the build did.  Empty for a list."""
    if "," in platform or not _PLATFORM.match(platform):
        return {}
    os_, arch, *variant = platform.split("/")
    return {"TARGETPLATFORM": platform, "TARGETOS": os_, "TARGETARCH": arch,
            "TARGETVARIANT": variant[0] if variant else ""}


def require_support(platforms: tuple[str, ...], builder: str = "", docker_context: str = "") -> None:
    """Several platforms need a builder that builds them at once; say so before building."""
    if len(platforms) < 2 or engines.behaviour(builder, docker_context).multi_platform:
        return
    raise EnvironmentProblem(
        f"this engine's builder cannot build {', '.join(platforms)} at once (the docker driver needs the "
        "containerd image store); turn on the containerd image store (daemon.json features.containerd-snapshotter, "
        "or `invoke env.up --engine 26 --containerd-store`) or use a docker-container builder (`--builder`), "
        "or deploy one --platform at a time")


def pushed_binaries(ref: str, platforms: tuple[str, ...],
                    locate: Callable[[str, dict[str, Any]], BinaryLocation]) -> dict[str, BinaryFacts]:
    """Each platform's shipped binary in the pushed index `ref` (image@digest), read through the
    registry; `locate(platform, config)` names its candidates."""
    found: dict[str, BinaryFacts] = {}
    for platform in platforms:
        remote = registry_files.open_image(ref, platform)
        location = locate(platform, remote.config.get("config") or {})
        file = registry_files.first_file(remote, location.candidates)
        if file is None:
            raise EnvironmentProblem(f"the {platform} image of {ref} has no shipped binary ({location.evidence}; tried "
                                     f"{', '.join(location.candidates[:4])}); set freshbin.binary_path to its path")
        found[platform] = BinaryFacts(file.path, file.sha256, file.size, location.name, location.found_by)
    return found


def for_platform(record: dict[str, Any] | None, platform: str) -> dict[str, Any] | None:
    """A deploy record seen from one platform: its `binary` is that platform's (None when the
    record has no binary for it), so the single-platform freshness rules apply unchanged."""
    if not record:
        return record
    per_platform = record.get("platforms")
    if isinstance(per_platform, dict):
        return {**record, "binary": per_platform.get(platform)}
    recorded = parse(record.get("platform") or DEFAULT) if _valid(record.get("platform")) else (DEFAULT,)
    return record if recorded[0] == platform else {**record, "binary": None}


def _valid(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(parse(value))
    except UsageError:
        return False

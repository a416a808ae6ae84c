"""The build pipeline deploy and verify share: the request, its checked inputs, labels, and where
the shipped binary is.  deploy.py orchestrates a deploy on top of it; verify.py three builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import build_cache, checkout, platforms, refs, shipped
from .dockerfile_model import parse as parse_dockerfile
from .errors import GitError, UsageError, WorkspaceError
from .workspace import load_workspace

if TYPE_CHECKING:  # GitPython loads when a repository handle is first asked for (checkout.py)
    import git


@dataclass(frozen=True)
class BuildRequest:
    """What to build and where it goes: everything a deploy and a verify have in common."""

    workspace: Path
    image: str
    tag: str = ""
    platform: str = "linux/amd64"
    target: str = ""  # the Dockerfile stage to build; empty: the last stage, as buildx builds it
    dockerfile: str = "Dockerfile"
    context: str = "."
    builder: str = ""
    docker_context: str = ""  # the engine that builds and pushes; then the image is read through the registry
    build_args: dict[str, str] = field(default_factory=dict)
    allow_dirty: bool = False
    watch: tuple[str, ...] = ()  # what triggers a no-cache rebuild; empty: every package's sources
    ledger_path: Path | None = None
    binary_path: str = ""
    quiet: bool = False  # do not stream build progress to stderr (the demo)
    tracked_tag: str = ""  # whose image is "the previous deploy" (history.tracked)
    moving_tags: tuple[str, ...] = ("latest",)  # tags expected to move between commits
    cache: build_cache.CacheOptions = build_cache.CacheOptions()  # imported/exported build caches


@dataclass(frozen=True)
class Prepared:
    """The checked inputs of a build: shared by deploy and verify."""

    workspace: Path
    checkout: checkout.Checkout
    tag: str
    dirty: bool
    dockerfile: Path
    ledger_path: Path
    stage: str = ""  # the stage that ships: --target, else the last stage (its index when unnamed)

    @property
    def commit(self) -> str:
        """The commit being built: the checkout's HEAD."""
        return self.checkout.head

    @cached_property
    def subject(self) -> str:
        """The commit's subject line (the deploy record's `subject`), read when first asked for."""
        return checkout.subjects(self.checkout.root, [self.commit]).get(self.commit, "")

    @cached_property
    def repo(self) -> git.Repo:
        """GitPython's handle, opened when first asked for (verify's reference build), not before
        a deploy's build starts."""
        from . import gitio
        return gitio.open_repo(self.checkout.root)


def prepare(req: BuildRequest, *, image_required: bool = True) -> Prepared:
    """Validate the image, tag, tree, Dockerfile and target before anything is built."""
    if image_required or req.image:
        refs.validate_repository(req.image)
    refs.validate_docker_context(req.docker_context)
    ws = Path(req.workspace).resolve()
    tree = checkout.open_checkout(ws)
    ledger_path = (req.ledger_path or ws / ".freshbin" / "deploys.jsonl").resolve()
    changed = checkout.dirty_paths(tree.root, _repo_relative(tree.root, ledger_path.parent))
    dirty = bool(changed)
    if dirty and not req.allow_dirty:
        raise GitError(
            f"the working tree has uncommitted changes ({_first(changed)}), which the image's revision label would "
            "not name; commit or stash them, or pass --allow-dirty"
        )
    tag = refs.validate_tag(req.tag or tree.head[:12])
    dockerfile = ws / req.dockerfile
    stages = parse_dockerfile(dockerfile).stages
    named = [s.name for s in stages if s.name != str(s.index)]
    if req.target and req.target not in named:
        raise UsageError(f"{dockerfile.name} has no stage {req.target!r} (stages: {', '.join(named) or 'none'}); "
                         "pass --target, or none to build the last stage")
    if not stages:
        raise UsageError(f"{dockerfile.name} has no FROM; write the Dockerfile or pass --dockerfile")
    return Prepared(ws, tree, tag, dirty, dockerfile, ledger_path, req.target or stages[-1].name)


def revision_labels(commit: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": commit,
        "org.opencontainers.image.created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def locate_binary(req: BuildRequest, p: Prepared, config: dict[str, Any],
                  platform: str = "") -> shipped.BinaryLocation:
    """Where the shipped binary is in the `platform` image (default: the request's one platform)
    built from this request (see shipped.py); the platform's TARGETARCH… resolve the Dockerfile."""
    try:
        binaries = frozenset(load_workspace(p.workspace).all_binaries())
    except WorkspaceError:
        binaries = frozenset()
    args = {**platforms.target_args(platform or req.platform), **req.build_args}
    return shipped.locate(config, override=req.binary_path, dockerfile=p.dockerfile, target=p.stage,
                          binaries=binaries, build_args=args)


def _first(paths: list[str], shown: int = 3) -> str:
    """The first few paths, readable whatever their bytes, and how many more."""
    names = ", ".join(p.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").replace("\n", "\\n")
                      for p in paths[:shown])
    return names + (f" and {len(paths) - shown} more" if len(paths) > shown else "")


def _repo_relative(root: Path, path: Path) -> tuple[str, ...]:
    try:
        return (path.relative_to(root).as_posix(),)
    except ValueError:
        return ()  # the ledger lives outside the repository

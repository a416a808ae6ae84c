"""Trigger detection: which watched files changed, which packages and binaries that touches,
and whether the next deploy needs a cache-busting build (and is exposed to the mtime hazard).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from . import gitio, history
from .workspace import Workspace, load_workspace

WORKSPACE_PACKAGE = "(workspace)"
TRIGGER_KINDS = ("source", "manifest", "submodule")


@dataclass(frozen=True)
class Change:
    path: str
    status: str
    kind: str  # source, manifest, build-definition, submodule, other
    package: str | None
    binaries: tuple[str, ...]
    old_path: str | None = None


@dataclass(frozen=True)
class Detection:
    base: str
    head: str
    base_from: str  # "flag", "registry", "ledger" or "parent"
    changed: list[Change]
    packages: list[str]
    binaries: list[str]
    no_cache_required: bool
    hazard: bool
    reason: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        data = asdict(self)
        data["changed"] = [
            {k: c[k] for k in ("path", "old_path", "status", "kind", "package", "binaries")}
            for c in data["changed"]
        ]
        return data


def classify(ws_path: str | None, repo_path: str, watch: list[str], submodule: bool = False) -> str:
    """The kind of one changed file. `ws_path` is workspace-relative, None outside the workspace."""
    parts = repo_path.split("/")  # git paths are normalised posix paths; pathlib is too slow here
    name, parent = parts[-1], (parts[-2] if len(parts) > 1 else "")
    if submodule:
        return "submodule"
    if name in ("Cargo.toml", "Cargo.lock", "build.rs") or name.startswith("rust-toolchain"):
        return "manifest" if ws_path is not None else "other"
    if parent == ".cargo" and name.startswith("config"):
        return "manifest" if ws_path is not None else "other"
    if name.startswith("Dockerfile") or name.lower().endswith(".dockerfile") or name.endswith(".dockerignore"):
        return "build-definition"
    if ws_path is not None and _under_watched(ws_path, watch):
        return "source"
    return "other"


def _under_watched(ws_path: str, watch: list[str]) -> bool:
    return any(ws_path.startswith(w.rstrip("/") + "/") for w in watch)


def _workspace_relative(repo_path: str, ws_prefix: tuple[str, ...]) -> str | None:
    if not ws_prefix:
        return repo_path
    prefix = "/".join(ws_prefix) + "/"
    return repo_path[len(prefix):] if repo_path.startswith(prefix) else None


def _owner(ws: Workspace, ws_path: str | None, kind: str) -> tuple[str | None, tuple[str, ...]]:
    if ws_path is None or kind not in TRIGGER_KINDS:
        return None, ()
    pkg = ws.owner_of(ws_path)
    if pkg is None:
        if kind == "manifest":  # workspace Cargo.toml / Cargo.lock / .cargo/config: everything
            return WORKSPACE_PACKAGE, tuple(ws.all_binaries())
        return None, ()
    return pkg.name, tuple(ws.binaries_affected_by({pkg.name}))


def map_changes(files: list[gitio.FileChange], ws: Workspace, ws_prefix: tuple[str, ...], watch: list[str]) -> list[Change]:
    changes = []
    for f in files:
        ws_path = _workspace_relative(f.path, ws_prefix)
        kind = classify(ws_path, f.path, watch, f.submodule)
        package, binaries = _owner(ws, ws_path, kind)
        if package is None and f.old_path:
            old_ws = _workspace_relative(f.old_path, ws_prefix)
            package, binaries = _owner(ws, old_ws, classify(old_ws, f.old_path, watch, f.submodule))
        changes.append(Change(f.path, f.status, kind, package, binaries, f.old_path))
    return changes


def verdict(changes: list[Change]) -> tuple[bool, bool, str]:
    """(no_cache_required, hazard, reason) — the how-to's rule and the mtime hazard."""
    triggers = [c for c in changes if c.kind in ("source", "submodule") and c.binaries]
    manifests = [c for c in changes if c.kind == "manifest"]
    hazard = bool(manifests)
    bins = sorted({b for c in triggers + manifests for b in c.binaries})
    if triggers or (manifests and bins):
        first = (triggers or manifests)[0].path
        reason = f"{first} changed and is compiled into {', '.join(bins)}"
        if hazard:
            reason += "; a manifest changed, so the dependency pre-build re-runs after the checkout (mtime hazard)"
        return True, hazard, reason
    if any(c.kind == "build-definition" for c in changes):
        return False, hazard, "only build definitions changed; no shipped binary's sources changed"
    return False, hazard, "no watched source affecting a binary changed"


def detect(
    workspace_dir: str | Path,
    *,
    base: str | None = None,
    head: str = "HEAD",
    worktree: bool = False,
    watch: list[str] | None = None,
    ledger_path: Path | None = None,
    image: str | None = None,
    tracked_tag: str = "",
) -> Detection:
    workspace_dir = Path(workspace_dir).resolve()
    repo = gitio.open_repo(workspace_dir)
    ws = load_workspace(workspace_dir)
    head_commit = gitio.resolve(repo, head)
    base_ref, base_from = _choose_base(repo, head_commit, base, ledger_path, image, tracked_tag)
    base_sha = base_ref if base_ref == gitio.EMPTY_TREE else gitio.resolve(repo, base_ref).hexsha
    base_sha, note = gitio.merge_base_if_diverged(repo, base_sha, head_commit)
    files = gitio.changed_files(repo, base_sha, None if worktree else head_commit.hexsha)
    if worktree and head_commit.hexsha != repo.head.commit.hexsha:
        # The work tree sits on HEAD; anything between --head and HEAD is part of the change too.
        note = (note + "; " if note else "") + "with --worktree the range ends at the work tree of HEAD"
    ws_prefix = PurePosixPath(workspace_dir.relative_to(Path(repo.working_tree_dir).resolve())).parts
    changes = map_changes(files, ws, ws_prefix, watch or ["crates/", "bin/"])
    no_cache, hazard, reason = verdict(changes)
    return Detection(
        base=base_sha,
        head="WORKTREE" if worktree else head_commit.hexsha,
        base_from=base_from,
        changed=changes,
        packages=sorted({c.package for c in changes if c.package}),
        binaries=sorted({b for c in changes for b in c.binaries}),
        no_cache_required=no_cache,
        hazard=hazard,
        reason=reason,
        notes=[note] if note else [],
    )


def _choose_base(repo, head_commit, base, ledger_path, image, tracked_tag="") -> tuple[str, str]:
    if base:
        return base, "flag"
    if ledger_path is not None and image:
        last = history.load(image, ledger_path, tracked_tag=tracked_tag).previous()
        if last and last.get("commit"):
            return last["commit"], "ledger" if last.get("origin") == "ledger" else "registry"
    return gitio.default_base(repo, head_commit), "parent"

"""Trigger detection: which watched files changed, which packages and binaries that touches,
and whether the next deploy needs a cache-busting build (and is exposed to the mtime hazard).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import copy
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import git

from . import gitio, graph_cache, history
from .errors import GitError, WorkspaceError
from .gitio import ChangeStatus
from .git_tree import GitTree
from .path_packages import OutsidePackage, outside_packages, owner
from .trees import DiskTree
from .workspace import Package, Workspace, load_tree

WORKSPACE_PACKAGE = "(workspace)"


class ChangeKind(StrEnum):
    """What a changed file is to the build; the value is what the JSON says."""

    SOURCE = "source"  # compiled into a package's targets
    MANIFEST = "manifest"  # Cargo.toml, Cargo.lock, build.rs, toolchain, .cargo/config
    BUILD_DEFINITION = "build-definition"  # Dockerfile, .dockerignore
    SUBMODULE = "submodule"
    OTHER = "other"


class BaseFrom(StrEnum):
    """Where the range's base commit came from."""

    FLAG = "flag"
    REGISTRY = "registry"
    LEDGER = "ledger"
    PARENT = "parent"
    HISTORY = "history"  # the deploy history deploy passed in (registry and ledger merged)


TRIGGER_KINDS = (ChangeKind.SOURCE, ChangeKind.MANIFEST, ChangeKind.SUBMODULE)
NOT_SHIPPED = ("tests", "benches", "examples")  # package dirs whose targets never ship


class Change(NamedTuple):
    """One changed file as detect judged it (a named tuple, as gitio.FileChange is: a range of
    thousands of files builds thousands, and a frozen dataclass costs three times as much)."""

    path: str
    status: ChangeStatus
    kind: ChangeKind
    package: str | None
    binaries: tuple[str, ...]
    old_path: str | None = None
    old_package: str | None = None  # a rename's (or deletion's) package at base, when it differs


@dataclass(frozen=True)
class Detection:
    base: str
    head: str
    base_from: BaseFrom
    changed: list[Change]
    packages: list[str]
    binaries: list[str]
    no_cache_required: bool
    hazard: bool
    reason: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        changed = [{"path": c.path, "old_path": c.old_path, "status": c.status, "kind": c.kind,
                    "package": c.package, "old_package": c.old_package, "binaries": list(c.binaries)}
                   for c in self.changed]
        return {f.name: changed if f.name == "changed" else copy.copy(getattr(self, f.name)) for f in fields(self)}


def classify(ws_path: str | None, repo_path: str, submodule: bool = False, pkg_path: str | None = None) -> ChangeKind:
    """The kind of one changed file.

    `ws_path` is workspace-relative (None outside the workspace); `pkg_path` is relative to the
    package that owns the file (None when no package does).  A package's source is what cargo
    compiles into its targets: files under its `src/` and other `.rs` files, except integration
    tests, benches and examples, which never reach a shipped binary.
    """
    name = repo_path.rsplit("/", 1)[-1]  # git paths are normalised posix paths; pathlib is too slow here
    if submodule:
        return ChangeKind.SUBMODULE
    if ws_path is not None and (_is_workspace_manifest(ws_path) or pkg_path in ("Cargo.toml", "build.rs")):
        return ChangeKind.MANIFEST
    if name.startswith("Dockerfile") or name.lower().endswith(".dockerfile") or name.endswith(".dockerignore"):
        return ChangeKind.BUILD_DEFINITION
    if pkg_path is not None and _is_package_source(pkg_path):
        return ChangeKind.SOURCE
    return ChangeKind.OTHER


def _is_workspace_manifest(ws_path: str) -> bool:
    """Files at the workspace root that every compile reads.  A `Cargo.toml` or `build.rs`
    elsewhere is a manifest only when it is its package's own (a fuzz crate's, a docs snippet's,
    a nested separate workspace's reach nothing cargo builds here)."""
    if ws_path in ("Cargo.toml", "Cargo.lock") or ws_path.startswith("rust-toolchain"):
        return True
    return ws_path.startswith(".cargo/config") and ws_path.count("/") == 1


def _is_package_source(pkg_path: str) -> bool:
    top = pkg_path.split("/", 1)[0]
    if top in NOT_SHIPPED or pkg_path.startswith("target/"):
        return False
    return top == "src" or pkg_path.endswith(".rs")


def under_watch(ws_path: str, watch: list[str]) -> bool:
    """`watch` decides what *triggers* a cache-busting build; empty means every package."""
    return not watch or any(ws_path.startswith(w.rstrip("/") + "/") for w in watch)


def _workspace_relative(repo_path: str, ws_prefix: tuple[str, ...]) -> str | None:
    if not ws_prefix:
        return repo_path
    prefix = "/".join(ws_prefix) + "/"
    return repo_path[len(prefix):] if repo_path.startswith(prefix) else None


def _side(ws: Workspace | None, repo_path: str, ws_prefix: tuple[str, ...], submodule: bool) -> tuple[ChangeKind, str | None, tuple[str, ...]]:
    """(kind, package, binaries) of one path judged by one side's workspace graph."""
    ws_path = _workspace_relative(repo_path, ws_prefix)
    pkg = ws.owner_of(ws_path) if ws is not None and ws_path is not None else None
    pkg_path = None
    if pkg is not None and ws_path is not None:
        pkg_path = ws_path if pkg.dir == "." else ws_path[len(pkg.dir) + 1:]
    kind = classify(ws_path, repo_path, submodule, pkg_path)
    if ws is None or kind not in TRIGGER_KINDS:
        return kind, None, ()
    if kind == ChangeKind.MANIFEST and ws_path is not None and _is_workspace_manifest(ws_path) and (
            pkg is None or _workspace_wide(ws_path, pkg, ws)):
        # the workspace's Cargo.toml / Cargo.lock / .cargo/config / toolchain: everything
        return kind, WORKSPACE_PACKAGE, tuple(ws.all_binaries())
    if pkg is None:
        return kind, None, ()
    return kind, pkg.name, tuple(ws.binaries_affected_by({pkg.name}))


def _workspace_wide(ws_path: str | None, pkg: Package, ws: Workspace) -> bool:
    """Root-level Cargo.lock, toolchain and .cargo/config reach every binary; the root Cargo.toml
    does when it holds [workspace] (profiles, shared dependencies), else it is the lone package's."""
    if pkg.dir != "." or ws_path is None:
        return False
    if ws_path == "Cargo.toml":
        return ws.is_workspace
    return ws_path == "Cargo.lock" or ws_path.startswith((".cargo/", "rust-toolchain"))


def map_changes(files: list[gitio.FileChange], head_ws: Workspace, base_ws: Workspace | None,
                ws_prefix: tuple[str, ...]) -> list[Change]:
    """Judge each file by the graph of the side it exists on: a deleted file (or a rename's old
    path) by the base commit's workspace, everything else by the head's."""
    head_judge = _SideMemo(head_ws, ws_prefix).judge
    base_judge = _SideMemo(base_ws, ws_prefix).judge
    deleted_judge = _SideMemo(None, ws_prefix).judge
    deleted_status = ChangeStatus.DELETED
    changes: list[Change] = []
    append, make = changes.append, Change.__new__
    for path, status, old_path, submodule in files:  # thousands on a big range: the common case stays short
        if old_path is None and status is not deleted_status:  # a file edited in place
            kind, package, binaries = head_judge(path, submodule)
            append(make(Change, path, status, kind, package, binaries))
            continue
        deleted = status is deleted_status
        kind, package, binaries = (deleted_judge if deleted else head_judge)(path, submodule)
        old = old_path or path
        old_package = None
        if base_ws is not None:
            old_kind, old_package, old_bins = base_judge(old, submodule)
            if deleted or (kind not in TRIGGER_KINDS and old_kind in TRIGGER_KINDS):
                kind = old_kind  # moved out of the compiled sources: what it was still counts
            if package is None:
                package, old_package = old_package, None
            elif old_package == package:
                old_package = None
            binaries = tuple(sorted(set(binaries) | set(old_bins)))
        append(Change(path, status, kind, package, binaries, old_path, old_package))
    return changes


# Names whose judgement is their own; any other name counts only as "a .rs file" or "not one".
_NAMED = frozenset({"Cargo.toml", "Cargo.lock", "build.rs", "src", "target", *NOT_SHIPPED})
_NAMED_PREFIXES = ("Dockerfile", "rust-toolchain", "config")


def _name_class(name: str) -> str:
    """What of a file's name `_side` depends on, given its directory (see classify,
    _is_workspace_manifest, _is_package_source, _workspace_wide)."""
    if name.endswith(".rs"):  # most changed files: ask the rarer questions only of the rest
        return name if name == "build.rs" or name.startswith(_NAMED_PREFIXES) else ".rs"
    if name in _NAMED or name.startswith(_NAMED_PREFIXES) or name.endswith(".dockerignore") \
            or name.lower().endswith(".dockerfile"):
        return name
    return ""


class _SideMemo:
    """`_side` per (directory, name class): files of one directory share their package and its
    binaries, and a range of thousands of files touches a few hundred directories."""

    def __init__(self, ws: Workspace | None, ws_prefix: tuple[str, ...]):
        self.ws, self.ws_prefix = ws, ws_prefix
        self.seen: dict[tuple[str, str, bool], tuple[ChangeKind, str | None, tuple[str, ...]]] = {}

    def judge(self, repo_path: str, submodule: bool) -> tuple[ChangeKind, str | None, tuple[str, ...]]:
        directory, _, name = repo_path.rpartition("/")
        key = (directory, _name_class(name), submodule)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = _side(self.ws, repo_path, self.ws_prefix, submodule)
        return found


def verdict(changes: list[Change], watch: list[str], ws_prefix: tuple[str, ...] = ()) -> tuple[bool, bool, str]:
    """(no_cache_required, hazard, reason) — the how-to's rule and the mtime hazard."""
    compiled = (ChangeKind.SOURCE, ChangeKind.SUBMODULE)
    triggers = [c for c in changes if c.binaries and c.kind in compiled]
    if watch:
        triggers = [c for c in triggers if under_watch(_workspace_relative(c.path, ws_prefix) or c.path, watch)]
    manifests = [c for c in changes if c.kind == ChangeKind.MANIFEST]
    hazard = bool(manifests)
    bins = sorted(_binaries_of(triggers) | _binaries_of(manifests))
    if triggers or (manifests and bins):
        first = (triggers or manifests)[0].path
        reason = f"{first} changed and is compiled into {', '.join(bins)}"
        if hazard:
            reason += "; a manifest changed, so the dependency pre-build re-runs after the checkout (mtime hazard)"
        return True, hazard, reason
    if any(c.kind == ChangeKind.BUILD_DEFINITION for c in changes):
        return False, hazard, "only build definitions changed; no shipped binary's sources changed"
    return False, hazard, "no watched source affecting a binary changed"


def _binaries_of(changes: list[Change]) -> set[str]:
    """Every binary the changes reach; files of one package share one tuple, so each distinct
    tuple is unpacked once."""
    return {b for bins in {c.binaries for c in changes} for b in bins}


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
    base_hint: str | None = None,
) -> Detection:
    """`base` is strict (an unknown ref is an error); a base from the deploy history (`base_hint`,
    or the ledger/registry record of `image`) is used when this clone has its commit, else the
    parent is, with a note: a shallow CI clone or another repository's record must not stop a deploy."""
    workspace_dir = Path(workspace_dir).resolve()
    repo = gitio.open_repo(workspace_dir)
    ws_prefix = PurePosixPath(workspace_dir.relative_to(gitio.work_tree(repo))).parts
    head_commit = gitio.head_commit(repo) if head == "HEAD" else gitio.resolve(repo, head)  # no git process for HEAD
    base_ref, base_from, base_note = _choose_base(repo, head_commit, base, ledger_path, image, tracked_tag, base_hint)
    # The diff is most of detect's time on a big range: it runs in a thread of its own (a git
    # process, nothing else), while this thread checks the ancestry and reads both graphs.  Every
    # read through GitPython's persistent cat-file process stays on this thread: that process
    # answers one request at a time, and two threads talking to it at once hang both.
    head_arg = None if worktree else head_commit.hexsha
    with ThreadPoolExecutor(2) as pool:  # a second thread only for a diff the early one cannot serve
        # A full commit id names itself, so its diff starts before git has confirmed the id (a
        # typed --base); should it name no commit, the error below is raised and the diff unused.
        early = pool.submit(gitio.changed_files, repo, base_ref, head_arg) if gitio.is_full_id(base_ref) else None
        base_sha = base_ref if base_from != BaseFrom.FLAG else gitio.resolve(repo, base_ref).hexsha
        diff_base, note = gitio.merge_base_if_diverged(repo, base_sha, head_commit)
        speculative = early if early is not None and diff_base == base_ref else None
        if speculative is None:
            speculative = pool.submit(gitio.changed_files, repo, diff_base, head_arg)
        head_ws = _graph(DiskTree(workspace_dir) if worktree else GitTree(repo, head_commit.hexsha, "/".join(ws_prefix)),
                         workspace_dir)
        base_ws, graph_note = _base_workspace(repo, diff_base, ws_prefix, workspace_dir)
        files = speculative.result()
    base_sha = diff_base
    notes = [n for n in (base_note, note) if n]
    if worktree and head_commit.hexsha != repo.head.commit.hexsha:
        # The work tree sits on HEAD; anything between --head and HEAD is part of the change too.
        notes.append("with --worktree the range ends at the work tree of HEAD")
    notes += [graph_note] if graph_note else []
    changes = map_changes(files, head_ws, base_ws, ws_prefix)
    if any(c.package is None and _maybe_path_package(c.path, head_ws, ws_prefix) for c in changes):
        whole = DiskTree(gitio.work_tree(repo)) if worktree else GitTree(repo, head_commit.hexsha)
        changes = credit_outside(changes, outside_packages(whole, "/".join(ws_prefix), head_ws))
    no_cache, hazard, reason = verdict(changes, list(watch or []), ws_prefix)
    return Detection(
        base=base_sha,
        head="WORKTREE" if worktree else head_commit.hexsha,
        base_from=base_from,
        changed=changes,
        packages=sorted(p for p in {c.package for c in changes} | {c.old_package for c in changes} if p),
        binaries=sorted(_binaries_of(changes)),
        no_cache_required=no_cache,
        hazard=hazard,
        reason=reason,
        notes=notes,
    )


def _maybe_path_package(repo_path: str, ws: Workspace, ws_prefix: tuple[str, ...]) -> bool:
    """Whether a file no member owns may belong to a path package that is no member: it lies
    outside the workspace directory, or under a directory with a manifest of its own."""
    ws_path = _workspace_relative(repo_path, ws_prefix)
    return ws_path is None or any(ws_path.startswith(d + "/") for d in ws.nested)


def credit_outside(changes: list[Change], packages: list[OutsidePackage]) -> list[Change]:
    """Files of path packages that are no member (outside the workspace directory, `exclude`d,
    or a lone package's path dependencies): a source or manifest of such a package reaches the
    binaries of the members that depend on it (path_packages.py); any other nested package's
    files reach nothing."""
    out = []
    for change in changes:
        found = owner(packages, change.path) if change.package is None else None
        if found is not None:
            package, pkg_path = found
            kind = (ChangeKind.MANIFEST if pkg_path in ("Cargo.toml", "build.rs") else
                    ChangeKind.SOURCE if _is_package_source(pkg_path) else change.kind)
            if kind in TRIGGER_KINDS:
                change = change._replace(kind=kind, package=package.name, binaries=package.binaries)
        out.append(change)
    return out


def _graph(tree: DiskTree | GitTree, root: Path) -> Workspace:
    """A commit's graph through the cache (graph_cache.py); the work tree's is always read."""
    if isinstance(tree, GitTree):
        return graph_cache.cached_tree(tree.tree_id(), tree.graph_key, root, lambda: load_tree(tree, root))
    return load_tree(tree, root)


def _base_workspace(repo: git.Repo, base_sha: str, ws_prefix: tuple[str, ...], root: Path) -> tuple[Workspace | None, str | None]:
    """The base commit's workspace graph; None (with a note) when the base has none or a broken one."""
    if base_sha == gitio.EMPTY_TREE:
        return None, None
    tree = GitTree(repo, base_sha, "/".join(ws_prefix))
    if not tree.has_file("Cargo.toml"):
        return None, None
    try:
        return _graph(tree, root), None
    except WorkspaceError as exc:
        return None, f"the base's workspace cannot be read ({exc}); deleted files are judged by name only"


def _choose_base(repo: git.Repo, head_commit: git.Commit, base: str | None, ledger_path: Path | None, image: str | None,
                 tracked_tag: str = "", hint: str | None = None) -> tuple[str, BaseFrom, str | None]:
    """(base, where it came from, note): a typed --base as typed (detect resolves it); any other
    base is a commit id git has confirmed, or the empty tree."""
    if base:
        return base, BaseFrom.FLAG, None
    recorded, source = (hint, BaseFrom.HISTORY) if hint else (None, BaseFrom.PARENT)
    if recorded is None and ledger_path is not None and image:
        last = history.load(image, ledger_path, tracked_tag=tracked_tag).previous()
        if last and last.get("commit"):
            recorded = last["commit"]
            source = BaseFrom.LEDGER if last.get("origin") == "ledger" else BaseFrom.REGISTRY
    if recorded:
        try:
            return gitio.resolve(repo, recorded).hexsha, source, None
        except GitError as exc:
            note = (f"the previous deploy's commit {recorded[:12]} is not in this clone ({exc}); "
                    "judging the change from the parent commit instead")
            return gitio.default_base(repo, head_commit), BaseFrom.PARENT, note
    return gitio.default_base(repo, head_commit), BaseFrom.PARENT, None

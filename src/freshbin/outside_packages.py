"""Path packages outside the workspace directory: what a change to `../libs/common` reaches.

Cargo compiles a path dependency wherever it lives (`common = { path = "../../libs/common" }`),
but it is no member: the workspace graph (workspace.py, read from the workspace directory and
cached by that directory's tree) never sees it.  A change under such a directory is still
compiled into every binary that depends on it, so detect asks here, only for the changed files
outside the workspace directory: the commit's manifests are read from the repository's root, the
path dependencies followed from every member (and `[patch]`, `[workspace.dependencies]` paths),
transitively, and each file credited to the deepest such package that holds it.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .trees import Tree
from .workspace import Workspace


@dataclass(frozen=True)
class OutsidePackage:
    name: str
    dir: str  # repository-relative, posix
    binaries: tuple[str, ...]  # the members' binaries it is compiled into


def outside_packages(tree: Tree, ws_prefix: str, ws: Workspace) -> list[OutsidePackage]:
    """Path packages outside `ws_prefix` (repository-relative) that the workspace `ws` compiles.

    `tree` is the whole repository at the commit (repository-relative paths)."""
    members = {posixpath.normpath(posixpath.join(ws_prefix, p.dir)): p.name for p in ws.packages}
    root = _manifest(tree, posixpath.join(ws_prefix, "Cargo.toml")) or {}
    workspace = _table(root, "workspace")
    inherited = _table(workspace, "dependencies")
    names: dict[str, str] = dict(members)
    depends: dict[str, set[str]] = {}
    todo = list(members) + [posixpath.normpath(posixpath.join(ws_prefix, p)) for p in _patch_paths(root)]
    while todo:
        directory = todo.pop()
        if directory in depends or directory.startswith("../") or directory == "..":
            continue
        manifest = _manifest(tree, posixpath.join(directory, "Cargo.toml"))
        if manifest is None:
            continue
        package = _table(manifest, "package")
        if directory not in names and isinstance(package.get("name"), str):
            names[directory] = package["name"]
        targets = {posixpath.normpath(posixpath.join(base, path))
                   for base, path in _path_dependencies(manifest, inherited, directory, ws_prefix)}
        depends[directory] = targets
        todo += sorted(targets)
    outside = [d for d in names if d not in members and not _inside(d, ws_prefix)]
    return [OutsidePackage(names[d], d, tuple(_binaries_reached(d, depends, members, ws))) for d in sorted(outside)]


def owner(packages: list[OutsidePackage], repo_path: str) -> tuple[OutsidePackage, str] | None:
    """The deepest outside package holding `repo_path`, and the path relative to it."""
    best = None
    for package in packages:
        if repo_path.startswith(package.dir + "/") and (best is None or len(package.dir) > len(best.dir)):
            best = package
    return (best, repo_path[len(best.dir) + 1:]) if best is not None else None


def _binaries_reached(directory: str, depends: dict[str, set[str]], members: dict[str, str],
                      ws: Workspace) -> list[str]:
    """The binaries of every member that depends on `directory`, transitively."""
    reached = {directory}
    grew = True
    while grew:
        grew = False
        for source, targets in depends.items():
            if source not in reached and targets & reached:
                reached.add(source)
                grew = True
    return ws.binaries_affected_by({members[d] for d in reached if d in members})


def _inside(directory: str, ws_prefix: str) -> bool:
    return not ws_prefix or directory == ws_prefix or directory.startswith(ws_prefix + "/")


def _manifest(tree: Tree, rel: str) -> dict[str, Any] | None:
    raw = tree.read(rel)
    if raw is None:
        return None
    try:
        return tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def _patch_paths(root: dict[str, Any]) -> list[str]:
    patches = _table(root, "patch")
    return [spec["path"] for table in patches.values() if isinstance(table, dict)
            for spec in table.values() if isinstance(spec, dict) and isinstance(spec.get("path"), str)]


def _path_dependencies(manifest: dict[str, Any], inherited: dict[str, Any], directory: str,
                       ws_prefix: str) -> Iterator[tuple[str, str]]:
    """(base, path) of each non-dev path dependency (`x.workspace = true`: the workspace's path)."""
    tables = [manifest] + [t for t in (manifest.get("target") or {}).values() if isinstance(t, dict)]
    for table in tables:
        for section in ("dependencies", "build-dependencies", "build_dependencies"):
            deps = table.get(section)
            if not isinstance(deps, dict):
                continue
            for key, spec in deps.items():
                if isinstance(spec, dict) and spec.get("workspace") is True:
                    spec = inherited.get(key)
                    if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                        yield ws_prefix or ".", spec["path"]
                elif isinstance(spec, dict) and isinstance(spec.get("path"), str):
                    yield directory, spec["path"]


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a TOML table, else an empty one (a malformed manifest reaches nothing)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}

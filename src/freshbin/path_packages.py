"""Every path package cargo compiles for a workspace, wherever it lives — and what reaches what.

Cargo compiles a path dependency wherever it lives (`common = { path = "../../libs/common" }`),
an `exclude`d member reached by path, a `[patch]` path; none of them is a member, so the workspace
graph (workspace.py, read from the workspace directory and cached by that directory's tree) never
sees them.  Two questions need them:

* guard's compile step removes the fingerprints of every local package (compile_proof.py), and
  the verdict needs every package a binary is built from;
* detect credits a changed file under such a directory to the binaries of the members that
  depend on it (only for the changed files no member owns: outside the workspace directory,
  or under a nested directory with a manifest of its own).

One walk serves both (`path_graph`): from the members, the root manifest's `[patch]` and
`[workspace.dependencies]` paths, following every path dependency (`x.workspace = true`
included, through workspace.path_targets) with workspace-relative directories ("../libs/common").
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import toml_read
from .trees import Tree, join
from .workspace import Workspace, path_targets

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
Manifests = Callable[[str], dict[str, Any] | None]  # workspace-relative directory -> its Cargo.toml


@dataclass(frozen=True)
class PathGraph:
    names: dict[str, str]  # directory -> package name, every local package
    depends: dict[str, set[str]] = field(default_factory=dict)  # directory -> its path dependencies (not dev)

    def closure(self, packages: set[str]) -> set[str]:
        """`packages` (names) and every path package they depend on, transitively."""
        by_name = {name: d for d, name in self.names.items()}
        todo = [by_name[n] for n in packages if n in by_name]
        seen: set[str] = set()
        while todo:
            directory = todo.pop()
            if directory not in seen:
                seen.add(directory)
                todo += sorted(self.depends.get(directory, ()))
        return {self.names[d] for d in seen if d in self.names} | set(packages)

    def dependents(self, directory: str) -> set[str]:
        """`directory` and every package directory that depends on it, transitively."""
        reached = {directory}
        grew = True
        while grew:
            grew = False
            for source, targets in self.depends.items():
                if source not in reached and targets & reached:
                    reached.add(source)
                    grew = True
        return reached


def path_graph(read: Manifests, member_dirs: list[str]) -> PathGraph:
    """Walk the path dependencies from the workspace root and `member_dirs` (workspace-relative);
    `read` answers None for a directory without a readable manifest or outside the repository."""
    root = read(".") or {}
    workspace = _table(root, "workspace")
    inherited = _table(workspace, "dependencies")
    todo = ["."] + list(member_dirs) + [_norm(p) for p in _patch_paths(root)]
    todo += [_norm(spec["path"]) for spec in inherited.values() if isinstance(spec, dict)
             and isinstance(spec.get("path"), str)]
    graph = PathGraph({})
    seen: set[str] = set()
    while todo:
        directory = todo.pop()
        if directory in seen:
            continue
        seen.add(directory)
        manifest = read(directory)
        if manifest is None:
            continue
        name = _table(manifest, "package").get("name")
        if isinstance(name, str) and _SAFE_NAME.match(name):
            graph.names[directory] = name
        graph.depends[directory] = path_targets(directory, manifest, inherited, dev=False)
        todo += sorted(path_targets(directory, manifest, inherited, dev=True))
    return graph


@dataclass(frozen=True)
class OutsidePackage:
    name: str
    dir: str  # repository-relative, posix
    binaries: tuple[str, ...]  # the members' binaries it is compiled into


def outside_packages(tree: Tree, ws_prefix: str, ws: Workspace) -> list[OutsidePackage]:
    """Path packages outside the members of the workspace `ws` (at `ws_prefix`, repository-relative)
    that it compiles: outside the workspace directory, `exclude`d, or a lone package's.

    `tree` is the whole repository at the commit (repository-relative paths)."""
    def read(directory: str) -> dict[str, Any] | None:
        repo_dir = posixpath.normpath(posixpath.join(ws_prefix, directory))
        return None if repo_dir.startswith("..") else manifest_of(tree.read(join(repo_dir, "Cargo.toml")))

    members = {p.dir: p.name for p in ws.packages}
    graph = path_graph(read, [d for d in members if d != "."])
    outside = []
    for directory, name in sorted(graph.names.items()):
        if directory in members:
            continue
        reached = {members[d] for d in graph.dependents(directory) if d in members}
        outside.append(OutsidePackage(name, posixpath.normpath(posixpath.join(ws_prefix, directory)),
                                      tuple(ws.binaries_affected_by(reached))))
    return outside


def owner(packages: list[OutsidePackage], repo_path: str) -> tuple[OutsidePackage, str] | None:
    """The deepest outside package holding `repo_path`, and the path relative to it."""
    best = None
    for package in packages:
        if repo_path.startswith(package.dir + "/") and (best is None or len(package.dir) > len(best.dir)):
            best = package
    return (best, repo_path[len(best.dir) + 1:]) if best is not None else None


def manifest_of(raw: bytes | None) -> dict[str, Any] | None:
    """A manifest's TOML; None when there is none or it does not parse (it then reaches nothing)."""
    if raw is None:
        return None
    try:
        return toml_read.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def _norm(rel: str) -> str:
    return posixpath.normpath(rel)


def _patch_paths(root: dict[str, Any]) -> list[str]:
    return [spec["path"] for table in _table(root, "patch").values() if isinstance(table, dict)
            for spec in table.values() if isinstance(spec, dict) and isinstance(spec.get("path"), str)]


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a TOML table, else an empty one (a malformed manifest reaches nothing)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}

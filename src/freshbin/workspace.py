"""The Cargo workspace model: members, path dependencies and the binaries they ship.

Only what freshness needs: which package owns a file, and which binary targets are rebuilt
from that package (reverse closure over path dependencies, dev-dependencies excluded because
they never reach a shipped binary).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from .errors import WorkspaceError
from .trees import DiskTree, Tree, glob_dirs, join

DEPENDENCY_TABLES = ("dependencies", "build-dependencies")


@dataclass(frozen=True)
class Package:
    name: str
    dir: str  # posix path relative to the workspace root ("." for a root package)
    deps: frozenset[str] = field(default_factory=frozenset)  # names of workspace packages
    binaries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workspace:
    root: Path
    packages: tuple[Package, ...]
    is_workspace: bool = False  # the root manifest has a [workspace] table

    def package_named(self, name: str) -> Package:
        return next(p for p in self.packages if p.name == name)

    def owner_of(self, rel_path: str) -> Package | None:
        """The package whose directory is the nearest ancestor of `rel_path` (workspace-relative)."""
        by_dir = self._by_dir()
        key = rel_path
        while True:  # string walk up the parents: this runs once per changed file
            if key in by_dir:
                return by_dir[key]
            if "/" not in key:
                return by_dir.get(".")
            key = key.rsplit("/", 1)[0]

    def _by_dir(self) -> dict[str, Package]:
        cached = self.__dict__.get("_dir_index")
        if cached is None:
            cached = {p.dir: p for p in self.packages}
            object.__setattr__(self, "_dir_index", cached)  # frozen dataclass: a private memo
        return cached

    def dependents_closure(self, names: set[str]) -> set[str]:
        """`names` plus every package that depends on one of them, transitively."""
        closure = set(names)
        changed = True
        while changed:
            changed = False
            for pkg in self.packages:
                if pkg.name not in closure and pkg.deps & closure:
                    closure.add(pkg.name)
                    changed = True
        return closure

    def binaries_affected_by(self, names: set[str]) -> list[str]:
        memo = self.__dict__.setdefault("_affected_memo", {})
        key = frozenset(names)
        if key not in memo:
            affected = self.dependents_closure(set(names))
            memo[key] = sorted(b for p in self.packages if p.name in affected for b in p.binaries)
        return list(memo[key])

    def compiled_into(self, binary: str) -> set[str]:
        """The packages whose code a binary target is built from: its own package and every
        package that one depends on, transitively (empty when no package has that binary)."""
        todo = [p.name for p in self.packages if binary in p.binaries]
        closure: set[str] = set()
        while todo:
            name = todo.pop()
            if name not in closure:
                closure.add(name)
                todo += [d for p in self.packages if p.name == name for d in p.deps]
        return closure

    def all_binaries(self) -> list[str]:
        return sorted(b for p in self.packages for b in p.binaries)


def load_workspace(root: Path) -> Workspace:
    """The workspace at `root` on disk (doctor, guard and `detect --worktree`)."""
    return load_tree(DiskTree(Path(root)), Path(root))


def load_tree(tree: Tree, root: Path | None = None) -> Workspace:
    """Read the root manifest and every member's, the way cargo finds members.

    Members: `members` globs minus `exclude`, the root package, and — as cargo does — every
    path dependency inside the workspace directory, transitively, listed or not.
    """
    data = _read_toml(tree, "Cargo.toml")
    if data is None:
        raise WorkspaceError(
            f"no Cargo workspace found: Cargo.toml is missing in {tree.label}; "
            "run from the workspace root or set --workspace"
        )
    ws = data.get("workspace")
    if ws is None and "package" not in data:
        raise WorkspaceError(f"Cargo.toml in {tree.label} has neither [workspace] nor [package]; it is not a Cargo workspace")
    ws = ws if isinstance(ws, dict) else {}
    ws_deps = ws.get("dependencies", {}) or {}
    excluded = {_normalise(e) for e in ws.get("exclude", []) or []}
    member_dirs = (["."] if "package" in data else []) + _member_dirs(tree, ws.get("members", []) or [], excluded)
    raw = {".": data} if "package" in data else {}
    todo = [d for d in member_dirs if d != "."]
    while todo:  # listed members, then the path dependencies they pull in (implicit members)
        d = todo.pop(0)
        if d in raw:
            continue
        manifest = _read_toml(tree, join(d, "Cargo.toml"))
        if manifest is None:
            if d in member_dirs:
                raise WorkspaceError(f"{join(d, 'Cargo.toml')} does not exist in {tree.label}; check the workspace members")
            continue
        raw[d] = manifest
        for target in path_targets(d, manifest, ws_deps, dev=True):
            if target not in raw and _inside(target) and not _is_excluded(target, excluded):
                todo.append(target)
    dirs = sorted(raw, key=lambda d: (d != ".", d))
    names_by_dir = {d: _package_name(tree, d, raw[d]) for d in dirs}
    packages = tuple(
        Package(
            name=names_by_dir[d],
            dir=d,
            deps=frozenset(names_by_dir[t] for t in path_targets(d, raw[d], ws_deps, dev=False) if t in names_by_dir),
            binaries=tuple(binary_targets(tree, d, raw[d], names_by_dir[d])),
        )
        for d in dirs
    )
    return Workspace(root=root or Path("."), packages=packages, is_workspace="workspace" in data)


def _read_toml(tree: Tree, rel: str) -> dict[str, Any] | None:
    raw = tree.read(rel)
    if raw is None:
        return None
    try:
        return tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{rel} in {tree.label} is not valid TOML ({exc}); fix it so cargo can read it") from exc


def _member_dirs(tree: Tree, members: list[str], excluded: set[str]) -> list[str]:
    dirs: list[str] = []
    for pattern in members:
        magic = any(ch in pattern for ch in "*?[")
        matches = glob_dirs(tree, pattern) if magic else [_normalise(pattern)]
        for rel in matches:
            if rel in dirs or _is_excluded(rel, excluded):
                continue
            if magic and not tree.is_file(join(rel, "Cargo.toml")):
                continue  # cargo skips a globbed directory without a manifest
            dirs.append(rel)
    return dirs


def _is_excluded(rel: str, excluded: set[str]) -> bool:
    return any(rel == e or rel.startswith(e + "/") for e in excluded)


def _inside(rel: str) -> bool:
    return rel != ".." and not rel.startswith("../")


def _normalise(rel: str) -> str:
    return PurePosixPath(os.path.normpath(rel)).as_posix()


def _package_name(tree: Tree, rel: str, manifest: dict[str, Any]) -> str:
    try:
        name: str = manifest["package"]["name"]
        return name
    except (KeyError, TypeError) as exc:
        raise WorkspaceError(f"{join(rel, 'Cargo.toml')} in {tree.label} has no [package] name; every member needs one") from exc


def _dependency_specs(manifest: dict[str, Any], dev: bool) -> Iterator[tuple[str, Any]]:
    """Yield (key, spec) of every dependency table, per-target ones included; dev-dependencies
    only with `dev` (they make implicit members but never reach a shipped binary)."""
    sections = DEPENDENCY_TABLES + (("dev-dependencies", "dev_dependencies") if dev else ())
    tables = [manifest] + [t for t in (manifest.get("target") or {}).values() if isinstance(t, dict)]
    for table in tables:
        for section in sections:
            deps = table.get(section)
            if isinstance(deps, dict):
                yield from deps.items()


def path_targets(rel: str, manifest: dict[str, Any], ws_deps: dict[str, Any], *, dev: bool) -> set[str]:
    """Workspace-relative directories of the path dependencies of the package at `rel`."""
    targets = set()
    for key, spec in _dependency_specs(manifest, dev):
        if not isinstance(spec, dict):
            continue
        base = rel
        if spec.get("workspace") is True:
            # `foo.workspace = true` inherits the path from [workspace.dependencies].foo.
            spec, base = ws_deps.get(key), "."
            if not isinstance(spec, dict):
                continue
        if isinstance(spec.get("path"), str):
            targets.add(_normalise(str(PurePosixPath(base) / spec["path"])))
    return targets


def binary_targets(tree: Tree, rel: str, manifest: dict[str, Any], name: str) -> list[str]:
    """Binary target names as cargo infers them: [[bin]] entries, src/main.rs, src/bin/*."""
    pkg = manifest.get("package") or {}
    declared = [b for b in manifest.get("bin", []) or [] if isinstance(b, dict) and "name" in b]
    bins: list[str] = [b["name"] for b in declared]
    claimed = {_normalise(b["path"]) for b in declared if isinstance(b.get("path"), str)}
    claimed |= {_default_bin_path(tree, rel, b["name"], name) for b in declared if "path" not in b}
    if pkg.get("autobins", True) is not False:
        if tree.is_file(join(rel, "src/main.rs")) and name not in bins and "src/main.rs" not in claimed:
            bins.append(name)
        for entry in tree.children(join(rel, "src/bin")):
            path = join(rel, "src/bin", entry)
            if entry.endswith(".rs") and tree.is_file(path):
                stem, src = entry[:-3], f"src/bin/{entry}"
            elif tree.is_file(join(path, "main.rs")):
                stem, src = entry, f"src/bin/{entry}/main.rs"
            else:
                continue
            if stem not in bins and src not in claimed:
                bins.append(stem)
    return bins


def _default_bin_path(tree: Tree, rel: str, bin_name: str, package: str) -> str:
    for candidate in (f"src/bin/{bin_name}.rs", f"src/bin/{bin_name}/main.rs"):
        if tree.is_file(join(rel, candidate)):
            return candidate
    return "src/main.rs" if bin_name == package else ""

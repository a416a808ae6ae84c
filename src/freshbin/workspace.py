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

from . import toml_read
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
    nested: tuple[str, ...] = ()  # directories holding a Cargo.toml that are not members

    def package_named(self, name: str) -> Package:
        return next(p for p in self.packages if p.name == name)

    def owner_of(self, rel_path: str) -> Package | None:
        """The package whose directory is the nearest ancestor of `rel_path` (workspace-relative);
        None when that nearest directory holding a Cargo.toml is no member's: cargo's package
        listing (`PathSource`) skips a subdirectory with a manifest of its own, so a member never
        compiles the files of a nested package, a fuzz crate or a nested workspace."""
        by_dir = self._by_dir()
        key = rel_path
        while True:  # string walk up the parents: this runs once per changed file
            if key in by_dir:
                return by_dir[key]
            if "/" not in key:
                return by_dir.get(".")
            key = key.rsplit("/", 1)[0]

    def _by_dir(self) -> dict[str, Package | None]:
        cached = self.__dict__.get("_dir_index")
        if cached is None:
            cached = {d: None for d in self.nested}
            cached.update({p.dir: p for p in self.packages})
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
            memo[key] = sorted({b for p in self.packages if p.name in affected for b in p.binaries})
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
        """Each binary name once: two packages may both ship a `cli` (cargo builds both, one
        overwrites the other in target/)."""
        return sorted({b for p in self.packages for b in p.binaries})


def load_workspace(root: Path) -> Workspace:
    """The workspace at `root` on disk (doctor, guard, deploy): its members only, no `nested`
    (that needs a walk of the whole directory, and only detect asks which package owns a file)."""
    return load_tree(DiskTree(Path(root)), Path(root), nested=False)


def load_tree(tree: Tree, root: Path | None = None, *, nested: bool = True) -> Workspace:
    """Read the root manifest and every member's, the way cargo finds members.

    Members: `members` globs minus `exclude`, the root package, and — as cargo does — every
    path dependency inside the workspace directory of a member or of the root package of a
    `[workspace]`, transitively, listed or not.  With `nested`, also the directories holding a
    manifest that no member is (their files belong to no member).
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
    # A lone package (no [workspace]) is its own workspace: its path dependencies are compiled, not members.
    raw = _with_implicit_members(tree, data, member_dirs, ws_deps, excluded) if "workspace" in data else {".": data}
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
    others = tuple(sorted(set(tree.manifest_dirs()) - set(dirs))) if nested else ()
    return Workspace(root=root or Path("."), packages=packages, is_workspace="workspace" in data, nested=others)


def _with_implicit_members(tree: Tree, root: dict[str, Any], member_dirs: list[str], ws_deps: dict[str, Any],
                           excluded: set[str]) -> dict[str, dict[str, Any]]:
    """{directory: manifest} of the listed members and of every path dependency they pull in.

    cargo walks the path dependencies (dev ones too) of every member *and of the root package*
    (cargo's `Workspace::find_members` starts `find_path_deps` from the root manifest as well),
    so a crate reached only through the root package's own `path = …` is a member though no
    `members` glob names it (tests/unit/test_detect_members.py)."""
    raw: dict[str, dict[str, Any]] = {}
    todo = list(member_dirs)
    while todo:
        d = todo.pop(0)
        if d in raw or (d == "." and "package" not in root):
            continue
        manifest = root if d == "." else _read_toml(tree, join(d, "Cargo.toml"))
        if manifest is None:
            if d in member_dirs:
                raise WorkspaceError(f"{join(d, 'Cargo.toml')} does not exist in {tree.label}; check the workspace members")
            continue
        raw[d] = manifest
        todo += [t for t in sorted(path_targets(d, manifest, ws_deps, dev=True))
                 if t not in raw and _inside(t) and not _is_excluded(t, excluded)]
    return raw


def _read_toml(tree: Tree, rel: str) -> dict[str, Any] | None:
    raw = tree.read(rel)
    if raw is None:
        return None
    try:
        return toml_read.loads(raw.decode())
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

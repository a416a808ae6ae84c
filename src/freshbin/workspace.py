"""The Cargo workspace model: members, path dependencies and the binaries they ship.

Only what freshness needs: which package owns a file, and which binary targets are rebuilt
from that package (reverse closure over path dependencies, dev-dependencies excluded because
they never reach a shipped binary).
"""

from __future__ import annotations

import glob
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import WorkspaceError

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

    def all_binaries(self) -> list[str]:
        return sorted(b for p in self.packages for b in p.binaries)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise WorkspaceError(f"{path} does not exist; check the workspace members") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} is not valid TOML ({exc}); fix it so cargo can read it") from exc


def load_workspace(root: Path) -> Workspace:
    """Read `root/Cargo.toml` and every member manifest."""
    root = Path(root)
    manifest = root / "Cargo.toml"
    if not manifest.is_file():
        raise WorkspaceError(
            f"no Cargo workspace found: {manifest} is missing; run from the workspace root or set --workspace"
        )
    data = _read_toml(manifest)
    ws = data.get("workspace")
    if ws is None and "package" not in data:
        raise WorkspaceError(f"{manifest} has neither [workspace] nor [package]; it is not a Cargo workspace")
    ws = ws or {}
    ws_deps = ws.get("dependencies", {}) or {}
    member_dirs = _member_dirs(root, ws.get("members", []) or [], ws.get("exclude", []) or [])
    if "package" in data:
        member_dirs = ["."] + [d for d in member_dirs if d != "."]
    raw = {d: (data if d == "." else _read_toml(root / d / "Cargo.toml")) for d in member_dirs}
    names_by_dir = {d: _package_name(root, d, m) for d, m in raw.items()}
    packages = tuple(
        Package(
            name=names_by_dir[d],
            dir=d,
            deps=frozenset(_path_deps(root, d, raw[d], ws_deps, names_by_dir)),
            binaries=tuple(_binaries(root, d, raw[d], names_by_dir[d])),
        )
        for d in member_dirs
    )
    return Workspace(root=root, packages=packages)


def _member_dirs(root: Path, members: list[str], exclude: list[str]) -> list[str]:
    excluded = {_normalise(e) for e in exclude}
    dirs: list[str] = []
    for pattern in members:
        matches = sorted(glob.glob(pattern, root_dir=root)) if glob.has_magic(pattern) else [pattern]
        for rel in matches:
            rel = _normalise(rel)
            if rel in excluded or rel in dirs:
                continue
            if glob.has_magic(pattern) and not (root / rel / "Cargo.toml").is_file():
                continue  # cargo itself errors here; we only need the members that exist
            dirs.append(rel)
    return dirs


def _normalise(rel: str) -> str:
    return PurePosixPath(os.path.normpath(rel)).as_posix()


def _package_name(root: Path, rel: str, manifest: dict) -> str:
    try:
        return manifest["package"]["name"]
    except (KeyError, TypeError) as exc:
        raise WorkspaceError(f"{root / rel / 'Cargo.toml'} has no [package] name; every member needs one") from exc


def _dependency_specs(manifest: dict):
    """Yield (key, spec) for every dependency that can reach a shipped binary (incl. per-target)."""
    tables = [manifest] + [t for t in (manifest.get("target") or {}).values() if isinstance(t, dict)]
    for table in tables:
        for section in DEPENDENCY_TABLES:
            yield from (table.get(section) or {}).items()


def _path_deps(root: Path, rel: str, manifest: dict, ws_deps: dict, names_by_dir: dict) -> set[str]:
    deps = set()
    for key, spec in _dependency_specs(manifest):
        if not isinstance(spec, dict):
            continue
        base = rel
        if spec.get("workspace") is True:
            # `foo.workspace = true` inherits the path from [workspace.dependencies].foo.
            spec, base = ws_deps.get(key), "."
            if not isinstance(spec, dict):
                continue
        if "path" in spec:
            target = _normalise(str(PurePosixPath(base) / spec["path"]))
            if target in names_by_dir:
                deps.add(names_by_dir[target])
    return deps


def _binaries(root: Path, rel: str, manifest: dict, name: str) -> list[str]:
    pkg_dir = root / rel
    pkg = manifest.get("package") or {}
    bins: list[str] = [b["name"] for b in manifest.get("bin", []) or [] if isinstance(b, dict) and "name" in b]
    if pkg.get("autobins", True):
        if (pkg_dir / "src" / "main.rs").is_file() and name not in bins:
            bins.append(name)
        bin_dir = pkg_dir / "src" / "bin"
        if bin_dir.is_dir():
            for entry in sorted(bin_dir.iterdir()):
                stem = entry.stem if entry.suffix == ".rs" else entry.name
                if (entry.suffix == ".rs" or (entry / "main.rs").is_file()) and stem not in bins:
                    bins.append(stem)
    return bins

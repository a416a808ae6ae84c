"""Which files under the context cargo reads to build the workspace (FB004's build inputs).

Only a workspace package's own inputs count: its manifest (and the root's `Cargo.lock`), the
sources of its targets (`src/`, `build.rs`, declared `path`s), plus `.cargo/config*` and
toolchain files.  A `.rs` file that no package compiles — a doc snippet, a test fixture, a
helper script, a nested package that is no member — changes nothing in the image, so an ignore
pattern that drops it is no hazard.  `tests/`, `benches/`, `examples/` are never shipped.
Without a workspace manifest in the context every `.rs` and manifest counts, as before.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from ..workspace import Package, Workspace

NAMES = {"Cargo.toml", "Cargo.lock", "build.rs", "rust-toolchain", "rust-toolchain.toml"}
NOT_SHIPPED = {"tests", "benches", "examples", "target", ".git"}


def is_input(rel: str, workspace: Workspace | None, manifest: Any = None) -> bool:
    """Is context path `rel` an input of the build? (`manifest(rel)` reads a package's Cargo.toml.)"""
    parts = rel.split("/")
    if set(parts[:-1]) & NOT_SHIPPED:
        return False
    name = parts[-1]
    if name in ("config.toml", "config"):
        return len(parts) >= 2 and parts[-2] == ".cargo"
    if name.startswith("rust-toolchain"):
        return name in NAMES
    if not (name.endswith(".rs") or name in NAMES):
        return False
    if workspace is None:
        return True
    package = _package(workspace, rel)
    if package is None:
        return name == "Cargo.lock" and rel == "Cargo.lock"
    inner = rel if package.dir == "." else rel[len(package.dir) + 1:]
    if inner in ("Cargo.toml", "Cargo.lock", "build.rs"):
        return True
    return name.endswith(".rs") and (inner.startswith("src/") or inner in _declared(package, manifest))


def _package(workspace: Workspace, rel: str) -> Package | None:
    """The member whose directory holds `rel`, None when a nested non-member package or no
    member holds it (cargo compiles none of its files)."""
    owner = workspace.owner_of(posixpath.dirname(rel) or ".")
    if owner is None:
        return None
    inside = posixpath.dirname(rel)
    while inside not in (owner.dir, "", "."):
        if (Path(workspace.root) / inside / "Cargo.toml").is_file():
            return None
        inside = posixpath.dirname(inside)
    return owner


def _declared(package: Package, manifest: Any) -> set[str]:
    """Target paths a package's manifest names outside `src/` (`[lib] path`, `[[bin]] path`, `build`)."""
    data: dict[str, Any] = (manifest(posixpath.join(package.dir, "Cargo.toml")) if manifest else None) or {}
    targets = [data.get("lib")] + list(data.get("bin") or [])
    paths = {t["path"] for t in targets if isinstance(t, dict) and isinstance(t.get("path"), str)}
    build = (data.get("package") or {}).get("build") if isinstance(data.get("package"), dict) else None
    if isinstance(build, str):
        paths.add(build)
    return {posixpath.normpath(p) for p in paths}

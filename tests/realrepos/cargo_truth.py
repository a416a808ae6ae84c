"""What a commit range reaches, by cargo's own graphs — the truth detect is checked against.

Cargo's answer (`cargo metadata --no-deps` on an export of each commit) gives the members, their
binary targets and their path dependencies; git's raw diff gives the changed files.  On top of
those facts sit only the rules docs/detect.md states (which files of a package are compiled
sources, which root files are workspace-wide), never detect's own code:

* a file belongs to the package whose directory is its nearest ancestor holding a Cargo.toml;
  a nested directory with a manifest that is no member and no path dependency compiles nothing
  (cargo's `PathSource` skips a subdirectory holding a Cargo.toml);
* a path dependency that is no member (a lone package's, an `exclude`d one) reaches its
  dependents' binaries.

Used by tests/unit/test_workspace_cargo.py (a generated history) and tests/realrepos/detect_check.py
(public workspaces).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

WORKSPACE_PACKAGE = "(workspace)"
NOT_SHIPPED = ("tests/", "benches/", "examples/", "target/")
RUSTUP = {"RUSTUP_HOME": os.environ.get("RUSTUP_HOME", "/root/.rustup"),
          "CARGO_HOME": os.environ.get("CARGO_HOME", "/root/.cargo")}


@dataclass
class View:
    """One commit as cargo sees it; directories are relative to the workspace root."""

    members: dict[str, tuple[str, list[str], set[str]]]  # dir -> (name, bins, path-dependency dirs)
    path_only: dict[str, str] = field(default_factory=dict)  # non-member path dependency dir -> name
    nested: set[str] = field(default_factory=set)  # other dirs holding a Cargo.toml
    is_workspace: bool = True  # the root manifest has a [workspace] table

    def to_json(self) -> dict:
        return {"members": {d: [n, b, sorted(p)] for d, (n, b, p) in self.members.items()},
                "path_only": self.path_only, "nested": sorted(self.nested), "is_workspace": self.is_workspace}


def export(repo: Path, commit: str, dest: Path) -> Path:
    """The commit's manifests and Rust files (all cargo needs to find members and targets)."""
    dest.mkdir(parents=True)
    archive = dest.parent / f"{dest.name}.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit, "--",
                        ":(glob)**/Cargo.toml", ":(glob)**/*.rs"], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    archive.unlink()
    return dest


def cargo_view(root: Path) -> View:
    """`cargo metadata --no-deps` on the exported tree at `root`, plus its nested manifests."""
    proc = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1",
                           "--manifest-path", str(root / "Cargo.toml")], capture_output=True, text=True,
                          env={**os.environ, **RUSTUP})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "cargo failed")
    top = root.resolve()
    rel = lambda p: os.path.relpath(Path(p).resolve(), top).replace("\\", "/")  # noqa: E731
    view = View({})
    for pkg in json.loads(proc.stdout)["packages"]:
        deps = {}
        for d in pkg["dependencies"]:
            if d.get("path") and d["kind"] in (None, "build"):
                deps[rel(d["path"])] = d["name"]
        bins = sorted(t["name"] for t in pkg["targets"] if "bin" in t["kind"])
        view.members[rel(Path(pkg["manifest_path"]).parent)] = (pkg["name"], bins, set(deps))
        view.path_only.update(deps)
    view.path_only = {d: n for d, n in view.path_only.items() if d not in view.members}
    manifests = {rel(Path(here)) for here, _dirs, names in os.walk(top) if "Cargo.toml" in names}
    view.nested = manifests - set(view.members) - set(view.path_only)
    view.is_workspace = has_workspace_table((root / "Cargo.toml").read_text())
    return view


def has_workspace_table(manifest: str) -> bool:
    """A `[workspace]` (or `[workspace.…]`) table in the root manifest, read by line: cargo 1.95
    reads TOML 1.1, which Python's tomllib (TOML 1.0) may refuse."""
    return re.search(r"^\s*\[\s*workspace\s*[\].]", manifest, re.M) is not None


def reach(view: View, pkg_dir: str) -> set[str]:
    """Binaries of `pkg_dir` and of every member depending on it, transitively."""
    hit, grew = {pkg_dir}, True
    while grew:
        grew = False
        for d, (_name, _bins, deps) in view.members.items():
            if d not in hit and deps & hit:
                hit.add(d)
                grew = True
    return {b for d in hit if d in view.members for b in view.members[d][1]}


def owner(view: View, path: str) -> str | None:
    """The nearest directory holding a Cargo.toml above `path` (".": the root's)."""
    dirs = set(view.members) | set(view.path_only) | view.nested
    candidates = [d for d in dirs if d == "." or path.startswith(d + "/")]
    return max(candidates, key=len) if candidates else None


def workspace_wide(path: str, view: View) -> bool:
    """Root files every compile reads (docs/detect.md, "Kinds")."""
    if path == "Cargo.toml":
        return view.is_workspace
    return path == "Cargo.lock" or path.startswith("rust-toolchain") or (
        path.startswith(".cargo/config") and path.count("/") == 1)


def judge(view: View, path: str, submodule: bool = False) -> tuple[str | None, set[str]]:
    """(package, binaries) one file reaches on one side."""
    if workspace_wide(path, view):
        return WORKSPACE_PACKAGE, {b for _n, bins, _d in view.members.values() for b in bins}
    d = owner(view, path)
    if d is None or d in view.nested:
        return None, set()
    inner = path if d == "." else path[len(d) + 1:]
    compiled = inner.startswith("src/") or inner.endswith(".rs") or inner in ("Cargo.toml", "build.rs")
    if not submodule and (inner.startswith(NOT_SHIPPED) or not compiled):
        return None, set()
    name = view.members[d][0] if d in view.members else view.path_only[d]
    return name, reach(view, d)


def diff(repo: Path, base: str, head: str) -> list[tuple[str, str, str | None, bool]]:
    """(status letter, path, old path, submodule) from git's raw diff with rename detection."""
    raw = subprocess.run(["git", "-C", str(repo), "diff", "--raw", "-z", "-M", "--no-abbrev", base, head],
                         capture_output=True, check=True).stdout
    fields = os.fsdecode(raw).split("\0")
    out, i = [], 0
    while i < len(fields) and fields[i].startswith(":"):
        meta = fields[i].split()  # ":old-mode new-mode old-id new-id status"
        letter, submodule = meta[4][0], "160000" in (meta[0][1:], meta[1])
        if letter in "RC":
            out.append((letter, fields[i + 2], fields[i + 1] if letter == "R" else None, submodule))
            i += 3
        else:
            out.append((letter, fields[i + 1], None, submodule))
            i += 2
    return out


def expected(base_view: View, head_view: View, changes: list[tuple[str, str, str | None, bool]]) -> tuple[set, set]:
    """(packages, binaries) a range reaches: each file judged on the side it exists on."""
    packages: set[str] = set()
    binaries: set[str] = set()
    for letter, path, old_path, submodule in changes:
        sides = [(base_view, path)] if letter == "D" else [(head_view, path)]
        if old_path is not None:
            sides.append((base_view, old_path))
        for view, p in sides:
            name, bins = judge(view, p, submodule)
            packages |= {name} if name else set()
            binaries |= bins
    return packages, binaries

"""A cache of workspace graphs, keyed by what a graph depends on (git_tree.GitTree.graph_key).

Parsing every manifest of a 150-package workspace costs ~0.25 s per commit (reading the blobs,
TOML); detect reads two commits, a deploy's twin check more.  Most commits change no manifest,
so the graph is kept in memory for the process and as a small JSON file under
`$XDG_CACHE_HOME/freshbin/graphs/` (else `~/.cache/freshbin/graphs/`) for the next run and the
next CI job on the same commit.  A file that cannot be written or read is simply not used.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from .workspace import Package, Workspace

VERSION = 2  # bump when the graph's rules change: older entries are then never read
_MEMORY: dict[str, Workspace] = {}
_ALIASES: dict[str, str] = {}  # tree alias file name -> graph key, for this process


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "freshbin" / "graphs"


def cached(key: str, root: Path, build: Callable[[], Workspace]) -> Workspace:
    """The graph for `key`: from memory, else from the cache file, else `build()` (then stored)."""
    full = f"v{VERSION}-{key}"
    if full in _MEMORY:
        return _with_root(_MEMORY[full], root)
    stored = _read(cache_dir() / f"{full}.json")
    ws = stored if stored is not None else build()
    if stored is None:
        _write(cache_dir() / f"{full}.json", ws)
    _MEMORY[full] = ws
    return _with_root(ws, root)


def cached_tree(tree_id: str | None, graph_key: Callable[[], str], root: Path,
                build: Callable[[], Workspace]) -> Workspace:
    """The graph of a commit's workspace directory whose tree id is `tree_id`: a small alias file
    `tree-<id>.key` names its graph key, so a commit seen before (this run, an earlier run, an
    earlier CI job) needs neither the file listing the key is computed from nor any manifest."""
    alias = cache_dir() / f"v{VERSION}-tree-{tree_id}.key" if tree_id else None
    if alias is not None:
        key = _ALIASES.get(alias.name) or _read_text(alias)
        if key:
            return cached(key, root, build)
    key = graph_key()
    ws = cached(key, root, build)
    if alias is not None:
        _ALIASES[alias.name] = key
        _write_text(alias, key)
    return ws


def _read_text(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def _write_text(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
            fh.write(text)
        os.replace(fh.name, path)
    except OSError:
        pass


def _with_root(ws: Workspace, root: Path) -> Workspace:
    return Workspace(root=root, packages=ws.packages, is_workspace=ws.is_workspace, nested=ws.nested)


def _read(path: Path) -> Workspace | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        packages = tuple(Package(p["name"], p["dir"], frozenset(p["deps"]), tuple(p["binaries"]))
                         for p in data["packages"])
        return Workspace(root=Path("."), packages=packages, is_workspace=bool(data["is_workspace"]),
                         nested=tuple(data["nested"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, ws: Workspace) -> None:
    data = {"is_workspace": ws.is_workspace, "nested": list(ws.nested),
            "packages": [{"name": p.name, "dir": p.dir, "deps": sorted(p.deps), "binaries": list(p.binaries)}
                         for p in ws.packages]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
            json.dump(data, fh)
        os.replace(fh.name, path)  # atomic: concurrent runs never read half a file
    except OSError:
        pass

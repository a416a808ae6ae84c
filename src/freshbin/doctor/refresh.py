"""The refresh a hazardous build needs: which dummies matter, and the command that covers them.

Only dummies compiled into a shipped binary (or the build's own `--bin`/`-p`) matter, when the
workspace tells: the libraries and build scripts of the packages it is built from, and its own
binary target.  The command names only directories that exist in the image
at that point — the directories the Dockerfile copied the real sources into (the root
package's `src/` included) — so `find` never fails on a layout it does not know:
`find src -name '*.rs' -exec touch {} +` for a single crate, `find bin crates …` for a
workspace.
"""

from __future__ import annotations

import posixpath
import shlex

from ..dockerfile_cargo import shipped_binaries
from .analysis import Dummy, Hazard
from .project import Project


def relevant(project: Project, hazard: Hazard) -> list[Dummy]:
    """The hazard's stale dummies that reach a shipped binary (all of them when unknown)."""
    ws = project.workspace
    if ws is None:
        return list(hazard.stale)
    bins = set(hazard.build.bins) | {b.name for b in shipped_binaries(project.dockerfile, None, project.cargo_config)
                                     if b.from_stage is hazard.stage}
    names = {p.name for p in ws.packages}
    roots = {p.name for p in ws.packages if set(p.binaries) & bins} | (set(hazard.build.packages) & names)
    if not roots:
        return list(hazard.stale)
    needed, frontier = set(roots), list(roots)
    while frontier:
        for dep in ws.package_named(frontier.pop()).deps:
            if dep not in needed:
                needed.add(dep)
                frontier.append(dep)
    crates = {b.replace("-", "_") for b in bins}
    return [d for d in hazard.stale if d.package not in names or (d.package in needed and _linked(d, roots, crates))]


def _linked(dummy: Dummy, roots: set[str], crates: set[str]) -> bool:
    """Is the dummy's unit compiled into a shipped binary?  A library or build script of a package
    the binary needs is; a binary target only when it is that binary — a dependency contributes
    its library alone, and a sibling `[[bin]]` is a program of its own (corpus 130: member
    `migration`'s dummy main.rs never reaches `aircade-api`)."""
    if dummy.kind != "bin":
        return True
    return dummy.package in roots and (not crates or dummy.crate in crates)


def _relative(path: str, cwd: str) -> str:
    if path == cwd:
        return "."
    if path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1:]
    return path


def _deepest_existing(dummy: Dummy, cwd: str) -> tuple[str | None, str | None]:
    """(directory, file) to refresh for `dummy`: the deeper of the COPY's target and the top
    directory below `cwd` that holds it; the file itself when it sits at the top."""
    rel = _relative(dummy.path, cwd)
    candidates = []
    if dummy.copied_to and "*" not in dummy.copied_to:
        candidates.append(dummy.copied_to)
    if "/" in rel and not rel.startswith("/") and "*" not in rel.split("/")[0]:
        candidates.append(posixpath.join(cwd, rel.split("/")[0]))
    candidates = [c for c in candidates if dummy.path.startswith(c.rstrip("/") + "/")]
    if candidates:
        return _relative(max(candidates, key=len), cwd), None
    return None, rel


def command(dummies: list[Dummy], cwd: str) -> str:
    """`find <dirs> -name '*.rs' -exec touch {} +` (plus `touch <files>` for top-level files)."""
    dirs, files = set(), set()
    for dummy in dummies:
        directory, file = _deepest_existing(dummy, cwd)
        if directory:
            dirs.add(directory)
        elif file:
            files.add(file)
    dirs = {d for d in dirs if not any(d != o and (o == "." or d.startswith(o.rstrip("/") + "/")) for o in dirs)}
    files = {f for f in files if not any(o == "." or f.startswith(o + "/") for o in dirs)}
    parts = []
    if dirs:
        parts.append(f"find {' '.join(shlex.quote(d) for d in sorted(dirs))} -name '*.rs' -exec touch {{}} +")
    if files:
        parts.append("touch " + " ".join(f if "*" in f else shlex.quote(f) for f in sorted(files)))
    return " && ".join(parts)


def describe(dummies: list[Dummy], cwd: str) -> str:
    """`src/main.rs (myapp), bin/api/src/main.rs (api)`: the evidence, short."""
    shown = [f"{_relative(d.path, cwd)} ({d.package})" if d.package else _relative(d.path, cwd) for d in dummies[:4]]
    more = f" and {len(dummies) - 4} more" if len(dummies) > 4 else ""
    return ", ".join(shown) + more

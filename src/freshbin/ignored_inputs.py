"""Build inputs the ignore file keeps from the build: what cargo reads in a checkout, BuildKit never sees.

`.*` in a `.dockerignore` drops `.cargo/config.toml`: a rustflags change never reaches the image,
and a reference build from the same filtered context would agree with the stale image.  So the
reference build's context re-includes every tracked file cargo reads (`.cargo/config*`,
`rust-toolchain*`, `build.rs`, manifests, `.rs` sources) that the ignore file drops, and the
verdict names the pattern.  Matching follows Docker's semantics (doctor/ignore.py).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .doctor.ignore import excluded_by, ignore_file, load

if TYPE_CHECKING:  # a deploy's guard context reads the ignore file before GitPython loads
    import git

CARGO_NAMES = {"Cargo.toml", "Cargo.lock", "build.rs", "rust-toolchain", "rust-toolchain.toml"}
CARGO_CONFIGS = {"config", "config.toml"}  # under a `.cargo` directory


@dataclass(frozen=True)
class Dropped:
    path: str  # relative to the context
    pattern: str  # the ignore file's line as written
    line: int


def cargo_input(path: str) -> bool:
    parts = path.split("/")
    if "target" in parts[:-1]:
        return False
    name = parts[-1]
    return name in CARGO_NAMES or name.endswith(".rs") or (len(parts) > 1 and parts[-2] == ".cargo"
                                                           and name in CARGO_CONFIGS)


def tracked_under(repo: git.Repo, commit: str, root: Path, context: Path) -> list[str]:
    """Files of `commit` below `context`, relative to it (the tree, not the work tree)."""
    prefix = context.resolve().relative_to(root.resolve()).as_posix()
    listing = repo.git.ls_tree("-r", "-z", "--name-only", commit, *([prefix] if prefix != "." else []))
    out = []
    for path in filter(None, listing.split("\0")):
        rel = path if prefix == "." else posixpath.relpath(path, prefix)
        if not rel.startswith("../"):
            out.append(rel)
    return out


def dropped_inputs(dockerfile: Path, context: Path, tracked: list[str]) -> tuple[Path | None, list[Dropped]]:
    """(the ignore file BuildKit reads, the tracked cargo inputs it drops)."""
    path = ignore_file(dockerfile, context)
    patterns = load(path)
    dropped = []
    for rel in tracked:
        if cargo_input(rel) and (hit := excluded_by(patterns, rel)) is not None:
            dropped.append(Dropped(rel, hit.text, hit.line))
    return path, dropped


def reinclude(path: Path, dropped: list[Dropped]) -> None:
    """Append `!path` lines: a later exception re-includes a file whatever excluded it before."""
    lines = "".join(f"!{d.path}\n" for d in dropped)
    text = path.read_text(errors="replace")
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + lines)

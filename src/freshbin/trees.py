"""The file trees a Cargo workspace is read from: a directory on disk, or one git commit.

detect must judge a range by the workspace graph *of its commits* (a member added, renamed or
deleted in between changes which binaries a file reaches), so the workspace model reads its
manifests through this small interface instead of the filesystem.  A commit's tree is
git_tree.GitTree (GitPython), kept apart so that reading a workspace from disk — as a deploy
does before its build starts — does not load GitPython.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Protocol


class Tree(Protocol):
    """Workspace-relative, posix paths; "." is the workspace root."""

    def read(self, rel: str) -> bytes | None: ...  # None when there is no such file

    def is_file(self, rel: str) -> bool: ...

    def is_dir(self, rel: str) -> bool: ...

    def children(self, rel: str) -> list[str]: ...  # names directly inside directory `rel`

    def manifest_dirs(self) -> list[str]: ...  # every directory holding a Cargo.toml ("." included)

    @property
    def label(self) -> str: ...  # where the files come from, for messages


def join(*parts: str) -> str:
    """posix join that keeps "." as the root and never leaves a leading "./"."""
    kept = [p.strip("/") for p in parts if p not in ("", ".")]
    return "/".join(k for k in kept if k) or "."


class DiskTree:
    """The workspace directory as it is on disk (the work tree, doctor's view)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def label(self) -> str:
        return str(self.root)

    def _path(self, rel: str) -> Path:
        return self.root if rel == "." else self.root / rel

    def read(self, rel: str) -> bytes | None:
        try:
            return self._path(rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def is_file(self, rel: str) -> bool:
        return self._path(rel).is_file()

    def is_dir(self, rel: str) -> bool:
        return self._path(rel).is_dir()

    def children(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self._path(rel)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def manifest_dirs(self) -> list[str]:
        """A walk of the directory; `.git` and `target` are skipped (no package lives in them,
        and a target directory can hold a million files)."""
        found = []
        for here, subdirs, names in os.walk(self.root):
            subdirs[:] = [d for d in subdirs if d not in (".git", "target")]
            if "Cargo.toml" in names:
                found.append(Path(here).relative_to(self.root).as_posix())
        return found


class EmptyTree:
    """The tree before the first commit: no workspace at all."""

    label = "the empty tree"

    def read(self, rel: str) -> bytes | None:
        return None

    def is_file(self, rel: str) -> bool:
        return False

    def is_dir(self, rel: str) -> bool:
        return rel == "."

    def children(self, rel: str) -> list[str]:
        return []

    def manifest_dirs(self) -> list[str]:
        return []


def glob_dirs(tree: Tree, pattern: str) -> list[str]:
    """Directories matching a Cargo `members` glob, component by component (`*` stops at `/`)."""
    found = ["."]
    for part in [p for p in pattern.strip("/").split("/") if p not in ("", ".")]:
        nxt: list[str] = []
        for base in found:
            if part == "**":
                nxt += _descendants(tree, base)
            elif _has_magic(part):
                nxt += [join(base, c) for c in tree.children(base)
                        if fnmatch.fnmatchcase(c, part) and tree.is_dir(join(base, c))]
            elif tree.is_dir(join(base, part)):
                nxt.append(join(base, part))
        found = nxt
    return sorted(set(found))


def _descendants(tree: Tree, base: str) -> list[str]:
    out, todo = [], [base]
    while todo:
        d = todo.pop()
        out.append(d)
        todo += [join(d, c) for c in tree.children(d) if tree.is_dir(join(d, c))]
    return out


def _has_magic(part: str) -> bool:
    return any(ch in part for ch in "*?[")

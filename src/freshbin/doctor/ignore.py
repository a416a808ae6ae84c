"""The build context's ignore file, with Docker's semantics, and the build inputs it drops.

BuildKit reads `<Dockerfile name>.dockerignore` beside the Dockerfile first and the context's
`.dockerignore` only when there is none.  Patterns are anchored at the context root, `**`
crosses directories, a later `!pattern` re-includes, and a pattern that matches a directory
excludes everything below it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    line: int
    negate: bool
    regex: re.Pattern[str]
    text: str


def ignore_file(dockerfile: Path, context: Path) -> Path | None:
    for path in (dockerfile.parent / f"{dockerfile.name}.dockerignore", context / ".dockerignore"):
        if path.is_file():
            return path
    return None


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                i += 1  # `**/x` also matches `x` at the root: `.*` already covers the empty prefix
            continue
        ch = pattern[i]
        out += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def load(path: Path | None) -> list[Pattern]:
    if path is None:
        return []
    patterns = []
    for number, raw in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        body = posixpath.normpath(line.lstrip("!").strip().lstrip("/")) if line.lstrip("!").strip() else ""
        if body:
            patterns.append(Pattern(number, negate, _regex(body), line))
    return patterns


def excluded_by(patterns: list[Pattern], path: str) -> Pattern | None:
    """The pattern that excludes `path` (or a parent directory of it), else None."""
    parts = path.split("/")
    verdict = None
    for pattern in patterns:
        if any(pattern.regex.match("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
            verdict = None if pattern.negate else pattern
    return verdict

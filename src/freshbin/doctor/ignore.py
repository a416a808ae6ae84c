"""FB004: .dockerignore rules (Docker's semantics: anchored at the context root, `**`, `!`)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from ..workspace import Workspace
from .model import Finding
from .rules import RULES


def _regex(pattern: str) -> re.Pattern:
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


def load(path: Path) -> list[tuple[int, bool, re.Pattern, str]]:
    rules = []
    if not path.is_file():
        return rules
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((number, negate, _regex(pattern), line))
    return rules


def excluded_by(rules, path: str) -> tuple[int, str] | None:
    """The (line, pattern) that excludes `path` (or a parent directory of it), else None."""
    parts = path.split("/")
    verdict = None
    for number, negate, regex, text in rules:
        if any(regex.match("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
            verdict = None if negate else (number, text)
    return verdict


def build_inputs(ws: Workspace, context: Path, watch: list[str]) -> list[str]:
    """Context-relative files that must reach the build."""
    inputs = []
    for rel in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml", ".cargo/config", "rust-toolchain",
                "rust-toolchain.toml"]:
        if (context / rel).exists():
            inputs.append(rel)
    for pkg in ws.packages:
        base = "" if pkg.dir == "." else pkg.dir + "/"
        for rel in ("Cargo.toml", "build.rs", "src/main.rs", "src/lib.rs"):
            if (context / base / rel).exists():
                inputs.append(base + rel)
    for w in watch:
        top = context / w
        if top.is_dir():
            inputs += [p.relative_to(context).as_posix() for p in top.rglob("*") if p.is_file()][:2000]
    return sorted(set(inputs))


def rule_dockerignore(context: Path, ws: Workspace, watch: list[str]) -> list[Finding]:
    path = context / ".dockerignore"
    rules = load(path)
    hits: dict[tuple[int, str], list[str]] = {}
    for rel in build_inputs(ws, context, watch):
        verdict = excluded_by(rules, rel)
        if verdict:
            hits.setdefault(verdict, []).append(rel)
    return [
        Finding(str(path), number, "FB004", RULES["FB004"],
                f"pattern {text!r} keeps {files[0]}{f' and {len(files) - 1} more build input(s)' if len(files) > 1 else ''} "
                "out of the build context: the image cannot reflect changes to it",
                f"narrow the pattern or re-include with '!{files[0]}'")
        for (number, text), files in sorted(hits.items())
    ]

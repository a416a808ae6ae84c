"""FB004: the ignore file keeps a build input out of the context that the Dockerfile copies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ...dockerfile_model import copy_of
from ...workspace import Workspace
from ..analysis import Analysis
from ..inputs import is_input
from ..ignore import Pattern, excluded_by, ignore_file, load
from ..project import Project
from ..rule import Finding, Rule, Severity

MAX_FILES = 5000
_PINNED_BASE = re.compile(r"(^|/)rust(lang/rust)?:(\d+\.\d+|nightly-\d{4})")
_PINNING = re.compile(r"\brustup\s+(default|toolchain\s+install|override\s+set)\b|RUSTUP_TOOLCHAIN")


def copied_inputs(project: Project) -> list[str]:
    """Context-relative Rust build inputs under the sources the Dockerfile COPYs from the context."""
    found: set[str] = set()
    for stage in project.dockerfile.stages:
        for ins in stage.instructions:
            copy = copy_of(ins)
            if copy is None or copy.from_stage is not None or copy.heredoc:
                continue
            for src in copy.sources:
                found |= _inputs_under(project, src.lstrip("/"))
    return sorted(found)


def _inputs_under(project: Project, src: str) -> set[str]:
    context = project.context
    if "$" in src or src.startswith(".."):
        return set()
    roots = sorted(context.glob(src))[:100] if any(ch in src for ch in "*?[") else [context / src]
    out: set[str] = set()
    if roots == [context / src] and not roots[0].exists() and is_input(src.rstrip("/"), None):
        out.add(src.rstrip("/"))  # named by the Dockerfile: an input even when not in this checkout
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*"))[:MAX_FILES] if root.is_dir() else []
        for path in paths:
            rel = path.relative_to(context).as_posix()
            if path.is_file() and is_input(rel, _context_workspace(project), project.manifest):
                out.add(rel)
    return out


def _context_workspace(project: Project) -> Workspace | None:
    """The workspace when it is rooted at the context (paths here are context-relative)."""
    ws = project.workspace
    return ws if ws is not None and Path(ws.root).resolve() == project.context.resolve() else None


def changes_linux_build(project: Project, rel: str) -> bool:
    """False for inputs that cannot change this image: a cargo config of aliases or non-Linux
    targets only, a toolchain file when the image pins its own toolchain."""
    name = rel.rsplit("/", 1)[-1]
    if name.startswith("rust-toolchain"):
        return not _image_pins_toolchain(project)
    if rel.split("/")[-2:-1] == [".cargo"]:
        try:
            data = tomllib.loads((project.context / rel).read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            return True
        return any(key not in ("alias", "target") for key in data) or any(
            _linux_target(key) for key in (data.get("target") or {}))
    return True


def _linux_target(key: str) -> bool:
    if key.startswith("cfg("):
        return not re.search(r"windows|macos|apple|wasm", key) or "not(" in key
    return "linux" in key


def _image_pins_toolchain(project: Project) -> bool:
    for stage in project.dockerfile.stages:
        if _PINNED_BASE.search(stage.base) and not stage.base.endswith(":latest"):
            return True
        if any(_PINNING.search(ins.text) or "RUSTUP_TOOLCHAIN" in ins.env for ins in stage.instructions):
            return True
    return False


def check(project: Project, analysis: Analysis) -> list[Finding]:
    path = ignore_file(project.dockerfile.path, project.context)
    patterns = load(path)
    if not patterns:
        return []
    hits: dict[int, tuple[Pattern, list[str]]] = {}
    for rel in copied_inputs(project):
        pattern = excluded_by(patterns, rel)
        if pattern and changes_linux_build(project, rel):
            hits.setdefault(pattern.line, (pattern, []))[1].append(rel)
    out = []
    for _, (pattern, files) in sorted(hits.items()):
        more = f" and {len(files) - 1} more build input(s)" if len(files) > 1 else ""
        out.append(RULE.finding(str(path), pattern.line,
                                f"pattern {pattern.text!r} keeps {files[0]}{more} out of the build context although "
                                "the Dockerfile copies it: the image cannot reflect changes to it",
                                f"narrow the pattern or re-include with '!{files[0]}'"))
    return out


RULE = Rule(
    code="FB004", severity=Severity.ERROR,
    title="the ignore file drops a build input the Dockerfile copies (sources, manifests, build.rs, "
          ".cargo/config*, rust-toolchain*)",
    explanation=("`Dockerfile.dockerignore` (read first, as BuildKit does) or `.dockerignore` excludes it, so "
                 "a change to it never reaches the build. A cargo config holding only aliases or non-Linux "
                 "target settings, or a toolchain file when the image pins its own toolchain, is not reported."),
    bad=".dockerignore: .*   (drops .cargo/config.toml with its rustflags)",
    good=".dockerignore: target and .git only, or re-include with !.cargo",
    check=check,
)

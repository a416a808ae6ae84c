"""Run the rules over a Dockerfile, apply suppressions, and fix the refresh step."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from ..errors import UsageError
from ..workspace import load_workspace
from . import ignore, rules
from .model import Finding, parse

_SUPPRESS = re.compile(r"#\s*freshbin\s+ignore=([\w,\s]+)")


def check(dockerfile: Path, workspace: Path, context: Path, watch: list[str]) -> list[Finding]:
    stages = parse(dockerfile)
    ws = load_workspace(workspace)
    builds = rules.analyse(stages, watch)
    if not builds:
        raise UsageError(f"{dockerfile} has no cargo build after a COPY of the sources; nothing for doctor to check")
    file = str(dockerfile)
    findings: list[Finding] = []
    for build in builds:
        refresh = rules.rule_refresh(file, build, ws, stages, watch)
        findings += refresh
        findings += rules.rule_cache_mounts(file, build)
        if refresh:  # with a complete refresh nobody needs --no-cache-filter, so the stage layout is moot
            findings += rules.rule_same_stage(file, build)
        findings += rules.rule_binary_paths(file, build, ws, stages)
    findings += ignore.rule_dockerignore(context, ws, watch)
    return sorted(_unsuppressed(findings, dockerfile), key=lambda f: (f.file, f.line, f.rule))


def _unsuppressed(findings: list[Finding], dockerfile: Path) -> list[Finding]:
    lines = dockerfile.read_text().splitlines()

    def suppressed(f: Finding) -> bool:
        if f.file != str(dockerfile) or f.line < 2:
            return False
        match = _SUPPRESS.search(lines[f.line - 2])
        return bool(match) and f.rule in {r.strip() for r in match.group(1).split(",")}

    return [f for f in findings if not suppressed(f)]


def fix(dockerfile: Path, workspace: Path, watch: list[str]) -> tuple[str, str]:
    """(new text, unified diff): the real build's refresh made to cover every workspace source.

    Only the text of the real-build RUN changes; every other byte stays.  Idempotent: a file
    whose refresh already covers everything is returned unchanged.
    """
    text = dockerfile.read_text()
    stages = parse(dockerfile)
    ws = load_workspace(workspace)
    command = rules.fix_command(ws, watch)
    lines = text.splitlines(keepends=True)
    for build in rules.analyse(stages, watch):
        if build.prebuild is None or not rules.rule_refresh(str(dockerfile), build, ws, stages, watch):
            continue
        start, end = build.real_build.line - 1, build.real_build.end_line
        block = "".join(lines[start:end])
        touch = re.search(r"touch\s+[^&;|\n\\]+?(?=\s*(?:&&|;|\||\\?\n|$))", block)
        if touch:
            block = block[: touch.start()] + command + block[touch.end():]
        else:
            block = re.sub(r"\bcargo\s+(build|install)\b", lambda m: f"{command} && {m.group(0)}", block, count=1)
        lines[start:end] = [block]
    new = "".join(lines)
    diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{dockerfile.name}", f"b/{dockerfile.name}"))
    return new, diff

"""`doctor --fix`: make the refresh before each hazardous real build cover its dummies.

Writes `find <dirs> -name '*.rs' -exec touch {} +` naming only directories the Dockerfile
copied the real sources into (see refresh.py).  In a plain shell-form RUN the command goes
right before the cargo call (replacing a partial `touch … &&` just before it); a heredoc,
exec-form or quoted call gets a `RUN` line of its own just above.  Every other byte stays.
Idempotent: a fixed file has no FB001/FB002 finding, so a second run changes nothing.
"""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path

from ..dockerfile_cargo import compiling_tool
from .analysis import Dummy, Hazard
from .refresh import command
from .rules._hazard import hazards
from .run import inspect, unsuppressed
from .rules import fb001, fb002

_CALL = re.compile(r"(?:(?<=^)|(?<=[\s;&|(]))(?:[A-Za-z_]\w*=(?:'[^']*'|\"[^\"]*\"|\S*)\s+)*"
                   r"(?=(?:xx-cargo|cargo|cross|cargo-chef|cargo-zigbuild)\s)", re.M)
_PARTIAL_TOUCH = re.compile(r"(?<![\w-])touch((?:[ \t]+[^\s&;|]+\.rs)+)[ \t]*&&[ \t]*$")


def fix(dockerfile: Path, context: Path | None = None, workspace: Path | None = None) -> tuple[str, str]:
    """(new text, unified diff); ("same text", "") when nothing needs fixing."""
    project, analysis = inspect(dockerfile, context, workspace)
    text = project.dockerfile.text
    todo: list[tuple[Hazard, list[Dummy]]] = []
    for rule, attempted in ((fb001.RULE, True), (fb002.RULE, False)):
        for hazard, dummies in hazards(project, analysis, attempted=attempted):
            finding = rule.finding(project.file, hazard.build.instruction.line, "", "")
            if unsuppressed([finding], text, project.file):
                todo.append((hazard, dummies))
    lines = text.splitlines(keepends=True)
    for hazard, dummies in sorted(todo, key=lambda t: -t[0].build.instruction.line):
        _edit(lines, hazard, dummies)
    new = "".join(lines)
    diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{dockerfile.name}", f"b/{dockerfile.name}"))
    return new, diff


def _edit(lines: list[str], hazard: Hazard, dummies: list[Dummy]) -> None:
    ins = hazard.build.instruction
    start, end = ins.line - 1, ins.end_line
    block = "".join(lines[start:end])
    at = None if ins.heredoc or ins.exec_form else _call_offset(block, hazard.build.position)
    if at is not None:
        refresh = command(dummies, hazard.build.cwd)
        partial = _PARTIAL_TOUCH.search(block[:at])
        if partial and _covers(refresh, partial.group(1).split()):
            block = block[:partial.start()] + refresh + " && " + block[at:]
        else:
            block = block[:at] + refresh + " && " + block[at:]
        if not block.endswith("\n") and end < len(lines):
            block += "\n"
        lines[start:end] = [block]
    else:
        indent = re.match(r"[ \t]*", lines[start])
        lines.insert(start, f"{indent.group(0) if indent else ''}RUN {command(dummies, ins.cwd)}\n")


def _covers(refresh: str, touched: list[str]) -> bool:
    """Does the new `find <dirs> …` reach every file the partial `touch` it replaces touched?"""
    words = refresh.split(" -name ", 1)[0].split()[1:] if refresh.startswith("find ") else []
    return all(any(d == "." or t.lstrip("./").startswith(d.rstrip("/") + "/") for d in words) for t in touched)


def _call_offset(block: str, position: int) -> int | None:
    """Where the `position`-th compiling cargo call of the RUN starts, if at the top level of the shell."""
    seen = 0
    for match in _CALL.finditer(block):
        rest = re.split(r"&&|\|\||;|\||\n(?<!\\\n)", block[match.start():].replace("\\\n", " "))[0]
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
        words = [w for w in words if not re.match(r"^[A-Za-z_]\w*=", w)] if words else []
        if compiling_tool(tuple(words)) is None:
            continue
        if seen == position:
            head = block[:match.start()]
            quoted = head.count("'") % 2 or head.count('"') % 2
            return None if quoted or match.start() < 3 else match.start()
        seen += 1
    return None

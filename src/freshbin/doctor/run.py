"""Run the rules of the registry over a Dockerfile and its context; apply suppressions.

Exit 2 (a UsageError/WorkspaceError) only for what cannot be read: a missing, binary, empty
or unparsable Dockerfile, or a manifest that does not parse.  A Dockerfile with nothing to
check is a clean report with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .analysis import Analysis, analyse
from .project import Project, load
from .rule import Finding
from .rules import RULES

_SUPPRESS = re.compile(r"#\s*freshbin\s+ignore=([\w,\s]+)")


@dataclass(frozen=True)
class Report:
    file: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]


def locate(dockerfile: Path, context: Path | None, workspace: Path | None) -> tuple[Path, Path | None]:
    """(context, workspace): given ones win; else the nearest directory at or above the
    Dockerfile that holds a Cargo.toml serves as both, else the Dockerfile's directory."""
    if context is not None:
        return context, workspace
    start = dockerfile.resolve().parent
    for directory in (start, *start.parents):
        if (directory / "Cargo.toml").is_file():
            return directory, workspace or directory
        if (directory / ".git").exists():
            break
    return start, workspace


def inspect(dockerfile: Path, context: Path | None = None, workspace: Path | None = None) -> tuple[Project, Analysis]:
    ctx, ws = locate(dockerfile, context, workspace)
    project = load(dockerfile, ctx, ws)
    return project, analyse(project)


def diagnose(dockerfile: Path, context: Path | None = None, workspace: Path | None = None) -> Report:
    project, analysis = inspect(dockerfile, context, workspace)
    findings = [f for rule in RULES for f in rule.check(project, analysis)]
    notes = list(project.notes)
    if not analysis.calls:
        notes.append(f"{dockerfile} runs no cargo build: nothing to check but the ignore file")
    elif not analysis.real_builds and not analysis.hazards:
        notes.append(f"{dockerfile} copies no sources before a cargo build: no pre-build hazard to check")
    kept = sorted(unsuppressed(findings, project.dockerfile.text, project.file),
                  key=lambda f: (f.file, f.line, f.rule))
    return Report(project.file, tuple(dict.fromkeys(kept)), tuple(notes))


def check(dockerfile: Path, workspace: Path | None = None, context: Path | None = None) -> list[Finding]:
    """The findings alone (the demo and tests)."""
    return list(diagnose(dockerfile, context, workspace).findings)


def unsuppressed(findings: list[Finding], text: str, file: str) -> list[Finding]:
    lines = text.splitlines()

    def suppressed(f: Finding) -> bool:
        if f.file != file or f.line < 2 or f.line - 2 >= len(lines):
            return False
        match = _SUPPRESS.search(lines[f.line - 2])
        return match is not None and f.rule in {r.strip() for r in match.group(1).split(",")}

    return [f for f in findings if not suppressed(f)]

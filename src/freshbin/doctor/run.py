"""Run the rules of the registry over a Dockerfile and its context; apply suppressions.

Exit 2 (a UsageError/WorkspaceError) only for what cannot be read: a missing, binary, empty
or unparsable Dockerfile, or a manifest that does not parse.  A Dockerfile with nothing to
check is a clean report with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..dockerfile_model import Stage
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
    checked: tuple[str, ...] = ()  # what was read: stages, cargo calls, the shipped binary


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


def diagnose(dockerfile: Path, context: Path | None = None, workspace: Path | None = None, target: str = "") -> Report:
    """Findings, notes and what was checked; `target` is the stage that ships (empty: the last)."""
    project, analysis = inspect(dockerfile, context, workspace)
    findings = [f for rule in RULES for f in rule.check(project, analysis)]
    notes = list(project.notes)
    if not analysis.calls:
        notes.append(f"{dockerfile} runs no cargo build: nothing to check but the ignore file")
    elif not analysis.real_builds and not analysis.hazards:
        notes.append(f"{dockerfile} copies no sources before a cargo build: no pre-build hazard to check")
    kept = sorted(unsuppressed(findings, project.dockerfile.text, project.file),
                  key=lambda f: (f.file, f.line, f.rule))
    return Report(project.file, tuple(dict.fromkeys(kept)), tuple(notes), checked(project, analysis, target))


def checked(project: Project, analysis: Analysis, target: str = "") -> tuple[str, ...]:
    """What doctor read, in words: a clean report says what it found clean."""
    stages = project.dockerfile.stages
    def name(stage: Stage) -> str:
        return stage.name if stage.name != str(stage.index) else f"stage {stage.index + 1} (unnamed)"

    named = ", ".join(f"{name(s)} (line {s.line})" for s in stages)
    ships = target or (name(stages[-1]) + ", the last" if stages else "")
    lines = [f"{len(stages)} stage(s): {named}" + (f"; ships {ships}" if stages else "")]
    prebuilds = {id(c) for c in analysis.prebuilds}
    real = {id(b.call): b for b in analysis.real_builds}
    calls = []
    for call in analysis.calls:
        role = ("dependency pre-build over dummy sources" if id(call) in prebuilds
                else ("build of the copied sources" + (", after a refresh step" if real[id(call)].refreshed else ""))
                if id(call) in real else "build")
        calls.append(f"line {call.instruction.line} cargo {call.tool} ({role})")
    lines.append(f"{len(calls)} cargo call(s)" + (": " + "; ".join(calls) if calls else ""))
    lines.append(_shipped(project, target or (stages[-1].name if stages else "")))
    return tuple(lines)


def _shipped(project: Project, stage: str) -> str:
    """The shipped binary as deploy finds it in `stage` (before there is an image to read its config)."""
    from ..errors import FreshbinError
    from ..shipped import locate

    if not stage:
        return "shipped binary: none (no stage)"
    binaries = frozenset(project.workspace.all_binaries()) if project.workspace is not None else frozenset()
    try:
        found = locate({}, dockerfile=project.dockerfile.path, target=stage, binaries=binaries)
    except FreshbinError:
        return (f"shipped binary: no COPY --from of cargo output in stage {stage}; deploy reads the image's "
                "ENTRYPOINT/CMD (or freshbin.binary_path)")
    return f"shipped binary: {found.candidates[0]} ({found.evidence})"


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

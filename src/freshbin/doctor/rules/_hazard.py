"""Shared by FB001 and FB002: the findings of dummy-artefact hazards, and their message."""

from __future__ import annotations

from ..analysis import Analysis, Dummy, Hazard
from ..project import Project
from ..refresh import command, describe, relevant
from ..rule import Finding, Rule

OUTCOMES = ("the image ships the dummy when the pre-build re-ran after the checkout (cold builder, --no-cache, "
            "a manifest change) and the previous release when a cached compile is reused")


def hazards(project: Project, analysis: Analysis, *, attempted: bool) -> list[tuple[Hazard, list[Dummy]]]:
    """(hazard, dummies that reach a shipped binary) with or without a refresh attempt."""
    out = []
    for hazard in analysis.hazards:
        if bool(hazard.attempts) is attempted:
            dummies = relevant(project, hazard)
            if dummies:
                out.append((hazard, dummies))
    return out


def fix_text(hazard: Hazard, dummies: list[Dummy]) -> str:
    return f"refresh the copied sources before the real build: RUN {command(dummies, hazard.build.cwd)} && cargo build …"


def finding(rule: Rule, project: Project, hazard: Hazard, dummies: list[Dummy], why: str) -> Finding:
    pre = hazard.prebuild
    what = "cargo chef cook" if pre.chef else f"the dependency pre-build (line {pre.instruction.line})"
    copies = sorted({d.overwritten.instruction.line for d in dummies if d.overwritten})
    message = (f"{what} compiled dummy {describe(dummies, hazard.build.cwd)}; COPY at line "
               f"{', '.join(map(str, copies))} brings the real sources with checkout mtimes older than those "
               f"artefacts and {why}: {OUTCOMES}")
    return rule.finding(project.file, hazard.build.instruction.line, message, fix_text(hazard, dummies))

"""FB001: a refresh runs between the source COPY and the real build, but misses dummies."""

from __future__ import annotations

from ..analysis import Analysis
from ..project import Project
from ..rule import Finding, Rule, Severity
from ._hazard import finding, hazards


def check(project: Project, analysis: Analysis) -> list[Finding]:
    out = []
    for hazard, dummies in hazards(project, analysis, attempted=True):
        why = f"the refresh ({'; '.join(hazard.attempts)[:120]}) does not cover them"
        out.append(finding(RULE, project, hazard, dummies, why))
    return out


RULE = Rule(
    code="FB001", severity=Severity.ERROR,
    title="a dependency pre-build compiled dummy sources and the refresh before the real build misses some of them",
    explanation=("Cargo judges path crates by mtime; COPY keeps checkout mtimes. A `touch` or `rm` of artefacts "
                 "that leaves out one dummy (a binary under bin/, a nested crate, an `rm` pattern in the wrong "
                 "file name) leaves cargo trusting that dummy's artefacts."),
    bad="COPY crates crates\nCOPY bin bin\nRUN touch crates/*/src/lib.rs && cargo build --release",
    good="COPY crates crates\nCOPY bin bin\nRUN find bin crates -name '*.rs' -exec touch {} + && cargo build --release",
    check=check, fixable=True,
)

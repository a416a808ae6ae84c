"""FB006: the dependency pre-build shares its stage with the compile (reported with FB001/FB002)."""

from __future__ import annotations

from ..analysis import Analysis
from ..project import Project
from ..refresh import relevant
from ..rule import Finding, Rule, Severity


def check(project: Project, analysis: Analysis) -> list[Finding]:
    out = []
    for hazard in analysis.hazards:
        if relevant(project, hazard) and hazard.prebuild.instruction in hazard.stage.instructions:
            out.append(RULE.finding(
                project.file, hazard.prebuild.instruction.line,
                f"the dependency pre-build shares stage {hazard.stage.name!r} with the compile: "
                "--no-cache-filter on it rebuilds every dependency",
                "move the manifests and pre-build into a `deps` stage and start the compile stage `FROM deps`"))
    return out


RULE = Rule(
    code="FB006", severity=Severity.INFO,
    title="the dependency pre-build is in the same stage as the compile (reported with FB001/FB002)",
    explanation="`--no-cache-filter` on that stage, a work-around for the hazard, would rebuild every dependency.",
    bad="FROM rust AS builder\n# manifests, pre-build, sources and compile in one stage",
    good="FROM rust AS deps\n# manifests and pre-build\nFROM deps AS builder\n# sources and compile",
    check=check,
)

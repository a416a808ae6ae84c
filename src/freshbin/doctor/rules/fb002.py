"""FB002: a dependency pre-build compiled dummy sources and nothing refreshes the real ones."""

from __future__ import annotations

from ..analysis import Analysis
from ..project import Project
from ..rule import Finding, Rule, Severity
from ._hazard import finding, hazards


def check(project: Project, analysis: Analysis) -> list[Finding]:
    out = []
    for hazard, dummies in hazards(project, analysis, attempted=False):
        why = "nothing refreshes them before this build"
        if hazard.misses:
            why += " — " + "; ".join(dict.fromkeys(hazard.misses))
        out.append(finding(RULE, project, hazard, dummies, why))
    return out


RULE = Rule(
    code="FB002", severity=Severity.ERROR,
    title="a dependency pre-build compiled dummy sources and nothing refreshes the real ones before the real build",
    explanation=("The real sources arrive with checkout mtimes older than the dummy artefacts whenever the "
                 "pre-build ran after the checkout; cargo keeps the dummy. `cargo chef cook` is not this: it "
                 "removes its compiled dummies itself."),
    bad="RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release\nCOPY src src\n"
        "RUN cargo build --release",
    good="RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release\nCOPY src src\n"
         "RUN find src -name '*.rs' -exec touch {} + && cargo build --release",
    check=check, fixable=True,
)

"""FB003: a cache mount over the target dir of a real build, and no refresh before it.

A mount with mode=/uid=/gid= is FB005's: one hazard, one finding (FB005 names the missing refresh).
A build whose output never leaves the mount ships nothing stale (`mount_output`).
"""

from __future__ import annotations

from ...dockerfile_model import cache_mount_over
from ..analysis import Analysis
from ..mount_output import ships
from ..project import Project
from ..rule import Finding, Rule, Severity


def check(project: Project, analysis: Analysis) -> list[Finding]:
    hazardous = {id(h.build) for h in analysis.hazards}
    out = []
    for build in analysis.real_builds:
        call = build.call
        mount = cache_mount_over(call.instruction, call.target_dir)
        if (mount is not None and not mount.pins_owner and not build.refreshed and id(call) not in hazardous
                and ships(project.dockerfile, call, mount)):
            out.append(RULE.finding(
                project.file, call.instruction.line,
                f"cache mount over {call.target_dir} (the target dir this build uses) keeps fingerprints newer than "
                "sources whose mtime predates the last build (restored mtimes, a restored cache, clock skew): "
                "cargo compiles nothing and the previous release ships",
                f"refresh the copied sources first (find <source dirs> -name '*.rs' -exec touch {{}} +), "
                "or drop the cache mount for release builds"))
    return out


RULE = Rule(
    code="FB003", severity=Severity.WARNING,
    title="a cache mount over the cargo target dir of the real build, with no source refresh",
    explanation=("The mount keeps cargo's fingerprints across builds; a change whose mtime predates the last "
                 "build compiles nothing."),
    bad="RUN --mount=type=cache,target=/app/target cargo build --release && cp target/release/app /app",
    good="RUN --mount=type=cache,target=/app/target find src -name '*.rs' -exec touch {} + && cargo build --release",
    check=check,
)

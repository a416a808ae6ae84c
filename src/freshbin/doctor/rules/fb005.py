"""FB005: a cache mount over the target dir with mode=/uid=/gid=."""

from __future__ import annotations

from ..analysis import Analysis
from ...dockerfile_model import cache_mount_over
from ..project import Project
from ..rule import Finding, Rule, Severity


def check(project: Project, analysis: Analysis) -> list[Finding]:
    out = []
    for build in analysis.real_builds:
        call = build.call
        mount = cache_mount_over(call.instruction, call.target_dir)
        if mount is not None and mount.pins_owner:
            unrefreshed = "" if build.refreshed else " (and no source refresh runs first: FB003's hazard, reported here)"
            out.append(RULE.finding(
                project.file, call.instruction.line,
                f"cache mount over {mount.target} with mode/uid/gid: --no-cache does not reset it on older engines"
                + unrefreshed,
                "remove mode=/uid=/gid= from the target-dir cache mount, or give it an id you can rotate"))
    return out


RULE = Rule(
    code="FB005", severity=Severity.WARNING,
    title="a cache mount over the target dir with mode=/uid=/gid=: --no-cache does not reset it (older engines)",
    explanation="Reported on older engines; the usual escape hatch, --no-cache, then keeps the old fingerprints.",
    bad="RUN --mount=type=cache,target=/app/target,uid=1000 cargo build --release",
    good="RUN --mount=type=cache,target=/app/target cargo build --release",
    check=check,
)

"""FB005: a cache mount over the target dir with mode=/uid=/gid=."""

from __future__ import annotations

from ..analysis import Analysis
from ...dockerfile_model import mounts
from ..project import Project
from ..rule import Finding, Rule, Severity


def check(project: Project, analysis: Analysis) -> list[Finding]:
    out = []
    for build in analysis.real_builds:
        call = build.call
        for mount in mounts(call.instruction):
            covers = call.target_dir == mount.target or call.target_dir.startswith(mount.target.rstrip("/") + "/")
            if mount.type == "cache" and covers and any(k in mount.options for k in ("mode", "uid", "gid")):
                out.append(RULE.finding(
                    project.file, call.instruction.line,
                    f"cache mount over {mount.target} with mode/uid/gid: --no-cache does not reset it on older engines",
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

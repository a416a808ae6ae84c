"""`invoke doctor`: stale-binary hazards in a Dockerfile, with rule IDs, severities and fixes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from invoke import Exit, task

from .. import report
from ..doctor import SEVERITIES, check, fix as apply_fix
from ..doctor.rules import LEGACY_WATCH
from ..doctor.sarif import rule_descriptions, to_sarif
from ..errors import EXIT_CHECK_FAILED, UsageError
from .common import cli_errors, pick, workspace_dir

FORMATS = ("table", "json", "sarif")
THRESHOLDS = (*SEVERITIES, "none")


@task(
    auto_shortflags=False,
    help={
        "dockerfile": "Dockerfile, relative to the workspace (default Dockerfile)",
        "context": "build context holding .dockerignore, relative to the workspace (default .)",
        "workspace": "Cargo workspace root (default .)",
        "format": "table (default), json or sarif (SARIF 2.1.0)",
        "failure_threshold": "exit 1 when a finding at or above this remains: error, warning (default), info, none",
        "fix": "rewrite the refresh step to cover every source, print the diff (idempotent)",
    },
)
@cli_errors
def doctor(c, dockerfile="", context="", workspace="", format="table", failure_threshold="warning", fix=False):
    """Check the Dockerfile, workspace and .dockerignore for stale-binary hazards (FB001-FB007)."""
    if format not in FORMATS:
        raise UsageError(f"--format {format!r} is unknown; use one of {', '.join(FORMATS)}")
    if failure_threshold not in THRESHOLDS:
        raise UsageError(f"--failure-threshold {failure_threshold!r} is unknown; use one of {', '.join(THRESHOLDS)}")
    ws = workspace_dir(c, workspace)
    path = ws / pick(dockerfile, c, "dockerfile")
    ctx = ws / pick(context, c, "context")
    watch = pick(None, c, "watch") or list(LEGACY_WATCH)
    if fix:
        new, diff = apply_fix(path, ws, watch)
        if diff:
            path.write_text(new)
        report.log(diff or f"{path.name}: nothing to fix")
    findings = check(path, ws, ctx, watch)
    if format == "json":
        report.print_json([asdict(f) for f in findings])
    elif format == "sarif":
        report.print_json(to_sarif(findings, rule_descriptions()))
    else:
        rows = [(f"{Path(f.file).name}:{f.line}", f.rule, f.severity, f.message, f.fix) for f in findings]
        print(report.table(rows, ("where", "rule", "severity", "message", "fix"), wrap=(16, 5, 8, 38, 22)) if rows else "no findings")
    if failure_threshold != "none":
        limit = SEVERITIES.index(failure_threshold)
        if any(SEVERITIES.index(f.severity) <= limit for f in findings):
            raise Exit(code=EXIT_CHECK_FAILED)
    return findings

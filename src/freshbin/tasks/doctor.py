"""`invoke doctor`: stale-binary hazards in Dockerfiles, with rule IDs, severities and fixes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from invoke import Context, Exit, task

from typing import TYPE_CHECKING

from .. import config, report
from ..errors import EXIT_CHECK_FAILED, UsageError
from .common import cli_errors, dry, pick, summarise, workspace_dir

if TYPE_CHECKING:  # the rules load when the task runs, not for --help
    from ..doctor import Report
    from ..doctor.rule import Finding

SEVERITIES = ("error", "warning", "info")  # doctor.rule.SEVERITIES; a test keeps them equal

FORMATS = ("table", "json", "sarif", "markdown")
THRESHOLDS = (*SEVERITIES, "none")


@task(
    auto_shortflags=False,
    iterable=["dockerfile"],
    help={
        "dockerfile": config.flag_help("dockerfile", "Dockerfile to check, repeatable; `doctor A B` checks files A "
                                       "and B"),
        "context": config.flag_help("context", "build context holding .dockerignore, relative to the workspace; "
                                    "named Dockerfiles: their own project"),
        "workspace": config.flag_help("workspace", "Cargo workspace root"),
        "format": "table, json, sarif (SARIF 2.1.0) or markdown (a summary for a pull request or CI job) (default table)",
        "failure_threshold": "exit 1 when a finding at or above this remains: error, warning, info, none "
                             "(default warning)",
        "fix": "rewrite the refresh before each hazardous build to cover its dummies, print the diff (idempotent; with `freshbin -R` the diff only)",
    },
)
@cli_errors
def doctor(c: Context, dockerfile: list[str] | None = None, context: str = "", workspace: str = "",
           format: str = "table", failure_threshold: str = "warning", fix: bool = False) -> list[Finding]:
    """Check Dockerfiles, their manifests and ignore file for stale-binary hazards (FB001-FB007)."""
    if format not in FORMATS:
        raise UsageError(f"--format {format!r} is unknown; use one of {', '.join(FORMATS)}")
    if failure_threshold not in THRESHOLDS:
        raise UsageError(f"--failure-threshold {failure_threshold!r} is unknown; use one of {', '.join(THRESHOLDS)}")
    write = not dry(c)
    target = "" if dockerfile else pick(None, c, "target")  # named files: their last stage
    reports = [_one(path, ctx, ws, fix, write, target) for path, ctx, ws in _targets(c, dockerfile, context, workspace)]
    findings = [f for r in reports for f in r.findings]
    if format == "json":
        report.print_json([asdict(f) for f in findings])
    elif format == "sarif":
        from ..doctor.sarif import to_sarif

        report.print_json(to_sarif(findings))
    elif format == "table":
        _print_table(reports)
    from .. import summary
    summarise(summary.doctor(reports), format)
    if failure_threshold != "none":
        limit = SEVERITIES.index(failure_threshold)
        if any(SEVERITIES.index(f.severity) <= limit for f in findings):
            raise Exit(code=EXIT_CHECK_FAILED)
    return findings


def _targets(c: Context, dockerfiles: list[str] | None, context: str, workspace: str) -> list[tuple[Path, Path | None, Path | None]]:
    """Named files are found from the current directory, each with its own project unless
    --context/--workspace say otherwise; without names, the configured Dockerfile of the workspace."""
    if dockerfiles:
        ctx = Path(context).resolve() if context else None
        ws = Path(workspace).resolve() if workspace else None
        return [(_near(Path(d), ws), ctx, ws) for d in dockerfiles]
    ws = workspace_dir(c, workspace)
    return [(ws / pick(None, c, "dockerfile"), ws / pick(context, c, "context"), ws)]


def _near(path: Path, workspace: Path | None) -> Path:
    """A name that is not there from here is taken relative to --workspace (as the config value is)."""
    if workspace and not path.is_absolute() and not path.exists():
        return workspace / path
    return path


def _one(path: Path, context: Path | None, workspace: Path | None, fix: bool, write: bool = True,
         target: str = "") -> Report:
    from ..doctor import diagnose, fix as apply_fix

    if fix:
        new, diff = apply_fix(path, context, workspace)
        if diff and write:
            path.write_text(new)
        report.log(diff or f"{path.name}: nothing to fix")
        if diff and not write:
            report.log(f"dry run (-R): {path.name} not written")
    return diagnose(path, context, workspace, target)


def _print_table(reports: list[Report]) -> None:
    rows = [(f"{Path(f.file).name}:{f.line}", f.rule, f.severity, f.message, f.fix) for r in reports for f in r.findings]
    if rows:
        print(report.table(rows, ("where", "rule", "severity", "message", "fix"), wrap=(16, 5, 8, 38, 22)))
    else:
        print("no findings")
    for r in reports:
        print(report.checked(Path(r.file).name, r.checked))
    for r in reports:
        for note in r.notes:
            report.log(f"note: {note}")

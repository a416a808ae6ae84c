"""`invoke detect`: what changed since the last deploy, and what it means for the next build."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke import Context, Exit, task

from .. import config, report
from ..errors import EXIT_CHECK_FAILED
from .common import FORMAT_HELP, cli_errors, ledger_path, output_format, pick, summarise, workspace_dir

if TYPE_CHECKING:  # loaded when the task runs, not for --help
    from ..detect import Detection


@task(
    auto_shortflags=False,
    help={
        "base": "start of the range (default: commit of the last deploy of --image in the registry or ledger, else HEAD~1)",
        "head": "end of the range (default HEAD)",
        "worktree": "include staged, unstaged and untracked changes",
        "image": config.flag_help("image", "image whose last deploy is the default base"),
        "workspace": config.flag_help("workspace", "Cargo workspace root"),
        "json": "print one JSON object instead of a table (as --format json)",
        "format": FORMAT_HELP,
        "check": "exit 1 when a change reaches a shipped binary's sources under freshbin.watch (what strategy "
                 "no-cache rebuilds without cache; for shell scripts)",
    }
)
@cli_errors
def detect(c: Context, base: str = "", head: str = "HEAD", worktree: bool = False, image: str = "", workspace: str = "",
           json: bool = False, check: bool = False, format: str = "table") -> Detection:
    """What changed since the last deploy, which shipped binaries it reaches, and what the next deploy must do."""
    shape = output_format(format, json)
    ws = workspace_dir(c, workspace)
    from concurrent.futures import ThreadPoolExecutor

    from .. import advice, history, summary  # loaded when the task runs: --help stays fast
    from ..detect import detect as run_detect

    with ThreadPoolExecutor(1) as pool:  # doctor reads the Dockerfile while detect waits for git
        doctor = pool.submit(advice.doctor_view, ws / pick(None, c, "dockerfile"), ws / pick(None, c, "context"), ws)
        result = run_detect(
            ws,
            base=base or None,
            head=head or "HEAD",
            worktree=worktree,
            watch=pick(None, c, "watch"),
            ledger_path=ledger_path(c, ws),
            image=pick(image, c, "image"),
            tracked_tag=history.tracked(pick(None, c, "tracked_tag"), pick(None, c, "tag"),
                                        pick(None, c, "moving_tags")),
        )
    plan = advice.next_deploy(result, pick(None, c, "strategy"), doctor.result())
    for note in result.notes:
        report.log(f"note: {note}")
    if shape == "json":
        report.print_json({**result.to_json(), "next_deploy": plan.to_json()})
    elif shape == "table":
        print(f"range {result.base[:12]}..{result.head[:12]} (base from {result.base_from})")
        print(report.detection_table(result) if result.changed else "no changes")
        print(report.next_deploy_line(plan))
    summarise(summary.detect(result, plan), shape)
    if check and result.no_cache_required:
        raise Exit(code=EXIT_CHECK_FAILED)
    return result

"""`invoke history`: the image's deploys from the registry (any machine's) and the local ledger."""

from __future__ import annotations

from typing import Any

from invoke import Context, task

from .. import config, report
from .common import cli_errors, ledger_path, pick, workspace_dir


@task(
    auto_shortflags=False,
    help={
        "image": config.flag_help("image", "image repository"),
        "target": "only deploys of this Dockerfile stage (default: every target)",
        "limit": "show at most this many deploys (default: all)",
        "offline": "read the local ledger only, not the registry",
        "workspace": config.flag_help("workspace", "Cargo workspace root, where the ledger is"),
        "json": "print the full records as one JSON list instead of a table",
    },
)
@cli_errors
def history(c: Context, image: str = "", target: str = "", limit: int = 0, offline: bool = False, workspace: str = "",
            json: bool = False) -> list[dict[str, Any]]:
    """The deploys of an image, newest first: commit, tag, strategy, freshbin's verdict, binary."""
    from ..refs import validate_repository

    image = validate_repository(pick(image, c, "image"))
    from ..history import load, with_subjects  # loaded when the task runs
    from ..checkout import open_checkout
    from ..errors import GitError

    ws = workspace_dir(c, workspace)
    past = load(image, ledger_path(c, ws), full=json, registry=not offline)
    try:
        root = open_checkout(ws).root
    except GitError:  # history needs no clone; subjects then come from the records alone
        root = None
    records = with_subjects(past.for_target(target or None)[: int(limit) or None], root)
    for note in past.notes:
        report.log(f"note: {note}")
    if json:
        report.print_json(records)
    else:
        print(report.history_table(records) if records else f"no deploys of {image} recorded")
        print(f"{len(records)} deploy(s); registry: {past.registry}")
    return records

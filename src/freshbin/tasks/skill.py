"""`invoke skill.install`: copy skill.md into an agent's skills folder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from invoke import Collection, Context, task

from .. import report, skill
from ..skill import Installed
from .common import cli_errors, dry


@task(
    auto_shortflags=False,
    help={
        "dest": f"skills folder (default {skill.DEFAULT_DEST}); the skill goes to DEST/{skill.NAME}/SKILL.md",
        "force": "replace an installed copy that differs (local edits are lost)",
        "json": "print one JSON object instead of a line",
    },
)
@cli_errors
def install(c: Context, dest: str = skill.DEFAULT_DEST, force: bool = False, json: bool = False) -> Installed:
    """Install the skill document for coding agents (refuses to overwrite a changed copy)."""
    result = skill.install(Path(dest or skill.DEFAULT_DEST), force=force, dry_run=dry(c))
    if json:
        report.print_json(asdict(result))
    else:
        print(f"{result.action}: {result.path}")
    return result


ns = Collection("skill", install)

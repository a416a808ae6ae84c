"""`invoke config`: the effective configuration and where each value came from."""

from __future__ import annotations

from typing import Any

from invoke import Context, task

from .. import config, report
from .common import cli_errors


@task(name="config", auto_shortflags=False, help={"json": "print one JSON list instead of a table"})
@cli_errors
def show_config(c: Context, json: bool = False) -> list[dict[str, Any]]:
    """Print every freshbin setting, its value and its source (default, file, env)."""
    rows = config.explain(c)
    if json:
        report.print_json(rows)
    else:
        print(report.table([(r["key"], _cell(r["value"]), r["source"]) for r in rows],
                           ("key", "value", "source"), width=44))
    return rows


def _cell(value: object) -> str:
    if isinstance(value, (list, dict)):
        import json as _json

        return _json.dumps(value)
    return str(value) if value != "" else '""'

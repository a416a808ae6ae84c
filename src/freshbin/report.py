"""Rendering: tabulate tables for people, one JSON document for programs.  Nothing else prints."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterable, Sequence

from tabulate import tabulate

MAX_CELL = 48


def use_colour(stream=sys.stdout) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: str, stream=sys.stdout) -> str:
    codes = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}
    return f"\x1b[{codes[colour]}m{text}\x1b[0m" if use_colour(stream) else text


def shorten(value: Any, width: int = MAX_CELL) -> str:
    """Keep tables inside 100 columns: long cells keep their end (the informative part of a path)."""
    text = "" if value is None else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else "…" + text[-(width - 1):]


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], width: int = MAX_CELL,
          wrap: Sequence[int] | None = None) -> str:
    """A plain table; `wrap` gives per-column widths to wrap prose instead of shortening it."""
    if wrap:
        return tabulate([list(row) for row in rows], headers=headers, tablefmt="simple", maxcolwidths=list(wrap))
    return tabulate([[shorten(c, width) for c in row] for row in rows], headers=headers, tablefmt="simple")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def log(message: str) -> None:
    """Progress and notes go to stderr so `--json` stdout stays one document."""
    print(message, file=sys.stderr)


def detection_table(detection) -> str:
    rows = [
        (c.status, c.path if not c.old_path else f"{c.old_path} -> {c.path}", c.kind, c.package or "",
         ", ".join(c.binaries))
        for c in detection.changed
    ]
    return table(rows, ("status", "path", "kind", "package", "binaries"))


def deploy_table(result) -> str:
    previous = result.previous or {}
    rows = [
        ("image", f"{result.image}:{result.tag}"),
        ("commit", result.commit[:12]),
        ("strategy", result.strategy + (f" ({result.guard})" if result.guard else "")),
        ("no-cache", "yes" if result.no_cache else "no"),
        ("digest", result.digest or "(dry run)"),
        ("binary", f"{result.binary['path']} {result.binary['sha256'][:16]}" if result.binary else ""),
        ("previous", f"{(previous.get('commit') or '')[:12]} {(previous.get('binary_sha256') or '')[:16]}"),
        ("fresh", {True: "yes", False: paint("NO — STALE", "red"), None: "n/a (first deploy)"}[result.fresh]),
        ("ledger", result.ledger),
    ]
    text = table(rows, ("deploy", ""), width=88)
    if result.dry_run:
        text += "\n\nwould run:\n  " + "\n  ".join(result.commands)
    return text

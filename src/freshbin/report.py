"""Rendering: tabulate tables for people, one JSON document for programs.  Nothing else prints."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TextIO

if TYPE_CHECKING:  # the renderers take the core's results; nothing here loads them
    from .advice import NextDeploy
    from .events import Event
    from .deploy import DeployResult
    from .detect import Detection
    from .verify import VerifyResult


MAX_CELL = 48


def use_colour(stream: TextIO = sys.stdout) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: str, stream: TextIO = sys.stdout) -> str:
    codes = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}
    return f"\x1b[{codes[colour]}m{text}\x1b[0m" if use_colour(stream) else text


def printable(text: str) -> str:
    """File names that are not UTF-8 (kept as surrogate escapes) shown as \\xNN, never a crash."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def cell(value: Any) -> str:
    """A table cell's text, whole: a newline in a file name shows as \\n."""
    return printable("" if value is None else str(value)).replace("\n", "\\n")


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], width: int = MAX_CELL,
          wrap: Sequence[int] | None = None) -> str:
    """A plain table inside about 100 columns: a long cell wraps at `width` (or at its column's
    width in `wrap`, for prose that keeps its own line breaks); nothing is ever cut."""
    from tabulate import tabulate  # 20 ms: only when a table is drawn

    if wrap:
        body = [[printable("" if c is None else str(c)) for c in row] for row in rows]
        widths = list(wrap)
    else:
        body = [[cell(c) for c in row] for row in rows]
        widths = [width] * len(headers)
    return tabulate(body, headers=headers, tablefmt="simple", maxcolwidths=widths, disable_numparse=True)


def print_json(data: Any) -> None:
    """One UTF-8 JSON document; non-UTF-8 file names become \\udcNN escapes (valid JSON, lossless)."""
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True, default=str)
    sys.stdout.write(text + "\n")


def step_summary(markdown: str) -> None:
    """Append to the CI job summary when `$GITHUB_STEP_SUMMARY` names one (GitHub Actions)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8", errors="surrogateescape") as out:
            out.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        log(f"note: cannot append the summary to $GITHUB_STEP_SUMMARY ({path}: {exc.strerror})")


def log(message: str) -> None:
    """Progress and notes go to stderr so `--json` stdout stays one document."""
    print(message, file=sys.stderr)


def progress(line: str) -> None:
    """A streamed command's progress line (a build's log), as it comes: the tasks install this
    as the runner's renderer (`runner.progress_to`), the core never writes to the terminal."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def event_line(task: str) -> Callable[[Event], None]:
    """The renderer of the core's events for `task`: `freshbin deploy: pushing …` on stderr."""
    def show(event: Event) -> None:
        progress(f"freshbin {task}: {event.detail}")
    return show


def detection_table(detection: Detection) -> str:
    rows = [
        (c.status, c.path if not c.old_path else f"{c.old_path} -> {c.path}", c.kind, c.package or "",
         ", ".join(c.binaries))
        for c in detection.changed
    ]
    return table(rows, ("status", "path", "kind", "package", "binaries"))


def next_deploy_line(plan: NextDeploy) -> str:
    """detect's last line: what the next deploy must do, wrapped."""
    text = textwrap.fill(f"next deploy: {plan.action}", 98, subsequent_indent="  ")
    return text if plan.ok else paint(text, "yellow")


def deploy_table(result: DeployResult) -> str:
    previous = result.previous or {}
    rows = [
        ("image", f"{result.image}:{result.tag}"),
        ("commit", result.commit[:12]),
        ("strategy", result.strategy + (f" ({result.guard})" if result.guard else "")),
        ("no-cache", "yes" if result.no_cache else "no"),
        ("digest", result.digest or "(dry run)"),
        ("binary", f"{result.binary['path']} {result.binary['sha256'][:16]}" if result.binary else ""),
        *((f"  {platform}", f"{facts['sha256'][:16]} "
           + {True: "fresh", False: paint("STALE", "red"), None: "n/a"}[facts.get("fresh")])
          for platform, facts in (result.platforms or {}).items()),
        ("previous", f"{(previous.get('commit') or '')[:12]} {(previous.get('binary_sha256') or '')[:16]}"),
        ("fresh", {True: "yes", False: paint("NO — STALE", "red"), None: "n/a (first deploy)"}[result.fresh]),
        ("ledger", result.ledger),
    ]
    if result.history and result.history.get("record"):
        rows.append(("record", f"{result.history['record'][:19]} in the registry ({result.history['via']})"))
    text = table(rows, ("deploy", ""), width=88)
    if result.dry_run:
        text += "\n\nwould run:\n  " + "\n  ".join(result.commands)
    return text


def checked(name: str, lines: Sequence[str]) -> str:
    """What doctor read in one Dockerfile, one wrapped item per line."""
    return f"checked {name}:\n" + "\n".join(textwrap.fill(line, 98, initial_indent="  - ", subsequent_indent="    ")
                                            for line in lines)


def history_table(records: list[dict[str, Any]]) -> str:
    """Deploys, newest first: when, what, how, and freshbin's verdict."""
    verdict = {True: "fresh", False: paint("STALE", "red"), None: "n/a"}
    rows = [(re.sub(r"\.\d+", "", str(r.get("time", ""))),  # to the second, as the ledger once had it
             (r.get("commit") or "")[:12], r.get("subject") or "", r.get("tag", ""), r.get("target", ""),
             r.get("strategy", ""), verdict.get(r.get("fresh"), "n/a"),
             ((r.get("binary") or {}).get("sha256") or "")[:12], (r.get("digest") or "")[:19], r.get("origin", ""))
            for r in records]
    return table(rows, ("time", "commit", "subject", "tag", "target", "strategy", "verdict", "binary", "digest",
                        "from"), wrap=(25, 12, 24, 14, 8, 8, 7, 12, 19, 8))


def verify_tables(result: VerifyResult) -> str:
    """Checks, then the differing files (the shipped binary's row marked), then the verdict."""
    mark = {True: paint("ok", "green"), False: paint("FAIL", "red"), None: "info"}
    checks = table([(c.name, c.expected, c.actual, mark[c.ok]) for c in result.checks],
                   ("check", "expected", "actual", "verdict"), width=34) if result.checks else "no checks: nothing to compare"
    parts = [checks]
    if result.differing_files:
        names = [n for n in ("deployed", "cached", "nocache", "reference") if n in result.sides]
        binaries = {s.binary_path for s in result.sides.values()}
        rows = [(("* " if row["path"] in binaries else "  ") + row["path"],
                 *[_file_cell(row.get(n)) for n in names]) for row in result.differing_files[:40]]
        parts.append("differing files (* = the shipped binary; size sha256):\n" +
                     table(rows, ("path", *names), width=40))
        if len(result.differing_files) > 40:
            parts.append(f"… and {len(result.differing_files) - 40} more (see --json)")
    verdict = result.verdict.upper() + (f" — cause: {result.cause}" if result.cause else "")
    colour = {"fresh": "green", "stale": "red"}.get(result.verdict, "yellow")
    evidence = result.evidence
    decided = ("\n" + textwrap.fill(f"decided by the {evidence['decided_by']} ({evidence['source']}): "
                                    f"{evidence['detail']}", 97, initial_indent="  ", subsequent_indent="    ")
               if evidence else "")
    parts.append(f"verdict: {paint(verdict, colour)}" + decided + _advice(result))
    return "\n\n".join(parts)


def _file_cell(entry: dict[str, Any] | None) -> str:
    return "(absent)" if not entry else f"{entry['size']} {entry['sha256'][:8]}"


def _advice(result: VerifyResult) -> str:
    return {
        "build cache": "\n  the layer cache served an old binary: a --no-cache deploy fixes it",
        "cache mount": "\n  cargo's fingerprints in the cache mount looked newer than the sources: run"
                       "\n  `invoke doctor --fix` or deploy with --strategy guard",
        ".dockerignore": "\n  the ignore file drops a file cargo reads: re-include it (`!path`) and deploy again",
        "cargo mtime freshness": "\n  cargo trusted mtimes; --no-cache does NOT fix it: run `invoke doctor --fix`"
                                 "\n  or deploy with --strategy guard",
        "tag moved": "\n  the registry tag no longer serves the ledger's digest: someone pushed over it",
        "deployed from another commit": "\n  the deployed image was built from another commit; deploy this one",
    }.get(result.cause or "", "")

"""Markdown summaries a person pastes into a pull request, or a CI job summary shows
(`--format markdown`; appended to `$GITHUB_STEP_SUMMARY` when it is set: report.step_summary).

One formatter per format (hadolint's shape): report.py draws the terminal's tables, this module
the same results as GitHub-flavoured Markdown.  Pure functions; nothing here prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .advice import NextDeploy
    from .deploy import DeployResult
    from .detect import Detection
    from .doctor import Report
    from .verify import VerifyResult

MAX_ROWS = 40


def cell(value: Any) -> str:
    """A table cell: pipes escaped, line breaks as <br>, non-UTF-8 bytes as \\xNN."""
    text = "" if value is None else str(value)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


class Markdown(str):
    """Text already in Markdown: a table keeps it as it is."""


def code(value: Any) -> Markdown:
    text = cell(value)
    return Markdown(f"`{text}`" if text and "`" not in text else text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c if isinstance(c, Markdown) else cell(c) for c in row) + " |"
              for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more (see `--json`)")
    return "\n".join(lines)


def deploy(result: DeployResult) -> str:
    verdict = ("dry run" if result.dry_run else
               {True: "fresh", False: "**STALE**", None: "inconclusive (freshbin cannot vouch for it)"}[result.fresh])
    binary = result.binary or {}
    previous = result.previous or {}
    rows = [
        ("image", code(f"{result.image}:{result.tag}")),
        ("commit", code(result.commit[:12])),
        ("strategy", f"{result.strategy}" + (f" ({result.guard})" if result.guard else "")),
        ("no-cache", "yes" if result.no_cache else "no"),
        ("digest", code(result.digest) if result.digest else "none (dry run)"),
        ("binary", Markdown(f"{code(binary.get('path'))} {code(str(binary.get('sha256', ''))[:16])}") if binary else ""),
        ("previous", Markdown(f"{code((previous.get('commit') or '')[:12])} "
                              f"{code((previous.get('binary_sha256') or '')[:16])}") if previous else "none"),
        ("verdict", Markdown(verdict)),
    ]
    text = f"### freshbin deploy: {verdict}\n\n{table(('deploy', ''), rows)}\n\n{cell(result.reason)}\n"
    if result.dry_run:
        text += "\nWould run:\n\n```sh\n" + "\n".join(result.commands) + "\n```\n"
    return text


def verify(result: VerifyResult) -> str:
    mark = {True: "ok", False: "**FAIL**", None: "info"}
    verdict = result.verdict.upper() + (f" — cause: {result.cause}" if result.cause else "")
    text = f"### freshbin verify: {verdict}\n\n"
    text += table(("check", "expected", "actual", "verdict"),
                  [(c.name, c.expected, c.actual, mark[c.ok]) for c in result.checks]) + "\n"
    if result.evidence:
        e = result.evidence
        text += f"\nDecided by the {cell(e['decided_by'])} ({cell(e['source'])}): {cell(e['detail'])}\n"
    if result.differing_files:
        names = [n for n in ("deployed", "cached", "nocache", "reference") if n in result.sides]
        rows = [(row["path"], *[_file(row.get(n)) for n in names]) for row in result.differing_files]
        text += (f"\n<details><summary>{len(rows)} differing file(s)</summary>\n\n"
                 + table(("path", *names), rows) + "\n\n</details>\n")
    return text


def _file(entry: dict[str, Any] | None) -> str:
    return "(absent)" if not entry else f"{entry['size']} {str(entry['sha256'])[:8]}"


def detect(detection: Detection, plan: NextDeploy) -> str:
    text = f"### freshbin detect: {code(detection.base[:12] + '..' + detection.head[:12])}\n\n"
    if detection.changed:
        rows = [(c.status, c.path if not c.old_path else f"{c.old_path} -> {c.path}", c.kind, c.package or "",
                 ", ".join(c.binaries)) for c in detection.changed]
        text += table(("status", "path", "kind", "package", "binaries"), rows) + "\n"
    else:
        text += "No changes.\n"
    return text + f"\n**Next deploy:** {cell(plan.action)}\n"


def doctor(reports: Sequence[Report]) -> str:
    findings = [f for r in reports for f in r.findings]
    text = f"### freshbin doctor: {len(findings)} finding(s)\n\n"
    if findings:
        rows = [(f"{Path(f.file).name}:{f.line}", f.rule, f.severity, f.message, f.fix) for f in findings]
        text += table(("where", "rule", "severity", "message", "fix"), rows) + "\n"
    for r in reports:
        text += f"\nChecked {code(Path(r.file).name)}:\n\n" + "\n".join(f"- {cell(line)}" for line in r.checked) + "\n"
    return text

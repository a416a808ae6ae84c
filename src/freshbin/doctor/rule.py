"""What a doctor rule is: code, severity, title, check and (optionally) fix in one value.

Each rule lives in its own module under `doctor/rules/` (hadolint's shape); the registry in
`doctor/rules/__init__.py` lists them, and docs/rules.md and the SARIF rule metadata are made
from (and tested against) that registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .analysis import Analysis
    from .project import Project



class Severity(StrEnum):
    """How bad a finding is, worst first; the value is what JSON and SARIF say."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITIES = tuple(Severity)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: Severity
    message: str
    fix: str


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str  # one line: the hazard (docs table, SARIF shortDescription)
    explanation: str  # why it makes a stale binary (docs, SARIF fullDescription)
    bad: str  # a Dockerfile fragment that triggers it
    good: str  # the same fragment fixed
    check: Callable[["Project", "Analysis"], list[Finding]]
    fixable: bool = False  # `doctor --fix` rewrites what it reports

    def finding(self, file: str, line: int, message: str, fix: str) -> Finding:
        return Finding(file, line, self.code, self.severity, message, fix)

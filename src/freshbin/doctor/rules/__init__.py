"""The registry of doctor rules: one module per rule, one table that everything reads.

run.py applies them, `--fix` rewrites what the fixable ones report, sarif.py describes them,
and docs/rules.md is tested against `rules_table()`.  A new rule is one module here plus its
line in RULES, its tests and corpus cases.
"""

from __future__ import annotations

from ..rule import Rule
from . import fb001, fb002, fb003, fb004, fb005, fb006, fb007

RULES: tuple[Rule, ...] = (fb001.RULE, fb002.RULE, fb003.RULE, fb004.RULE, fb005.RULE, fb006.RULE, fb007.RULE)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def rules_table() -> str:
    """The markdown table at the top of docs/rules.md."""
    rows = [f"| {r.code} | {r.severity} | {r.title} |" for r in RULES]
    return "\n".join(["| ID | severity | hazard |", "|---|---|---|", *rows])

"""SARIF 2.1.0 output for code-scanning upload; rule metadata from the rule registry."""

from __future__ import annotations

from typing import Any

from .. import __version__
from .rule import Finding, Severity
from .rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_metadata() -> list[dict[str, Any]]:
    return [{"id": r.code, "shortDescription": {"text": r.title}, "fullDescription": {"text": r.explanation},
             "helpUri": f"https://example.invalid/freshbin/docs/rules.md#{r.code.lower()}",
             "defaultConfiguration": {"level": LEVEL[r.severity]}} for r in RULES]


def to_sarif(findings: list[Finding]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "freshbin-doctor", "version": __version__,
                                "informationUri": "https://example.invalid/freshbin", "rules": rule_metadata()}},
            "results": [{
                "ruleId": f.rule, "level": LEVEL[f.severity],
                "message": {"text": f"{f.message}. Fix: {f.fix}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file},
                                                    "region": {"startLine": max(f.line, 1)}}}],
            } for f in findings],
        }],
    }

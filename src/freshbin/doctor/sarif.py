"""SARIF 2.1.0 output for code-scanning upload."""

from __future__ import annotations

from .. import __version__
from .model import Finding
from . import rules
from .rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def to_sarif(findings: list[Finding], descriptions: dict[str, str]) -> dict:
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "freshbin-doctor", "version": __version__, "informationUri": "https://example.invalid/freshbin",
                "rules": [{"id": rule, "shortDescription": {"text": descriptions.get(rule, rule)},
                           "defaultConfiguration": {"level": _LEVEL[severity]}}
                          for rule, severity in sorted(RULES.items())],
            }},
            "results": [{
                "ruleId": f.rule, "level": _LEVEL[f.severity],
                "message": {"text": f"{f.message}. Fix: {f.fix}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file},
                                                    "region": {"startLine": max(f.line, 1)}}}],
            } for f in findings],
        }],
    }


def rule_descriptions() -> dict[str, str]:
    out = {}
    for line in (rules.__doc__ or "").splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in RULES:
            out[parts[0]] = parts[2]
    return out

"""The rule registry is the one source: docs/rules.md and the SARIF metadata follow it."""

import re
from pathlib import Path

from freshbin.doctor import RULES, SEVERITIES
from freshbin.doctor.rules import rules_table
from freshbin.doctor.sarif import LEVEL, rule_metadata

ROOT = Path(__file__).resolve().parents[2]


def test_one_module_per_rule_with_code_severity_and_check():
    modules = sorted(p.stem for p in (ROOT / "src" / "freshbin" / "doctor" / "rules").glob("fb*.py"))
    assert modules == [r.code.lower() for r in RULES]
    for rule in RULES:
        assert re.fullmatch(r"FB\d{3}", rule.code) and rule.severity in SEVERITIES and callable(rule.check)
        assert rule.title and rule.explanation and rule.bad and rule.good


def test_docs_rules_page_carries_the_generated_table_and_a_section_per_rule():
    text = (ROOT / "docs" / "rules.md").read_text()
    assert rules_table() in text
    for rule in RULES:
        assert re.search(rf"^## .*{rule.code}", text, re.M), f"docs/rules.md has no section for {rule.code}"


def test_sarif_rule_metadata_comes_from_the_registry():
    metadata = rule_metadata()
    assert [m["id"] for m in metadata] == [r.code for r in RULES]
    for meta, rule in zip(metadata, RULES):
        assert meta["shortDescription"]["text"] == rule.title
        assert meta["defaultConfiguration"]["level"] == LEVEL[rule.severity]

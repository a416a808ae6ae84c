"""The renderers: long cells wrap, nothing is cut."""

from __future__ import annotations

import re

from freshbin import report
from freshbin.deploy import DeployResult

GUARD_NOTE = ("mtime-proof context (every package file dated a year ahead, a nonce per directory); the stages that "
              "run no cargo built uncached (BuildKit v0.8 keys COPY --from by content; see docs/deploy.md)")


def words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def test_a_long_cell_wraps_and_keeps_every_character():
    long_path = "crates/storage/pg/src/" + "deeply/nested/" * 8 + "module.rs"
    text = report.table([("modified", "source", long_path)], ("status", "kind", "path"))
    assert max(len(line) for line in text.splitlines()) < 100 and "…" not in text
    body = text.split("\n", 2)[2].replace("modified", "").replace("source", "")
    assert re.sub(r"\s+", "", body) == long_path


def test_a_verify_with_nothing_to_check_says_so_instead_of_an_empty_table():
    from freshbin.verdicts import VerifyResult

    empty = VerifyResult(verdict="inconclusive", cause=None, commit="0" * 40, target="", quick=True, checks=[], sides={},
                         differing_files=[], notes=["nothing deployed to check"])
    assert report.verify_tables(empty).startswith("no checks: nothing to compare\n\nverdict: INCONCLUSIVE")


def test_the_deploy_tables_strategy_row_keeps_the_strategys_name_and_its_whole_note():
    result = DeployResult(image="127.0.0.1:5000/acme/api", tag="abc", digest=None, commit="0" * 40,
                          strategy="guard", no_cache=False, binary=None, previous=None, fresh=None, ledger="l",
                          commands=["docker buildx build ."], guard=GUARD_NOTE, dry_run=True, reason="dry run")
    text = report.deploy_table(result)
    row = text.split("strategy", 1)[1].split("\nno-cache", 1)[0]
    assert words(row) == words(f"guard ({GUARD_NOTE})")

"""Markdown summaries (`--format markdown`, `$GITHUB_STEP_SUMMARY`): what a pull request or a CI
job page shows; the CLI cases need no engine (detect, doctor, a dry deploy's result)."""

from __future__ import annotations

import os
import subprocess

from freshbin import summary
from freshbin.deploy import DeployResult
from freshbin.verdicts import Check, Side, VerifyResult

from ..conftest import FRESHBIN, commit_all, set_revision


def test_cells_escape_pipes_and_newlines():
    assert summary.cell("a|b\nc") == "a\\|b<br>c"
    assert summary.table(("x",), [("a|b",)]).splitlines()[2] == "| a\\|b |"


def test_a_dry_deploy_and_a_stale_verify():
    dry = DeployResult(image="127.0.0.1:5000/acme/api", tag="abc", digest=None, commit="0" * 40, strategy="guard",
                       no_cache=False, binary=None, previous=None, fresh=None, ledger="l",
                       commands=["docker buildx build ."], guard="mtime-proof", dry_run=True, reason="dry run")
    text = summary.deploy(dry)
    assert text.startswith("### freshbin deploy: dry run\n")
    assert "| image | `127.0.0.1:5000/acme/api:abc` |" in text and "```sh\ndocker buildx build .\n```" in text
    stale = VerifyResult(verdict="stale", cause="cargo mtime freshness", commit="0" * 40, target="worker", quick=False,
                         checks=[Check("binary deployed == reference", "aa", "bb", False)],
                         sides={"deployed": Side("deployed", "r", "d"), "reference": Side("reference", "r", "d")},
                         differing_files=[{"path": "/usr/local/bin/worker", "deployed": {"size": 1, "sha256": "aa"},
                                           "reference": {"size": 2, "sha256": "bb"}}], notes=[])
    text = summary.verify(stale)
    assert text.startswith("### freshbin verify: STALE — cause: cargo mtime freshness\n")
    assert "| binary deployed == reference | aa | bb | **FAIL** |" in text
    assert "<summary>1 differing file(s)</summary>" in text and "| /usr/local/bin/worker | 1 aa | 2 bb |" in text


def test_detect_and_doctor_append_to_the_step_summary_whatever_the_format(example_repo, tmp_path):
    set_revision(example_repo, "worker", "worker-v2")
    commit_all(example_repo, "worker v2")
    job = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(job)}
    for args in (["detect", "--json"], ["doctor"]):
        subprocess.run([*FRESHBIN, *args], cwd=example_repo, env=env, capture_output=True, text=True, timeout=120)
    text = job.read_text()
    assert text.startswith("### freshbin detect: `")
    assert "| modified | bin/worker/src/main.rs | source | worker | worker |" in text
    assert "**Next deploy:** strategy guard rebuilds worker" in text
    assert "### freshbin doctor: 2 finding(s)" in text and "| Dockerfile:22 | FB001 | error |" in text
    assert "- shipped binary: /usr/local/bin/worker" in text


def test_markdown_on_stdout_and_one_format_at_a_time(example_repo):
    proc = subprocess.run([*FRESHBIN, "detect", "--format", "markdown"], cwd=example_repo, capture_output=True,
                          text=True, env={k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"})
    assert proc.returncode == 0 and proc.stdout.startswith("### freshbin detect: "), proc.stderr
    proc = subprocess.run([*FRESHBIN, "detect", "--json", "--format", "markdown"], cwd=example_repo,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("freshbin: error: --json and --format markdown")

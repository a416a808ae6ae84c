"""invoke's core options on the `freshbin` CLI: each is honoured or refused, never silently ignored.

-R/--dry is a dry run for every task that changes something, or that task refuses it (exit 2,
one line); the options for invoke's `c.run`, which no freshbin task calls, are refused.  The
deploy case, on the real engine and registry: tests/e2e/test_deploy.py::test_dry_core_option_pushes_nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from freshbin.main import NOT_APPLICABLE
from freshbin.tasks import ns

from ..conftest import EXAMPLE, FRESHBIN

ROOT = Path(__file__).resolve().parents[2]

# What -R does to each task: "dry run" (honoured), "refused", or "reads only" (nothing to change).
UNDER_DRY = {
    "deploy": "dry run", "doctor": "dry run", "skill.install": "dry run",
    "verify": "refused", "demo": "refused",
    "env.up": "refused", "env.down": "refused", "env.prune": "refused", "env.deps-image": "refused",
    "env.cross-image": "refused", "env.big-image": "refused",
    "bench.deploy": "refused", "bench.verify": "refused", "bench.detect": "refused", "bench.report": "refused",
    "bench.fresh-runner": "refused",
    "detect": "reads only", "history": "reads only", "config": "reads only", "env.status": "reads only",
}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FRESHBIN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_task_says_what_dry_does_and_the_docs_agree():
    assert set(UNDER_DRY) == set(ns.task_names), "classify the new task's -R behaviour (and document it)"
    text = (ROOT / "docs" / "configuration.md").read_text().split("## Core options", 1)[1]
    for task, behaviour in UNDER_DRY.items():
        assert re.search(rf"`{re.escape(task)}`[^\n]*\|[^\n]*{behaviour}", text), f"{task}: {behaviour} not documented"


@pytest.mark.parametrize("task", sorted(t for t, b in UNDER_DRY.items() if b == "refused"))
def test_dry_is_refused_before_anything_runs(task, tmp_path):
    # no docker, git or bash on PATH: a task that ran anything would fail differently
    proc = subprocess.run([*FRESHBIN, "-R", task], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"freshbin: error: {task} has no dry run (") and proc.stderr.count("\n") == 1
    assert "drop -R" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_verify_quick_reads_only_so_dry_lets_it_run(tmp_path):
    proc = run("-R", "verify", "--quick", cwd=tmp_path)  # not a git repository: verify's own error, not -R's
    assert proc.returncode == 2 and "no dry run" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("name", sorted(NOT_APPLICABLE))
def test_run_options_are_refused_with_one_line(name, tmp_path):
    flag = "--" + name
    args = [flag, "5"] if name == "command-timeout" else [f"{flag}=both"] if name == "hide" else [flag]
    proc = run(*args, "detect", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"freshbin: error: {NOT_APPLICABLE[name]} applies to shell commands")
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_help_lists_exactly_the_core_options_the_docs_describe():
    text = (ROOT / "docs" / "configuration.md").read_text().split("## Core options", 1)[1]
    listed = set(re.findall(r"^\s+(?:-\w(?: \S+)?, )?(--[\w-]+)", run("--help", cwd=ROOT).stdout.split("Subcommands:")[0], re.M))
    documented = set(re.findall(r"`(?:-\w/)?(--[\w-]+)`", text.split("per task", 1)[0]))
    assert listed == documented


def test_dry_doctor_fix_prints_the_diff_and_writes_nothing(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLE, ws)
    before = (ws / "Dockerfile").read_text()
    proc = run("-R", "doctor", "--fix", cwd=ws)
    assert proc.returncode == 1  # the hazard is still there: nothing was written
    assert "+RUN find" in proc.stderr or "find bin crates" in proc.stderr, proc.stderr
    assert "dry run (-R): Dockerfile not written" in proc.stderr
    assert (ws / "Dockerfile").read_text() == before


def test_dry_skill_install_writes_nothing(tmp_path):
    proc = run("-R", "skill.install", "--dest", "skills", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("would create: skills/")
    assert list(tmp_path.iterdir()) == []

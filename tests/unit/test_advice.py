"""detect's answer in deploy's and doctor's words: what the next deploy of this repository must do."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from freshbin import advice
from freshbin.detect import detect

from ..conftest import FRESHBIN, commit_all, set_revision, write


@pytest.fixture
def worker_changed(example_repo):
    set_revision(example_repo, "worker", "worker-v2")
    commit_all(example_repo, "worker v2")
    return example_repo


def plan(repo, strategy, dockerfile="Dockerfile"):
    return advice.next_deploy(detect(repo), strategy, advice.doctor_view(repo / dockerfile, repo, repo))


def test_guard_has_nothing_to_do_whatever_the_dockerfile(worker_changed):
    hazardous = plan(worker_changed, "guard")
    assert hazardous.ok and hazardous.hazard and hazardous.binaries == ("worker",)
    assert hazardous.action.startswith("strategy guard rebuilds worker from this commit's sources")
    assert "doctor finds FB001 at Dockerfile:22" in hazardous.action
    clean = plan(worker_changed, "guard", "Dockerfile.fixed")
    assert clean.ok and not clean.hazard and clean.doctor == "doctor finds no pre-build hazard in Dockerfile.fixed"


@pytest.mark.parametrize("strategy", ["cached", "no-cache", "no-cache-filter"])
def test_other_strategies_are_told_what_doctor_finds(worker_changed, strategy):
    hazardous = plan(worker_changed, strategy)
    assert not hazardous.ok and "doctor finds FB001 at Dockerfile:22" in hazardous.action
    assert hazardous.action.endswith("run `freshbin doctor --fix`, or deploy with --strategy guard")
    assert plan(worker_changed, strategy, "Dockerfile.fixed").ok


def test_a_change_that_reaches_no_binary(example_repo):
    write(example_repo / "README.md", "docs\n")
    commit_all(example_repo, "docs")
    result = plan(example_repo, "cached")
    assert result.ok and result.binaries == () and result.action.startswith("no change reaches a shipped binary")


def test_an_unreadable_dockerfile_is_said_not_taken_for_clean(worker_changed):
    result = plan(worker_changed, "cached", "Dockerfile.missing")
    assert result.doctor.startswith("doctor cannot read Dockerfile.missing (")


def test_the_cli_speaks_of_the_next_deploy_not_of_the_how_tos_rule(worker_changed):
    proc = subprocess.run([*FRESHBIN, "detect"], cwd=worker_changed, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "next deploy: strategy guard rebuilds worker" in proc.stdout and "REQUIRED" not in proc.stdout
    proc = subprocess.run([*FRESHBIN, "detect", "--json"], cwd=worker_changed, capture_output=True, text=True,
                          env={**os.environ, "FRESHBIN_STRATEGY": "cached"})
    assert json.loads(proc.stdout)["next_deploy"]["ok"] is False

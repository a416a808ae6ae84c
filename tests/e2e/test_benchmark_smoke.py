"""The benchmarks in smoke mode (small example, one run), so they cannot rot.  Nothing is timed here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def smoke(script: str, results) -> dict:
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / script), "--smoke", "--results",
                           str(results)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    name = script.removesuffix(".py")
    return json.loads((results / f"{name}.smoke.json").read_text())


def test_deploy_strategies_smoke(engine, tmp_path):
    data = smoke("deploy_strategies.py", tmp_path)
    rows = data["results"]
    assert {"cached build (plain buildx)", "--no-cache (the how-to)", "freshbin deploy --strategy guard",
            "freshbin deploy, Dockerfile after doctor --fix"} <= set(rows)
    assert rows["freshbin deploy --strategy guard"]["fresh_runs"] == 1
    assert rows["--no-cache (the how-to)"]["fresh_runs"] == 0  # the mtime hazard, even on the small example
    assert all(r["runs"] == 1 and r["median_s"] > 0 for r in rows.values())


def test_verify_cost_smoke(engine, tmp_path):
    data = smoke("verify_cost.py", tmp_path)
    rows = data["results"]
    assert rows["freshbin verify"]["verdicts"] == ["fresh"]
    assert rows["freshbin verify --quick"]["verdicts"] == ["fresh"]
    assert rows["freshbin verify, stale deploy"]["verdicts"] == ["stale (cargo mtime freshness)"]
    assert rows["how-to: cached + --no-cache builds, push, compare digests"]["verdicts"] == ["digests differ"]


def test_detect_scale_smoke(tmp_path):
    data = smoke("detect_scale.py", tmp_path)
    assert data["results"]["git diff --name-only"]["median_s"] > 0

"""The benchmarks in smoke mode (small example, one run), so they cannot rot.  Nothing is timed here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.engine_independent]


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


def test_big_workload_resolves_its_crates_offline(engine, tmp_path, monkeypatch):
    """The big workload's dependency graph, as cargo resolves it from Debian's sources in the big
    image (built here if missing: about 40 s; its cold build, ~3 min on 2 cores, is left to the benchmark).

    The image lives in the default engine, where `testenv.sh big-image` and the benchmarks build
    it; resolving crates does not depend on the engine under test, so every engine's run uses it there."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import workload

    if subprocess.run(["docker", "image", "inspect", workload.BIG_IMAGE], capture_output=True).returncode != 0:
        subprocess.run(["bash", str(REPO_ROOT / "src" / "freshbin" / "data" / "testenv.sh"), "big-image"],
                       check=True, capture_output=True, timeout=600)
    ws = workload.make_workload(tmp_path / "big", kind="big")
    assert (ws / "Cargo.lock").is_file()
    assert workload.crates_in(ws, workload.BIG_IMAGE) >= 150
    main_rs = (ws / "bin" / "worker" / "src" / "main.rs").read_text()
    assert 'const REVISION: &str = "worker-initial";' in main_rs and "hyper::" in main_rs

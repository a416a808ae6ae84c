"""Hostile strings never reach a shell: tags, refs, image names, build args, paths and env values
carrying shell metacharacters are refused or passed as single argv elements — the canary file
that each of them would create through a shell is never created."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..conftest import FRESHBIN, git

PAYLOADS = ["$(touch {c})", "`touch {c}`", "; touch {c}", "| touch {c}", "&& touch {c}", "\ntouch {c}",
            "' ; touch {c} ; '", '" ; touch {c} ; "', "${{IFS}}$(touch${{IFS}}{c})"]
PLACES = [
    ("detect --base", lambda p: ["detect", "--base", p]),
    ("detect --head", lambda p: ["detect", "--head", p]),
    ("detect --image", lambda p: ["detect", "--image", p]),
    ("detect --workspace", lambda p: ["detect", "--workspace", p]),
    ("deploy --image", lambda p: ["deploy", "--image", p]),
    ("deploy --tag", lambda p: ["deploy", "--image", "127.0.0.1:5000/a/b", "--tag", p]),
    ("deploy --target", lambda p: ["deploy", "--image", "127.0.0.1:5000/a/b", "--target", p]),
    ("deploy --dockerfile", lambda p: ["deploy", "--image", "127.0.0.1:5000/a/b", "--dockerfile", p]),
    ("deploy --build-arg", lambda p: ["deploy", "--image", "127.0.0.1:5000/a/b", "--target", "worker",
                                      "--dry-run", "--build-arg", f"X={p}"]),
    ("deploy --builder", lambda p: ["deploy", "--image", "127.0.0.1:5000/a/b", "--target", "worker",
                                    "--builder", p]),
    ("verify --tag", lambda p: ["verify", "--image", "127.0.0.1:5000/a/b", "--quick", "--tag", p]),
    ("doctor --dockerfile", lambda p: ["doctor", "--dockerfile", p]),
    ("skill.install --dest", lambda p: ["skill.install", "--dest", p]),
]


def run(argv: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*FRESHBIN, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("place, argv", PLACES, ids=[p for p, _ in PLACES])
def test_payloads_in_every_flag_never_run(place, argv, example_repo, tmp_path):
    canary = tmp_path / "canary"
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda payload: run(argv(payload.format(c=canary)), example_repo), PAYLOADS))
    assert not canary.exists(), f"{place} ran a shell"
    for payload, proc in zip(PAYLOADS, procs):
        assert "Traceback" not in proc.stderr, (payload, proc.stderr[-800:])
        assert proc.returncode in (0, 1, 2), (payload, proc.returncode)


def test_payloads_in_config_env_and_a_real_branch_name_never_run(example_repo, tmp_path):
    canary = tmp_path / "canary"
    for payload in PAYLOADS:
        hostile = payload.format(c=canary)
        run(["detect"], example_repo, {"FRESHBIN_IMAGE": hostile, "FRESHBIN_WATCH": hostile})
        run(["config"], example_repo, {"FRESHBIN_BUILD_ARGS": f"X={hostile}"})
        assert not canary.exists(), payload
    # Git allows $, (, ), ;, | and backticks in branch names: such a ref must work as a plain string.
    branch = f"x$(touch${{IFS}}{canary.name})"
    git(example_repo, "branch", branch)
    proc = run(["detect", "--base", branch, "--json"], example_repo)
    assert not canary.exists() and not (example_repo / canary.name).exists()
    assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr

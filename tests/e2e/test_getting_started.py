"""The getting-started guide's walk-through runs for real, exactly as written."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ..conftest import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.engine_independent]
MARKER = "# getting-started: runs in CI"


def guide_block() -> str:
    text = (REPO_ROOT / "docs" / "getting-started.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
    marked = [b for b in blocks if b.startswith(MARKER)]
    assert len(marked) == 1, "the guide must hold exactly one block marked to run in CI"
    return marked[0]


def test_the_getting_started_block_runs_as_written(engine, tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith(("FRESHBIN_", "INVOKE_FRESHBIN_"))}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", guide_block()], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "worker revision=worker-v2" in proc.stdout
    assert "verdict: FRESH" in proc.stdout
    assert "FB001" in proc.stdout

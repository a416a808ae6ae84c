"""`freshbin demo` tells stale -> fixed -> fresh, asserted from its JSON, and leaves nothing behind."""

from __future__ import annotations

import glob
import json
import re
import subprocess
import tempfile
import urllib.request

import pytest

from ..conftest import FRESHBIN, REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.engine_independent]


def containers() -> set[str]:
    return set(subprocess.run(["docker", "ps", "-aq"], capture_output=True, text=True).stdout.split())


def test_demo_story_from_json_and_nothing_left_behind(engine):
    before_dirs = set(glob.glob(f"{tempfile.gettempdir()}/freshbin-*"))
    before_containers = containers()
    proc = subprocess.run([*FRESHBIN, "demo", "--json"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    story = json.loads(proc.stdout)  # one document on stdout; step headings went to stderr
    assert "demo: 1." in proc.stderr
    guide = (REPO_ROOT / "docs" / "getting-started.md").read_text().split("prints one document, the story:", 1)[1]
    assert set(story) == set(re.findall(r"`(\w+)`", guide.split(".\n", 1)[0]))

    assert story["how_to_deploy"]["fresh"] is False and story["how_to_deploy"]["container_output"] == "dummy"
    assert story["how_to_deploy"]["ledger_fresh"] is False
    assert story["verify_before"] == {"verdict": "stale", "cause": "cargo mtime freshness"}
    assert "FB001" in story["doctor"]["rules"]
    assert story["fix"]["fixed"] is True
    after = story["deploy_after_fix"]
    assert after["fresh"] is True and after["container_output"] == f"worker revision={after['revision']}"
    assert story["verify_after"] == {"verdict": "fresh", "cause": None}

    assert set(glob.glob(f"{tempfile.gettempdir()}/freshbin-*")) <= before_dirs
    assert containers() <= before_containers
    host, _, repository = story["how_to_deploy"]["image"].partition("/")
    assert host == engine
    with urllib.request.urlopen(f"http://{host}/v2/{repository}/tags/list", timeout=10) as answer:
        tags = json.load(answer).get("tags") or []
    assert tags == [], f"the demo left tags behind in {repository}: {tags}"

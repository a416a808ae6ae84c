"""detect on public Rust workspaces agrees with cargo (tests/realrepos/detect_check.py).

The truth (tests/realrepos/detect_truth.json) was written from `cargo metadata` on exports of
both commits of every range before detect ran on them.  The repositories themselves are
snapshots outside this repository ($FRESHBIN_MIRROR): where none is present the test skips.
"""

from __future__ import annotations

import json

import pytest

from ..realrepos import detect_check

TRUTH = json.loads(detect_check.TRUTH.read_text())
PRESENT = [r["repo"] for r in TRUTH["repos"] if detect_check.mirror(r["repo"]).is_dir()]


def test_the_truth_covers_eight_repositories_and_was_written_by_cargo():
    assert len(TRUTH["repos"]) >= 8 and TRUTH["cargo"].startswith("cargo ")
    assert all(r["ranges"] for r in TRUTH["repos"])


@pytest.mark.skipif(not PRESENT, reason="no repository snapshot under $FRESHBIN_MIRROR")
@pytest.mark.parametrize("repo", PRESENT)
def test_every_range_agrees_with_cargo(repo):
    misses = detect_check.check([repo])[repo]
    assert misses == [], json.dumps(misses, indent=1)

"""detect on the repository shapes users have: gc'd, cloned, linked worktrees, blobless, shallow.

Each case asks the same question — which binaries does the last commit reach — and, for the
shapes that can, the CLI answers it with exit 0 and no traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from freshbin.detect import detect
from freshbin.errors import GitError

from ..conftest import FRESHBIN, clone, commit_all, git, set_revision


def _cli_binaries(repo, *args: str) -> list[str]:
    proc = subprocess.run([*FRESHBIN, "detect", "--json", *args], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)["binaries"]


def _packed_only(repo) -> bool:
    counts = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    return counts["count"] == "0" and int(counts["in-pack"]) > 0


def test_gc_packs_every_object_and_detect_still_finds_the_parent(upstream):
    git(upstream, "gc", "-q", "--prune=now")
    assert _packed_only(upstream)
    assert detect(upstream).binaries == ["worker"]
    assert _cli_binaries(upstream) == ["worker"]
    assert _cli_binaries(upstream, "--base", "HEAD~2") == ["api", "worker"]


def test_fresh_clone(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "cloned")
    assert _packed_only(repo)
    assert _cli_binaries(repo) == ["worker"]


def test_linked_worktree(upstream, tmp_path):
    wt = tmp_path / "linked"
    git(upstream, "worktree", "add", "-q", "-b", "feature", str(wt))
    set_revision(wt, "api", "a3")
    commit_all(wt, "api in the worktree")
    assert _cli_binaries(wt) == ["api"]
    assert detect(wt, base="main").binaries == ["api"]


def test_blobless_partial_clone(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "blobless", "--filter=blob:none")
    assert git(repo, "config", "remote.origin.promisor").strip() == "true"
    assert _cli_binaries(repo, "--base", "HEAD~2") == ["api", "worker"]


def test_blobless_clone_whose_remote_is_gone_fails_in_one_line(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "orphan", "--filter=blob:none", "--no-checkout")
    git(repo, "checkout", "-q", "main", "--", "Cargo.toml")  # only this blob is fetched
    shutil.rmtree(upstream)
    proc = subprocess.run([*FRESHBIN, "detect", "--json"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("freshbin: error:") and "git fetch" in line


def test_shallow_clone_says_shallow_only_beyond_its_boundary(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "shallow", "--depth", "2")
    assert _cli_binaries(repo) == ["worker"]  # the parent is inside the boundary
    with pytest.raises(GitError, match="shallow.*boundary"):
        detect(repo, base="HEAD~2")
    with pytest.raises(GitError, match="unknown git revision 'nosuchref'"):
        detect(repo, base="nosuchref")
    root = git(upstream, "rev-list", "--max-parents=0", "HEAD").strip()
    with pytest.raises(GitError, match="shallow"):
        detect(repo, base=root)
    deeper = clone(upstream, tmp_path / "depth1", "--depth", "1")
    with pytest.raises(GitError, match="shallow.*--deepen"):
        detect(deeper)


def test_missing_parent_in_a_damaged_clone_is_one_line(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "damaged")
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    for pack in (repo / ".git" / "objects" / "pack").glob("*.pack"):
        listing = git(repo, "verify-pack", "-v", str(pack.with_suffix(".idx")))
        assert parent in listing
    # Unpack everything but the parent commit, then drop the packs.
    packs = list((repo / ".git" / "objects" / "pack").glob("*.pack"))
    for pack in packs:
        moved = tmp_path / pack.name
        shutil.move(pack, moved)
        shutil.move(pack.with_suffix(".idx"), tmp_path / pack.with_suffix(".idx").name)
        subprocess.run(["git", "-C", str(repo), "unpack-objects", "-q"], stdin=moved.open("rb"), check=True)
    obj = repo / ".git" / "objects" / parent[:2] / parent[2:]
    obj.unlink()
    with pytest.raises(GitError, match="previous commit .* is missing"):
        detect(repo)

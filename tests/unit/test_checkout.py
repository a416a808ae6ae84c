"""checkout.py — what a deploy reads with git before its build starts — on the repository shapes
users have (a packed clone, a linked worktree, a subdirectory, a blobless clone), against git's
own answers; and the refusals, in the words gitio.open_repo has always used.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from freshbin import checkout
from freshbin.errors import GitError

from ..conftest import FRESHBIN, clone, commit_all, git, set_revision


def _truth(repo: Path) -> tuple[Path, str]:
    return Path(git(repo, "rev-parse", "--show-toplevel").strip()).resolve(), git(repo, "rev-parse", "HEAD").strip()


def test_a_packed_clone_from_a_subdirectory(upstream, tmp_path):
    repo = clone(upstream, tmp_path / "cloned")
    found = checkout.open_checkout(repo / "bin" / "api")
    assert (found.root, found.head) == _truth(repo)
    assert checkout.origin_url(found.root) == git(repo, "remote", "get-url", "origin").strip()
    assert checkout.dirty_paths(found.root) == []


def test_a_linked_worktree_on_another_branch(upstream, tmp_path):
    wt = tmp_path / "linked"
    git(upstream, "worktree", "add", "-q", "-b", "feature", str(wt))
    set_revision(wt, "worker", "w3")
    commit_all(wt, "worker w3")
    found = checkout.open_checkout(wt)
    assert (found.root, found.head) == _truth(wt) and found.head != _truth(upstream)[1]


def test_the_export_is_the_commit_not_the_work_tree(upstream, tmp_path):
    """A blobless clone reads the blobs it lacks from its remote, as `git archive` does."""
    repo = clone(upstream, tmp_path / "blobless", "--filter=blob:none")
    assert git(repo, "config", "remote.origin.promisor").strip() == "true"
    head = checkout.open_checkout(repo).head
    (repo / "untracked.txt").write_text("not in the commit\n")
    set_revision(repo, "api", "uncommitted")
    archive = tmp_path / "export.tar"
    checkout.export_commit(repo, head, archive)
    with tarfile.open(archive) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        api = next(m for m in tar.getmembers() if m.name.endswith("bin/api/src/main.rs"))
        text = tar.extractfile(api).read().decode()  # type: ignore[union-attr]
    assert names == sorted(git(repo, "ls-tree", "-r", "--name-only", "HEAD").split())
    assert "a2" in text and "uncommitted" not in text
    assert sorted(checkout.dirty_paths(repo)) == ["bin/api/src/main.rs", "untracked.txt"]
    assert "untracked.txt" in checkout.worktree_files(repo)


def test_paths_git_quotes_are_read_as_they_are(example_repo):
    odd = "crates/na me\tü.rs"  # git's porcelain would quote it; -z does not
    (example_repo / odd).write_text("x\n")
    assert checkout.dirty_paths(example_repo) == [odd]
    assert checkout.dirty_paths(example_repo, ("crates/",)) == []


def test_no_origin_remote_is_an_empty_url(example_repo):
    git(example_repo, "remote", "remove", "origin")
    assert checkout.origin_url(example_repo) == ""


@pytest.mark.parametrize("shape, message", [
    ("plain directory", "is not inside a git repository; run from your project's checkout"),
    ("missing directory", "is not inside a git repository; run from your project's checkout"),
    ("bare", "is a bare repository; run from a checkout with a work tree"),
    ("no commits", "the repository has no commits yet; commit your sources first"),
])
def test_refusals(tmp_path, shape, message):
    path = tmp_path / "x"
    if shape == "plain directory":
        path.mkdir()
    elif shape == "bare":
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    elif shape == "no commits":
        subprocess.run(["git", "init", "-q", str(path)], check=True)
    with pytest.raises(GitError, match=message):
        checkout.open_checkout(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the clone to another user")
def test_a_clone_owned_by_another_user_is_refused_in_git_s_words(upstream, tmp_path):
    """git refuses it (safe.directory): deploy's checkout and detect's GitPython both say so in
    one line, exit 2, and name git's reason — not GitPython's `ValueError: SHA is empty`."""
    repo = clone(upstream, tmp_path / "theirs")
    subprocess.run(["chown", "-R", "65534:65534", str(repo)], check=True)
    with pytest.raises(GitError, match="git cannot read the repository at .*dubious ownership"):
        checkout.open_checkout(repo)
    for args in (["detect"], ["deploy", "--image", "127.0.0.1:5000/x/y", "--dry-run"]):
        proc = subprocess.run([*FRESHBIN, *args], cwd=repo, capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert proc.stderr.startswith("freshbin: error: git cannot read the repository at ")
        assert "dubious ownership" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr



def test_subjects_of_the_commits_this_clone_has(example_repo):
    from freshbin import history

    head = git(example_repo, "rev-parse", "HEAD").strip()
    unknown = "f" * 40
    assert checkout.subjects(example_repo, [head, unknown, "not-a-commit"]) == {head: "initial"}
    records = [{"commit": head}, {"commit": unknown}, {"commit": head, "subject": "as recorded"}]
    assert [r["subject"] for r in history.with_subjects(records, example_repo)] == ["initial", "", "as recorded"]
    assert [r["subject"] for r in history.with_subjects(records, None)] == ["", "", "as recorded"]

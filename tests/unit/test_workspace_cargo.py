"""detect's workspace graph against cargo's own: `cargo metadata` on an export of each commit.

The generated workspace (tests/unit/workspace_gen.py: ~150 packages, 30+ binaries, implicit
members, a renamed package, a deleted member, a members-glob change) is committed step by step;
for every range, the packages and binaries detect reports must equal what cargo's view of the
two commits says those changed files reach.
"""

from __future__ import annotations

import shutil

import git as git_repo
import pytest

from freshbin.detect import detect
from freshbin.git_tree import GitTree
from freshbin.workspace import load_tree

from ..conftest import clone, git, in_ci
from ..realrepos.cargo_truth import cargo_view, diff, expected, export
from .workspace_gen import generate

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    seed = tmp_path_factory.mktemp("gen") / "seed"
    commits = generate(seed)
    repo = clone(seed, seed.parent / "ws")
    views = {c: cargo_view(export(repo, c, seed.parent / f"x-{c[:8]}")) for c in commits}
    return repo, commits, views


def test_the_generated_workspace_has_the_promised_scale(history):
    _repo, commits, views = history
    first = views[commits[0]].members
    assert len(first) >= 150 and sum(len(bins) for _n, bins, _d in first.values()) >= 30
    assert "vendor/imp0" in first and "vendor/impdeep" in first and "vendor/unused" not in first  # implicit members


def test_every_commit_graph_equals_cargo_metadata(history):
    repo, commits, views = history
    for commit in commits:
        ws = load_tree(GitTree(git_repo.Repo(repo), commit))
        ours = {p.dir: (p.name, sorted(p.binaries)) for p in ws.packages}
        theirs = {d: (name, bins) for d, (name, bins, _deps) in views[commit].members.items()}
        assert ours == theirs, commit
        for p in ws.packages:
            assert {ws.package_named(n).dir for n in p.deps} == views[commit].members[p.dir][2] & set(theirs), p.name


def test_every_range_reaches_what_cargo_says(history):
    repo, commits, views = history
    ranges = list(zip(commits, commits[1:])) + [(commits[0], commits[-1]), (commits[1], commits[3])]
    for base, head in ranges:
        result = detect(repo, base=base, head=head)
        packages, binaries = expected(views[base], views[head], diff(repo, base, head))
        assert (set(result.packages), set(result.binaries)) == (packages, binaries), (base[:8], head[:8])


def test_uncommitted_members_edit_changes_nothing_without_worktree(history, tmp_path):
    repo, commits, _views = history
    before = detect(repo, base=commits[-2])
    manifest = repo / "Cargo.toml"
    original = manifest.read_text()
    try:
        manifest.write_text(original.replace('"services/*", ', ""))
        assert detect(repo, base=commits[-2]) == before
        assert detect(repo, base=commits[-2], worktree=True).binaries != before.binaries
    finally:
        manifest.write_text(original)

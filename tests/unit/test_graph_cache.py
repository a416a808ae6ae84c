"""The workspace-graph cache: hits for commits that change no manifest, misses for those that do."""

import git

from freshbin import graph_cache, workspace
from freshbin.detect import detect
from freshbin.git_tree import GitTree

from ..conftest import commit_all, set_revision, write


def _key(repo, rev="HEAD"):
    return GitTree(git.Repo(repo), git.Repo(repo).commit(rev).hexsha).graph_key()


def test_key_follows_manifests_and_binary_targets_only(example_repo):
    first = _key(example_repo)
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "source only")
    assert _key(example_repo) == first
    write(example_repo / "bin/worker/src/bin/tool.rs", "fn main() {}\n")
    commit_all(example_repo, "a new binary target")
    second = _key(example_repo)
    assert second != first
    manifest = example_repo / "bin/worker/Cargo.toml"
    manifest.write_text(manifest.read_text() + 'description = "x"\n')
    commit_all(example_repo, "manifest")
    assert _key(example_repo) not in (first, second)


def test_a_second_run_reads_no_manifest(example_repo, monkeypatch):
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "worker")
    first = detect(example_repo)
    assert list(graph_cache.cache_dir().glob("v*.json"))  # written under the (test's own) HOME
    graph_cache._MEMORY.clear()  # a new process: only the files remain

    def no_reading(*args, **kwargs):
        raise AssertionError("a cached graph was parsed again")

    monkeypatch.setattr(workspace, "_read_toml", no_reading)
    assert detect(example_repo) == first


def test_a_corrupt_cache_file_is_ignored(example_repo):
    detect(example_repo)
    graph_cache._MEMORY.clear()
    for path in graph_cache.cache_dir().glob("v*.json"):
        path.write_text("{not json")
    assert detect(example_repo).binaries == ["api", "worker"]


def test_a_commit_seen_before_is_found_by_its_tree_id_without_listing_it(example_repo, monkeypatch):
    graph_cache._MEMORY.clear()
    graph_cache._ALIASES.clear()  # other tests' processes saw the same trees
    set_revision(example_repo, "worker", "w3")
    commit_all(example_repo, "worker")
    first = detect(example_repo)
    assert list(graph_cache.cache_dir().glob("v*-tree-*.key"))
    graph_cache._MEMORY.clear()
    graph_cache._ALIASES.clear()  # a new process: only the files remain

    def no_listing(self):
        raise AssertionError("a commit seen before was listed again")

    monkeypatch.setattr(GitTree, "_list", no_listing)
    assert detect(example_repo) == first


def test_a_corrupt_alias_falls_back_to_the_listing(example_repo):
    first = detect(example_repo)
    graph_cache._MEMORY.clear()
    graph_cache._ALIASES.clear()
    for path in graph_cache.cache_dir().glob("v*-tree-*.key"):
        path.write_text("not a key")
    assert detect(example_repo) == first

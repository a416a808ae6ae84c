"""detect over real git repositories built in temp dirs."""

import json
import os
import subprocess

import pytest

from freshbin import ledger
from freshbin.detect import classify, detect
from freshbin.errors import GitError, WorkspaceError

from ..conftest import FRESHBIN, commit_all, git, set_revision, write


def _by_path(result):
    return {c.path: c for c in result.changed}


def test_bin_change_affects_only_worker_and_requires_no_cache(example_repo):
    set_revision(example_repo, "worker", "v2")
    commit_all(example_repo, "worker v2")
    result = detect(example_repo)
    assert [(c.path, c.status, c.kind, c.package) for c in result.changed] == [
        ("bin/worker/src/main.rs", "modified", "source", "worker")
    ]
    assert result.binaries == ["worker"] and result.packages == ["worker"]
    assert result.no_cache_required and not result.hazard
    assert "bin/worker/src/main.rs" in result.reason and result.base_from == "parent"


def test_nested_library_change_reaches_api_through_path_dependency(example_repo):
    write(example_repo / "crates/storage/pg/src/lib.rs", "pub fn backend() -> String { String::new() }\n")
    commit_all(example_repo, "pg")
    result = detect(example_repo)
    assert result.packages == ["storage-pg"] and result.binaries == ["api"]


def test_manifest_change_is_a_hazard(example_repo):
    manifest = example_repo / "bin/worker/Cargo.toml"
    manifest.write_text(manifest.read_text() + 'description = "x"\n')
    write(example_repo / "Cargo.lock", (example_repo / "Cargo.lock").read_text() + "\n")
    commit_all(example_repo, "manifests")
    result = detect(example_repo)
    kinds = {c.path: (c.kind, c.package) for c in result.changed}
    assert kinds == {"bin/worker/Cargo.toml": ("manifest", "worker"), "Cargo.lock": ("manifest", "(workspace)")}
    assert result.hazard and result.no_cache_required and result.binaries == ["api", "worker"]
    assert "mtime hazard" in result.reason


@pytest.mark.parametrize("path, pkg_path, kind", [
    ("crates/greeting/src/lib.rs", "src/lib.rs", "source"),
    ("bin/api/src/main.rs", "src/main.rs", "source"),
    ("src/main.rs", "src/main.rs", "source"),  # a single-crate repository's own sources
    ("libs/x/src/data.json", "src/data.json", "source"),  # include_str! material lives in src/
    ("crates/greeting/tests/it.rs", "tests/it.rs", "other"),  # integration tests never ship
    ("crates/greeting/benches/b.rs", "benches/b.rs", "other"),
    ("crates/greeting/README.md", "README.md", "other"),
    ("crates/greeting/build.rs", "build.rs", "manifest"),
    ("crates/greeting/Cargo.toml", "Cargo.toml", "manifest"),
    ("crates/syntax/fuzz/Cargo.toml", "fuzz/Cargo.toml", "other"),  # a fuzz crate's own workspace
    ("docs/snippets/Cargo.toml", None, "other"),  # no member owns it: reaches nothing
    ("docs/snippets/build.rs", None, "other"),
    ("rust-toolchain.toml", None, "manifest"),
    (".cargo/config.toml", None, "manifest"),
    ("Dockerfile.fixed", None, "build-definition"),
    (".dockerignore", None, "build-definition"),
    ("README.md", None, "other"),
    ("crates", None, "other"),
])
def test_classify(path, pkg_path, kind):
    assert classify(path, path, pkg_path=pkg_path) == kind


def test_statuses_and_strange_paths(example_repo):
    write(example_repo / "bin/worker/src/old name.rs", "// a\n" * 20)
    write(example_repo / "bin/worker/src/gone.rs", "// gone\n")
    write(example_repo / "bin/worker/src/link.rs", "// will become a symlink\n")
    commit_all(example_repo, "setup")
    git(example_repo, "mv", "bin/worker/src/old name.rs", "bin/worker/src/new näme.rs")
    (example_repo / "bin/worker/src/gone.rs").unlink()
    (example_repo / "bin/worker/src/link.rs").unlink()
    os.symlink("main.rs", example_repo / "bin/worker/src/link.rs")
    write(example_repo / "bin/worker/src/new\nline.rs", "// newline in name\n")
    write(example_repo / "docs/x.md", "x")
    commit_all(example_repo, "changes")
    got = {c.path: (c.status, c.kind, c.old_path) for c in detect(example_repo).changed}
    assert got == {
        "bin/worker/src/new näme.rs": ("renamed", "source", "bin/worker/src/old name.rs"),
        "bin/worker/src/gone.rs": ("deleted", "source", None),
        "bin/worker/src/link.rs": ("type-changed", "source", None),
        "bin/worker/src/new\nline.rs": ("added", "source", None),
        "docs/x.md": ("added", "other", None),
    }


def test_non_utf8_file_name_survives(example_repo):
    name = os.fsdecode(b"bin/worker/src/caf\xe9.rs")
    with open(os.fsencode(example_repo) + b"/bin/worker/src/caf\xe9.rs", "w") as fh:
        fh.write("//\n")
    commit_all(example_repo, "latin-1 name")
    (change,) = detect(example_repo).changed
    assert change.path == name and change.package == "worker"


def test_submodule_change_is_reported(example_repo, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q")
    commit_all(sub, "s1")
    git(example_repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "crates/vendored")
    commit_all(example_repo, "add submodule")
    (change,) = [c for c in detect(example_repo).changed if c.path == "crates/vendored"]
    assert change.kind == "submodule" and change.status == "added"


def test_worktree_includes_staged_unstaged_and_untracked(example_repo):
    set_revision(example_repo, "worker", "staged")
    git(example_repo, "add", "bin/worker/src/main.rs")
    set_revision(example_repo, "api", "unstaged")
    write(example_repo / "crates/greeting/src/new.rs", "// untracked\n")
    result = detect(example_repo, base="HEAD", worktree=True)
    assert set(_by_path(result)) == {"bin/worker/src/main.rs", "bin/api/src/main.rs", "crates/greeting/src/new.rs"}
    assert result.head == "WORKTREE" and result.binaries == ["api", "worker"]
    assert detect(example_repo, base="HEAD").changed == []


def test_default_base_comes_from_the_ledger(example_repo):
    first = git(example_repo, "rev-parse", "HEAD").strip()
    set_revision(example_repo, "api", "a2")
    commit_all(example_repo, "api")
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "worker")
    path = example_repo / ".freshbin" / "deploys.jsonl"
    ledger.append(path, {"image": "reg/x", "commit": first, "target": "api"})
    result = detect(example_repo, ledger_path=path, image="reg/x")
    assert result.base == first and result.base_from == "ledger"
    assert result.binaries == ["api", "worker"]
    assert detect(example_repo, ledger_path=path, image="reg/other").binaries == ["worker"]


def test_root_commit_counts_everything_as_added(example_repo):
    result = detect(example_repo)
    assert all(c.status == "added" for c in result.changed) and result.hazard


def test_diverged_base_uses_merge_base(example_repo):
    git(example_repo, "checkout", "-q", "-b", "side")
    set_revision(example_repo, "api", "side")
    commit_all(example_repo, "side")
    git(example_repo, "checkout", "-q", "main")
    set_revision(example_repo, "worker", "main")
    commit_all(example_repo, "main")
    result = detect(example_repo, base="side")
    assert [c.path for c in result.changed] == ["bin/worker/src/main.rs"]
    assert "merge-base" in result.notes[0]


def test_workspace_in_a_subdirectory(tmp_path, example_repo):
    repo = tmp_path / "mono"
    repo.mkdir()
    git(repo, "init", "-q")
    subprocess.run(["cp", "-r", str(example_repo), str(repo / "svc")], check=True)
    subprocess.run(["rm", "-rf", str(repo / "svc" / ".git")], check=True)
    commit_all(repo, "init")
    set_revision(repo / "svc", "worker", "x")
    write(repo / "other/crates/a.rs", "")
    commit_all(repo, "change")
    got = {c.path: c.kind for c in detect(repo / "svc").changed}
    assert got == {"svc/bin/worker/src/main.rs": "source", "other/crates/a.rs": "other"}


def test_shallow_clone_without_parent_says_how_to_deepen(example_repo, tmp_path):
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "second")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{example_repo}", str(clone))
    with pytest.raises(GitError, match="shallow.*--deepen"):
        detect(clone)
    with pytest.raises(GitError, match="shallow"):
        detect(clone, base="HEAD~1")


@pytest.mark.parametrize("kwargs, message", [
    ({"base": "no-such-branch"}, "unknown git revision"),
    ({"head": "deadbeef" * 5}, "unknown git revision"),
    ({"base": "--output=/tmp/x"}, "not a valid git revision"),
    ({"base": "HEAD..main"}, "not a valid git revision"),
    ({"base": "HEAD^{tree}"}, "not a commit"),
])
def test_bad_refs(example_repo, kwargs, message):
    with pytest.raises(GitError, match=message):
        detect(example_repo, **kwargs)


def test_a_typed_full_object_id_is_judged_as_git_resolves_it(example_repo):
    """A full id's diff starts before git has confirmed the id: whatever that diff says, the
    answer must be the one a confirmed id gives (a tag object peels, a tree or a missing id is
    refused, a diverged commit uses the merge-base)."""
    first = git(example_repo, "rev-parse", "HEAD").strip()
    git(example_repo, "tag", "-a", "-m", "t", "deployed", first)
    tag_object = git(example_repo, "rev-parse", "deployed").strip()
    tree = git(example_repo, "rev-parse", "HEAD^{tree}").strip()
    git(example_repo, "checkout", "-q", "-b", "side")
    set_revision(example_repo, "api", "side")
    commit_all(example_repo, "side")
    side = git(example_repo, "rev-parse", "HEAD").strip()
    git(example_repo, "checkout", "-q", "main")
    set_revision(example_repo, "worker", "main")
    commit_all(example_repo, "main")

    by_tag = detect(example_repo, base=tag_object)
    assert tag_object != first and by_tag.base == first
    assert [c.path for c in by_tag.changed] == ["bin/worker/src/main.rs"]
    diverged = detect(example_repo, base=side)
    assert diverged.base == first and [c.path for c in diverged.changed] == ["bin/worker/src/main.rs"]
    assert "merge-base" in diverged.notes[0]
    with pytest.raises(GitError, match="not a commit"):
        detect(example_repo, base=tree)
    with pytest.raises(GitError, match="unknown git revision"):
        detect(example_repo, base="0123456789abcdef" * 2 + "01234567")


def test_not_a_repository_and_no_workspace(tmp_path, example_repo):
    with pytest.raises(GitError, match="not inside a git repository"):
        detect(tmp_path)
    (example_repo / "Cargo.toml").unlink()
    assert detect(example_repo).binaries == ["api", "worker"]  # the commit is judged, not the work tree
    with pytest.raises(WorkspaceError, match="no Cargo workspace found"):
        detect(example_repo, base="HEAD", worktree=True)
    commit_all(example_repo, "no manifest")
    with pytest.raises(WorkspaceError, match="no Cargo workspace found"):
        detect(example_repo)


def test_bare_and_empty_repositories(tmp_path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(GitError, match="bare repository"):
        detect(bare)
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    with pytest.raises(GitError, match="no commits yet"):
        detect(empty)


def test_cli_json_and_check_exit_code(example_repo):
    set_revision(example_repo, "worker", "v9")
    commit_all(example_repo, "v9")
    proc = subprocess.run([*FRESHBIN, "detect", "--json", "--check"], cwd=example_repo, capture_output=True, text=True)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert set(data) >= {"base", "head", "changed", "packages", "binaries", "no_cache_required", "hazard", "reason"}
    assert data["changed"][0]["path"] == "bin/worker/src/main.rs"
    proc = subprocess.run([*FRESHBIN, "detect", "--base", "nope"], cwd=example_repo, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["freshbin: error: unknown git revision 'nope'; check the name with `git log --oneline`"]


def test_a_history_base_this_clone_lacks_falls_back_to_the_parent_with_a_note(example_repo):
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "worker")
    missing = "0123456789abcdef0123456789abcdef01234567"  # another repository's deploy record
    result = detect(example_repo, base_hint=missing)
    assert result.base_from == "parent" and result.binaries == ["worker"]
    assert "not in this clone" in result.notes[0] and missing[:12] in result.notes[0]
    path = example_repo / ".freshbin" / "deploys.jsonl"
    ledger.append(path, {"image": "reg/x", "commit": missing, "target": "worker"})
    assert detect(example_repo, ledger_path=path, image="reg/x").base_from == "parent"
    with pytest.raises(GitError, match="unknown git revision"):
        detect(example_repo, base=missing)  # a --base the user typed stays strict


def test_the_per_directory_memo_judges_every_path_as_the_plain_judgement_does(tmp_path):
    """map_changes judges one path per (directory, name class); over names that matter (manifests,
    toolchain, Dockerfiles, test dirs, a file named like a directory) in every kind of directory,
    each change must equal `_side` asked about that path alone."""
    from freshbin import detect as d
    from freshbin.gitio import ChangeStatus, FileChange
    from freshbin.workspace import Package, Workspace

    ws = Workspace(tmp_path, (Package("root", ".", frozenset({"lib"}), ("root",)),
                              Package("lib", "crates/lib", frozenset(), ()),
                              Package("app", "bin/app", frozenset({"lib"}), ("app",))), is_workspace=True)
    dirs = ["", ".cargo", "crates/lib", "crates/lib/src", "crates/lib/tests", "crates/lib/benches",
            "crates/lib/target/debug", "bin/app", "bin/app/src/deep", "bin/app/examples", "docs", "rust-toolchain.d"]
    names = ["Cargo.toml", "Cargo.lock", "build.rs", "main.rs", "lib.rs", "README.md", "Dockerfile",
             "Dockerfile.prod", "api.Dockerfile", ".dockerignore", "rust-toolchain", "rust-toolchain.toml",
             "config", "config.toml", "config.rs", "Dockerfile.rs", "rust-toolchain.rs", "src", "tests", "target",
             "tests.rs", "x.RS", "notes"]
    files = [FileChange(f"{d_}/{n}" if d_ else n, status) for d_ in dirs for n in names
             for status in (ChangeStatus.MODIFIED, ChangeStatus.DELETED)]
    files += [FileChange("crates/lib/src/a.rs", ChangeStatus.RENAMED, old_path="bin/app/src/b.rs"),
              FileChange("vendor/sub", ChangeStatus.MODIFIED, submodule=True)]
    memo = d.map_changes(files, ws, ws, ())
    for f, change in zip(files, memo):
        side = d._side(None if f.status == ChangeStatus.DELETED else ws, f.path, (), f.submodule)
        if f.status == ChangeStatus.MODIFIED and f.old_path is None:
            assert (change.kind, change.package, change.binaries) == side, f
        old_side = d._side(ws, f.old_path or f.path, (), f.submodule)
        if f.status == ChangeStatus.DELETED:
            assert (change.kind, change.package, change.binaries) == old_side, f
    assert len({(c.kind, c.package) for c in memo}) > 5  # the names above do reach different judgements

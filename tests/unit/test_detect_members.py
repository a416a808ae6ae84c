"""detect's members and owners as cargo has them (issue #27), on real git repositories.

Each shape is a two-commit repository: the first holds the workspace, the second one change.
Where cargo is installed, the members detect reads are checked against `cargo metadata` on the
same files, so a shape is never a guess about cargo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from freshbin.detect import detect
from freshbin.workspace import load_workspace

from ..conftest import commit_all, git, in_ci, write

RUSTUP = {"RUSTUP_HOME": os.environ.get("RUSTUP_HOME", "/root/.rustup"),
          "CARGO_HOME": os.environ.get("CARGO_HOME", "/root/.cargo")}
needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")


def package(name: str, deps: str = "", extra: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{extra}\n[dependencies]\n{deps}\n'


def repo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository whose first commit holds `files`."""
    repo = tmp_path / "ws"
    for rel, text in files.items():
        write(repo / rel, text)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "workspace")
    return repo


def change(repo: Path, rel: str, text: str = "// changed\n"):
    """Commit one change to `rel` and detect it."""
    write(repo / rel, (repo / rel).read_text() + text if (repo / rel).exists() else text)
    commit_all(repo, f"change {rel}")
    return {c.path: c for c in detect(repo).changed}[rel], detect(repo)


def cargo_members(repo: Path) -> dict[str, str]:
    """{member dir: package name} as `cargo metadata --no-deps` finds them."""
    env = {**os.environ, **RUSTUP}
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"], cwd=repo,
                         env=env, capture_output=True, text=True, check=True).stdout
    root = repo.resolve()
    return {Path(p["manifest_path"]).parent.relative_to(root).as_posix(): p["name"]
            for p in json.loads(out)["packages"]}


ROOT_PATH_DEP = {  # `helper` is named by no `members` entry: only the root package's path dependency reaches it
    "Cargo.toml": package("app", 'helper = { path = "helper" }') + '[workspace]\nmembers = ["crates/*"]\n',
    "src/main.rs": "fn main() {}\n",
    "helper/Cargo.toml": package("helper", 'deep = { path = "../deep" }'),
    "helper/src/lib.rs": "",
    "deep/Cargo.toml": package("deep"),
    "deep/src/lib.rs": "",
    "crates/tool/Cargo.toml": package("tool"),
    "crates/tool/src/main.rs": "fn main() {}\n",
}


def test_a_member_reached_only_through_the_root_package_is_its_own_package(tmp_path):
    repo = repo_with(tmp_path, ROOT_PATH_DEP)
    source, result = change(repo, "deep/src/lib.rs")
    assert (source.kind, source.package, source.binaries) == ("source", "deep", ("app",))
    assert result.packages == ["deep"] and result.binaries == ["app"]


def test_such_a_members_manifest_is_a_manifest(tmp_path):
    repo = repo_with(tmp_path, ROOT_PATH_DEP)
    manifest, result = change(repo, "helper/Cargo.toml", "# a comment\n")
    assert (manifest.kind, manifest.package, manifest.binaries) == ("manifest", "helper", ("app",))
    assert result.hazard


@needs_cargo
def test_root_path_dependency_members_are_cargos(tmp_path):
    repo = repo_with(tmp_path, ROOT_PATH_DEP)
    ours = {p.dir: p.name for p in load_workspace(repo).packages}
    assert ours == cargo_members(repo) == {".": "app", "helper": "helper", "deep": "deep", "crates/tool": "tool"}


LONE_PACKAGE = {  # no [workspace]: `a` is compiled into `root` but is no member
    "Cargo.toml": package("root", 'a = { path = "a" }'),
    "src/main.rs": "fn main() {}\n",
    "a/Cargo.toml": package("a"),
    "a/src/lib.rs": "",
}


def test_a_lone_packages_path_dependency_reaches_its_binary_but_is_no_member(tmp_path):
    repo = repo_with(tmp_path, LONE_PACKAGE)
    assert [p.dir for p in load_workspace(repo).packages] == ["."]
    source, _result = change(repo, "a/src/lib.rs")
    assert (source.kind, source.package, source.binaries) == ("source", "a", ("root",))


@needs_cargo
def test_a_lone_package_has_no_other_member_for_cargo(tmp_path):
    assert cargo_members(repo_with(tmp_path, LONE_PACKAGE)) == {".": "root"}


NESTED = {  # a fuzz crate (its own workspace) inside a member, a nested package inside the root package
    "Cargo.toml": package("app") + '[workspace]\nmembers = ["crates/*"]\n',
    "src/main.rs": "fn main() {}\n",
    "crates/core/Cargo.toml": package("core"),
    "crates/core/src/lib.rs": "",
    "crates/core/fuzz/Cargo.toml": package("core-fuzz", 'core = { path = ".." }') + "[workspace]\n",
    "crates/core/fuzz/src/main.rs": "fn main() {}\n",
    "tools/gen/Cargo.toml": package("gen"),
    "tools/gen/src/main.rs": "fn main() {}\n",
}


@pytest.mark.parametrize("path", ["crates/core/fuzz/src/main.rs", "crates/core/fuzz/Cargo.toml",
                                  "tools/gen/src/main.rs", "tools/gen/Cargo.toml", "tools/gen/src/extra.rs"])
def test_a_nested_non_member_packages_files_reach_nothing(tmp_path, path):
    repo = repo_with(tmp_path, NESTED)
    changed, result = change(repo, path)
    assert (changed.kind, changed.package, changed.binaries) == ("other", None, ())
    assert result.binaries == [] and not result.no_cache_required and not result.hazard


def test_the_members_own_files_beside_a_nested_package_still_count(tmp_path):
    repo = repo_with(tmp_path, NESTED)
    changed, _result = change(repo, "crates/core/src/lib.rs")
    assert (changed.kind, changed.package) == ("source", "core")


def test_a_nested_package_on_the_worktree_reaches_nothing(tmp_path):
    repo = repo_with(tmp_path, NESTED)
    write(repo / "tools/gen/src/main.rs", "fn main() { println!(); }\n")
    changed = {c.path: c for c in detect(repo, worktree=True).changed}["tools/gen/src/main.rs"]
    assert (changed.kind, changed.package, changed.binaries) == ("other", None, ())


@needs_cargo
def test_nested_packages_are_no_members_for_cargo(tmp_path):
    assert cargo_members(repo_with(tmp_path, NESTED)) == {".": "app", "crates/core": "core"}


EXCLUDED_PATH_DEP = {  # `exclude`d, yet compiled: `svc` depends on it by path
    "Cargo.toml": '[workspace]\nmembers = ["svc"]\nexclude = ["vendor/patched"]\n',
    "svc/Cargo.toml": package("svc", 'patched = { path = "../vendor/patched" }'),
    "svc/src/main.rs": "fn main() {}\n",
    "vendor/patched/Cargo.toml": package("patched"),
    "vendor/patched/src/lib.rs": "",
}


def test_an_excluded_package_reached_by_path_reaches_its_dependents(tmp_path):
    repo = repo_with(tmp_path, EXCLUDED_PATH_DEP)
    changed, result = change(repo, "vendor/patched/src/lib.rs")
    assert (changed.kind, changed.package, changed.binaries) == ("source", "patched", ("svc",))
    assert result.binaries == ["svc"]


SAME_BIN_NAME = {  # two packages ship a binary called `cli`, both built on `shared`
    "Cargo.toml": '[workspace]\nmembers = ["a", "b", "shared"]\n',
    "shared/Cargo.toml": package("shared"),
    "shared/src/lib.rs": "",
    "a/Cargo.toml": package("a", 'shared = { path = "../shared" }', '[[bin]]\nname = "cli"\npath = "src/main.rs"\n'),
    "a/src/main.rs": "fn main() {}\n",
    "b/Cargo.toml": package("b", 'shared = { path = "../shared" }', '[[bin]]\nname = "cli"\npath = "src/main.rs"\n'),
    "b/src/main.rs": "fn main() {}\n",
}


@pytest.mark.parametrize("path", ["shared/src/lib.rs", "Cargo.lock"])
def test_json_lists_name_a_shared_binary_name_once(tmp_path, path):
    repo = repo_with(tmp_path, SAME_BIN_NAME)
    changed, result = change(repo, path)
    assert changed.binaries == ("cli",) and result.binaries == ["cli"]
    for value in _lists(result.to_json()):
        assert len(value) == len(set(map(json.dumps, value))), value


def _lists(node):
    """Every list in a JSON value, nested ones included."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _lists(value)
    elif isinstance(node, list):
        yield node
        for value in node:
            yield from _lists(value)


TOML_11 = {  # TOML 1.1, which cargo 1.95 reads: an inline table over several lines (gitui's manifest)
    "Cargo.toml": '[workspace]\nmembers = ["app"]\n',
    "app/Cargo.toml": package("app", 'core = {\n  path = "../core", # the engine\n  features = [\n    "x",\n  ],\n}\n')
    + '[features]\nx = ["core/x"]\n',
    "app/src/main.rs": "fn main() {}\n",
    "core/Cargo.toml": package("core") + "[features]\nx = []\n",
    "core/src/lib.rs": "",
}


def test_a_toml_11_manifest_is_read_as_cargo_reads_it(tmp_path):
    repo = repo_with(tmp_path, TOML_11)
    changed, _result = change(repo, "core/src/lib.rs")
    assert (changed.kind, changed.package, changed.binaries) == ("source", "core", ("app",))


@needs_cargo
def test_cargo_reads_that_toml_11_manifest(tmp_path):
    assert cargo_members(repo_with(tmp_path, TOML_11)) == {"app": "app", "core": "core"}

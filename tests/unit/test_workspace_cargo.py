"""detect's workspace graph against cargo's own: `cargo metadata` on an export of each commit.

The generated workspace (tests/unit/workspace_gen.py: ~150 packages, 30+ binaries, implicit
members, a renamed package, a deleted member, a members-glob change) is committed step by step;
for every range, the packages and binaries detect reports must equal what cargo's view of the
two commits says those changed files reach.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import git as git_repo
import pytest

from freshbin.detect import WORKSPACE_PACKAGE, detect
from freshbin.git_tree import GitTree
from freshbin.workspace import load_tree

from ..conftest import clone, git, in_ci
from .workspace_gen import generate

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")
NOT_SHIPPED = ("tests/", "benches/", "examples/")


def cargo_view(repo: Path, commit: str, dest: Path) -> dict:
    """{package dir: (name, bins, path-dependency dirs)} from `cargo metadata` on an export."""
    dest.mkdir()
    archive = dest.parent / f"{commit}.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    proc = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1",
                           "--manifest-path", str(dest / "Cargo.toml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    root = str(dest.resolve())
    rel = lambda p: str(Path(p).resolve().relative_to(root)).replace("\\", "/") or "."  # noqa: E731
    view = {}
    for pkg in json.loads(proc.stdout)["packages"]:
        deps = {rel(d["path"]) for d in pkg["dependencies"] if d.get("path") and d["kind"] in (None, "build")}
        bins = sorted(t["name"] for t in pkg["targets"] if "bin" in t["kind"])
        view[rel(str(Path(pkg["manifest_path"]).parent))] = (pkg["name"], bins, deps)
    return view


def reach(view: dict, pkg_dir: str) -> set[str]:
    """Binaries of `pkg_dir` and of every package depending on it, transitively."""
    hit, changed = {pkg_dir}, True
    while changed:
        changed = False
        for d, (_name, _bins, deps) in view.items():
            if d not in hit and deps & hit:
                hit.add(d)
                changed = True
    return {b for d in hit for b in view[d][1]}


def owner(view: dict, path: str) -> str | None:
    candidates = [d for d in view if d == "." or path.startswith(d + "/")]
    return max(candidates, key=len) if candidates else None


def expected(view_base: dict, view_head: dict, repo: Path, base: str, head: str) -> tuple[set, set]:
    """(packages, binaries) a range reaches, by cargo's graphs and git's own diff."""
    packages, binaries = set(), set()
    out = git(repo, "diff", "--name-status", "-M", base, head)
    for line in out.splitlines():
        status, *paths = line.split("\t")
        sides = [(view_base, paths[0])] if status == "D" else [(view_head, paths[-1])]
        if status.startswith("R"):
            sides.append((view_base, paths[0]))
        for view, path in sides:
            if path in ("Cargo.toml", "Cargo.lock"):
                packages.add(WORKSPACE_PACKAGE)
                binaries |= {b for _n, bins, _d in view.values() for b in bins}
                continue
            d = owner(view, path)
            if d is None:
                continue
            inner = path if d == "." else path[len(d) + 1:]
            if inner.startswith(NOT_SHIPPED) or not (inner.startswith("src/") or inner.endswith(".rs")
                                                     or inner in ("Cargo.toml", "build.rs")):
                continue
            packages.add(view[d][0])
            binaries |= reach(view, d)
    return packages, binaries


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    seed = tmp_path_factory.mktemp("gen") / "seed"
    commits = generate(seed)
    repo = clone(seed, seed.parent / "ws")
    views = {c: cargo_view(repo, c, seed.parent / f"x-{c[:8]}") for c in commits}
    return repo, commits, views


def test_the_generated_workspace_has_the_promised_scale(history):
    _repo, commits, views = history
    first = views[commits[0]]
    assert len(first) >= 150 and sum(len(bins) for _n, bins, _d in first.values()) >= 30
    assert "vendor/imp0" in first and "vendor/impdeep" in first and "vendor/unused" not in first  # implicit members


def test_every_commit_graph_equals_cargo_metadata(history):
    repo, commits, views = history
    for commit in commits:
        ws = load_tree(GitTree(git_repo.Repo(repo), commit))
        ours = {p.dir: (p.name, sorted(p.binaries)) for p in ws.packages}
        theirs = {d: (name, bins) for d, (name, bins, _deps) in views[commit].items()}
        assert ours == theirs, commit
        for p in ws.packages:
            assert {ws.package_named(n).dir for n in p.deps} == views[commit][p.dir][2] & set(theirs), p.name


def test_every_range_reaches_what_cargo_says(history):
    repo, commits, views = history
    ranges = list(zip(commits, commits[1:])) + [(commits[0], commits[-1]), (commits[1], commits[3])]
    for base, head in ranges:
        result = detect(repo, base=base, head=head)
        packages, binaries = expected(views[base], views[head], repo, base, head)
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

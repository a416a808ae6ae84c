"""detect credits changes to path packages outside the workspace directory (path_packages.py).

A service workspace in `svc/`, its binary's library in `libs/common` (and that library's own path
dependency `libs/base`), in a real clone: a change to either library reaches the binary; a file
outside every package reaches nothing; truth from `cargo metadata` of the commit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from freshbin.detect import ChangeKind, detect

from ..conftest import clone, commit_all, git, in_ci, write
from .test_compile_proof import RUSTUP


def seed(tmp_path: Path) -> Path:
    repo = tmp_path / "seed"
    write(repo / "libs/base/Cargo.toml", '[package]\nname = "base"\nversion = "0.1.0"\nedition = "2021"\n')
    write(repo / "libs/base/src/lib.rs", "pub fn one() -> u8 { 1 }\n")
    write(repo / "libs/common/Cargo.toml", '[package]\nname = "common"\nversion = "0.1.0"\nedition = "2021"\n\n'
          '[dependencies]\nbase = { path = "../base" }\n')
    write(repo / "libs/common/src/lib.rs", "pub fn two() -> u8 { base::one() + 1 }\n")
    write(repo / "libs/README.md", "libraries\n")
    write(repo / "svc/Cargo.toml", '[workspace]\nmembers = ["app", "tool"]\nresolver = "2"\n')
    write(repo / "svc/app/Cargo.toml", '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n'
          '[dependencies]\ncommon = { path = "../../libs/common" }\n')
    write(repo / "svc/app/src/main.rs", "fn main() { println!(\"{}\", common::two()); }\n")
    write(repo / "svc/tool/Cargo.toml", '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n')
    write(repo / "svc/tool/src/main.rs", "fn main() {}\n")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "initial")
    return repo


def test_a_library_outside_the_workspace_reaches_the_binaries_that_depend_on_it(tmp_path):
    repo = seed(tmp_path)
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo / "libs/base/src/lib.rs", "pub fn one() -> u8 { 2 }\n")
    write(repo / "libs/common/Cargo.toml", (repo / "libs/common/Cargo.toml").read_text() + "\n")
    write(repo / "libs/README.md", "libraries, documented\n")
    commit_all(repo, "libraries")
    work = clone(repo, tmp_path / "clone")
    found = {c.path: c for c in detect(work / "svc", base=first).changed}
    assert found["libs/base/src/lib.rs"].kind == ChangeKind.SOURCE
    assert (found["libs/base/src/lib.rs"].package, found["libs/base/src/lib.rs"].binaries) == ("base", ("app",))
    assert found["libs/common/Cargo.toml"].kind == ChangeKind.MANIFEST
    assert found["libs/common/Cargo.toml"].binaries == ("app",)
    assert found["libs/README.md"].package is None and not found["libs/README.md"].binaries


@pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")
def test_which_packages_reach_the_binary_is_cargos_own_view(tmp_path):
    repo = seed(tmp_path)
    proc = subprocess.run(["cargo", "metadata", "--offline", "--format-version", "1", "--manifest-path",
                           str(repo / "svc/Cargo.toml")], capture_output=True, text=True, env={**os.environ, **RUSTUP})
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(proc.stdout)
    by_id = {p["id"]: p for p in meta["packages"]}
    resolve = {n["id"]: n for n in meta["resolve"]["nodes"]}
    app = next(p["id"] for p in meta["packages"] if p["name"] == "app")
    reach, todo = set(), [app]
    while todo:
        node = todo.pop()
        if node not in reach:
            reach.add(node)
            todo += resolve[node]["dependencies"]
    outside = {by_id[i]["name"] for i in reach if not Path(by_id[i]["manifest_path"]).is_relative_to(repo / "svc")}
    from freshbin.path_packages import outside_packages
    from freshbin.trees import DiskTree
    from freshbin.workspace import load_workspace
    found = outside_packages(DiskTree(repo), "svc", load_workspace(repo / "svc"))
    assert {p.name for p in found} == outside == {"base", "common"}
    assert all(p.binaries == ("app",) for p in found)

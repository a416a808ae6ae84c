from pathlib import Path

import pytest

from freshbin.errors import WorkspaceError
from freshbin.workspace import load_workspace

from ..conftest import EXAMPLE, write


def test_example_workspace_model():
    ws = load_workspace(EXAMPLE)
    assert {p.name: p.dir for p in ws.packages} == {
        "greeting": "crates/greeting", "storage-pg": "crates/storage/pg", "api": "bin/api", "worker": "bin/worker",
    }
    assert ws.package_named("storage-pg").deps == {"greeting"}  # via workspace = true
    assert ws.package_named("api").deps == {"greeting", "storage-pg"}
    assert ws.owner_of("crates/storage/pg/src/lib.rs").name == "storage-pg"
    assert ws.binaries_affected_by({"greeting"}) == ["api"]
    assert ws.binaries_affected_by({"worker"}) == ["worker"]


def _pkg(root: Path, rel: str, name: str, deps: str = "", main: bool = False, extra: str = "") -> None:
    write(root / rel / "Cargo.toml", f'[package]\nname = "{name}"\nversion = "0.1.0"\n{extra}\n[dependencies]\n{deps}\n')
    write(root / rel / "src" / ("main.rs" if main else "lib.rs"), "")


def test_globs_excludes_bin_dirs_and_explicit_bins(tmp_path):
    write(tmp_path / "Cargo.toml", '[workspace]\nmembers = ["libs/*", "apps/*"]\nexclude = ["libs/skip"]\n')
    _pkg(tmp_path, "libs/a", "a")
    _pkg(tmp_path, "libs/skip", "skip")
    (tmp_path / "libs" / "notacrate").mkdir()
    _pkg(tmp_path, "apps/tool", "tool", deps='a = { path = "../../libs/a" }\n[dev-dependencies]\nskip = { path = "../../libs/skip" }')
    write(tmp_path / "apps/tool/src/bin/extra.rs", "fn main() {}")
    write(tmp_path / "apps/tool/src/bin/multi/main.rs", "fn main() {}")
    _pkg(tmp_path, "apps/named", "named", extra='[[bin]]\nname = "custom"\npath = "src/x.rs"')
    ws = load_workspace(tmp_path)
    assert sorted(p.name for p in ws.packages) == ["a", "named", "tool"]
    assert ws.package_named("tool").binaries == ("extra", "multi")
    assert ws.package_named("named").binaries == ("custom",)
    assert ws.binaries_affected_by({"a"}) == ["extra", "multi"]


def test_root_package_and_target_specific_dependencies(tmp_path):
    write(tmp_path / "Cargo.toml", '[package]\nname = "root"\nversion = "0.1.0"\n[workspace]\nmembers = ["sub"]\n'
          '[target.\'cfg(unix)\'.dependencies]\nsub = { path = "sub" }\n')
    write(tmp_path / "src/main.rs", "fn main() {}")
    _pkg(tmp_path, "sub", "sub")
    ws = load_workspace(tmp_path)
    assert ws.owner_of("sub/src/lib.rs").name == "sub"
    assert ws.owner_of("src/main.rs").name == "root"
    assert ws.binaries_affected_by({"sub"}) == ["root"]


@pytest.mark.parametrize("content, message", [
    (None, "no Cargo workspace found"),
    ("[workspace\nmembers=", "not valid TOML"),
    ('[dependencies]\nx = "1"\n', "neither [workspace] nor [package]"),
])
def test_workspace_errors(tmp_path, content, message):
    if content is not None:
        write(tmp_path / "Cargo.toml", content)
    with pytest.raises(WorkspaceError, match=message.replace("[", r"\[")):
        load_workspace(tmp_path)

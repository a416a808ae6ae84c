"""doctor's reading of cargo targets (freshbin.doctor.targets) against `cargo metadata` on the corpus.

cargo itself is the ground truth: for every corpus case whose manifests it can read, the file
names doctor expects in a profile directory are exactly cargo's binary targets plus each lib
target's artefact by crate type.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from freshbin.doctor.targets import artefacts

from ..conftest import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "corpus" / "doctor"
CASES = sorted(p.parent for p in CORPUS.glob("*/Cargo.toml"))
FILES = {"cdylib": "lib{}.so", "dylib": "lib{}.so", "staticlib": "lib{}.a", "rlib": "lib{}.rlib", "lib": "lib{}.rlib",
         "proc-macro": "lib{}.so"}


def _cargo_env() -> dict[str, str] | None:
    """cargo with rustup's homes next to it (tests may isolate HOME)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        return None
    home = Path(cargo).resolve().parent.parent
    env = dict(os.environ, CARGO_HOME=os.environ.get("CARGO_HOME", str(home)))
    if (home.parent / ".rustup").is_dir():
        env.setdefault("RUSTUP_HOME", str(home.parent / ".rustup"))
    return env


def cargo_truth(case: Path) -> dict[str, set[str]] | None:
    """{package dir relative to the case: file names} from `cargo metadata`, None if cargo cannot read it."""
    env = _cargo_env()
    if env is None:
        return None
    proc = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1"], cwd=case,
                          capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0:
        return None
    out: dict[str, set[str]] = {}
    for package in json.loads(proc.stdout)["packages"]:
        rel = posixpath.relpath(Path(package["manifest_path"]).parent.as_posix(), case.resolve().as_posix())
        names = out.setdefault("" if rel == "." else rel, set())
        for target in package["targets"]:
            if "bin" in target["kind"]:
                names.add(target["name"])
            names |= {FILES[k].format(target["name"].replace("-", "_")) for k in target["crate_types"]
                      if k in FILES and set(target["kind"]) - {"bin", "example", "test", "bench", "custom-build"}}
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_artefact_names_are_cargos(case):
    truth = cargo_truth(case)
    if truth is None:
        pytest.skip("cargo cannot read these manifests offline (or is not installed)")
    for rel, names in truth.items():
        manifest = tomllib.loads((case / rel / "Cargo.toml").read_text())
        assert artefacts(rel, manifest, case) == names, rel


def test_a_renamed_bin_is_not_the_package_name(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("")
    manifest = {"package": {"name": "btc-rpc-proxy"}, "bin": [{"name": "btc_rpc_proxy", "path": "src/main.rs"}]}
    assert artefacts("", manifest, tmp_path) == {"btc_rpc_proxy"}


def test_a_cdylib_is_lib_name_dot_so(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    manifest = {"package": {"name": "my-plugin"}, "lib": {"crate-type": ["cdylib", "rlib"]}}
    assert artefacts("", manifest, tmp_path) == {"libmy_plugin.so", "libmy_plugin.rlib"}

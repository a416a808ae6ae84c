"""skill.md's cargo claims, measured with the real cargo on disk (no Docker).

A Docker build's hazard is cargo's: artefacts made by one build (a dummy pre-build, another
branch's build in a shared cache mount) and sources whose mtimes are older than them (`COPY`
keeps checkout-time mtimes).  Each test builds that situation in a temp dir — sources dated 2020,
artefacts made now — and runs what skill.md advises, then checks what the binary prints.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import in_ci, write

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")
RUSTUP = {"RUSTUP_HOME": os.environ.get("RUSTUP_HOME", "/root/.rustup"),
          "CARGO_HOME": os.environ.get("CARGO_HOME", "/root/.cargo")}
OLD = 1_577_836_800  # 2020-01-01: a checkout older than any artefact built today
MANIFEST = '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'


def cargo(crate: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    profile = () if "--profile" in args else ("--release",)
    return subprocess.run(["cargo", "build", *profile, "--offline", "-q", *args], cwd=crate, text=True,
                          capture_output=True, env={**os.environ, **RUSTUP, **(env or {})})


def run(binary: Path) -> str:
    return subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.strip()


def checkout(crate: Path, files: dict[str, str]) -> None:
    """Write the real sources with checkout-time mtimes, as `COPY` delivers them."""
    for rel, text in files.items():
        os.utime(write(crate / rel, text), (OLD, OLD))


def touch(crate: Path, *rels: str) -> None:
    for rel in rels:
        os.utime(crate / rel)


def dummy(crate: Path, files: dict[str, str], *args: str, env: dict[str, str] | None = None) -> None:
    """The pre-build against dummy sources (or an earlier build sharing the target directory)."""
    for rel, text in {"Cargo.toml": MANIFEST, **files}.items():
        write(crate / rel, text)
    assert cargo(crate, *args, env=env).returncode == 0


REAL_LIB = {"src/lib.rs": 'pub fn greeting() -> &\'static str { "real" }\n',
            "src/main.rs": "fn main() { println!(\"{}\", app::greeting()); }\n"}


def test_touching_only_main_fails_when_the_dummy_also_built_the_library(tmp_path):
    crate = tmp_path / "app"
    dummy(crate, {"src/main.rs": "fn main() {}\n", "src/lib.rs": ""})
    checkout(crate, REAL_LIB)
    touch(crate, "src/main.rs")
    failed = cargo(crate)
    assert failed.returncode != 0 and "greeting" in failed.stderr  # linked against the dummy library
    touch(crate, "src/main.rs", "src/lib.rs")  # every crate root the dummy compiled
    assert cargo(crate).returncode == 0 and run(crate / "target/release/app") == "real"


BUILD_SCRIPT = {  # a build script that turns a non-.rs file into code, watched by rerun-if-changed
    "build.rs": 'fn main() {\n    println!("cargo:rerun-if-changed=greeting.txt");\n'
                '    let text = std::fs::read_to_string("greeting.txt").unwrap();\n'
                '    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("greeting.rs");\n'
                '    std::fs::write(out, format!("const GREETING: &str = {:?};", text.trim())).unwrap();\n}\n',
    "src/main.rs": 'include!(concat!(env!("OUT_DIR"), "/greeting.rs"));\nfn main() { println!("{GREETING}"); }\n',
}


def test_a_find_over_rs_files_misses_an_input_watched_by_rerun_if_changed(tmp_path):
    crate = tmp_path / "app"
    dummy(crate, {**BUILD_SCRIPT, "greeting.txt": "old\n"})
    checkout(crate, {"greeting.txt": "new\n"})
    touch(crate, "src/main.rs")  # `find src -name '*.rs' -exec touch {} +`
    assert cargo(crate).returncode == 0 and run(crate / "target/release/app") == "old"
    touch(crate, "greeting.txt")  # every file of the member: `find . -type f -exec touch {} +`
    assert cargo(crate).returncode == 0 and run(crate / "target/release/app") == "new"


def test_touching_build_rs_reruns_the_script_and_so_reads_its_inputs(tmp_path):
    crate = tmp_path / "app"
    dummy(crate, {**BUILD_SCRIPT, "greeting.txt": "old\n"})
    checkout(crate, {"greeting.txt": "new\n"})
    touch(crate, "src/main.rs", "build.rs")  # `find . -name '*.rs'` reaches build.rs too
    assert cargo(crate).returncode == 0 and run(crate / "target/release/app") == "new"


def test_rm_under_target_release_misses_a_triple_and_a_custom_profile_and_fingerprint_works(tmp_path):
    crate = tmp_path / "app"
    triple = next(line.split()[1] for line in subprocess.run(
        ["rustc", "-vV"], capture_output=True, text=True, env={**os.environ, **RUSTUP}).stdout.splitlines()
        if line.startswith("host:"))
    args = ("--profile", "dist", "--target", triple)
    dummy(crate, {"Cargo.toml": MANIFEST + '[profile.dist]\ninherits = "release"\n',
                  "src/main.rs": 'fn main() { println!("dummy"); }\n'}, *args)
    checkout(crate, {"src/main.rs": 'fn main() { println!("real"); }\n'})
    out = crate / "target" / triple / "dist"
    shutil.rmtree(crate / "target/release", ignore_errors=True)  # `rm -rf target/release/…`: not where it is
    assert cargo(crate, *args).returncode == 0 and run(out / "app") == "dummy"
    for stale in out.glob(".fingerprint/app-*"):
        shutil.rmtree(stale)
    assert cargo(crate, *args).returncode == 0 and run(out / "app") == "real"


def test_a_selective_copy_without_build_rs_builds_silently_without_the_script(tmp_path):
    crate = tmp_path / "app"
    script = 'fn main() { println!("cargo:rustc-env=FLAVOUR=full"); }\n'
    main = 'fn main() { println!("{}", option_env!("FLAVOUR").unwrap_or("bare")); }\n'
    dummy(crate, {"src/main.rs": main})  # `COPY Cargo.toml ./` + `COPY src src`: build.rs left behind
    assert run(crate / "target/release/app") == "bare"
    write(crate / "build.rs", script)
    assert cargo(crate).returncode == 0 and run(crate / "target/release/app") == "full"


def test_a_smoke_check_against_the_dummy_binary_fails_the_stale_build(tmp_path):
    crate = tmp_path / "app"
    dummy(crate, {"src/main.rs": "fn main() {}\n"})
    kept = shutil.copy(crate / "target/release/app", tmp_path / "dummy-app")  # in the pre-build RUN
    checkout(crate, {"src/main.rs": 'fn main() { println!("real"); }\n'})
    assert cargo(crate).returncode == 0
    assert (crate / "target/release/app").read_bytes() == Path(kept).read_bytes()  # `! cmp -s` fails the build
    touch(crate, "src/main.rs")
    assert cargo(crate).returncode == 0
    assert (crate / "target/release/app").read_bytes() != Path(kept).read_bytes()


def test_a_cache_mount_shared_by_two_branches_ships_the_other_branchs_binary(tmp_path):
    """Same WORKDIR, same mount id: branch b's checkout is older than branch a's artefacts."""
    crate, mount = tmp_path / "app", tmp_path / "mount-main"
    env = {"CARGO_TARGET_DIR": str(mount)}
    dummy(crate, {"src/main.rs": 'fn main() { println!("branch-a"); }\n'}, env=env)
    checkout(crate, {"src/main.rs": 'fn main() { println!("branch-b"); }\n'})
    assert cargo(crate, env=env).returncode == 0 and run(mount / "release/app") == "branch-a"
    own = {"CARGO_TARGET_DIR": str(tmp_path / "mount-branch-b")}  # `id=` per branch
    assert cargo(crate, env=own).returncode == 0 and run(tmp_path / "mount-branch-b/release/app") == "branch-b"


def test_checksum_freshness_rebuilds_what_mtimes_call_fresh(tmp_path):
    """cargo -Zchecksum-freshness (unstable, rust-lang/cargo#14136): hashes, not mtimes."""
    crate = tmp_path / "app"
    unstable = {"RUSTC_BOOTSTRAP": "1"}
    dummy(crate, {"src/main.rs": 'fn main() { println!("dummy"); }\n'}, "-Zchecksum-freshness", env=unstable)
    checkout(crate, {"src/main.rs": 'fn main() { println!("real"); }\n'})
    assert cargo(crate, "-Zchecksum-freshness", env=unstable).returncode == 0
    assert run(crate / "target/release/app") == "real"

"""Three corpus cases built for real before and after `doctor --fix`: the dummy before, the change after.

Adapted so they build offline on this engine (and said so here): each case's FROM lines become
the test's builder/runtime images (`localhost/rust-builder:bookworm`, Debian cargo 1.65, passed
as the BUILDER/RUNTIME build args like examples/workspace/Dockerfile), package-manager lines and
the musl target (no rustup here) are dropped, every external dependency is stripped from the
manifests (path dependencies stay), edition 2024 (unknown to cargo 1.65) becomes 2021, a Cargo.lock (version 3, what cargo 1.65 reads) is made
with the host's cargo, and minimal sources printing a revision are synthesized.  The Dockerfile
logic that matters — pre-build, COPY, refresh or its absence, real build — stays as fetched.

* 17-kafka-bridge-rm-dash-wrong — a single crate; `rm … deps/rust-http-kafka-bridge*` removes
  nothing (cargo writes rust_http_kafka_bridge-<hash>), FB002: the dummy's message ships.
* 35-hydra-proxy-touch-misses-shared — a workspace; `touch crates/hydra-proxy/src/main.rs`
  misses crates/shared, FB001: the proxy links the dummy `shared` (`cargo new --lib`'s `add`).
* 27-scratch-webapp-cargo-init-no-refresh — a crate nested in a subdirectory of the context
  (`app/`, made by `cargo init app`), FB002: the dummy (`Hello, world!`) ships.  The corpus has
  no nested *workspace* with an FB001/FB002 finding; this nested layout stands in for it.

Each is built with `--no-cache` (the pre-build runs after the checkout, as on a cold builder),
run, fixed with `freshbin doctor --fix`, built again and run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import uuid
from pathlib import Path

import pytest

from ..conftest import FRESHBIN, REPO_ROOT, write
from .conftest import buildx_push, run_image, unique_image

pytestmark = pytest.mark.e2e
CORPUS = REPO_ROOT / "tests" / "corpus" / "doctor"
TOOL_HOME = Path.home()  # before the isolated-git fixture moves HOME: rustup's toolchains live there
HEADER = "ARG BUILDER=localhost/rust-builder:bookworm\nARG RUNTIME=localhost/rust-runtime:bookworm\n"


def strip_dependencies(manifest: Path) -> None:
    """Keep [package]/[workspace]/[[bin]]/[lib]; dependencies only where they are path dependencies."""
    data = tomllib.loads(manifest.read_text())
    paths = {k: v["path"] for k, v in (data.get("dependencies") or {}).items() if isinstance(v, dict) and "path" in v}
    kept, skipping = [], False
    for line in manifest.read_text().splitlines():
        if line.startswith("["):
            skipping = bool(re.match(r"\[(dev-|build-)?dependencies", line)) or line.startswith("[profile")
        if not skipping:
            kept.append(line)
    text = re.sub(r'^edition = "2024"$', 'edition = "2021"', "\n".join(kept), flags=re.M).rstrip() + "\n"
    if paths:
        text += "\n[dependencies]\n" + "".join(f'{k} = {{ path = "{v}" }}\n' for k, v in paths.items())
    manifest.write_text(text)


def lockfile(root: Path) -> None:
    env = {**os.environ, "RUSTUP_HOME": str(TOOL_HOME / ".rustup"), "CARGO_HOME": str(TOOL_HOME / ".cargo")}
    subprocess.run(["cargo", "generate-lockfile", "--offline", "--manifest-path", str(root / "Cargo.toml")],
                   check=True, capture_output=True, env=env)
    lock = root / "Cargo.lock"
    lock.write_text(re.sub(r"^version = 4$", "version = 3", lock.read_text(), flags=re.M))


def adapt(text: str, builder_from: str, runtime_from: str, drop: tuple[str, ...] = ()) -> str:
    text = text.replace(builder_from, "FROM ${BUILDER}").replace(runtime_from, "FROM ${RUNTIME}")
    for pattern in drop:
        text = re.sub(pattern, "", text, flags=re.M)
    return HEADER + text


def kafka(case: Path, revision: str) -> tuple[str, str, str]:
    strip_dependencies(case / "Cargo.toml")
    write(case / "src" / "main.rs", f'fn main() {{ println!("bridge revision={revision}"); }}\n')
    lockfile(case)
    df = case / "Dockerfile"
    df.write_text(adapt(df.read_text(), "FROM rust:latest", "FROM debian:buster-slim"))
    return "Dockerfile", "if you see this, the build broke", f"bridge revision={revision}"


def hydra(case: Path, revision: str) -> tuple[str, str, str]:
    for manifest in [case / "Cargo.toml", *sorted((case / "crates").glob("*/Cargo.toml"))]:
        strip_dependencies(manifest)
    write(case / "crates" / "shared" / "src" / "lib.rs",
          "pub fn add(left: usize, right: usize) -> usize { left * 1000 + right }\n")
    for name in ("hydrad", "hydra-server", "hydra-proxy"):
        write(case / "crates" / name / "src" / "main.rs",
              f'fn main() {{ println!("{name} revision={revision} add={{}}", shared::add(2, 3)); }}\n')
    lockfile(case)
    df = case / "deploy" / "proxy.dockerfile"
    df.write_text(adapt(df.read_text(), "FROM rust:1.70-alpine3.18", "FROM alpine:3.18",
                        (r"^RUN apk add .*$",)) + 'CMD ["/bin/hydra-proxy"]\n')
    return "deploy/proxy.dockerfile", f"hydra-proxy revision={revision} add=5", f"hydra-proxy revision={revision} add=2003"


def scratch(case: Path, revision: str) -> tuple[str, str, str]:
    strip_dependencies(case / "app" / "Cargo.toml")
    write(case / "app" / "src" / "main.rs", f'fn main() {{ println!("app revision={revision}"); }}\n')
    lockfile(case / "app")
    df = case / "Dockerfile"
    text = re.sub(r"^FROM rust@sha256:\w+", "FROM rust", df.read_text(), flags=re.M)
    text = adapt(text, "FROM rust", "FROM scratch", (r"^RUN rustup target add .*$", r"^USER 1000$"))
    text = text.replace(" --target x86_64-unknown-linux-musl", "").replace("x86_64-unknown-linux-musl/", "")
    df.write_text(text)
    return "Dockerfile", "Hello, world!", f"app revision={revision}"


CASES = {"17-kafka-bridge-rm-dash-wrong": kafka, "35-hydra-proxy-touch-misses-shared": hydra,
         "27-scratch-webapp-cargo-init-no-refresh": scratch}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case_ships_the_dummy_before_and_the_change_after_doctor_fix(engine, tmp_path, name):
    case = tmp_path / name
    shutil.copytree(CORPUS / name, case)
    revision = f"r-{uuid.uuid4().hex[:8]}"
    dockerfile, dummy, real = CASES[name](case, revision)
    image = unique_image(f"doctor-{name[:2]}")
    last = [ln for ln in (case / dockerfile).read_text().splitlines() if ln.startswith("FROM")][-1]
    target = last.split()[-1] if " AS " in last.upper() else None
    if target is None:  # an unnamed final stage: name it for --target
        text = (case / dockerfile).read_text().rsplit(last, 1)
        (case / dockerfile).write_text(f"{last} AS shipped".join(text))
        target = "shipped"

    buildx_push(case, dockerfile=dockerfile, target=target, ref=f"{image}:before", no_cache=True)
    assert run_image(f"{image}:before") == dummy

    fixed = subprocess.run([*FRESHBIN, "doctor", "--fix", dockerfile], cwd=case, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "-name '*.rs' -exec touch {} +" in fixed.stderr

    buildx_push(case, dockerfile=dockerfile, target=target, ref=f"{image}:after", no_cache=True)
    assert run_image(f"{image}:after") == real

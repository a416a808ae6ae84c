"""The benchmark workload: examples/workspace with real third-party crates.

The crates (serde + derive, serde_json, regex, clap 4 + derive, tokio) come from Debian's
`librust-*-dev` packages inside `localhost/rust-builder-deps:bookworm` (`invoke env.deps-image`),
served to cargo as a directory source, so the dependency build costs real time (about a minute
on 2 cores) without any network.  `small=True` gives the plain example (smoke runs).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from freshbin.demo import commit_all, git, set_revision

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "workspace"
DEPS_IMAGE = "localhost/rust-builder-deps:bookworm"
BUILDER_IMAGE = "localhost/rust-builder:bookworm"
RUNTIME_IMAGE = "localhost/rust-runtime:bookworm"

WORKSPACE_DEPS = """
serde = { version = "1", features = ["derive"] }
serde_json = "1"
regex = { version = "1", default-features = false, features = ["std", "unicode-perl"] }
clap = { version = "4", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
"""
CARGO_CONFIG = """[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
"""
WORKER_MAIN = """/// Source revision marker: change it together with the code so a running binary says what it is.
const REVISION: &str = "worker-initial";

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "world")]
    name: String,
}

#[derive(serde::Serialize)]
struct Status<'a> {
    name: &'a str,
    ok: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let ok = regex::Regex::new(r"^\\w+$").unwrap().is_match(&args.name);
    let status = tokio::spawn(async move { serde_json::to_string(&Status { name: "worker", ok }).unwrap() });
    println!("worker revision={}", REVISION);
    eprintln!("{}", status.await.unwrap());
}
"""


def builder_image(small: bool) -> str:
    return BUILDER_IMAGE if small else DEPS_IMAGE


def build_args(small: bool) -> dict[str, str]:
    return {"BUILDER": builder_image(small), "RUNTIME": RUNTIME_IMAGE}


def make_workload(dest: Path, *, small: bool = False) -> Path:
    """A git repository at `dest` holding the workload, one commit."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("target", ".freshbin"))
    if not small:
        _add_dependencies(dest)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "workload")
    return dest


def _add_dependencies(ws: Path) -> None:
    manifest = ws / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("[workspace.dependencies]\n",
                                                     "[workspace.dependencies]" + WORKSPACE_DEPS))
    worker = ws / "bin" / "worker" / "Cargo.toml"
    worker.write_text(worker.read_text().rstrip("\n") + "\n\n[dependencies]\n" + "".join(
        f"{name} = {{ workspace = true }}\n" for name in ("serde", "serde_json", "regex", "clap", "tokio")))
    (ws / "bin" / "worker" / "src" / "main.rs").write_text(WORKER_MAIN)
    (ws / ".cargo").mkdir(exist_ok=True)
    (ws / ".cargo" / "config.toml").write_text(CARGO_CONFIG)
    for name in ("Dockerfile", "Dockerfile.fixed"):
        path = ws / name
        path.write_text(path.read_text().replace("WORKDIR /app\n", "WORKDIR /app\nCOPY .cargo .cargo\n", 1))
    subprocess.run(["docker", "run", "--rm", "-v", f"{ws}:/w", "-w", "/w", DEPS_IMAGE,
                    "cargo", "generate-lockfile", "--offline"], check=True, capture_output=True)


def manifest_change(ws: Path, binary: str = "worker") -> str:
    """A one-line source change plus a manifest edit, committed: the dependency pre-build re-runs
    after the checkout, so the hazardous Dockerfile's cached build ships the dummy (stale)."""
    manifest = ws / "bin" / binary / "Cargo.toml"
    lines = [ln for ln in manifest.read_text().splitlines() if not ln.startswith("description")]
    lines.insert(lines.index("[package]") + 1, f'description = "{binary} {uuid.uuid4().hex[:8]}"')
    manifest.write_text("\n".join(lines) + "\n")
    return one_line_change(ws, binary)


def one_line_change(ws: Path, binary: str = "worker") -> str:
    """Edit bin/<binary>'s REVISION marker and commit: the change every row deploys."""
    revision = f"{binary}-{uuid.uuid4().hex[:10]}"
    set_revision(ws, revision, binary)
    commit_all(ws, f"change {revision}")
    return revision

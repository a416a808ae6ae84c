"""The benchmark workloads: examples/workspace with real third-party crates.

kind "deps": the worker uses serde + derive, serde_json, regex, clap 4 + derive, tokio from Debian's
`librust-*-dev` packages inside `localhost/rust-builder-deps:bookworm` (`testenv.sh deps-image`),
served to cargo as a directory source, so the dependency build costs real time (about a minute
on 2 cores) without any network.
kind "big": the worker is a small HTTP service (benchmarks/big_service/main.rs: hyper 0.14 + tower,
tokio, tracing + tracing-subscriber, serde, reqwest with rustls, prometheus, tokio-postgres,
jsonwebtoken, …: Debian 12 has no axum) on `localhost/rust-builder-big:bookworm` (`testenv.sh
big-image`): 159 library crates compiled, about 3 minutes `--no-cache` on 2 cores (183 s measured).
kind "small" (or `small=True`): the plain example (smoke runs).
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
BIG_IMAGE = "localhost/rust-builder-big:bookworm"
KINDS = ("small", "deps", "big")
BUILDER_IMAGE = "localhost/rust-builder:bookworm"
RUNTIME_IMAGE = "localhost/rust-runtime:bookworm"

WORKSPACE_DEPS = """
serde = { version = "1", features = ["derive"] }
serde_json = "1"
regex = { version = "1", default-features = false, features = ["std", "unicode-perl"] }
clap = { version = "4", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
"""
BIG_DEPS = """
serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_yaml = "0.8"
regex = "1"
clap = { version = "4", features = ["derive", "env"] }
tokio = { version = "1", features = ["full"] }
tokio-util = { version = "0.7", features = ["codec"] }
tokio-stream = "0.1"
hyper = { version = "0.14", features = ["server", "client", "http1", "http2", "tcp", "runtime"] }
tower = { version = "0.4", features = ["full"] }
tracing = "0.1"
tracing-subscriber = { version = "0.3", features = ["env-filter", "json"] }
reqwest = { version = "0.11", default-features = false, features = ["json", "rustls-tls"] }
rustls = "0.20"
tokio-rustls = "0.23"
hyper-rustls = "0.23"
chrono = { version = "0.4", features = ["serde"] }
uuid = { version = "1", features = ["v4", "serde"] }
futures = "0.3"
prometheus = { version = "0.13", default-features = false }
anyhow = "1"
thiserror = "1"
toml = "0.5"
base64 = "0.13"
sha2 = "0.10"
rand = "0.8"
bytes = "1"
url = "2"
http = "0.2"
tokio-postgres = "0.7"
jsonwebtoken = "8"
dashmap = "5"
parking_lot = "0.12"
once_cell = "1"
humantime = "2"
mime = "0.3"
itertools = "0.10"
"""
BIG_MAIN = Path(__file__).resolve().parent / "big_service" / "main.rs"
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


def kind_of(small: bool = False, kind: str = "") -> str:
    return kind or ("small" if small else "deps")


def builder_image(small: bool = False, kind: str = "") -> str:
    return {"small": BUILDER_IMAGE, "deps": DEPS_IMAGE, "big": BIG_IMAGE}[kind_of(small, kind)]


def build_args(small: bool = False, kind: str = "") -> dict[str, str]:
    return {"BUILDER": builder_image(small, kind), "RUNTIME": RUNTIME_IMAGE}


def make_workload(dest: Path, *, small: bool = False, kind: str = "") -> Path:
    """A git repository at `dest` holding the workload, one commit."""
    kind = kind_of(small, kind)
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("target", ".freshbin"))
    if kind == "deps":
        _add_dependencies(dest, WORKSPACE_DEPS, WORKER_MAIN, DEPS_IMAGE)
    elif kind == "big":
        _add_dependencies(dest, BIG_DEPS, BIG_MAIN.read_text(), BIG_IMAGE)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "workload")
    return dest


def _add_dependencies(ws: Path, deps: str, main_rs: str, builder: str) -> None:
    manifest = ws / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("[workspace.dependencies]\n",
                                                     "[workspace.dependencies]" + deps))
    names = [line.split(" =", 1)[0] for line in deps.strip().splitlines()]
    worker = ws / "bin" / "worker" / "Cargo.toml"
    worker.write_text(worker.read_text().rstrip("\n") + "\n\n[dependencies]\n" + "".join(
        f"{name} = {{ workspace = true }}\n" for name in names))
    (ws / "bin" / "worker" / "src" / "main.rs").write_text(main_rs)
    (ws / ".cargo").mkdir(exist_ok=True)
    (ws / ".cargo" / "config.toml").write_text(CARGO_CONFIG)
    for name in ("Dockerfile", "Dockerfile.fixed"):
        path = ws / name
        path.write_text(path.read_text().replace("WORKDIR /app\n", "WORKDIR /app\nCOPY .cargo .cargo\n", 1))
    subprocess.run(["docker", "run", "--rm", "-v", f"{ws}:/w", "-w", "/w", builder,
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


def crates_in(ws: Path, builder: str) -> int:
    """Packages cargo builds for the workspace (its `cargo tree`, normal and build edges, deduplicated)."""
    out = subprocess.run(["docker", "run", "--rm", "-v", f"{ws}:/w", "-w", "/w", builder, "cargo", "tree",
                          "--workspace", "--offline", "--prefix", "none", "-e", "normal,build"],
                         check=True, capture_output=True, text=True).stdout
    return len({line.split(" (")[0].strip() for line in out.splitlines() if line.strip()})

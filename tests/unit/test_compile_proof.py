"""guard's compile step proof (compile_proof.py) and what the build's record may vouch for (evidence.py).

The instrumented Dockerfile is checked by BuildKit's own parser (every form of RUN stays one RUN,
flags kept), the proof line's parsing, the local package graph against cargo's own view
(`cargo metadata`), and the evidence rules that decide FRESH: quiet cargo, a `cargo test` in the
compile step, a cached step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from freshbin import evidence
from freshbin.buildlog import parse_plain
from freshbin.compile_proof import SHIPPED_STAGE, compiled_into, compiled_units, instrument, local_graph, local_packages
from freshbin.detect import BaseFrom, Detection
from freshbin.dockerfile_model import parse

from ..conftest import in_ci, write

# rustup finds its toolchains under the real home; the tests run with a home of their own (conftest)
RUSTUP = {"RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
          "CARGO_HOME": os.environ.get("CARGO_HOME", str(Path.home() / ".cargo"))}
HEAD = "FROM rust AS build\nWORKDIR /app\nCOPY Cargo.toml ./\nRUN cargo build --release\nCOPY src src\n"
TAIL = "FROM debian\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n"


def instrumented(tmp_path: Path, compile_line: str, target: str = "") -> tuple[str, object]:
    dockerfile = write(tmp_path / "Dockerfile", HEAD + compile_line + TAIL)
    result = instrument(dockerfile, target or "1", ["app", "core-lib"], name_shipped_stage=not target)
    return dockerfile.read_text(), result


@pytest.mark.parametrize("line", [
    "RUN cargo build --release\n",
    "RUN --mount=type=cache,target=/app/target \\\n    --mount=type=cache,target=/usr/local/cargo/registry \\\n    cargo build --release\n",
    'RUN ["cargo", "build", "--release"]\n',
    "RUN <<EOF\nset -e\ncargo build --release\nEOF\n",
])
def test_only_the_shipping_compile_step_changes_and_stays_one_run(tmp_path, line):
    text, result = instrumented(tmp_path, line)
    df = parse(tmp_path / "Dockerfile")
    runs = [i for i in df.stages[0].instructions if i.cmd == "RUN"]
    assert len(runs) == 2 and "freshbin-guard" not in runs[0].text  # the pre-build keeps its cache key
    script = runs[1].text
    assert "freshbin-guard" in script and "cargo build --release" in script
    assert script.index("rm -rf") < script.index("cargo build --release")
    assert 'for fb_p in app core-lib;' in script
    assert [f for f in runs[1].flags if f.startswith("--mount")] == [f for f in parse_flags(line)]
    assert df.stages[-1].name == SHIPPED_STAGE and result.renamed == SHIPPED_STAGE
    assert result.steps == (runs[1].line,)


def parse_flags(line: str) -> list[str]:
    return [w for w in line.replace("\\\n", " ").split() if w.startswith("--mount")]


def test_two_instrumentations_differ_so_the_step_always_runs(tmp_path):
    first, _ = instrumented(tmp_path, "RUN cargo build --release\n")
    second, _ = instrumented(tmp_path, "RUN cargo build --release\n")
    assert first != second


def test_the_compile_that_ships_is_found_when_the_binary_leaves_by_cp(tmp_path):
    dockerfile = write(tmp_path / "Dockerfile", "FROM rust AS build\nWORKDIR /src\nCOPY . .\n"
                       "RUN cd svc && cargo build --release && cp target/release/app /app-bin\n"
                       "FROM debian AS run\nCOPY --from=build /app-bin /usr/local/bin/app\n")
    result = instrument(dockerfile, "run", ["app"])
    assert result.steps == (4,) and "/src/svc/target" in dockerfile.read_text()


def test_no_compile_step_is_said_not_hidden(tmp_path):
    dockerfile = write(tmp_path / "Dockerfile", "FROM debian\nCOPY app /app\n")
    result = instrument(dockerfile, "0", ["app"])
    assert result.steps == () and "not instrumented" in result.note


def test_the_proof_line_names_packages_not_units():
    lines = ["   Compiling app v0.1.0 (/app)",
             "freshbin-compiled: app-0123456789abcdef core-lib-fedcba9876543210 serde-0011223344556677 junk "]
    assert compiled_units(lines) == {"app", "core-lib", "serde"}
    assert compiled_units(["    Finished release"]) is None
    assert compiled_units(["freshbin-compiled: "]) == set()


def repository(tmp_path: Path) -> Path:
    """libs/common outside the workspace `svc/`, an excluded member reached by path, a [patch] path."""
    write(tmp_path / "libs/common/Cargo.toml", '[package]\nname = "common"\nversion = "0.1.0"\nedition = "2021"\n')
    write(tmp_path / "libs/common/src/lib.rs", "")
    write(tmp_path / "svc/Cargo.toml", '[workspace]\nmembers = ["app"]\nexclude = ["tools"]\nresolver = "2"\n\n'
          '[workspace.dependencies]\nhelper = { path = "tools/helper" }\n')
    write(tmp_path / "svc/app/Cargo.toml", '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n'
          '[dependencies]\ncommon = { path = "../../libs/common" }\nhelper.workspace = true\n\n'
          '[dev-dependencies]\ntesting = { path = "../testing" }\n')
    write(tmp_path / "svc/app/src/main.rs", "fn main() {}\n")
    write(tmp_path / "svc/tools/helper/Cargo.toml", '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n')
    write(tmp_path / "svc/tools/helper/src/lib.rs", "")
    write(tmp_path / "svc/testing/Cargo.toml", '[package]\nname = "testing"\nversion = "0.1.0"\nedition = "2021"\n')
    write(tmp_path / "svc/testing/src/lib.rs", "")
    return tmp_path / "svc"


def test_local_packages_wherever_they_live(tmp_path):
    ws = repository(tmp_path)
    assert local_packages(ws, tmp_path) == ["app", "common", "helper", "testing"]
    graph = local_graph(ws, tmp_path)
    assert graph.depends["app"] == {"../libs/common", "tools/helper"}  # dev-dependencies never ship
    assert compiled_into(ws, tmp_path, {"app"}) == {"app", "common", "helper"}
    assert local_packages(ws, ws) == ["app", "helper", "testing"]  # nothing outside the export


@pytest.mark.skipif(shutil.which("cargo") is None and not in_ci(), reason="cargo is not installed")
def test_local_packages_are_cargos_own(tmp_path):
    ws = repository(tmp_path)
    proc = subprocess.run(["cargo", "metadata", "--offline", "--format-version", "1",
                           "--manifest-path", str(ws / "Cargo.toml")], capture_output=True, text=True,
                          env={**os.environ, **RUSTUP})
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(proc.stdout)
    local = sorted(p["name"] for p in meta["packages"] if p["source"] is None)
    assert local_packages(ws, tmp_path) == local


LOG = """#1 [build 4/5] RUN cargo build --release
#1 CACHED
#2 [build 5/5] RUN {run}
{output}#2 DONE 1.0s
"""


def judged(run: str, output: list[str], needed: set[str] = frozenset({"app"})) -> evidence.BuildEvidence:
    body = "".join(f"#2 0.{i} {line}\n" for i, line in enumerate(output))
    nothing = Detection("", "HEAD", BaseFrom.FLAG, [], [], [], False, False, "")
    return evidence.judge(LOG.format(run=run, output=body), nothing, "app", Path("no-such-Dockerfile"),
                          needed=set(needed))


def test_a_test_build_after_the_build_is_not_the_shipped_compile():
    output = ["    Finished release [optimized] target(s) in 0.1s", "   Compiling app v0.1.0 (/app)",
              "    Finished test [unoptimized] target(s) in 0.2s"]
    proof = judged("cargo build --release && cargo test --release", output)
    assert not proof.vouched and proof.compiled == []


def test_quiet_cargo_is_no_evidence_of_staleness_nor_of_freshness():
    proof = judged("cargo build --release -q", [])
    assert not proof.vouched and not proof.stale and "does not say" in (proof.note or "")


def test_the_proof_line_vouches_for_quiet_cargo():
    proof = judged("cargo build --release -q", ["freshbin-compiled: app-0123456789abcdef"])
    assert proof.vouched and proof.proven


def test_a_package_the_binary_needs_but_the_step_did_not_compile_is_not_vouched():
    proof = judged("cargo build --release", ["   Compiling app v0.1.0 (/app)", "    Finished release"],
                   needed={"app", "core"})
    assert not proof.vouched and "core" in (proof.note or "")

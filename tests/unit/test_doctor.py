"""doctor's rules over Dockerfile variants, against a copy of the example workspace."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from freshbin.doctor import check, fix
from freshbin.errors import UsageError, WorkspaceError

from ..conftest import FRESHBIN, EXAMPLE, write

WATCH = ["crates/", "bin/"]
HEAD = """ARG BUILDER=rust:1-bookworm
FROM ${BUILDER} AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
COPY crates/greeting/Cargo.toml crates/greeting/Cargo.toml
COPY crates/storage/pg/Cargo.toml crates/storage/pg/Cargo.toml
COPY bin/api/Cargo.toml bin/api/Cargo.toml
COPY bin/worker/Cargo.toml bin/worker/Cargo.toml
RUN mkdir -p crates/greeting/src crates/storage/pg/src bin/api/src bin/worker/src \\
 && touch crates/greeting/src/lib.rs crates/storage/pg/src/lib.rs \\
 && echo 'fn main() {}' > bin/api/src/main.rs && echo 'fn main() {}' > bin/worker/src/main.rs \\
 && cargo build --release
"""
COPY_SRC = "COPY crates crates\nCOPY bin bin\n"
FINAL = """FROM debian:bookworm-slim AS api
COPY --from=builder /app/target/release/api /usr/local/bin/api
FROM debian:bookworm-slim AS worker
COPY --from=builder /app/target/release/worker /usr/local/bin/worker
"""
WORKER_ONLY = "FROM debian:bookworm-slim AS worker\nCOPY --from=builder /app/target/release/worker /w\n"
DEPS_STAGE = HEAD.replace("AS builder", "AS deps") + "FROM deps AS builder\n"
CHEF = """FROM rust AS builder
WORKDIR /app
COPY recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
"""

VARIANTS = {
    "partial touch (the example)": (HEAD + COPY_SRC + "RUN touch crates/*/src/lib.rs && cargo build --release\n" + FINAL, {"FB001", "FB006"}),
    "no refresh": (HEAD + COPY_SRC + "RUN cargo build --release\n" + FINAL, {"FB002", "FB006"}),
    "touch misses nested crate": (HEAD + COPY_SRC + "RUN touch crates/*/src/lib.rs bin/*/src/main.rs && cargo build --release\n" + FINAL, {"FB001", "FB006"}),
    "touch covers every package": (HEAD + COPY_SRC + "RUN touch crates/*/src/lib.rs crates/storage/*/src/lib.rs bin/*/src/main.rs && cargo build --release\n" + FINAL, set()),
    "find . touches everything": (HEAD + COPY_SRC + "RUN find . -name '*.rs' -exec touch {} + && cargo build --release\n" + FINAL, set()),
    "find | xargs misses bin": (HEAD + COPY_SRC + "RUN find crates -name '*.rs' | xargs touch && cargo build --release\n" + FINAL, {"FB001", "FB006"}),
    "only worker shipped, bins touched": (HEAD + COPY_SRC + "RUN touch bin/*/src/main.rs && cargo build --release\n" + WORKER_ONLY, set()),
    "refresh in its own RUN": (HEAD + COPY_SRC + "RUN find crates bin -exec touch {} +\nRUN cargo build --release\n" + FINAL, set()),
    "deps stage, no refresh": (DEPS_STAGE + COPY_SRC + "RUN cargo build --release\n" + FINAL, {"FB002"}),
    "deps stage with refresh": (DEPS_STAGE + COPY_SRC + "RUN find crates bin -name '*.rs' -exec touch {} + && cargo build --release\n" + FINAL, set()),
    "cargo-chef with refresh": (CHEF + "RUN find crates bin -name '*.rs' -exec touch {} + && cargo build --release\n" + FINAL, set()),
    "cargo-chef without refresh (chef removes its dummies)": (CHEF + "RUN cargo build --release\n" + FINAL, set()),
    "cache mount, no pre-build, no refresh": ("FROM rust AS builder\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target cargo build --release && cp target/release/api /api\n", {"FB003"}),
    "cache mount with uid": ("FROM rust AS builder\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target,uid=1000 find . -exec touch {} + && cargo build --release\n", {"FB005"}),
    "cache mount with refresh": ("FROM rust AS builder\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target find . -exec touch {} + && cargo build --release\n", set()),
    "wrong binary name": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release\nFROM x AS api\nCOPY --from=builder /app/target/release/apii /a\n", {"FB007"}),
    "musl target, release dir": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release --target x86_64-unknown-linux-musl\nFROM x AS api\nCOPY --from=builder /app/target/release/api /a\n", {"FB007"}),
    # no --target: the builder image's cargo config may set one (ekidd/rust-musl-builder does; corpus 11)
    # no --target, no CARGO_BUILD_TARGET, no [build] target, a plain rust image: cargo writes target/release/ (#27)
    "triple dir without --target": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release\nFROM x AS api\nCOPY --from=builder /app/target/x86_64-unknown-linux-gnu/release/api /a\n", {"FB007"}),
    "triple dir, CARGO_BUILD_TARGET": (HEAD + COPY_SRC + "ENV CARGO_BUILD_TARGET=x86_64-unknown-linux-gnu\nRUN find . -exec touch {} + && cargo build --release\nFROM x AS api\nCOPY --from=builder /app/target/x86_64-unknown-linux-gnu/release/api /a\n", set()),
    "triple dir, musl builder image sets the target": (HEAD.replace("rust:1-bookworm", "ekidd/rust-musl-builder:1.57.0") + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release\nFROM x AS api\nCOPY --from=builder /app/target/x86_64-unknown-linux-musl/release/api /a\n", set()),
    "debug dir for a release build": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release\nFROM x AS api\nCOPY --from=builder /app/target/debug/api /a\n", {"FB007"}),
    # the cross pattern: TARGETARCH mapped to a triple in the build; each platform copies its own
    "computed --target, triple dirs": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release --target \"$(cat /rust-target)\"\nFROM x AS api-arm64\nCOPY --from=builder /app/target/aarch64-unknown-linux-gnu/release/api /a\n", set()),
    "computed --target, debug dir": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release --target \"$(cat /rust-target)\"\nFROM x AS api-arm64\nCOPY --from=builder /app/target/aarch64-unknown-linux-gnu/debug/api /a\n", {"FB007"}),
    "musl target, right dir": (HEAD + COPY_SRC + "RUN find . -exec touch {} + && cargo build --release --target x86_64-unknown-linux-musl\nFROM x AS api\nCOPY --from=builder /app/target/x86_64-unknown-linux-musl/release/api /a\n", set()),
    "suppressed": (HEAD + COPY_SRC + "# freshbin ignore=FB001\nRUN touch crates/*/src/lib.rs && cargo build --release\n" + FINAL, {"FB006"}),
    "ARG substitution in COPY": ("ARG SRC=crates\n" + HEAD + "ARG SRC\nCOPY ${SRC} ${SRC}\nCOPY bin bin\nRUN touch crates/*/src/lib.rs && cargo build --release\n" + FINAL, {"FB001", "FB006"}),
    "line continuation": (HEAD + COPY_SRC + "RUN touch \\\n    crates/*/src/lib.rs \\\n && cargo build --release\n" + FINAL, {"FB001", "FB006"}),
    "heredoc RUN with full refresh": (HEAD + COPY_SRC + "RUN <<EOF\nfind crates bin -name '*.rs' -exec touch {} +\ncargo build --release\nEOF\n" + FINAL, set()),
    "heredoc RUN without refresh": (HEAD + COPY_SRC + "RUN <<EOF\nset -e\ncargo build --release\nEOF\n" + FINAL, {"FB002", "FB006"}),
}


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant(ws, name):
    text, expected = VARIANTS[name]
    write(ws / "Dockerfile.t", text)
    assert {f.rule for f in check(ws / "Dockerfile.t", ws, ws)} == expected


def test_example_dockerfiles(ws):
    assert {f.rule for f in check(ws / "Dockerfile", ws, ws)} == {"FB001", "FB006"}
    assert check(ws / "Dockerfile.fixed", ws, ws) == []


def test_a_clean_report_says_what_it_checked(ws):
    from freshbin.doctor import diagnose

    report = diagnose(ws / "Dockerfile.fixed", ws, ws, target="api")
    assert report.findings == ()
    stages, calls, binary = report.checked
    assert stages == "3 stage(s): builder (line 6), api (line 22), worker (line 26); ships api"
    assert diagnose(ws / "Dockerfile.fixed", ws, ws).checked[0].endswith("; ships worker, the last")
    assert calls.startswith("2 cargo call(s): line 13 cargo build (dependency pre-build over dummy sources); "
                            "line 20 cargo build (build of the copied sources")
    assert binary.startswith("shipped binary: /usr/local/bin/api (Dockerfile.fixed:")
    proc = subprocess.run([*FRESHBIN, "doctor", "--dockerfile", "Dockerfile.fixed"], cwd=ws, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("no findings\nchecked Dockerfile.fixed:\n  - 3 stage(s):")
    assert "shipped binary: /usr/local/bin/worker" in proc.stdout  # a named file: its last stage ships


COPY_ALL = HEAD + "COPY . .\nRUN find crates bin -name '*.rs' -exec touch {} + && cargo build --release\n" + FINAL


@pytest.mark.parametrize("ignore, inputs, expected", [
    (".*\n", {".cargo/config.toml": "[build]\nrustflags = ['--cfg', 'x']\n"}, True),
    (".*\n", {".cargo/config.toml": "[alias]\nb = 'build'\n"}, False),  # an alias cannot change the build
    (".*\n", {".cargo/config.toml": "[target.x86_64-pc-windows-msvc]\nlinker = 'x'\n"}, False),
    ("**/build.rs\n", {"crates/greeting/build.rs": "fn main() {}\n"}, True),
    ("bin/worker\n", {}, True),
    ("bin/worker\n!bin/worker/src\n!bin/worker/Cargo.toml\n", {}, False),
    ("rust-toolchain*\n", {"rust-toolchain.toml": "[toolchain]\n"}, True),
    ("**/tests\n", {"crates/greeting/tests/t.rs": "#[test] fn t() {}\n"}, False),  # never in a shipped binary
    ("target\n.git\n*.md\n", {}, False),
])
def test_dockerignore(ws, ignore, inputs, expected):
    write(ws / ".dockerignore", ignore)
    for rel, text in inputs.items():
        write(ws / rel, text)
    write(ws / "Dockerfile.t", COPY_ALL)
    rules = {f.rule for f in check(ws / "Dockerfile.t", ws, ws)}
    assert ("FB004" in rules) is expected


def test_dockerignore_only_for_what_the_dockerfile_copies(ws):
    """Dockerfile.fixed copies crates/ and bin/ only: an excluded .cargo never reaches it either way."""
    write(ws / ".dockerignore", ".*\n")
    write(ws / ".cargo/config.toml", "[build]\nrustflags = ['--cfg', 'x']\n")
    assert check(ws / "Dockerfile.fixed", ws, ws) == []


def test_dockerfile_dockerignore_is_read_first(ws):
    write(ws / ".dockerignore", "target\n")
    write(ws / "Dockerfile.t.dockerignore", "bin/worker\n")
    write(ws / "Dockerfile.t", COPY_ALL)
    [finding] = check(ws / "Dockerfile.t", ws, ws)
    assert finding.rule == "FB004" and finding.file.endswith("Dockerfile.t.dockerignore") and finding.line == 1


def test_toolchain_file_is_no_input_when_the_image_pins_its_toolchain(ws):
    write(ws / ".dockerignore", "rust-toolchain*\n")
    write(ws / "rust-toolchain.toml", "[toolchain]\nchannel = '1.80'\n")
    write(ws / "Dockerfile.t", COPY_ALL.replace("ARG BUILDER=rust:1-bookworm", "ARG BUILDER=rust:1.80-bookworm"))
    assert check(ws / "Dockerfile.t", ws, ws) == []


def test_fix_rewrites_only_the_refresh_and_is_idempotent(ws):
    before = (ws / "Dockerfile").read_text()
    new, diff = fix(ws / "Dockerfile", ws)
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ["-RUN touch crates/*/src/lib.rs && cargo build --release",
                       "+RUN find bin crates -name '*.rs' -exec touch {} + && cargo build --release"]
    assert len(new.splitlines()) == len(before.splitlines())
    (ws / "Dockerfile").write_text(new)
    assert check(ws / "Dockerfile", ws, ws) == []
    assert fix(ws / "Dockerfile", ws) == (new, "")


def test_fix_adds_a_refresh_where_there_is_none(ws):
    write(ws / "Dockerfile.t", VARIANTS["no refresh"][0])
    new, diff = fix(ws / "Dockerfile.t", ws)
    assert "RUN find bin crates -name '*.rs' -exec touch {} + && cargo build --release" in new
    write(ws / "Dockerfile.t", new)
    assert check(ws / "Dockerfile.t", ws, ws) == []


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"", "is empty"),
    (b"\x00\x01\x02ELF", "binary file"),
    (b"\xff\xfeFROM", "not UTF-8"),
])
def test_bad_dockerfiles(ws, content, message):
    path = ws / "Dockerfile.t"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        check(path, ws, ws)


def test_broken_workspace_manifest(ws):
    (ws / "Cargo.toml").write_text("[workspace\n")
    with pytest.raises(WorkspaceError, match="not valid TOML"):
        check(ws / "Dockerfile", ws, ws)


def test_cli_formats_and_threshold(ws):
    def run(*args):
        return subprocess.run([*FRESHBIN, "doctor", *args], cwd=ws, capture_output=True, text=True)

    table = run()
    assert table.returncode == 1 and "FB001" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 100
    data = json.loads(run("--format", "json").stdout)
    assert {d["rule"] for d in data} == {"FB001", "FB006"}
    assert set(data[0]) == {"file", "line", "rule", "severity", "message", "fix"}
    sarif = json.loads(run("--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0" and {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"FB001", "FB006"}
    assert run("--dockerfile", "Dockerfile.fixed").returncode == 0
    assert run("--failure-threshold", "none").returncode == 0
    bad = run("--format", "xml")
    assert bad.returncode == 2 and bad.stderr.startswith("freshbin: error:")
    missing = run("--dockerfile", "Nope")
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-2.1.0-rtm.5.json"


def test_sarif_validates_against_the_sarif_2_1_0_schema(ws):
    """The OASIS SARIF 2.1.0 schema (rtm.5, vendored from npm @microsoft/jest-sarif, MIT)."""
    schema = json.loads(SARIF_SCHEMA.read_text())
    out = subprocess.run([*FRESHBIN, "doctor", "--format", "sarif"], cwd=ws, capture_output=True, text=True)
    assert out.returncode == 1
    log = json.loads(out.stdout)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert log["runs"][0]["results"], "the hazardous example must produce results to validate"
    # The schema must be able to fail: a result without a message is invalid SARIF.
    broken = json.loads(out.stdout)
    del broken["runs"][0]["results"][0]["message"]
    assert list(validator.iter_errors(broken))


def test_an_unnamed_last_stage_copying_to_the_root_workdir(ws):
    """The shape of a real service (rust-std-web-server): `FROM runtime` unnamed, `COPY … .` at WORKDIR /."""
    from freshbin.doctor import diagnose

    write(ws / "Dockerfile.root", "FROM rust AS builder\nCOPY . .\nRUN cargo build --release\n"
          "FROM debian\nCOPY --from=builder /target/release/worker .\nCMD [\"./worker\"]\n")
    stages, _, binary = diagnose(ws / "Dockerfile.root", ws, ws).checked
    assert stages == "2 stage(s): builder (line 1), stage 2 (unnamed) (line 4); ships stage 2 (unnamed), the last"
    assert binary.startswith("shipped binary: /worker (")

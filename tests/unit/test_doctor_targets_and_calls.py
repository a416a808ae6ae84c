"""doctor decides from what cargo really builds (#27): targets, the call's selection, cache mounts, inputs.

Each test is a small project written to tmp_path; all but the three controls (rm inside the
same mount, a build in `case`, an ignored member source) failed on the code before #27.
"""

from __future__ import annotations

from pathlib import Path

from freshbin.doctor import diagnose
from freshbin.dockerfile_shell import commands


def project(tmp: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return tmp


def rules(tmp: Path, dockerfile: str, files: dict[str, str]) -> set[tuple[str, int]]:
    project(tmp, {"Dockerfile": dockerfile, **files})
    return {(f.rule, f.line) for f in diagnose(tmp / "Dockerfile", tmp).findings if f.severity in ("error", "warning")}


APP = {"Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n', "src/main.rs": ""}
PRE = "FROM rust:1.80 AS build\nWORKDIR /app\nCOPY Cargo.toml ./\n"


def test_rm_without_the_cache_mount_leaves_the_dummy_in_the_mount(tmp_path):
    text = (PRE + "RUN --mount=type=cache,target=/app/target mkdir src && echo 'fn main() {}' > src/main.rs"
            " && cargo build --release\nRUN rm -rf target/release/deps/app* src\nCOPY src src\n"
            "RUN --mount=type=cache,target=/app/target cargo build --release && cp target/release/app /app.bin\n")
    assert ("FB002", 7) in rules(tmp_path, text, APP)


def test_rm_inside_the_same_mount_removes_the_dummy(tmp_path):
    text = (PRE + "RUN --mount=type=cache,target=/app/target mkdir src && echo 'fn main() {}' > src/main.rs"
            " && cargo build --release && rm -rf target/release/deps/app* src\nCOPY src src\n"
            "RUN --mount=type=cache,target=/app/target cargo build --release && cp target/release/app /app.bin\n")
    assert not {r for r, _ in rules(tmp_path, text, APP)} & {"FB001", "FB002"}


def test_a_bench_stub_under_cargo_build_bin_is_never_compiled(tmp_path):
    files = {"Cargo.toml": '[package]\nname = "svc"\nversion = "0.1.0"\n[[bench]]\nname = "speed"\nharness = false\n',
             "src/main.rs": "", "benches/speed.rs": ""}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY Cargo.toml ./\n"
            "RUN mkdir -p src benches && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > benches/speed.rs"
            " && cargo build --release --bin svc && rm -f target/release/deps/svc*\n"
            "COPY src src\nCOPY benches benches\nRUN cargo build --release --bin svc\n"
            "FROM debian\nCOPY --from=build /app/target/release/svc /svc\n")
    assert not rules(tmp_path, text, files)


def test_a_second_bin_stub_outside_bin_x_is_never_compiled(tmp_path):
    files = {**APP, "src/bin/tool.rs": ""}
    text = (PRE + "RUN mkdir -p src/bin && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > src/bin/tool.rs"
            " && cargo build --release --bin app\nCOPY src src\nRUN touch src/main.rs && cargo build --release --bin app\n")
    assert not rules(tmp_path, text, files)


def test_copy_of_the_package_name_when_bin_is_renamed_fails_the_build(tmp_path):
    files = {"Cargo.toml": '[package]\nname = "btc-proxy"\nversion = "0.1.0"\n[[bin]]\nname = "btc_proxy"\npath = "src/main.rs"\n',
             "src/main.rs": ""}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
            "FROM debian\nCOPY --from=build /app/target/release/btc-proxy /usr/bin/btc-proxy\n")
    assert rules(tmp_path, text, files) == {("FB007", 6)}
    fixed = text.replace("release/btc-proxy", "release/btc_proxy")
    assert rules(tmp_path, fixed, files) == set()


def test_a_cdylib_artefact_is_produced(tmp_path):
    files = {"Cargo.toml": '[package]\nname = "my-plugin"\nversion = "0.1.0"\n[lib]\ncrate-type = ["cdylib"]\n',
             "src/lib.rs": ""}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
            "FROM debian\nCOPY --from=build /app/target/release/libmy_plugin.so /usr/lib/\n")
    assert rules(tmp_path, text, files) == set()


def test_a_triple_dir_with_no_target_anywhere_is_reported(tmp_path):
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
            "FROM scratch\nCOPY --from=build /app/target/x86_64-unknown-linux-musl/release/app /app\n")
    assert rules(tmp_path, text, APP) == {("FB007", 6)}
    config = {**APP, ".cargo/config.toml": '[build]\ntarget = "x86_64-unknown-linux-musl"\n'}
    assert rules(tmp_path, text, config) == set()


def test_doc_snippets_and_fixtures_are_no_build_input(tmp_path):
    files = {**APP, "docs/snippet.rs": "", "fixtures/bad/main.rs": "", "scripts/gen.rs": "",
             ".dockerignore": "docs\nfixtures\nscripts\n"}
    text = "FROM rust:1.80\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    assert rules(tmp_path, text, files) == set()


def test_a_nested_non_member_package_is_no_build_input(tmp_path):
    files = {**APP, "tools/gen/Cargo.toml": '[package]\nname = "gen"\nversion = "0.1.0"\n', "tools/gen/src/main.rs": "",
             ".dockerignore": "tools\n"}
    text = "FROM rust:1.80\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    assert rules(tmp_path, text, files) == set()


def test_an_ignored_member_source_is_still_reported(tmp_path):
    files = {**APP, "src/extra.rs": "", ".dockerignore": "src/extra.rs\n"}
    text = "FROM rust:1.80\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    assert rules(tmp_path, text, files) == {("FB004", 1)}


def test_cargo_build_inside_sh_flags_and_case_is_a_build():
    found = commands("/bin/sh -ec 'case \"$T\" in amd64) cargo build --release ;; esac'", "/app")
    assert ("cargo", "build", "--release") in [c.words for c in found]


def test_a_dummy_build_inside_case_then_no_refresh_is_fb002(tmp_path):
    text = (PRE + "ARG TARGETARCH\nRUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release\n"
            "COPY src src\nRUN case \"$TARGETARCH\" in \\\n  amd64) cargo build --release ;; \\\n"
            "  arm64) cargo build --release ;; \\\n esac\n")
    assert ("FB002", 7) in rules(tmp_path, text, APP)

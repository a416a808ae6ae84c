"""The wrong answers of the held-out set issue-27 (corpus 102–139), one general case per class.

Each test is a small project written to tmp_path, not the corpus case itself; each failed on the
code before the change that made doctor right on its class.
"""

from __future__ import annotations

from pathlib import Path

from freshbin.doctor import diagnose


def rules(tmp: Path, dockerfile: str, files: dict[str, str]) -> set[tuple[str, int]]:
    for rel, text in {"Dockerfile": dockerfile, **files}.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return {(f.rule, f.line) for f in diagnose(tmp / "Dockerfile", tmp).findings if f.severity in ("error", "warning")}


APP = {"Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n', "src/main.rs": ""}
HEAD = "FROM rust:1.80 AS build\nWORKDIR /app\nCOPY Cargo.toml ./\n"


def test_a_target_mount_with_uid_and_no_refresh_is_fb005_alone(tmp_path):
    text = HEAD + ("COPY src src\nRUN --mount=type=cache,target=/app/target,uid=1000,gid=1000 cargo build --release"
                   " && cp target/release/app /app.bin\n")
    assert rules(tmp_path, text, APP) == {("FB005", 5)}


DUMMY = "RUN mkdir src && echo 'fn main() {}' > src/main.rs\n"


def test_cargo_with_a_toolchain_and_z_flags_and_a_glob_copy_of_the_sources(tmp_path):
    """`cargo +nightly -Z sparse-registry build` is cargo; `COPY src/* ./src` brings the real main.rs."""
    text = HEAD + DUMMY + ("RUN cargo +nightly -Z sparse-registry build --release\nCOPY src/* ./src\n"
                           "RUN cargo +nightly -Z sparse-registry install --path .\n")
    assert ("FB002", 7) in rules(tmp_path, text, APP)


def test_a_glob_copy_of_the_sources_is_the_real_sources(tmp_path):
    text = HEAD + DUMMY + "RUN cargo build --release\nCOPY src/* ./src/\nRUN REFRESH cargo build --release\n"
    assert ("FB002", 7) in rules(tmp_path, text.replace("REFRESH", ""), APP)
    assert not rules(tmp_path, text.replace("REFRESH", "touch src/main.rs &&"), APP)


def test_xx_cargo_is_cargo(tmp_path):
    text = HEAD + ("COPY src src\nRUN --mount=type=cache,target=/app/target xx-cargo build --release --target-dir ./target"
                   " && cp target/$(xx-cargo --print-target-triple)/release/app /app.bin\n")
    assert rules(tmp_path, text, APP) == {("FB003", 5)}


def test_a_cargo_config_the_dockerfile_blanks_sets_no_target(tmp_path):
    """The context's config asks for musl; the Dockerfile empties it before building: target/release."""
    files = {**APP, ".cargo/config.toml": '[build]\ntarget = "x86_64-unknown-linux-musl"\n'}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\nRUN BLANK cargo build --release\n"
            "FROM debian\nCOPY --from=build /app/target/release/app /app\n")
    assert not rules(tmp_path, text.replace("BLANK", "echo '' > .cargo/config.toml &&"), files)
    assert rules(tmp_path, text.replace("BLANK", ""), files) == {("FB007", 6)}


def test_a_members_dummy_bin_never_reaches_the_shipped_binary(tmp_path):
    """`app` depends on member `tool`'s library; `tool`'s own binary is not in `app`: its unrefreshed
    dummy main.rs is no hazard once the dummies of app's bin and tool's lib are removed."""
    files = {"Cargo.toml": '[workspace]\nmembers = [".", "tool"]\n[package]\nname = "app"\nversion = "0.1.0"\n'
                           '[dependencies]\ntool = { path = "tool" }\n',
             "src/main.rs": "", "tool/Cargo.toml": '[package]\nname = "tool"\nversion = "0.1.0"\n',
             "tool/src/main.rs": "", "tool/src/lib.rs": ""}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nCOPY Cargo.toml ./\nCOPY tool/Cargo.toml tool/\n"
            "RUN mkdir -p src tool/src && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > tool/src/main.rs"
            " && touch tool/src/lib.rs && cargo build --release\nCOPY . .\n"
            "RUN rm -f target/release/deps/app* RMLIB && cargo build --release\n"
            "FROM debian\nCOPY --from=build /app/target/release/app /app\n")
    assert not rules(tmp_path, text.replace("RMLIB", "target/release/deps/libtool*"), files)
    assert ("FB001", 7) in rules(tmp_path, text.replace("RMLIB", ""), files)  # tool's dummy lib is in app


def test_a_cache_mount_whose_output_never_ships_is_no_fb003(tmp_path):
    """The image runs `cargo run` at start-up; what the build left in the (relative) mount stays there."""
    text = ("FROM rust:1.80\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=target cargo build --release"
            "COPY_OUT\nCMD [\"cargo\", \"run\", \"--release\"]\n")
    assert not rules(tmp_path, text.replace("COPY_OUT", ""), APP)
    assert rules(tmp_path, text.replace("COPY_OUT", " && cp target/release/app /usr/local/bin/"), APP) == {("FB003", 4)}


def test_an_explicit_target_dir_equal_to_the_default_stays_where_it_is_set(tmp_path):
    """Held-out set issue-27-b (measured once, then fixed): `ENV CARGO_TARGET_DIR=/app/target` with
    `--manifest-path crates/relay/Cargo.toml` builds in /app/target — cargo moves only the default
    target dir to the manifest's package — so the cache mount over /app/target covers the build."""
    files = {"crates/relay/Cargo.toml": '[package]\nname = "relay"\nversion = "0.1.0"\n',
             "crates/relay/src/main.rs": ""}
    text = ("FROM rust:1.80 AS build\nWORKDIR /app\nENV CARGO_TARGET_DIR=/app/target\nCOPY crates crates\n"
            "RUN --mount=type=cache,target=/app/target cargo build --release --manifest-path crates/relay/Cargo.toml"
            " && cp /app/target/release/relay /relay\n")
    assert ("FB003", 5) in rules(tmp_path, text, files)

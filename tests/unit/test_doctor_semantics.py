"""doctor decides from what the Dockerfile does (issue 15's list of failures, one test each)."""

import subprocess
from pathlib import Path

import pytest

from freshbin.doctor import check, diagnose, fix

from ..conftest import FRESHBIN, write

SINGLE = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
PRE = ("FROM rust AS builder\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\n"
       "RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release\n")
FINAL = "FROM debian AS run\nCOPY --from=builder /app/target/release/{name} /usr/local/bin/{name}\n"


def crate(tmp_path: Path, name: str = "myapp", dockerfile: str = "", lib: bool = False) -> Path:
    root = tmp_path / name
    write(root / "Cargo.toml", SINGLE.format(name=name))
    write(root / "src" / "main.rs", "fn main() {}\n")
    if lib:
        write(root / "src" / "lib.rs", "\n")
    write(root / "Dockerfile", dockerfile.replace("{name}", name))
    return root


def rules(root: Path, name: str = "Dockerfile") -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in check(root / name, root, root)]


@pytest.mark.parametrize("refresh", [
    "RUN touch src/main.rs && cargo build --release",
    "RUN touch build.rs src/main.rs && cargo build --release",
    "RUN find src -name '*.rs' -exec touch {} + && cargo build --release",
    "RUN rm -f target/release/deps/myapp* && cargo build --release",
    "RUN rm -rf target/release/.fingerprint/myapp-* && cargo build --release",
    "RUN cargo clean -p myapp --release && cargo build --release",
])
def test_single_crate_refreshes_that_work(tmp_path, refresh):
    root = crate(tmp_path, dockerfile=PRE + "COPY src ./src\n" + refresh + "\n" + FINAL)
    assert rules(root) == []


def test_rm_with_the_package_name_where_cargo_writes_the_crate_name(tmp_path):
    """`my-app*` removes nothing: cargo names the unit deps/my_app-<hash>."""
    root = crate(tmp_path, "my-app", PRE + "COPY src ./src\nRUN rm -f target/release/deps/my-app* && cargo build --release\n"
                 + FINAL)
    findings = check(root / "Dockerfile", root, root)
    assert [(f.rule, f.line) for f in findings] == [("FB006", 4), ("FB002", 6)]  # an rm that removes nothing
    assert "my_app-<hash>" in findings[1].message
    right = crate(tmp_path / "ok", "my-app", PRE + "COPY src ./src\nRUN rm -f target/release/deps/my_app* && "
                  "cargo build --release\n" + FINAL)
    assert rules(right) == []


def test_uplifted_binary_removal_is_no_refresh(tmp_path):
    root = crate(tmp_path, dockerfile=PRE + "COPY src ./src\nRUN rm -f target/release/myapp && cargo build --release\n" + FINAL)
    assert rules(root) == [("FB006", 4), ("FB002", 6)]


def test_no_refresh_is_fb002_on_the_real_build_line(tmp_path):
    root = crate(tmp_path, dockerfile=PRE + "COPY . .\nRUN cargo build --release\n" + FINAL)
    assert rules(root) == [("FB006", 4), ("FB002", 6)]


def test_cargo_chef_is_safe_without_a_touch(tmp_path):
    chef = ("FROM rust AS chef\nRUN cargo install cargo-chef\nWORKDIR /app\nFROM chef AS planner\nCOPY . .\n"
            "RUN cargo chef prepare --recipe-path recipe.json\nFROM chef AS builder\n"
            "COPY --from=planner /app/recipe.json recipe.json\nRUN cargo chef cook --release --recipe-path recipe.json\n"
            "COPY . .\nRUN cargo build --release\n")
    root = crate(tmp_path, dockerfile=chef + FINAL)
    assert rules(root) == []


@pytest.mark.parametrize("real", [
    "RUN cargo build --release --target x86_64-unknown-linux-musl",  # another triple: nothing shared
    "RUN cargo build",  # another profile
    "RUN cargo build --release --target-dir /out",  # another target dir
    "RUN --mount=type=cache,target=/app/target cargo build --release && cp target/release/myapp /myapp",
])
def test_a_pre_build_with_another_key_shares_nothing(tmp_path, real):
    root = crate(tmp_path, dockerfile=PRE + "COPY src ./src\n" + real + "\n")
    assert [r for r, _ in rules(root)] in ([], ["FB003"])
    assert "FB001" not in str(rules(root)) and "FB002" not in str(rules(root))


def test_members_copied_before_the_pre_build_were_never_dummies(tmp_path):
    ws = tmp_path / "ws"
    write(ws / "Cargo.toml", '[workspace]\nmembers = ["lib", "app"]\n')
    write(ws / "lib" / "Cargo.toml", SINGLE.format(name="lib"))
    write(ws / "lib" / "src" / "lib.rs", "\n")
    write(ws / "app" / "Cargo.toml", SINGLE.format(name="app") + '[dependencies]\nlib = { path = "../lib" }\n')
    write(ws / "app" / "src" / "main.rs", "fn main() {}\n")
    write(ws / "Dockerfile", "FROM rust AS builder\nWORKDIR /w\nCOPY Cargo.toml ./\nCOPY lib lib\nCOPY app/Cargo.toml app/\n"
          "RUN mkdir app/src && echo 'fn main() {}' > app/src/main.rs && cargo build --release\nCOPY app app\n"
          "RUN touch app/src/main.rs && cargo build --release\n" + FINAL.replace("{name}", "app").replace("/app/target", "/w/target"))
    assert rules(ws) == []


def test_cache_mount_elsewhere_than_the_target_dir_is_no_fb003(tmp_path):
    root = crate(tmp_path, dockerfile="FROM rust\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target "
                 "cargo build --release --target-dir /app/out\n")
    assert rules(root) == []


def test_arg_without_default_is_no_binary_named_empty(tmp_path):
    root = crate(tmp_path, dockerfile="ARG BIN\nFROM rust AS builder\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
                 "FROM debian\nARG BIN\nCOPY --from=builder /app/target/release/${BIN} /bin/app\n")
    assert rules(root) == []


@pytest.mark.parametrize("dockerfile", [
    "FROM rust\nWORKDIR /app\nCOPY src ./src\nCOPY Cargo.toml .\nRUN cargo build --release\n",
    "FROM rust\nWORKDIR /app\nCOPY bridge /app/bridge\nRUN cd bridge && cargo build --release\n",
    "FROM debian\nCOPY prebuilt/myapp /usr/local/bin/myapp\n",
])
def test_nothing_to_check_is_clean_with_a_note(tmp_path, dockerfile):
    root = crate(tmp_path, dockerfile=dockerfile)
    report = diagnose(root / "Dockerfile", root, root)
    assert report.findings == ()
    proc = subprocess.run([*FRESHBIN, "doctor"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0 and "no findings" in proc.stdout, proc.stderr


def test_fix_for_a_single_crate_names_src_and_is_idempotent(tmp_path):
    root = crate(tmp_path, dockerfile=PRE + "COPY . .\nRUN cargo build --release\n" + FINAL)
    new, diff = fix(root / "Dockerfile", root, root)
    assert "RUN find src -name '*.rs' -exec touch {} + && cargo build --release\n" in new
    (root / "Dockerfile").write_text(new)
    assert rules(root) == [] and fix(root / "Dockerfile", root, root) == (new, "")


def test_fix_keeps_a_refresh_that_is_already_right(tmp_path):
    text = (PRE + "COPY src ./src\nRUN touch src/main.rs && cargo build --release\n" + FINAL).replace("{name}", "myapp")
    root = crate(tmp_path, dockerfile=text)
    assert fix(root / "Dockerfile", root, root) == (text, "")


@pytest.mark.parametrize("run", [
    "RUN <<EOF\nset -e\ncargo build --release\nEOF\n",
    'RUN ["cargo", "build", "--release"]\n',
    "RUN sh -c 'cargo build --release'\n",
])
def test_fix_puts_a_run_of_its_own_before_heredoc_exec_and_quoted_builds(tmp_path, run):
    root = crate(tmp_path, dockerfile=PRE + "COPY src ./src\n" + run + FINAL)
    new, _ = fix(root / "Dockerfile", root, root)
    assert "COPY src ./src\nRUN find src -name '*.rs' -exec touch {} +\n" + run in new
    (root / "Dockerfile").write_text(new)
    assert rules(root) == []


def test_cli_takes_dockerfile_names_like_pre_commit_passes_them(tmp_path):
    bad = crate(tmp_path / "a", dockerfile=PRE + "COPY . .\nRUN cargo build --release\n" + FINAL)
    good = crate(tmp_path / "b", dockerfile="FROM rust\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n")
    proc = subprocess.run([*FRESHBIN, "doctor", "--format", "json", str(bad / "Dockerfile"), str(good / "Dockerfile")],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and '"FB002"' in proc.stdout
    ok = subprocess.run([*FRESHBIN, "doctor", str(good / "Dockerfile")], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr

"""The Dockerfile model shared by doctor, guard and buildx: stages, ARGs, COPY, cargo calls, binaries."""

from pathlib import Path

import pytest

from freshbin.dockerfile_cargo import CargoConfig, cargo_calls, shipped_binaries
from freshbin.dockerfile_model import copy_of, mounts, parse_text, storage_of, substitute
from freshbin.dockerfile_shell import commands
from freshbin.errors import UsageError

MUSL = """ARG APP=api
ARG TRIPLE=x86_64-unknown-linux-musl
ARG NODEFAULT
FROM rust AS builder
ARG APP
ARG TRIPLE
ARG NODEFAULT
WORKDIR /src
RUN --mount=type=cache,target=/src/out cargo build --release --target ${TRIPLE} --target-dir out -p ${APP} --bin ${APP}
RUN cargo build --profile dist
FROM scratch AS api
ARG APP
COPY --from=builder /src/out/x86_64-unknown-linux-musl/release/api /usr/local/bin/
COPY --from=builder /src/target/dist/${APP} /app
COPY --from=builder /src/target/release/${NODEFAULT} /x
"""


def test_arg_resolution_keeps_unresolved_args():
    df = parse_text(MUSL)
    builder = df.stage("builder")
    assert builder.instructions[-1].env["APP"] == "api"
    assert "NODEFAULT" not in builder.instructions[-1].env
    # a global ARG not declared again in the stage stays unresolved there, never ''
    api = df.stage("api")
    assert api.instructions[-1].args[0] == "/src/target/release/${NODEFAULT}"
    assert substitute("${X:-dflt}/${Y:+set}", {"Y": "1"}) == "dflt/set"


def test_cargo_calls_know_profile_triple_target_dir_and_storage():
    df = parse_text(MUSL)
    first, second = [c for ins in df.stage("builder").instructions if ins.cmd == "RUN" for c in cargo_calls(ins)]
    assert (first.target_dir, first.triple, first.profile, first.bins, first.packages) == (
        "/src/out", "x86_64-unknown-linux-musl", "release", ("api",), ("api",))
    assert first.storage == "cache:/src/out" and first.out_dir == "/src/out/x86_64-unknown-linux-musl/release"
    assert (second.target_dir, second.triple, second.profile, second.storage) == ("/src/target", None, "dist", "layer")
    config = CargoConfig(target="aarch64-unknown-linux-gnu", target_dir="build")
    [third] = cargo_calls(df.stage("builder").instructions[-1], config)
    assert (third.triple, third.target_dir) == ("aarch64-unknown-linux-gnu", "/src/build")


def test_shipped_binaries_resolve_source_name_profile_triple_and_dest():
    shipped = shipped_binaries(parse_text(MUSL), "api")
    assert [(b.name, b.profile, b.triple, b.dest, bool(b.produced_by)) for b in shipped] == [
        ("api", "release", "x86_64-unknown-linux-musl", "/usr/local/bin/api", True),
        ("api", "dist", None, "/app", True),
        ("${NODEFAULT}", "release", None, "/x", False),
    ]


def test_shell_commands_follow_cd_env_redirects_and_sh_c():
    cmds = commands("cd sub && X=1 cargo build; echo hi > src/main.rs; sh -c 'touch a'", "/app")
    assert [(c.words[0], c.cwd) for c in cmds] == [("cargo", "/app/sub"), ("echo", "/app/sub"), ("touch", "/app/sub")]
    assert cmds[0].env["X"] == "1" and cmds[1].writes == ("/app/sub/src/main.rs",)
    assert commands("echo 'unbalanced", "/") != []


def test_copy_and_mounts():
    df = parse_text("FROM x\nWORKDIR /app\nCOPY a b ./dst/\nCOPY --from=0 /t/release/x /bin/x\n"
                    "RUN --mount=type=cache,target=target,id=t1 --mount=type=bind,source=src,target=src true\n")
    ins = df.stages[0].instructions
    first, second = copy_of(ins[1]), copy_of(ins[2])
    assert first.dest == "/app/dst/" and first.target_of("a", False) == "/app/dst/a"
    assert second.from_stage == "0" and second.target_of("/t/release/x", False) == "/bin/x"
    assert [(m.type, m.target) for m in mounts(ins[3])] == [("cache", "/app/target"), ("bind", "/app/src")]
    assert storage_of(ins[3], "/app/target") == "cache:t1" and storage_of(ins[3], "/app/other") == "layer"


@pytest.mark.parametrize("text, message", [("FROM x\nRUN <<EOF\n", "cannot parse"), ("   \n", "is empty")])
def test_unreadable_dockerfiles_are_usage_errors(tmp_path: Path, text: str, message: str):
    from freshbin.dockerfile_model import parse
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        parse(path)

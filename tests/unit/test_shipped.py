"""Which file is the shipped binary: the Dockerfile's COPY, then ENTRYPOINT/CMD along PATH."""

import pytest

from freshbin.errors import EnvironmentProblem
from freshbin.shipped import DEFAULT_PATH, locate

from ..conftest import write

DEBIAN_ENV = [f"PATH={DEFAULT_PATH}"]
BUILDER = "FROM rust AS builder\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"


def _dockerfile(tmp_path, runtime: str):
    return write(tmp_path / "Dockerfile", BUILDER + runtime)


def test_cmd_by_name_on_a_debian_path_tries_every_path_directory():
    where = locate({"Cmd": ["api"], "Env": DEBIAN_ENV})
    assert where.found_by == "cmd" and where.name == "api"
    assert where.candidates == tuple(f"{d}/api" for d in DEFAULT_PATH.split(":"))
    assert where.candidates[0] == "/usr/local/sbin/api"  # the first directory, where the old rule stopped


def test_no_path_in_the_config_uses_dockers_default():
    assert locate({"Entrypoint": ["worker"]}).candidates[1] == "/usr/local/bin/worker"


@pytest.mark.parametrize("config, found_by, first", [
    ({"Entrypoint": ["/usr/bin/tini", "--"], "Cmd": ["api", "--port", "80"]}, "entrypoint", "/usr/local/sbin/api"),
    ({"Entrypoint": ["tini", "-g", "-p", "SIGTERM", "--", "/app/api"]}, "entrypoint", "/app/api"),
    ({"Entrypoint": ["dumb-init", "--single-child", "/srv/api"]}, "entrypoint", "/srv/api"),
    ({"Cmd": ["/bin/sh", "-c", "exec /app/api --flag"]}, "cmd", "/app/api"),
    ({"Cmd": ["sh", "-c", "RUST_LOG=info exec api"]}, "cmd", "/usr/local/sbin/api"),
    ({"Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["/usr/bin/api"]}, "cmd", "/usr/bin/api"),
    ({"Cmd": ["./api"], "WorkingDir": "/app"}, "cmd", "/app/api"),
    ({"Cmd": ["bin/api"], "WorkingDir": "/srv"}, "cmd", "/srv/bin/api"),
    ({"Entrypoint": ["env", "A=b", "/app/api"]}, "entrypoint", "/app/api"),
])
def test_wrappers_and_relative_paths(config, found_by, first):
    where = locate(config)
    assert (where.found_by, where.candidates[0], where.name) == (found_by, first, "api")


def test_the_dockerfile_copy_names_the_cargo_binary_and_where_it_lands(tmp_path):
    df = _dockerfile(tmp_path, "FROM debian AS runtime\nCOPY --from=builder /app/target/release/my-api /usr/local/bin/api\n"
                               'CMD ["api"]\n')
    where = locate({"Cmd": ["api"], "Env": DEBIAN_ENV}, dockerfile=df, target="runtime")
    assert where.found_by == "dockerfile" and where.name == "my-api"
    assert where.candidates[0] == "/usr/local/bin/api" and "Dockerfile:6" in where.evidence


@pytest.mark.parametrize("copy, first", [
    ("COPY --from=builder /app/target/x86_64-unknown-linux-musl/release/api /usr/local/bin/", "/usr/local/bin/api"),
    ("COPY --from=builder /app/target/release/api .", "/srv/api"),  # WORKDIR /srv: lands in the directory
    ("COPY --from=builder /usr/local/cargo/bin/api /bin/api", "/bin/api"),  # cargo install: a workspace binary
    ("ARG BIN\nCOPY --from=builder /app/target/release/${BIN} /usr/local/bin/", "/usr/local/bin/api"),  # --build-arg
])
def test_copy_shapes(tmp_path, copy, first):
    df = _dockerfile(tmp_path, f"FROM debian AS runtime\nWORKDIR /srv\n{copy}\n")
    where = locate({}, dockerfile=df, target="runtime", binaries=frozenset({"api"}), build_args={"BIN": "api"})
    assert where.found_by == "dockerfile" and where.name == "api"
    assert first in where.candidates


def test_several_copied_binaries_pick_the_one_the_image_starts(tmp_path):
    df = _dockerfile(tmp_path, "FROM debian AS runtime\nCOPY --from=builder /app/target/release/api /usr/bin/\n"
                               "COPY --from=builder /app/target/release/worker /usr/bin/\n")
    assert locate({"Cmd": ["worker"]}, dockerfile=df, target="runtime").name == "worker"
    assert locate({}, dockerfile=df, target="runtime").name == "api"  # nothing started: the first copy


def test_the_runtime_base_stage_chain_is_followed(tmp_path):
    df = _dockerfile(tmp_path, "FROM debian AS base\nCOPY --from=builder /app/target/release/api /app/api\n"
                               "FROM base AS final\nUSER nobody\n")
    assert locate({}, dockerfile=df, target="final").candidates[0] == "/app/api"


def test_config_override_wins_and_nothing_named_is_one_error(tmp_path):
    assert locate({"Cmd": ["api"]}, override="/opt/x").found_by == "config"
    with pytest.raises(EnvironmentProblem, match="freshbin.binary_path"):
        locate({"Cmd": ["/start.sh"]})

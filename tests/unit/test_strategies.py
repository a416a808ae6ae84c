"""The strategy table: each strategy's cache plan and context, and the docs and flags that name them."""

import re
from contextlib import ExitStack
from pathlib import Path

import pytest

from freshbin import strategies
from freshbin.buildx import Engine
from freshbin.detect import detect
from freshbin.errors import UsageError
from freshbin.pipeline import BuildRequest, prepare

from ..conftest import REPO_ROOT, commit_all, write

WITH_FILTER = Engine("0.13", "default", "docker", "v0.8", no_cache_filter=True)
WITHOUT_FILTER = Engine("0.9", "default", "docker", "v0.8", no_cache_filter=False)
SPLIT_STAGES = """ARG BUILDER=rust
FROM ${BUILDER} AS deps
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p bin/worker/src && echo 'fn main() {}' > bin/worker/src/main.rs && cargo build --release
FROM deps AS builder
COPY . .
RUN cargo build --release
FROM scratch AS worker
COPY --from=builder /app/target/release/worker /worker
"""


def situation(repo: Path, engine: Engine = WITH_FILTER, dockerfile: str = "Dockerfile", target: str = "worker"):
    req = BuildRequest(workspace=repo, image="", target=target, dockerfile=dockerfile)
    return strategies.Situation(req, prepare(req, image_required=False), engine, detect(repo))


def test_the_table_names_every_strategy_once_and_unknown_names_are_one_error():
    assert strategies.names() == ("guard", "no-cache", "cached", "no-cache-filter")
    assert strategies.DEFAULT in strategies.ALL
    with pytest.raises(UsageError, match="use one of guard, no-cache, cached, no-cache-filter"):
        strategies.get("fast")


def test_docs_config_and_help_name_every_strategy():
    deploy_doc = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert re.findall(r"^- \*\*([\w-]+)\*\*", deploy_doc, flags=re.M) == list(strategies.names())
    from freshbin import config
    described = next(k.help for k in config.SCHEMA if k.name == "strategy")
    task_source = (REPO_ROOT / "src" / "freshbin" / "tasks" / "deploy.py").read_text()  # invoke pops task.help
    helped = task_source.split('"strategy":', 1)[1].split('",\n        "', 1)[0]
    for name in strategies.names():
        assert name in described and name in helped, name


def test_guard_builds_an_export_and_rebuilds_only_the_artefact_stage(example_repo):
    s = situation(example_repo)
    plan = strategies.get("guard").cache_plan(s)
    assert (plan.no_cache, plan.no_cache_filter) == (False, ("worker",)) and "future mtimes" in plan.note
    with ExitStack() as stack:
        ctx = strategies.get("guard").context(s, stack, dry_run=False)
        # the compile step carries guard's nonce (compile_proof.py): no marker file ships in the image
        assert ctx.path != example_repo and not (ctx.path / "bin" / "worker" / ".freshbin-guard").exists()
        assert "freshbin-guard" in ctx.dockerfile.read_text() and ctx.proof
    assert not ctx.path.exists()  # the export is gone with the stack
    assert strategies.get("guard").cache_plan(situation(example_repo, WITHOUT_FILTER)).no_cache is True


def test_no_cache_follows_detect_and_cached_changes_nothing(example_repo):
    s = situation(example_repo)  # the root commit: every source is new
    assert strategies.get("no-cache").cache_plan(s).no_cache is True
    assert strategies.get("cached").cache_plan(s) == strategies.CachePlan()
    with ExitStack() as stack:
        assert strategies.get("cached").context(s, stack, dry_run=False).path == example_repo.resolve()


def test_no_cache_filter_targets_the_compile_stage(example_repo):
    write(example_repo / "Dockerfile.split", SPLIT_STAGES)
    import subprocess
    subprocess.run(["git", "-C", str(example_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(example_repo), "commit", "-qm", "split"], check=True)
    split = strategies.get("no-cache-filter").cache_plan(situation(example_repo, dockerfile="Dockerfile.split"))
    assert split.no_cache_filter == ("builder", "worker") and "every dependency" not in split.note
    shared = strategies.get("no-cache-filter").cache_plan(situation(example_repo))  # pre-build in `builder`
    assert shared.no_cache_filter == ("builder", "worker") and "every dependency is rebuilt" in shared.note
    fallback = strategies.get("no-cache-filter").cache_plan(situation(example_repo, WITHOUT_FILTER))
    assert fallback.no_cache is True and "--no-cache instead" in fallback.note


CHEF = """FROM lukemathwalker/cargo-chef:latest-rust-1.80.1 as chef
WORKDIR /app
RUN apt update && apt install lld clang -y
FROM chef as planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json
FROM chef as builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --bin zero2prod
FROM debian:bookworm-slim AS runtime
WORKDIR /app
RUN apt-get update -y && apt-get install -y --no-install-recommends openssl ca-certificates
COPY --from=builder /app/target/release/zero2prod zero2prod
ENTRYPOINT ["./zero2prod"]
"""


def test_guard_never_rebuilds_the_toolchain_stage_a_cargo_stage_is_built_from(tmp_path):
    # The shape of LukeMathWalker/zero-to-production's Dockerfile: `chef` runs no cargo but is the
    # base of the compile; rebuilding it uncached would re-cook every dependency on each deploy.
    from freshbin.guard import artefact_stages
    dockerfile = write(tmp_path / "Dockerfile", CHEF)
    assert artefact_stages(dockerfile, "runtime") == ("runtime",)


def test_no_target_builds_the_last_stage_even_unnamed(example_repo):
    from freshbin import buildx
    write(example_repo / "Dockerfile.unnamed", CHEF.replace(" AS runtime", ""))
    import subprocess
    subprocess.run(["git", "-C", str(example_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(example_repo), "commit", "-qm", "unnamed"], check=True)
    req = BuildRequest(workspace=example_repo, image="", dockerfile="Dockerfile.unnamed")
    p = prepare(req, image_required=False)
    assert p.stage == "3"  # the fourth FROM, by its index
    plan = strategies.get("guard").cache_plan(strategies.Situation(req, p, WITH_FILTER))
    # guard names the unnamed shipped stage in its own copy of the Dockerfile (compile_proof.py),
    # so its COPY --from is rebuilt uncached like any artefact stage's
    assert plan.no_cache_filter == ("freshbin-shipped",)
    spec = buildx.BuildSpec(context=example_repo, dockerfile=p.dockerfile, target=req.target, platform="linux/amd64",
                            tags=("x",), metadata_file=example_repo / "m.json")
    assert "--target" not in buildx.build_argv(spec)
    assert prepare(BuildRequest(workspace=example_repo, image=""), image_required=False).stage == "worker"


def test_only_the_no_cache_rule_waits_for_detect_before_building():
    """The others build at once, with the history read and detect beside the build (deploy.py)."""
    assert {s.name for s in strategies.ALL.values() if s.needs_detection} == {"no-cache"}


def test_guard_falls_back_to_nonce_files_where_no_compile_step_can_carry_its_nonce(example_repo):
    # A Dockerfile that copies a prebuilt binary: nothing to instrument, so the COPYs of sources
    # must change instead (the marker files are the price, said in the note).
    write(example_repo / "Dockerfile.prebuilt", "FROM scratch AS worker\nCOPY bin/worker /worker\n")
    commit_all(example_repo, "prebuilt")
    req = BuildRequest(workspace=example_repo, image="", dockerfile="Dockerfile.prebuilt", target="worker")
    s = strategies.Situation(req, prepare(req, image_required=False), WITH_FILTER)
    with ExitStack() as stack:
        ctx = strategies.get("guard").context(s, stack, dry_run=False)
        assert (ctx.path / "bin" / "worker" / ".freshbin-guard").is_file() and not ctx.proof
        assert "nonce files in" in (ctx.note or "") and "not instrumented" in (ctx.note or "")

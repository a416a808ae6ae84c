"""The build's own record, read from real BuildKit v0.8 plain-progress logs (tests/data/buildlogs)."""

from pathlib import Path

from freshbin.buildlog import parse_plain

LOGS = Path(__file__).resolve().parents[1] / "data" / "buildlogs"
EXAMPLE_DOCKERFILE = Path(__file__).resolve().parents[2] / "examples" / "workspace" / "Dockerfile"


def test_a_cached_build_after_a_worker_change_compiles_worker():
    record = parse_plain((LOGS / "v0.8-cached-worker-change.log").read_text())
    assert record.readable
    prebuild = next(s for s in record.steps if s.position == 8 and s.stage == "builder")
    assert prebuild.cached and not prebuild.ran
    final = record.final_compile()
    assert final.instruction == "RUN touch crates/*/src/lib.rs && cargo build --release" and final.ran
    assert final.compiled() == {"greeting", "worker", "storage-pg", "api"}


def test_a_lock_change_reruns_the_prebuild_and_cargo_skips_worker():
    # The pre-build re-ran after the checkout: the real step compiles everything but worker,
    # whose dummy artefacts are newer than its copied source — the image runs `dummy`.
    record = parse_plain((LOGS / "v0.8-lock-change-ships-dummy.log").read_text())
    prebuild = next(s for s in record.steps if s.position == 8 and s.stage == "builder")
    assert prebuild.ran and "worker" in prebuild.compiled()
    final = record.final_compile()
    assert final.position == 11 and final.ran and final.compiled() == {"greeting", "storage-pg", "api"}


def test_registry_crates_chef_cook_and_unknown_text():
    log = "\n".join([
        "#5 [deps 4/5] RUN cargo chef cook --release --recipe-path recipe.json",
        "#5 3.1    Compiling serde v1.0.200",
        "#5 DONE 40.0s",
        "#6 [builder 6/7] RUN cargo build --release --bin app",
        "#6 0.5    Compiling serde_json v1.0.100",
        "#6 1.0    Compiling app v0.1.0 (/app)",
        "#6 DONE 2.0s",
        "#7 [builder 7/7] RUN strip target/release/app",
        "#7 CACHED",
    ])
    record = parse_plain(log)
    assert [s.id for s in record.compile_steps()] == [6]  # the cook is not the real compile
    assert record.final_compile().compiled() == {"app"}  # registry crates carry no path
    assert not parse_plain("Step 1/9 : FROM rust\n ---> Using cache\n").readable  # the legacy builder's format


def _detection(*changes):
    from freshbin.detect import Change, Detection
    return Detection("b", "h", "parent", list(changes), [], [], True, False, "")


def test_evidence_names_the_package_cargo_skipped(tmp_path):
    from freshbin.detect import Change
    from freshbin.evidence import judge, stale_reason
    dockerfile = EXAMPLE_DOCKERFILE
    worker = Change("bin/worker/src/main.rs", "modified", "source", "worker", ("worker",))
    readme = Change("README.md", "modified", "other", None, ())
    hazard = (LOGS / "v0.8-lock-change-ships-dummy.log").read_text()
    proof = judge(hazard, _detection(worker, readme), "worker", dockerfile)
    assert proof.stale and proof.not_compiled == ["worker"] and proof.cause == "cargo mtime freshness"
    assert "[builder 11]" in proof.step and "did not compile it" in stale_reason(proof, "worker")
    cached = (LOGS / "v0.8-cached-worker-change.log").read_text()
    assert not judge(cached, _detection(worker), "worker", dockerfile).stale
    assert not judge(hazard, _detection(readme), "worker", dockerfile).stale  # nothing reaching worker changed
    unreadable = judge("Step 1/9 : FROM rust\n", _detection(worker), "worker", dockerfile)
    assert not unreadable.readable and not unreadable.stale and "could not be read" in unreadable.note


def test_the_deps_stage_ranks_before_the_builder_stage():
    log = "\n".join([
        "#4 [deps 5/5] RUN cargo build --release", "#4 0.1    Compiling app v0.1.0 (/app)", "#4 DONE 1.0s",
        "#6 [builder 2/3] RUN cargo build --release", "#6 0.1    Finished release", "#6 DONE 1.0s",
    ])
    assert parse_plain(log).final_compile(["deps", "builder", "runtime"]).id == 6


CROSS_DOCKERFILE = EXAMPLE_DOCKERFILE.with_name("Dockerfile.cross")


def test_a_two_platform_cross_build_is_read_per_target_platform():
    # Docker 26.1, examples/workspace/Dockerfile.cross, --platform linux/amd64,linux/arm64: the
    # builder runs on amd64 for both; its arm64 steps are headed `[linux/amd64->arm64 builder …]`.
    record = parse_plain((LOGS / "v26-cross-two-platforms.log").read_text())
    assert record.readable
    amd64, arm64 = record.final_compile(["builder"], "linux/amd64"), record.final_compile(["builder"], "linux/arm64")
    assert (amd64.platform, amd64.cross, arm64.platform, arm64.cross) == ("linux/amd64", False, "linux/arm64", True)
    assert amd64.id != arm64.id and amd64.position == arm64.position == 12
    assert arm64.compiled() == amd64.compiled() == {"greeting", "worker", "storage-pg", "api"}
    copy = next(s for s in record.steps if s.stage == "worker-arm64")
    assert copy.platform == "linux/arm64" and "aarch64-unknown-linux-gnu" in copy.instruction


def test_a_stage_without_target_arguments_is_headed_with_the_build_platform_only():
    # Such a stage is one vertex whatever the target: `[linux/amd64 build-arm64 …]` builds arm64's
    # binary; the stages the platform's image needs say whose it is.
    log = "\n".join([
        "#7 [linux/amd64 build-amd64 3/3] RUN cargo build --release --target x86_64-unknown-linux-gnu",
        "#7 1.0    Compiling worker v0.1.0 (/app/bin/worker)",
        "#7 DONE 2.0s",
        "#8 [linux/amd64 build-arm64 3/3] RUN cargo build --release --target aarch64-unknown-linux-gnu",
        "#8 1.0    Compiling greeting v0.1.0 (/app/crates/greeting)",
        "#8 DONE 2.0s",
        "#9 [linux/arm64 worker-arm64 1/1] COPY --from=build-arm64 /app/target/aarch64-unknown-linux-gnu/release/worker /w",
    ])
    record = parse_plain(log)
    arm64 = record.final_compile(platform="linux/arm64", stages={"base", "build-arm64", "worker-arm64", "worker"})
    amd64 = record.final_compile(platform="linux/amd64", stages={"base", "build-amd64", "worker-amd64", "worker"})
    assert (arm64.id, arm64.compiled(), amd64.id) == (8, {"greeting"}, 7)

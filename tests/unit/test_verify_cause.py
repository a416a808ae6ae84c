"""Naming a stale binary's cause from the build's own record (cause.py), the ignore file's dropped
cargo inputs (ignored_inputs.py) and the layer-by-layer file reading (layer_reader.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from freshbin import cause
from freshbin.dockerfile_model import parse_text
from freshbin.ignored_inputs import cargo_input, dropped_inputs, reinclude
from freshbin.layer_reader import LocalImage, common_base, read_overlay_layer
from freshbin.layers import EntryKind, FileEntry, differing
from freshbin.verdicts import Cause

from ..conftest import EXAMPLE, write

LOGS = Path(__file__).resolve().parents[1] / "data" / "buildlogs"
EXAMPLE_DF = parse_text((EXAMPLE / "Dockerfile").read_text(), EXAMPLE / "Dockerfile")
MOUNT_DF = """FROM rust AS builder
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/app/target{opts} cargo build --release && cp target/release/worker /worker
FROM debian AS worker
COPY --from=builder /worker /usr/local/bin/worker
"""
DOCTOR = ["Dockerfile:19 FB001 the refresh misses bin/worker/src/main.rs"]


def test_a_compile_step_that_ran_and_skipped_worker_is_cargo_mtime_freshness():
    log = (LOGS / "v0.8-lock-change-ships-dummy.log").read_text()
    named, why = cause.decide(log, None, EXAMPLE_DF, "worker", DOCTOR)
    assert why == "" and named is not None
    assert named.cause is Cause.MTIME and named.decided_by == cause.STEP_RECORD and named.source == "cached build"
    assert named.detail.startswith("[builder 11] RUN touch crates/*/src/lib.rs && cargo build --release ran")
    assert named.no_cache_fixes is False and "FB001" in named.note


def test_the_deploy_record_is_preferred_and_names_what_was_not_compiled():
    evidence = {"step": "[builder 11] RUN touch crates/*/src/lib.rs && cargo build --release", "ran": True,
                "not_compiled": ["worker"], "cause": "cargo mtime freshness"}
    named, _ = cause.decide("garbage", evidence, EXAMPLE_DF, "worker", [])
    assert named is not None and named.source == "deploy record" and named.detail.endswith("did not compile worker")


def test_a_cached_compile_step_is_the_build_cache_unless_doctor_finds_a_prebuild_hazard():
    evidence = {"step": "[builder 11] RUN cargo build --release", "ran": False, "not_compiled": []}
    named, _ = cause.decide("", evidence, EXAMPLE_DF, "worker", [])
    assert named is not None and named.cause is Cause.CACHE and named.decided_by == cause.STEP_RECORD
    assert named.no_cache_fixes is True and "came from the build cache" in named.detail
    hazard, _ = cause.decide("", evidence, EXAMPLE_DF, "worker", DOCTOR)
    assert hazard is not None and hazard.cause is Cause.MTIME and hazard.decided_by == cause.DOCKERFILE_LINE
    assert hazard.detail == DOCTOR[0] and hazard.no_cache_fixes is False


@pytest.mark.parametrize("opts, survives", [("", False), (",mode=0755", True), (",uid=1000", True)])
def test_a_compile_under_a_cache_mount_names_the_mount_line(opts, survives):
    df = parse_text(MOUNT_DF.format(opts=opts), Path("Dockerfile.mount"))
    log = "\n".join([f"#9 [builder 3/3] RUN --mount=type=cache,target=/app/target{opts} cargo build --release "
                     "&& cp target/release/worker /worker", "#9 0.4     Finished release", "#9 DONE 0.5s"])
    named, why = cause.decide(log, None, df, "worker", [])
    assert why == "" and named is not None and named.cause is Cause.CACHE_MOUNT
    assert named.decided_by == cause.DOCKERFILE_LINE and named.detail.startswith("Dockerfile.mount:4 RUN --mount")
    assert named.no_cache_fixes is (not survives)


def test_an_unreadable_step_record_degrades_to_the_no_cache_build_with_one_line():
    named, why = cause.decide('{"vertexes": [{"digest": "sha256:1"}]}\n', None, EXAMPLE_DF, "worker", DOCTOR)
    assert named is None and why == cause.UNREADABLE and "\n" not in why
    assert "progress format unknown" in why and "--no-cache build" in why


def test_a_record_without_a_cargo_step_says_so():
    named, why = cause.decide("#1 [builder 1/2] FROM rust\n#1 DONE 0.1s\n", None, EXAMPLE_DF, "worker", [])
    assert named is None and why == cause.NO_COMPILE


def test_the_ignore_file_drops_cargo_inputs_with_their_pattern(tmp_path):
    write(tmp_path / ".dockerignore", "target\n.*\n*.md\n")
    dockerfile = write(tmp_path / "Dockerfile", "FROM x\n")
    tracked = [".cargo/config.toml", ".github/ci.yml", "README.md", "Cargo.toml", "rust-toolchain.toml",
               "bin/api/build.rs", "target/x.rs", ".env"]
    path, dropped = dropped_inputs(dockerfile, tmp_path, tracked)
    assert path == tmp_path / ".dockerignore"
    assert [(d.path, d.pattern, d.line) for d in dropped] == [(".cargo/config.toml", ".*", 2)]
    reinclude(path, dropped)
    assert path.read_text().endswith("*.md\n!.cargo/config.toml\n")
    assert dropped_inputs(dockerfile, tmp_path, tracked)[1] == []  # the reference now sees it
    named = cause.ignored(".dockerignore", [(d.path, f"line {d.line} {d.pattern}") for d in dropped])
    assert named.cause is Cause.IGNORED and named.detail == ".dockerignore: line 2 .* drops .cargo/config.toml"
    assert not cargo_input("target/release/build.rs") and cargo_input("crates/a/src/lib.rs")


def test_common_base_counts_shared_bottom_layers():
    a = LocalImage("a", ("base", "bin-a"), ())
    b = LocalImage("b", ("base", "bin-b"), ())
    c = LocalImage("c", ("other", "bin-b"), ())
    assert common_base([a, b]) == 1 and common_base([a, b, c]) == 0 and common_base([a]) == 0


def test_an_overlay_layer_is_read_with_its_whiteouts_and_opaque_directories(tmp_path):
    layer = tmp_path / "diff"
    write(layer / "usr/local/bin/worker", "new binary")
    os.symlink("worker", layer / "usr/local/bin/w")
    (layer / "etc/conf").mkdir(parents=True)
    files = {"/etc/conf/old": FileEntry("/etc/conf/old", EntryKind.FILE, 1, "x"),
             "/usr/local/bin/worker": FileEntry("/usr/local/bin/worker", EntryKind.FILE, 3, "old")}
    try:
        os.mknod(layer / "gone", 0o600 | 0o020000, os.makedev(0, 0))  # overlay's whiteout
        os.setxattr(layer / "etc/conf", "trusted.overlay.opaque", b"y")
    except PermissionError:
        pytest.skip("creating overlay whiteouts needs root")
    hashed = read_overlay_layer(files, layer, mark_deleted=True)
    assert hashed == len("new binary")
    assert files["/usr/local/bin/worker"].size == len("new binary") and files["/usr/local/bin/w"].kind == "symlink"
    assert files["/gone"].kind == EntryKind.DELETED and "/etc/conf/old" not in files
    assert [row["path"] for row in differing({"a": files, "b": {}})] == ["/gone", "/usr/local/bin/w",
                                                                         "/usr/local/bin/worker"]


def test_the_tracked_files_of_the_commit_are_listed_relative_to_the_context(example_repo):
    import git as gitpython

    from freshbin.ignored_inputs import tracked_under
    repo = gitpython.Repo(example_repo)
    head = repo.head.commit.hexsha
    every = tracked_under(repo, head, example_repo, example_repo)
    assert {".dockerignore", "Cargo.toml", "bin/worker/src/main.rs"} <= set(every)
    assert tracked_under(repo, head, example_repo, example_repo / "bin") == [
        p.removeprefix("bin/") for p in every if p.startswith("bin/")]


def test_pinned_digests_catch_a_cache_and_the_record_says_which_one():
    """On an engine that pins timestamps the digest check decides "a cache changed the result";
    a cache mount the build's record names is that cache (seen on Docker 26's containerd store)."""
    from freshbin.verdicts import DIGEST_CHECK, Cause, Check, Side, Verdict, judge

    checks = [Check(DIGEST_CHECK, "sha256:a", "sha256:b", False, True)]
    sides = {name: Side(name) for name in ("cached", "nocache", "reference")}
    assert judge(checks, sides, False, Cause.CACHE_MOUNT) == (Verdict.STALE, Cause.CACHE_MOUNT)
    assert judge(checks, sides, False, None) == (Verdict.STALE, Cause.CACHE)
    assert judge(checks, sides, False, Cause.MTIME) == (Verdict.STALE, Cause.CACHE)


def test_pinned_digests_do_not_blame_a_cache_when_a_no_cache_build_ships_the_deployed_binary():
    """The deploy and the how-to's --no-cache build ship the same dummy: the mtime hazard, named by
    the record, even though verify's own cached build differs from the no-cache one."""
    from freshbin.verdicts import DIGEST_CHECK, Cause, Check, Side, Verdict, judge

    checks = [Check(DIGEST_CHECK, "sha256:a", "sha256:b", False, True)]
    sides = {"deployed": Side("deployed", binary_sha256="dummy"), "cached": Side("cached", binary_sha256="real"),
             "nocache": Side("nocache", binary_sha256="dummy"), "reference": Side("reference", binary_sha256="real")}
    assert judge(checks, sides, False, Cause.MTIME) == (Verdict.STALE, Cause.MTIME)
    sides["nocache"] = Side("nocache", binary_sha256="real")  # the from-scratch build fixes it: a cache did it
    assert judge(checks, sides, False, Cause.MTIME) == (Verdict.STALE, Cause.CACHE)

"""deploy on the real engine and registry: strategies, ledger, freshness, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from freshbin import ledger

from ..conftest import FRESHBIN, commit_all, set_revision, write
from .conftest import BUILD_ARGS, buildx_push, forget_poisoned_cache, run_image, unique_image

pytestmark = pytest.mark.e2e


def freshbin_deploy(repo: Path, image: str, *args: str, cli: tuple[str, ...] = tuple(FRESHBIN)
                    ) -> subprocess.CompletedProcess:
    """One deploy with a TMPDIR of its own, which it must leave empty (buildx itself leaves a
    `dockerfileNNN` directory per Dockerfile read from stdin: docker/buildx#3117)."""
    argv = [*cli, "deploy", "--image", image, "--target", "worker", "--json"]
    for key, value in BUILD_ARGS.items():
        argv += ["--build-arg", f"{key}={value}"]
    with tempfile.TemporaryDirectory(prefix="deploy-tmpdir-") as tmp:
        proc = subprocess.run(argv + list(args), cwd=repo, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "TMPDIR": tmp})
        left = sorted(os.listdir(tmp))
    assert left == [], f"the deploy left temporary files behind: {left}"
    return proc


def ok_json(proc: subprocess.CompletedProcess, code: int = 0) -> dict:
    assert proc.returncode == code, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def registry_digest(ref: str) -> str:
    out = subprocess.run(["docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["digest"]


def ledger_lines(repo: Path) -> list[dict]:
    return ledger.read(repo / ".freshbin" / "deploys.jsonl").records


def test_no_cache_strategy_follows_detect_and_dry_run_changes_nothing(engine, example_repo):
    image = unique_image("deploy-nocache")
    # A fresh clone, no history: the build's own record shows cargo never compiled the real worker.
    first = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache"), code=1)
    assert first["no_cache"] is True and first["previous"] is None  # root commit: everything is new
    assert first["evidence"]["not_compiled"] == ["worker"] and first["evidence"]["cause"] == "cargo mtime freshness"
    set_revision(example_repo, "worker", f"w-{uuid.uuid4().hex[:6]}")
    commit_all(example_repo, "worker change")
    dry = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache", "--dry-run", "--tag", "dry"))
    assert dry["dry_run"] and dry["digest"] is None and "--no-cache" in dry["commands"][0]
    assert len(ledger_lines(example_repo)) == 1
    assert subprocess.run(["docker", "buildx", "imagetools", "inspect", f"{image}:dry"],
                          capture_output=True).returncode != 0, "--dry-run pushed an image"
    second = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache"), code=1)
    assert second["no_cache"] is True
    assert registry_digest(f"{image}:{second['tag']}") == second["digest"] != first["digest"]
    write(example_repo / "README.md", "unrelated\n")
    commit_all(example_repo, "docs only")
    # Docs only: the how-to's rule builds with the cache, which still holds the dummy of the
    # second deploy — the same binary, judged stale then, from the same sources: stale again.
    third = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache"), code=1)
    assert third["no_cache"] is False and third["binary"]["sha256"] == second["binary"]["sha256"]
    assert "judged stale" in third["reason"] and run_image(f"{image}:{third['tag']}") == "dummy"
    assert [r["commit"] for r in ledger_lines(example_repo)] == [first["commit"], second["commit"], third["commit"]]


def registry_tags(image: str) -> list[str]:
    """The repository's tags as the registry lists them; [] when it never heard of the repository."""
    host, _, name = image.partition("/")
    try:
        with urllib.request.urlopen(f"http://{host}/v2/{name}/tags/list", timeout=30) as answer:
            return json.load(answer).get("tags") or []
    except urllib.error.HTTPError as exc:
        assert exc.code == 404, exc
        return []


def test_dry_core_option_pushes_nothing(engine, example_repo):
    """`freshbin -R deploy` (invoke's core -R/--dry) is a dry run, not a deploy."""
    image = unique_image("wt30-dry")
    dry = ok_json(freshbin_deploy(example_repo, image, cli=(*FRESHBIN, "-R")))
    assert dry["dry_run"] and dry["digest"] is None and dry["commands"][0].startswith("docker buildx build")
    assert registry_tags(image) == [], "freshbin -R deploy pushed"
    assert not (example_repo / ".freshbin" / "deploys.jsonl").exists()


def test_a_deploy_says_what_it_does_summarises_itself_and_history_names_the_commit(engine, example_repo, tmp_path,
                                                                                   monkeypatch):
    """freshbin's own progress lines on stderr, the job summary, and the subject in the record."""
    image = unique_image("wt30-progress")
    set_revision(example_repo, "worker", f"w-{uuid.uuid4().hex[:6]}")
    commit_all(example_repo, "worker: greet | in v2")
    job = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(job))
    proc = freshbin_deploy(example_repo, image)
    result = ok_json(proc)
    ref = f"{image}:{result['tag']}"
    ours = [line for line in proc.stderr.splitlines() if line.startswith("freshbin deploy: ")]
    assert [line.split(": ", 1)[1].split(" ", 1)[0] for line in ours] == \
        ["building", "pushing", "built", "judged", "recording"], ours
    assert ours[0].startswith(f"freshbin deploy: building stage worker of Dockerfile for {ref}")
    assert ours[2].startswith(f"freshbin deploy: built and pushed {ref} in ")
    assert ours[3].startswith("freshbin deploy: judged the shipped binary: fresh (the compile step ran")
    text = job.read_text()
    assert text.startswith("### freshbin deploy: fresh") and f"| image | `{ref}` |" in text
    assert ledger_lines(example_repo)[-1]["subject"] == "worker: greet | in v2"
    elsewhere = subprocess.run([*FRESHBIN, "history", "--image", image], cwd=tmp_path, capture_output=True, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "worker: greet | in v2" in " ".join(elsewhere.stdout.split()), elsewhere.stdout  # from the registry


def test_hazardous_no_cache_deploys_are_flagged_stale_and_guard_ships_the_change(engine, example_repo):
    image = unique_image("deploy-stale")
    ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache"), code=1)
    revision = f"worker-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    commit_all(example_repo, "worker change")
    stale = freshbin_deploy(example_repo, image, "--strategy", "no-cache")
    data = ok_json(stale, code=1)
    assert data["fresh"] is False and data["binary"]["sha256"] == data["previous"]["binary_sha256"]
    assert run_image(f"{image}:{data['tag']}") == "dummy"
    assert ledger_lines(example_repo)[-1]["stale"] is True
    guarded = ok_json(freshbin_deploy(example_repo, image, "--tag", "guarded"))
    assert guarded["strategy"] == "guard" and guarded["fresh"] is True and guarded["no_cache"] is False
    assert run_image(f"{image}:guarded") == f"worker revision={revision}"
    # The dummy coming back after a fresh deploy is caught too (same binary, other sources).
    set_revision(example_repo, "worker", revision + "-b")
    commit_all(example_repo, "worker change again")
    again = ok_json(freshbin_deploy(example_repo, image, "--strategy", "no-cache"), code=1)
    assert again["fresh"] is False


def test_registry_stopped_before_push_is_one_line_exit_2_and_no_record(engine, example_repo, private_registry):
    address, proc = private_registry
    image = f"{address}/acme/worker"
    ok_json(freshbin_deploy(example_repo, image))
    proc.terminate()
    proc.wait()
    set_revision(example_repo, "worker", "after-stop")
    commit_all(example_repo, "change")
    failed = freshbin_deploy(example_repo, image)
    assert failed.returncode == 2 and failed.stdout == ""
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("freshbin: error:") and "registry" in last and "Traceback" not in failed.stderr
    assert len(ledger_lines(example_repo)) == 1


# The CLI, with a note on stderr of which heavy modules are loaded when the build is started.
LOADED_AT_BUILD = """
import runpy, sys
import freshbin.buildx as buildx
build = buildx.build_logged
def noted(*args, **kwargs):
    heavy = [m for m in ("git", "freshbin.detect", "freshbin.evidence") if m in sys.modules]
    sys.stderr.write(f"loaded when the build started: {heavy}\\n")
    return build(*args, **kwargs)
buildx.build_logged = noted
runpy.run_module("freshbin", run_name="__main__")
"""


def test_the_build_starts_before_gitpython_and_detect_are_loaded(engine, example_repo):
    """What a guard deploy asks of the checkout before its build goes to git itself (checkout.py);
    GitPython, detect and the evidence rules load beside the build, and the deploy still judges."""
    image = unique_image("deploy-lean-start")
    first = ok_json(freshbin_deploy(example_repo, image))
    set_revision(example_repo, "worker", f"w-{uuid.uuid4().hex[:6]}")
    commit_all(example_repo, "worker change")
    proc = freshbin_deploy(example_repo, image, cli=(sys.executable, "-c", LOADED_AT_BUILD))
    assert "loaded when the build started: []" in proc.stderr, proc.stderr[-1500:]
    second = ok_json(proc)
    assert second["previous"]["commit"] == first["commit"] and second["fresh"] is True, second["reason"]
    assert second["evidence"]["not_compiled"] == [] and second["history"]["record"]


def test_two_concurrent_deploys_both_recorded(engine, example_repo):
    image = unique_image("deploy-concurrent")
    results = {}

    def run(tag: str) -> None:
        results[tag] = freshbin_deploy(example_repo, image, "--tag", tag, "--strategy", "cached")

    threads = [threading.Thread(target=run, args=(t,)) for t in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tag, proc in results.items():
        assert proc.returncode in (0, 1), proc.stderr[-1500:]
    raw = (example_repo / ".freshbin" / "deploys.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["tag"] for line in raw) == ["one", "two"]


def test_guard_after_the_how_tos_no_cache_build_of_the_same_commit_ships_the_change(engine, example_repo, request):
    """BuildKit v0.8: a --no-cache build can file the dummy under the real binary's COPY --from key.

    Without `--no-cache-filter` on the artefact-only stage, the guard deploy below compiles the
    real binary and still ships the dummy (measured before the filter was added).
    """
    image = unique_image("deploy-poison")
    request.addfinalizer(forget_poisoned_cache)
    ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--tag", "warm"))  # deps built now
    revision = f"poison-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    commit_all(example_repo, "worker change")
    cached = ok_json(freshbin_deploy(example_repo, image, "--strategy", "cached", "--tag", "cached"))
    assert run_image(f"{image}:cached") == f"worker revision={revision}"
    buildx_push(example_repo, dockerfile="Dockerfile", target="worker", ref=f"{image}:nocache", no_cache=True)
    assert run_image(f"{image}:nocache") == "dummy"
    guarded = freshbin_deploy(example_repo, image, "--tag", "guarded")
    data = json.loads(guarded.stdout)
    assert run_image(f"{image}:guarded") == f"worker revision={revision}"
    assert data["binary"]["sha256"] == cached["binary"]["sha256"] and "--no-cache-filter worker" in data["guard"]


def test_a_tag_holding_another_commit_is_not_moved_without_force(engine, example_repo):
    image = unique_image("deploy-tags")
    first = ok_json(freshbin_deploy(example_repo, image, "--tag", "prod"))
    ok_json(freshbin_deploy(example_repo, image, "--tag", "latest"))
    set_revision(example_repo, "worker", f"tags-{uuid.uuid4().hex[:8]}")
    commit_all(example_repo, "next commit")
    refused = freshbin_deploy(example_repo, image, "--tag", "prod")
    assert refused.returncode == 2 and refused.stdout == ""
    line = refused.stderr.strip().splitlines()[-1]
    assert f"already holds commit {first['commit'][:12]}" in line and "--force" in line
    assert registry_digest(f"{image}:prod") == first["digest"]  # untouched
    assert len(ledger_lines(example_repo)) == 2
    moved = ok_json(freshbin_deploy(example_repo, image, "--tag", "latest"))  # declared moving
    forced = ok_json(freshbin_deploy(example_repo, image, "--tag", "prod", "--force"))
    assert registry_digest(f"{image}:prod") == forced["digest"] != first["digest"]
    assert [r["tag"] for r in ledger_lines(example_repo)] == ["prod", "latest", "latest", "prod"]
    assert moved["commit"] == forced["commit"] != first["commit"]

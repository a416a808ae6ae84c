"""CI's builder (issue #26): a standalone BuildKit as buildx's remote builder, a fresh runner with a
registry cache, the builder picked by BUILDX_BUILDER, and deploys at once on one builder.

These run on the `buildkit` leg (FRESHBIN_TEST_ENGINE=buildkit: the default Docker 20.10 beside
the remote builder freshbin-buildkit); elsewhere they are skipped with the reason.  The truth of
each deploy is what the pushed image prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

from ..conftest import FRESHBIN, REMOTE_BUILDER, engine_name
from .adversarial import SHAPES, Repo, prints
from .conftest import unique_image

pytestmark = pytest.mark.e2e


@pytest.fixture
def remote_builder(engine):
    if engine_name() != "buildkit":
        pytest.skip("a CI runner's builder: runs on the buildkit leg (FRESHBIN_TEST_ENGINE=buildkit)")
    return REMOTE_BUILDER


@pytest.fixture
def exporting_builder(engine):
    """A builder that exports caches: the remote one, or the docker driver of the containerd store."""
    if engine_name() == "buildkit":
        return REMOTE_BUILDER
    if engine_name() == "docker26-containerd":
        return "default"
    pytest.skip("the docker driver of a classic image store cannot export a cache: the fresh-runner shape runs on "
                "the buildkit and 26-containerd legs")


def empty_builder(builder: str = REMOTE_BUILDER) -> None:
    """A fresh CI runner's builder: nothing in its cache (what `env.prune --engine buildkit` does)."""
    subprocess.run(["docker", "buildx", "prune", "--builder", builder, "--all", "--force"], check=True,
                   capture_output=True, timeout=300)


def step_ran(log: str, words: str) -> bool:
    """Did the build step whose header contains `words` run?  A step that runs prints its command's
    output as `#N 0.194 …`; one restored from a cache prints only `CACHED` or its layers' download
    and extraction (an imported registry cache is fetched lazily)."""
    numbers = {m.group(1) for m in re.finditer(r"^#(\d+) \[[^\]]*\] (.*)$", log, re.M) if words in m.group(2)}
    assert numbers, f"no step {words!r} in the build log"
    return any(re.search(rf"^#{n} \d+\.\d+ ", log, re.M) for n in numbers)


def test_fresh_runner_with_a_registry_cache_ships_each_commit_at_cached_speed(exporting_builder, tmp_path):
    """A; B (a source change) reuses the dependency layer from the registry cache and ships B;
    C (a Cargo.toml change and a source change) ships C with guard while the how-to's cached
    deploy of the same ships the dummy and is called STALE — each from a fresh clone on an
    emptied builder."""
    repo = Repo(SHAPES["how-to"], tmp_path)
    image = unique_image("fresh-runner")
    runs = iter(range(10))

    def on_fresh_runner(strategy: str) -> tuple[int, dict, str]:
        empty_builder(exporting_builder)
        repo.fresh_clone(tmp_path / f"runner{next(runs)}")
        return repo.deploy_logged(image, strategy, "--cache", "registry")

    code, a, _ = on_fresh_runner("guard")
    assert (code, a["fresh"], prints(f"{image}:{a['tag']}")) == (0, True, "m0"), a["reason"]

    repo.commit("m1")
    code, b, log = on_fresh_runner("guard")
    assert (code, b["fresh"], prints(f"{image}:{b['tag']}")) == (0, True, "m1"), b["reason"]
    assert not step_ran(log, "dummy-"), "the dependency pre-build ran: it did not come from the registry cache"

    manifest = repo.seed.joinpath("Cargo.toml").read_text() + 'description = "c"\n'
    repo.commit("m2", also={"Cargo.toml": manifest})  # the manifest change and a source change in one commit
    code, how_to, how_log = on_fresh_runner("cached")
    assert step_ran(how_log, "dummy-"), "the manifest changed, yet the dependency pre-build did not run"
    shipped = prints(f"{image}:{how_to['tag']}")
    assert shipped.startswith("dummy-"), f"the how-to's recipe shipped {shipped!r}: the hazard did not reproduce"
    assert (code, how_to["fresh"]) == (1, False), how_to["reason"]
    code, c, _ = on_fresh_runner("guard")
    assert (code, c["fresh"], prints(f"{image}:{c['tag']}")) == (0, True, "m2"), c["reason"]
    quick = repo.verify(image, "--quick", "--tag", c["tag"])
    assert quick["verdict"] == "fresh", quick
    empty_builder(exporting_builder)  # verify on a fresh runner too: its builds import the deploy's cache
    repo.fresh_clone(tmp_path / "verify-runner")
    full = repo.verify(image, "--tag", c["tag"], "--cache", "registry")
    assert full["verdict"] == "fresh", (full["checks"], full["notes"])


def _freshbin(repo: Repo, args: list[str], *, builder: str | None) -> subprocess.CompletedProcess:
    """freshbin with the builder chosen the way CI chooses it: BUILDX_BUILDER (None: the default)."""
    env = {k: v for k, v in os.environ.items() if k != "BUILDX_BUILDER"}
    if builder:
        env["BUILDX_BUILDER"] = builder
    return subprocess.run([*FRESHBIN, *args, "--json", *repo.build_arg_flags()], cwd=repo.workspace, env=env,
                          capture_output=True, text=True, timeout=1200)


@pytest.mark.parametrize("deploy_on, verify_on", [(REMOTE_BUILDER, None), (None, REMOTE_BUILDER)])
def test_builder_facts_follow_the_builder_buildx_really_uses(remote_builder, tmp_path, deploy_on, verify_on):
    """A deploy on one builder, then verify on the other (picked by BUILDX_BUILDER, not --builder):
    each one's facts are its own — no `OCI exporter is not supported for the docker driver`."""
    repo = Repo(SHAPES["how-to"], tmp_path)
    image = unique_image("builder-facts")
    deployed = _freshbin(repo, ["deploy", "--image", image], builder=deploy_on)
    assert deployed.returncode == 0, deployed.stderr[-2000:]
    result = json.loads(deployed.stdout)
    verified = _freshbin(repo, ["verify", "--image", image, "--tag", result["tag"]], builder=verify_on)
    assert verified.returncode == 0, verified.stderr[-2000:]
    verdict = json.loads(verified.stdout)
    assert verdict["verdict"] == "fresh", verdict
    notes = " ".join(verdict["notes"])
    used = verify_on or "default"
    assert f"builder {used} (" in notes, notes  # the note names the builder that showed the behaviour


def test_two_deploys_at_once_on_one_remote_builder(remote_builder, tmp_path):
    """Two commits of one repository and a second repository, deployed at once: each image prints
    its own commit, each deploy is FRESH and recorded once."""
    one = Repo(SHAPES["how-to"], tmp_path / "one")
    first = next(iter(one.markers))
    one.commit("m1")
    older = one.another_clone(tmp_path / "older")  # the first commit, in a checkout of its own
    older.checkout(first)
    other = Repo(SHAPES["how-to"], tmp_path / "two", marker="x0")
    images = {"one": unique_image("two-at-once"), "two": unique_image("two-at-once-b")}
    jobs = {"one-m1": (one, images["one"]), "one-m0": (older, images["one"]), "two-x0": (other, images["two"])}
    results: dict[str, tuple[int, dict]] = {}

    def run(name: str) -> None:
        repo, image = jobs[name]
        results[name] = repo.deploy(image, "guard", "--tag", name)

    threads = [threading.Thread(target=run, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == set(jobs)
    for name, (code, result) in results.items():
        repo, image = jobs[name]
        assert prints(f"{image}:{name}") == name.split("-")[1], name
        assert (code, result["fresh"]) == (0, True), (name, result["reason"])
    history = subprocess.run([*FRESHBIN, "history", "--image", images["one"], "--json"], cwd=one.workspace,
                             capture_output=True, text=True, timeout=300)
    assert history.returncode == 0, history.stderr[-2000:]
    tags = sorted(r["tag"] for r in json.loads(history.stdout))
    assert tags == ["one-m0", "one-m1"], tags


def test_registry_cache_on_the_docker_driver_of_a_classic_store_is_one_sentence(engine, tmp_path):
    """The docker driver of Docker 20.10 (classic store) cannot export a cache: deploy says so, with
    the remedy, before it records anything."""
    if engine_name() not in ("default", "buildkit"):
        pytest.skip("Docker 20.10's docker driver is the default engine's")
    repo = Repo(SHAPES["how-to"], tmp_path)
    proc = _freshbin(repo, ["deploy", "--image", unique_image("no-export"), "--cache", "registry"], builder=None)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "cannot export a build cache" in last and "--builder" in last, last
    assert not Path(repo.workspace, ".freshbin", "deploys.jsonl").exists()

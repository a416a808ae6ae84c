"""The registry as the shared deploy history: separate clones ("runners") with empty ledgers see
each other's deploys, catch a stale one with another runner's record, lose nothing when eight
deploy at once, and keep registry credentials out of every output and record."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest

from freshbin import ledger

from ..conftest import EXAMPLE, FRESHBIN, commit_all, git, set_revision
from .conftest import unique_image
from .test_deploy import freshbin_deploy
from .test_faults import auth_registry  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e
RECORD_TYPE = "application/vnd.freshbin.deploy.v1+json"


@pytest.fixture
def seed(tmp_path) -> Path:
    """A bare repository holding the example, as a forge would: runners clone it and push to it."""
    work = tmp_path / "seed-work"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("target", ".freshbin"))
    (work / ".gitignore").write_text(".freshbin/\n")  # each checkout's ledger is its own
    git(work, "init", "-q", "-b", "main")
    commit_all(work, "initial")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "seed.git")], check=True)
    return tmp_path / "seed.git"


def runner(seed: Path, name: str) -> Path:
    """A fresh CI checkout: a clone over the pack protocol (packed objects), an empty .freshbin/."""
    path = seed.parent / name
    subprocess.run(["git", "clone", "-q", "--no-local", str(seed), str(path)], check=True)
    (path / ".freshbin").mkdir()
    assert list((path / ".git" / "objects" / "pack").glob("*.pack")), "the clone has no packed objects"
    return path


def change(repo: Path, binary: str, message: str) -> str:
    git(repo, "pull", "-q", "--ff-only")
    set_revision(repo, binary, f"{binary}-{uuid.uuid4().hex[:8]}")
    commit = commit_all(repo, message)
    git(repo, "push", "-q", "origin", "main")
    return commit


def freshbin(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FRESHBIN, *args], cwd=repo, capture_output=True, text=True, timeout=600)


def expect(proc: subprocess.CompletedProcess, code: int = 0) -> dict:
    """The deploy's JSON; on a surprise, its reason and notes rather than the build log's tail."""
    notes = [line for line in proc.stderr.splitlines() if line.startswith(("note:", "freshbin:"))]
    assert proc.returncode == code, (proc.stdout[-1500:], notes)
    return json.loads(proc.stdout)


def local_commits(repo: Path) -> list[str]:
    return [r["commit"] for r in ledger.read(repo / ".freshbin" / "deploys.jsonl").records]


@pytest.mark.engine_independent
def test_runners_see_each_others_deploys_and_a_stale_one_is_caught_with_the_other_runners_record(engine, seed):
    image = unique_image("history-runners")
    a, b = runner(seed, "runner-a"), runner(seed, "runner-b")
    # A ships the dummy worker (the how-to's no-cache deploy of the hazardous Dockerfile): no previous.
    first = expect(freshbin_deploy(a, image, "--strategy", "no-cache"), code=1)  # caught by the build record
    assert first["previous"] is None and first["history"]["via"] == "tag schema"
    # B, with an empty ledger, sees A's deploy as the base.
    c1 = change(b, "api", "api change")
    detected = json.loads(freshbin(b, "detect", "--image", image, "--json").stdout)
    assert (detected["base"], detected["base_from"]) == (first["commit"], "registry")
    second = expect(freshbin_deploy(b, image))
    assert second["previous"]["commit"] == first["commit"] and second["previous"]["origin"] == "registry"
    # A sees B's.
    c2 = change(a, "worker", "worker change")
    third = expect(freshbin_deploy(a, image))
    assert third["previous"]["commit"] == c1 == second["commit"] and third["fresh"] is True
    # B changes the worker again and deploys the how-to's way: the dummy again. Only A's first
    # record, which B's ledger never held, shows this binary came from other sources.
    c3 = change(b, "worker", "worker change again")
    stale = expect(freshbin_deploy(b, image, "--strategy", "no-cache"), code=1)
    assert stale["fresh"] is False and stale["previous"]["commit"] == c2 == third["commit"]
    # The build's own record catches it first (cargo skipped the changed worker); the history agrees:
    # A's record, which B's ledger never held, holds this very binary.
    assert stale["binary"]["sha256"] == first["binary"]["sha256"] and "did not compile" in stale["reason"]
    assert first["commit"] not in local_commits(b)
    # A third clone lists all four, newest first, from the registry alone.
    c = runner(seed, "runner-c")
    listed = json.loads(freshbin(c, "history", "--image", image, "--json").stdout)
    assert [r["commit"] for r in listed] == [c3, c2, c1, first["commit"]]
    assert [r["stale"] for r in listed] == [True, False, False, True]  # the first: by its build record
    assert all(r["origin"] == "registry" and r["schema"] == 1 and r["target"] == "worker" for r in listed)
    table = freshbin(c, "history", "--image", image)
    assert table.returncode == 0 and "4 deploy(s); registry: tag schema" in table.stdout
    assert [line.split()[1] for line in table.stdout.splitlines()[2:6]] == [x[:12] for x in (c3, c2, c1, first["commit"])]
    # verify --quick from an empty ledger checks A's fresh deploy with B's as the one before it.
    git(c, "checkout", "-q", c2)
    quick = freshbin(c, "verify", "--image", image, "--target", "worker", "--tag", third["tag"], "--quick", "--json")
    verdict = json.loads(quick.stdout)
    assert quick.returncode == 0 and verdict["verdict"] == "fresh", quick.stderr[-1500:]
    checks = {check["name"]: check for check in verdict["checks"]}
    assert checks["registry tag"]["ok"] is True and checks["change propagation"]["ok"] is True


def test_eight_concurrent_deploys_from_four_clones_lose_no_record(engine, seed):
    image = unique_image("history-eight")
    clones = [runner(seed, f"runner-{i}") for i in range(4)]
    # guard: a `cached` deploy of a fresh clone ships the dummy (sources older than the pre-build) and is
    # rightly judged STALE (exit 1) whenever the compile step is not already in the build cache.
    warm = expect(freshbin_deploy(clones[0], image, "--strategy", "guard", "--tag", "warm"))
    results: dict[str, subprocess.CompletedProcess] = {}

    def deploy(repo: Path, tag: str) -> None:
        results[tag] = freshbin_deploy(repo, image, "--strategy", "guard", "--tag", tag)

    threads = [threading.Thread(target=deploy, args=(repo, f"r{i}-{j}")) for i, repo in enumerate(clones)
               for j in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pushed = {tag: expect(proc) for tag, proc in results.items()}
    unrecorded = {tag: r["history"] for tag, r in pushed.items() if not (r["history"]["via"] == "tag schema"
                                                                        and r["history"]["record"])}
    assert not unrecorded, unrecorded
    listed = json.loads(freshbin(runner(seed, "reader"), "history", "--image", image, "--json").stdout)
    assert sorted((r["tag"], r["record"]) for r in listed) == sorted(
        [(tag, r["history"]["record"]) for tag, r in pushed.items()] + [("warm", warm["history"]["record"])])
    assert all(r["schema"] == 1 and r["binary"]["sha256"] == warm["binary"]["sha256"] for r in listed)


def _get(url: str, auth: str = "", accept: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={k: v for k, v in (("Authorization", auth), ("Accept", accept)) if v})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


@pytest.mark.engine_independent
def test_basic_auth_registry_through_docker_login_keeps_every_secret_out(engine, seed, auth_registry, tmp_path,  # noqa: F811
                                                                         monkeypatch):
    address, user, password = auth_registry
    real_config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    if (real_config / "buildx").is_dir():  # a CI job's own config still knows the job's builders
        shutil.copytree(real_config / "buildx", tmp_path / "docker-config" / "buildx")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    login = subprocess.run(["docker", "login", address, "-u", user, "--password-stdin"], input=password,
                           capture_output=True, text=True)
    assert login.returncode == 0, login.stderr
    assert (tmp_path / "docker-config" / "config.json").exists()
    a = runner(seed, "runner-a")
    token = f"tok-{uuid.uuid4().hex}"  # a credential in the remote URL must not reach the source label
    git(a, "remote", "set-url", "origin", f"https://ci:{token}@git.example.invalid/acme/api.git")
    image = f"{address}/acme/worker"
    deployed = freshbin_deploy(a, image)
    data = expect(deployed)
    assert data["history"]["via"] == "tag schema" and data["history"]["note"] == ""
    b = runner(seed, "runner-b")
    listed = freshbin(b, "history", "--image", image, "--json")
    records = json.loads(listed.stdout)
    assert [r["commit"] for r in records] == [data["commit"]]
    assert records[0]["source"] == "https://git.example.invalid/acme/api.git"
    quick = freshbin(b, "verify", "--image", image, "--target", "worker", "--quick", "--json")
    assert json.loads(quick.stdout)["verdict"] == "fresh", quick.stderr[-1500:]
    # Everything the registry holds about the deploy: labels, the referrers index, the record.
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    hexdigest = data["digest"].split(":")[1]
    status, index = _get(f"http://{address}/v2/acme/worker/manifests/sha256-{hexdigest}", basic,
                         "application/vnd.oci.image.index.v1+json")
    assert status == 200
    artifact_digest = json.loads(index)["manifests"][0]["digest"]
    _, artifact = _get(f"http://{address}/v2/acme/worker/manifests/{artifact_digest}", basic,
                       "application/vnd.oci.image.manifest.v1+json")
    blob = json.loads(artifact)["layers"][0]["digest"]
    _, record = _get(f"http://{address}/v2/acme/worker/blobs/{blob}", basic)
    assert json.loads(record)["commit"] == data["commit"]
    assert _get(f"http://{address}/v2/acme/worker/referrers/{data['digest']}", basic)[0] == 404  # fallback used
    labels = subprocess.run(["docker", "buildx", "imagetools", "inspect", f"{image}:{data['tag']}", "--format",
                             "{{json .Image.Config.Labels}}"], capture_output=True, text=True).stdout
    assert "git.example.invalid/acme/api.git" in labels and "dev.freshbin.strategy" in labels
    secrets = [password, basic.split()[1], token]
    texts = [deployed.stdout, deployed.stderr, listed.stdout, listed.stderr, quick.stdout, quick.stderr,
             index.decode(), artifact.decode(), record.decode(), labels]
    texts += [p.read_text(errors="replace") for repo in (a, b) for p in (repo / ".freshbin").iterdir() if p.is_file()]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert os.environ["DOCKER_CONFIG"] == str(tmp_path / "docker-config")

"""Shared fixtures: real git repositories in temp dirs, with isolated git identity and config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from freshbin import graph_cache

REPO_ROOT = Path(__file__).resolve().parents[1]
FRESHBIN = [sys.executable, "-m", "freshbin"]  # the CLI of the code under test, never whatever is on PATH
EXAMPLE = REPO_ROOT / "examples" / "workspace"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # also gives each test its own ~/.cache/freshbin
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    graph_cache._MEMORY.clear()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var, value in {
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }.items():
        monkeypatch.setenv(var, value)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def clone(seed: Path, dest: Path, *options: str) -> Path:
    """`git clone` through git's transport (not hard links): packed objects, the shape users have."""
    git(dest.parent, "clone", "-q", "--no-local", *options, str(seed), str(dest))
    return dest


def seeded_clone(tmp_path: Path, source: Path, name: str = "ws") -> Path:
    """A clone of a one-commit repository holding a copy of `source`."""
    seed = tmp_path / f"{name}-seed"
    shutil.copytree(source, seed, ignore=shutil.ignore_patterns("target", ".freshbin"))
    git(seed, "init", "-q", "-b", "main")
    commit_all(seed, "initial")
    return clone(seed, tmp_path / name)


@pytest.fixture
def example_repo(tmp_path) -> Path:
    """A clone (packed objects) of a repository holding a copy of examples/workspace, one commit."""
    return seeded_clone(tmp_path, EXAMPLE)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def set_revision(repo: Path, binary: str, revision: str) -> None:
    """Edit the REVISION marker of bin/<binary>: the change a developer commits."""
    main = repo / "bin" / binary / "src" / "main.rs"
    lines = [
        f'const REVISION: &str = "{revision}";' if ln.startswith("const REVISION") else ln
        for ln in main.read_text().splitlines()
    ]
    main.write_text("\n".join(lines) + "\n")


def unique_dummy(repo: Path, dockerfile: str = "Dockerfile") -> None:
    """Make the pre-build's dummy binary unique to this test (it still prints `dummy`).

    BuildKit v0.8 keys `COPY --from=builder …/worker` by the copied file's content and can file a
    later build's result under an existing record; every test building the example compiles the
    same dummy bytes, so one test's record could answer another's.  A unique string in the dummy
    keeps each test's cache records its own.
    """
    path = repo / dockerfile
    nonce = uuid.uuid4().hex[:12]
    path.write_text(path.read_text().replace(
        'fn main() { println!("dummy"); }',
        f'fn main() {{ if std::env::var_os("FRESHBIN_NONCE_{nonce}").is_some() {{ return; }} println!("dummy"); }}'))
    commit_all(repo, "unique dummy")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


REGISTRY = "127.0.0.1:5000"
BUILDER = "localhost/rust-builder:bookworm"
RUNTIME = "localhost/rust-runtime:bookworm"
BUILD_ARGS = {"BUILDER": BUILDER, "RUNTIME": RUNTIME}


ENV_DIR = Path(os.environ.get("FRESHBIN_ENV_DIR", "/var/lib/freshbin-env"))
# FRESHBIN_TEST_ENGINE -> the daemon `testenv.sh up --engine 26 [--containerd-store]` started.
ENGINES = {"default": "", "26": "docker26", "docker26": "docker26",
           "26-containerd": "docker26-containerd", "docker26-containerd": "docker26-containerd",
           "buildkit": "buildkit"}
# FRESHBIN_TEST_ENGINE=buildkit: the default engine's client and store, builds on the standalone
# BuildKit that `testenv.sh up --engine buildkit` starts as buildx's remote builder; it cannot see
# dockerd's images, so the base images are the copies that script pushed to the registry.
REMOTE_BUILDER = "freshbin-buildkit"
REMOTE_BUILD_ARGS = {"BUILDER": f"{REGISTRY}/freshbin-base/rust-builder:bookworm",
                     "RUNTIME": f"{REGISTRY}/freshbin-base/rust-runtime:bookworm"}


_CHOSEN: list[str] = []  # the engine read at configure time (the variable is then removed)


def engine_name() -> str:
    """The engine the suite runs on: FRESHBIN_TEST_ENGINE (default, 26, 26-containerd)."""
    return _CHOSEN[0] if _CHOSEN else "default"


def pytest_configure(config):
    """Point every docker call of the session (tests, freshbin, buildx) at the chosen engine.

    The variable is removed from the environment: freshbin rejects unknown FRESHBIN_* variables.
    """
    name = os.environ.pop("FRESHBIN_TEST_ENGINE", "") or "default"
    if name not in ENGINES:
        raise pytest.UsageError(f"FRESHBIN_TEST_ENGINE={name!r} is unknown; use one of {', '.join(ENGINES)}")
    _CHOSEN[:] = [ENGINES[name] or "default"]
    if _CHOSEN[0] == "buildkit":
        os.environ["BUILDX_BUILDER"] = REMOTE_BUILDER
        # buildx keeps its builders under the Docker config, which the tests' own HOME would hide
        os.environ.setdefault("DOCKER_CONFIG", str(Path.home() / ".docker"))
        BUILD_ARGS.update(REMOTE_BUILD_ARGS)  # one dict, shared by every test module that imported it
    elif _CHOSEN[0] != "default":
        os.environ["DOCKER_HOST"] = f"unix://{ENV_DIR / (_CHOSEN[0] + '.sock')}"


def pytest_collection_modifyitems(config, items):
    """`engine_independent` tests check what no engine or builder changes: they run once, on the
    default engine, which keeps each other engine's leg to what differs between engines."""
    if engine_name() == "default":
        return
    skip = pytest.mark.skip(reason=f"engine-independent: runs on the default engine, not on {engine_name()}")
    for item in items:
        if "engine_independent" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    return f"engine: {engine_name()} (DOCKER_HOST={os.environ.get('DOCKER_HOST', 'unset')})"


def _missing() -> str | None:
    remote = [(["docker", "buildx", "inspect", REMOTE_BUILDER], f"no buildx builder {REMOTE_BUILDER}"),
              *[(["docker", "buildx", "imagetools", "inspect", ref], f"{ref} is missing")
                for ref in REMOTE_BUILD_ARGS.values()]] if engine_name() == "buildkit" else []
    checks = remote + [
        (["docker", "info"], "the Docker daemon does not answer"),
        (["docker", "buildx", "version"], "docker buildx is not installed"),
        (["docker", "image", "inspect", BUILDER], f"{BUILDER} is missing"),
        (["docker", "image", "inspect", RUNTIME], f"{RUNTIME} is missing"),
        (["curl", "-fsS", f"http://{REGISTRY}/v2/"], f"no registry on {REGISTRY}"),
    ]
    for argv, reason in checks:
        try:
            ok = subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
        except (FileNotFoundError, subprocess.TimeoutExpired):
            ok = False
        if not ok:
            hint = "" if engine_name() == "default" else " --engine buildkit" if engine_name() == "buildkit" else (
                " --engine 26" + (" --containerd-store" if "containerd" in engine_name() else ""))
            return f"{reason} (engine {engine_name()}); run `invoke env.up{hint}`"
    return None


@pytest.fixture(scope="session")
def engine():
    """Skip (or, in CI, fail) when the real engine, buildx, registry or base images are missing."""
    reason = _missing()
    if reason:
        if in_ci():
            pytest.fail(f"e2e environment missing in CI: {reason}")
        pytest.skip(reason)
    return REGISTRY


@pytest.fixture
def upstream(example_repo):
    """The example with two more commits (api, then worker), served to clones over file://
    (blobless clones too)."""
    set_revision(example_repo, "api", "a2")
    commit_all(example_repo, "api a2")
    set_revision(example_repo, "worker", "w2")
    commit_all(example_repo, "worker w2")
    git(example_repo, "config", "uploadpack.allowFilter", "true")
    return example_repo

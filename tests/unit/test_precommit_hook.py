"""The shipped .pre-commit-hooks.yaml, run by pre-commit itself (from PyPI) in a temp repository.

pre-commit installs this checkout's freshbin into a virtualenv of its own (pip, as for any
hook repository) and runs `freshbin doctor <changed Dockerfiles>`: it fails on a hazardous
Dockerfile and passes once `doctor --fix` has rewritten it; a change that touches no
Dockerfile does not run the hook.  About 15 s (the hook environment is built once).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from freshbin.doctor import fix

from ..conftest import REPO_ROOT, commit_all, git, write

HAZARD = ("FROM rust AS builder\nWORKDIR /app\nCOPY Cargo.toml ./\n"
          "RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release\nCOPY . .\n"
          "RUN cargo build --release\n")


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=repo, capture_output=True, text=True,
                          env={"PRE_COMMIT_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home),
                               "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"})


@pytest.fixture
def hook_repo(tmp_path) -> Path:
    """A git repository holding this checkout's package and hook manifest (pre-commit clones a rev)."""
    pytest.importorskip("pre_commit", reason="pip install pre-commit (the test extra)")
    repo = tmp_path / "hooks"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO_ROOT / name, repo / name)
    shutil.copytree(REPO_ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "hooks")
    return repo


def test_the_manifest_declares_doctor_on_dockerfiles():
    [hook] = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "freshbin-doctor" and hook["entry"] == "freshbin doctor"
    assert hook["types"] == ["dockerfile"] and hook["language"] == "python"


def test_pre_commit_fails_on_the_hazard_and_passes_on_the_fixed_dockerfile(tmp_path, hook_repo):
    project = tmp_path / "project"
    write(project / "Cargo.toml", '[package]\nname = "myapp"\nversion = "0.1.0"\nedition = "2021"\n')
    write(project / "src" / "main.rs", "fn main() {}\n")
    write(project / "README.md", "x\n")
    rev = git(hook_repo, "rev-parse", "HEAD").strip()
    write(project / ".pre-commit-config.yaml",
          f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: freshbin-doctor\n")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "start")
    home = tmp_path / "pre-commit-home"

    write(project / "README.md", "y\n")  # a change without a Dockerfile: the hook does not run
    git(project, "add", "README.md")
    skipped = pre_commit(project, home)
    assert skipped.returncode == 0 and "no files to check" in skipped.stdout.lower(), skipped.stdout + skipped.stderr

    write(project / "Dockerfile", HAZARD)
    git(project, "add", "Dockerfile")
    failed = pre_commit(project, home)
    assert failed.returncode == 1 and "FB002" in failed.stdout, failed.stdout + failed.stderr

    new, diff = fix(project / "Dockerfile", project, project)
    assert "find src -name '*.rs' -exec touch {} +" in diff
    (project / "Dockerfile").write_text(new)
    git(project, "add", "Dockerfile")
    passed = pre_commit(project, home)
    assert passed.returncode == 0 and "Passed" in passed.stdout, passed.stdout + passed.stderr

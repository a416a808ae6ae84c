"""The checkout a build starts from, read with git itself through the runner.

A deploy needs a few answers before buildx can start: where the work tree is, HEAD's commit,
whether the tree is dirty, the commit's files and the `origin` remote.  GitPython answers them
too, but its import (~0.03 s, plus two `git version` runs) would then sit on every deploy's path
before the build.  So these few are asked of git directly (one process each, ~2 ms), and
GitPython (gitio.py: detect, the graph of a commit) loads beside the build.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import runner
from .errors import CommandFailed, EnvironmentProblem, GitError, last_line


@dataclass(frozen=True)
class Checkout:
    root: Path  # the work tree's top directory, resolved
    head: str  # HEAD's commit id


def require_git() -> None:
    """git must be installed: one clear line where git is first needed (deploy, detect)."""
    if shutil.which("git") is None:
        raise EnvironmentProblem("git is not installed or not on PATH; install git (Debian: apt-get install git)")


def not_a_repository(path: Path) -> GitError:
    return GitError(f"{path} is not inside a git repository; run from your project's checkout")


def bare_repository(git_dir: object) -> GitError:
    return GitError(f"{git_dir} is a bare repository; run from a checkout with a work tree")


def no_commits() -> GitError:
    return GitError("the repository has no commits yet; commit your sources first")


def open_checkout(path: str | os.PathLike[str]) -> Checkout:
    """The non-bare checkout containing `path`, with at least one commit (the refusals are
    gitio.open_repo's too)."""
    require_git()
    where = Path(path).resolve()
    if not where.is_dir():
        raise not_a_repository(where)
    answer = _git(where, "rev-parse", "--is-bare-repository", "--show-toplevel", "--verify", "--quiet",
                  "HEAD^{commit}")
    lines = runner.decode(answer.stdout).splitlines()
    if lines[:1] == ["true"]:
        raise bare_repository(where)
    if answer.returncode == 128 or len(lines) < 2:
        why = _fatal_line(answer.stderr)
        if "not a git repository" in why or not why:
            raise not_a_repository(where)
        raise GitError(f"git cannot read the repository at {where} ({why}); run `git status` there and do what "
                       "git says")
    if answer.returncode != 0 or len(lines) < 3:
        raise no_commits()
    return Checkout(Path(lines[1]).resolve(), lines[2])


def dirty_paths(root: Path, ignore: tuple[str, ...] = ()) -> list[str]:
    """Uncommitted paths (staged, unstaged, untracked), minus those under `ignore` prefixes.

    The kit's own ledger directory is ignored, so recording a deploy never makes the next one dirty.
    """
    raw = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", check=True).stdout
    paths, fields, i = [], raw.split(b"\0"), 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[:1] in (b"R", b"C"):
            i += 1  # the rename's source path follows
        path = os.fsdecode(entry[3:])
        if not any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in ignore):
            paths.append(path)
    return paths


def export_commit(root: Path, commit: str, archive: Path) -> None:
    """The commit's files as a tar archive at `archive` (`git archive`: no work tree, no mtimes of it)."""
    _git(root, "archive", "--format=tar", "-o", str(archive), commit, check=True)


def worktree_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored paths of the work tree (what --allow-dirty builds from)."""
    listing = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", check=True).stdout
    return [os.fsdecode(raw) for raw in listing.split(b"\0") if raw]


def subjects(root: Path, commits: list[str]) -> dict[str, str]:
    """The subject line of each commit this clone has (others are left out): two git processes."""
    wanted = sorted({c for c in commits if c and all(ch in "0123456789abcdef" for ch in c)})
    if not wanted:
        return {}
    found = _git(root, "cat-file", "--batch-check=%(objectname) %(objecttype)", input_bytes=("\n".join(wanted) + "\n").encode())
    present = [line.split()[0] for line in runner.decode(found.stdout).splitlines() if line.endswith(" commit")]
    if found.returncode != 0 or not present:
        return {}
    log = _git(root, "log", "--no-walk=unsorted", "--format=%H%x00%s", *present)
    if log.returncode != 0:
        return {}
    pairs = (line.split("\0", 1) for line in runner.decode(log.stdout).splitlines() if "\0" in line)
    return {commit: subject for commit, subject in pairs}


def origin_url(root: Path) -> str:
    """The `origin` remote's URL as git configures it; "" without one."""
    answer = _git(root, "config", "--get", "remote.origin.url")
    return runner.decode(answer.stdout).strip() if answer.returncode == 0 else ""


def _fatal_line(stderr: bytes) -> str:
    """git's reason: its `fatal:` line (a refused repository's remedy follows on later lines)."""
    text = runner.decode(stderr)
    fatal = next((line.removeprefix("fatal: ") for line in text.splitlines() if line.startswith("fatal: ")), "")
    return fatal or last_line(text)


def _git(root: Path, *args: str, check: bool = False, input_bytes: bytes | None = None) -> runner.ResultB:
    try:
        return runner.run_b(["git", "-C", str(root), *args], check=check, timeout=120, input_bytes=input_bytes)
    except CommandFailed as exc:
        raise GitError(f"`git {args[0]}` failed in {root} ({last_line(exc.stderr) or 'no message'}); "
                       "check the repository with `git status`") from None

"""Git, read through GitPython: repository discovery, ref resolution and changed files.

Changed files come from `git diff --raw -z`: NUL-separated, so paths with spaces, unicode or
newlines survive, and raw status letters keep renames, type changes and submodules distinct.
Paths are decoded with the filesystem encoding and `surrogateescape`, so non-UTF-8 names survive.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple
from enum import StrEnum
from pathlib import Path

import git

from . import checkout
from .errors import GitError, last_line

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SUBMODULE_MODE = "160000"


class ChangeStatus(StrEnum):
    """A changed file's status; the value is what the JSON says."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    TYPE_CHANGED = "type-changed"


STATUS_NAMES = {"A": ChangeStatus.ADDED, "M": ChangeStatus.MODIFIED, "D": ChangeStatus.DELETED,
                "R": ChangeStatus.RENAMED, "C": ChangeStatus.ADDED, "T": ChangeStatus.TYPE_CHANGED}
_SAFE_REF = re.compile(r"^[^\s\x00-\x1f\x7f]+$")  # git itself judges the rest


class FileChange(NamedTuple):
    """One file of a diff (a named tuple: a 20k-file range builds thousands, and a frozen
    dataclass costs twice as much to build)."""

    path: str
    status: ChangeStatus
    old_path: str | None = None
    submodule: bool = False


def open_repo(path: str | os.PathLike[str]) -> git.Repo:
    """The non-bare repository containing `path`, with at least one commit."""
    checkout.require_git()
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise checkout.not_a_repository(Path(path).resolve()) from exc
    if repo.bare:
        raise checkout.bare_repository(repo.git_dir)
    if _owned_by_another_user(repo):  # only then may git refuse it (safe.directory): ask git itself
        checkout.open_checkout(path)
    head_commit(repo)
    return repo


def _owned_by_another_user(repo: git.Repo) -> bool:
    """git reads a repository owned by another user only when safe.directory allows it; GitPython
    would fail later, deep in a read (`ValueError: SHA is empty`), so such a one is checked first."""
    uid = os.geteuid()
    return any(os.stat(d).st_uid != uid for d in (repo.working_tree_dir, repo.git_dir) if d)


def head_commit(repo: git.Repo) -> git.Commit:
    """HEAD's commit, read from the ref files alone.

    `repo.head.commit` would also ask git's object store for the commit's type, which starts
    GitPython's persistent `cat-file` process: 2 ms that detect's diff would wait for.  The
    commit object stays lazy; its data is read (on whichever thread asks) only when needed.
    """
    try:
        sha = git.SymbolicReference.dereference_recursive(repo, "HEAD")
    except ValueError as exc:
        raise checkout.no_commits() from exc
    return git.Commit(repo, bytes.fromhex(sha))


def work_tree(repo: git.Repo) -> Path:
    """The resolved root of the work tree (open_repo has refused bare repositories)."""
    if repo.working_tree_dir is None:
        raise checkout.bare_repository(repo.git_dir)
    return Path(repo.working_tree_dir).resolve()


def is_shallow(repo: git.Repo) -> bool:
    """git's own answer (a linked worktree keeps the list in the common dir, not its git dir)."""
    try:
        answer: str = repo.git.rev_parse("--is-shallow-repository")
        return answer.strip() == "true"
    except git.GitCommandError:
        return (Path(repo.common_dir) / "shallow").is_file()


def validate_ref(ref: str) -> str:
    """Reject strings that cannot be a revision before they reach git (no options, no controls)."""
    if not ref or ref.startswith("-") or len(ref) > 255 or not _SAFE_REF.match(ref) or ".." in ref:
        raise GitError(f"{ref!r} is not a valid git revision; pass a branch, tag, commit or HEAD~N")
    return ref


def resolve(repo: git.Repo, ref: str) -> git.Commit:
    """The commit `ref` names; the error says whether a shallow clone is the reason.

    `git rev-parse --verify` (not GitPython's own walker) so a parent that a shallow clone
    lacks is reported as missing instead of resolving to an object that is not there.
    """
    validate_ref(ref)
    try:
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except git.GitCommandError:
        sha = None
    if sha:  # rev-parse has checked it is a commit: a lazy object, read only when asked
        return git.Commit(repo, bytes.fromhex(sha))
    kind = _object_type(repo, ref)
    if kind and kind != "commit":
        raise GitError(f"{ref!r} names a {kind}, not a commit; pass a commit, branch or tag")
    if is_shallow(repo) and _beyond_boundary(repo, ref):
        raise GitError(
            f"cannot resolve {ref!r}: this clone is shallow and the commit lies beyond its boundary; "
            "run `git fetch --deepen=50` (or `git fetch --unshallow`) or pass --base with a commit you have"
        )
    raise GitError(f"unknown git revision {ref!r}; check the name with `git log --oneline`")


_FULL_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def is_full_id(ref: str) -> bool:
    """A whole object id (SHA-1 or SHA-256), which no branch or tag name can shadow in a diff."""
    return bool(_FULL_ID.match(ref))


_NAVIGATION = re.compile(r"[~^].*$")
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")


def _beyond_boundary(repo: git.Repo, ref: str) -> bool:
    """A ref that walks back from a known commit (HEAD~3), or a commit id this clone lacks."""
    start = _NAVIGATION.sub("", ref)
    if start != ref:
        try:
            return bool(repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{start}^{{commit}}"))
        except git.GitCommandError:
            return False
    return bool(_HEX.match(ref))


def _object_type(repo: git.Repo, ref: str) -> str | None:
    try:
        return repo.git.cat_file("-t", "--end-of-options", ref) or None
    except git.GitCommandError:
        return None


def default_base(repo: git.Repo, head: git.Commit) -> str:
    """`HEAD~1` of head, or the empty tree for a root commit (everything counts as added)."""
    if not head.parents:
        return EMPTY_TREE
    parent = head.parents[0].hexsha
    # rev-parse (not `cat-file -e`) so a shallow boundary is respected and a partial clone does
    # not fetch the missing commit from its promisor remote as a side effect.
    try:
        if repo.git.rev_parse("--verify", "--quiet", f"{head.hexsha}^1^{{commit}}"):
            return parent
    except git.GitCommandError:
        pass
    if is_shallow(repo):
        raise GitError(
            "the previous commit is missing because this clone is shallow; run `git fetch --deepen=50` "
            "or pass --base"
        )
    raise GitError(f"the previous commit {parent[:12]} is missing from this repository; "
                   "run `git fetch` or pass --base with a commit you have")


def merge_base_if_diverged(repo: git.Repo, base: str, head: git.Commit) -> tuple[str, str | None]:
    """(base to diff from, note) — the merge-base when `base` is not an ancestor of head."""
    try:
        if base == EMPTY_TREE or repo.is_ancestor(base, head.hexsha):  # type: ignore[arg-type]  # typed Commit; takes any revision
            return base, None
        bases = repo.merge_base(base, head.hexsha)
    except git.GitCommandError as exc:
        raise missing_objects(exc) from None
    if not bases:
        raise GitError(f"{base[:12]} and {head.hexsha[:12]} share no history; pass a --base on this branch")
    mb = bases[0].hexsha
    return mb, f"base {base[:12]} is not an ancestor of head; using their merge-base {mb[:12]}"


def missing_objects(exc: git.GitCommandError) -> GitError:
    """One line for a git failure inside a range: objects a partial or damaged clone lacks."""
    why = last_line(str(exc.stderr or "").strip().strip("'")) or f"git exited {exc.status}"
    return GitError(f"git cannot read the range ({why}); run `git fetch` to get the missing objects, "
                    "or pass --base with a commit you have")


def _decode(raw: bytes) -> str:
    return os.fsdecode(raw)


def parse_raw_diff(raw: bytes) -> list[FileChange]:
    """Parse `git diff --raw -z` output (records: `:modes shas status\0path\0[path\0]`).

    Written for a range of thousands of files:
    - the output is decoded once, whole: NUL never occurs inside a UTF-8 sequence and
      `surrogateescape` escapes each undecodable byte alone, so this equals decoding each path apart;
    - the status letter ends the record unless a score follows it (renames, copies): then it is
      the first character after the last space, and only then is that space looked for;
    - a submodule is a 160000 mode among the record's two modes (its first 14 characters).
    """
    fields = os.fsdecode(raw).split("\0")
    changes: list[FileChange] = []
    append, count, i = changes.append, len(fields), 0
    statuses, modified = STATUS_NAMES, ChangeStatus.MODIFIED
    make = FileChange.__new__  # the tuple's own constructor, without the class call around it
    while i < count:
        meta = fields[i]
        if meta[:1] != ":":
            break
        letter, submodule = meta[-1], SUBMODULE_MODE in meta[:14]
        if letter < "A":  # a digit: a score follows the letter
            letter = meta[meta.rindex(" ") + 1]
            if letter == "R" or letter == "C":
                append(make(FileChange, fields[i + 2], statuses[letter], fields[i + 1] if letter == "R" else None,
                            submodule))
                i += 3
                continue
        append(make(FileChange, fields[i + 1], statuses.get(letter, modified), None, submodule))
        i += 2
    return changes


def changed_files(repo: git.Repo, base: str, head: str | None) -> list[FileChange]:
    """Files changed from `base` to `head`, or to the work tree (plus untracked files) when None."""
    args = ["--raw", "-z", "-M", "--no-abbrev", "--no-color", "--no-ext-diff", base]
    if head is not None:
        args.append(head)
    try:
        raw = repo.git.diff(*args, "--", stdout_as_string=False)
    except git.GitCommandError as exc:
        raise missing_objects(exc) from None
    changes = parse_raw_diff(raw)
    if head is None:
        untracked = repo.git.ls_files("--others", "--exclude-standard", "-z", stdout_as_string=False)
        changes += [FileChange(path=_decode(p), status=ChangeStatus.ADDED) for p in untracked.split(b"\0") if p]
    return changes

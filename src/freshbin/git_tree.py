"""One git commit's tree, as a trees.Tree: what detect reads a range's workspace graphs from.

The tree is listed once (`git ls-tree -r`) and its manifests are read through GitPython's
persistent `cat-file --batch` process: packed, loose, worktree and partial clones all answer the
same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import KeysView

import git

from .errors import GitError, last_line


class GitTree:
    """The workspace directory inside one commit: listed once, blobs read on demand."""

    def __init__(self, repo: git.Repo, commit: str, prefix: str = ""):
        self.repo, self.commit, self.prefix = repo, commit, prefix.strip("/")
        self._blob_ids: dict[str, str] | None = None
        self._dirs: dict[str, set[str]] | None = None

    @property
    def blob_ids(self) -> dict[str, str]:
        """Every file's blob id, listed on first use (`git ls-tree -r`): a graph found in the cache
        by the tree's id needs no listing, and listing 20k files was most of detect's time."""
        if self._blob_ids is None:
            self._blob_ids = dict(self._list())
        return self._blob_ids

    @property
    def files(self) -> KeysView[str]:
        return self.blob_ids.keys()

    def tree_id(self) -> str | None:
        """The id of the workspace directory's tree in this commit (None: no such directory).  Equal
        ids mean equal files, so the graph cache can be asked by it before anything is listed."""
        try:
            tree = self.repo.commit(self.commit).tree
            node = tree / self.prefix if self.prefix else tree
        except (KeyError, ValueError, git.BadName, git.GitCommandError):
            return None
        return node.hexsha if node.type == "tree" else None

    @property
    def dirs(self) -> dict[str, set[str]]:
        """Directory -> names in it; built on first use only (a cached graph needs no directories,
        and building them was most of detect's time on a 20k-file tree)."""
        if self._dirs is None:
            dirs: dict[str, set[str]] = {".": set()}
            for rel in self.blob_ids:
                parts = rel.split("/")
                parent = "."
                for i, name in enumerate(parts):
                    dirs.setdefault(parent, set()).add(name)
                    parent = "/".join(parts[: i + 1])
            self._dirs = dirs
        return self._dirs

    @property
    def label(self) -> str:
        return f"commit {self.commit[:12]}"

    def graph_key(self) -> str:
        """What the workspace graph depends on: every manifest's blob id and which binary target
        files exist.  Commits that change only other files share the key (and the cached graph)."""
        digest = hashlib.sha256()
        for rel in sorted(r for r in self.blob_ids if r.endswith(("Cargo.toml", "main.rs")) or "src/bin/" in r):
            name = rel.rsplit("/", 1)[-1]
            if name == "Cargo.toml":
                digest.update(f"{rel}\0{self.blob_ids[rel]}\n".encode())
            elif name == "main.rs" or "src/bin/" in f"/{rel}":
                digest.update(f"{rel}\n".encode())
        return digest.hexdigest()

    def _list(self) -> list[tuple[str, str]]:
        """(workspace-relative path, blob id) of every file of the commit under the prefix."""
        args = ["-r", "-z", "--full-tree", self.commit]
        if self.prefix:
            args += ["--", self.prefix + "/"]
        try:
            raw = self.repo.git.ls_tree(*args, stdout_as_string=False)
        except git.GitCommandError as exc:
            raise GitError(f"cannot list the files of commit {self.commit[:12]} ({_why(exc)}); "
                           "fetch the missing objects (`git fetch`) or pass another --base") from None
        cut = len(self.prefix) + 1 if self.prefix else 0
        # "<mode> <type> <id>\t<path>"; gitlinks (submodules, type "commit") are not files of this tree.
        # Decoded as os.fsdecode does on POSIX, without its per-call overhead (20k entries).
        entries = []
        for record in raw.split(b"\0"):
            meta, _, path = record.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) == 3 and fields[1] == b"blob":
                entries.append((path.decode("utf-8", "surrogateescape")[cut:], fields[2].decode()))
        return entries

    def read(self, rel: str) -> bytes | None:
        if rel not in self.files:
            return None
        path = f"{self.prefix}/{rel}" if self.prefix else rel
        try:
            _sha, kind, _size, data = self.repo.git.get_object_data(f"{self.commit}:{path}")
        except (git.GitCommandError, ValueError) as exc:
            raise GitError(f"cannot read {path} at {self.commit[:12]}: the object is missing ({_why(exc)}); "
                           "fetch it (`git fetch`) or pass another --base") from None
        return data if kind in (b"blob", "blob") else None  # bytes from git, str in some GitPython versions

    def is_file(self, rel: str) -> bool:
        return rel in self.files

    def has_file(self, rel: str) -> bool:
        """is_file without listing the whole tree (a lookup in git's objects)."""
        if self._blob_ids is not None:
            return rel in self._blob_ids
        try:
            tree = self.repo.commit(self.commit).tree
            node = tree / (f"{self.prefix}/{rel}" if self.prefix else rel)
        except (KeyError, ValueError, git.BadName, git.GitCommandError):
            return False
        return bool(node.type == "blob")

    def is_dir(self, rel: str) -> bool:
        return rel in self.dirs

    def children(self, rel: str) -> list[str]:
        return sorted(self.dirs.get(rel, ()))

    def manifest_dirs(self) -> list[str]:
        """From the listing; graph_key covers every Cargo.toml path, so a cached graph's
        `nested` stays right for every commit sharing its key."""
        return [rel[: -len("/Cargo.toml")] if "/" in rel else "." for rel in self.files
                if rel == "Cargo.toml" or rel.endswith("/Cargo.toml")]


def _why(exc: Exception) -> str:
    return last_line(str(getattr(exc, "stderr", "") or exc).strip("'")) or exc.__class__.__name__

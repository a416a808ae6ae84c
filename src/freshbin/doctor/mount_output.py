"""Does anything a target-dir cache mount holds reach the image?

A cache mount is not part of the layer: what cargo writes under it ships only when something
takes it out — a command of the same RUN that names a path under the target dir (`cp
target/release/app /usr/local/bin`), a `cargo install` (it copies the binary into its root) or
an `--out-dir`/`--artifact-dir`, or a later RUN that mounts the same cache again.  A build whose
output stays in the mount (corpus 116: the image runs `cargo run` at start-up and compiles the
copied sources afresh) ships no stale binary, so there is no FB003/FB005 hazard.  Anything doctor
cannot read — an unresolved `$VAR` in a later command, a wrapper other than plain `cargo build` —
counts as taking the output out.
"""

from __future__ import annotations

import posixpath

from ..dockerfile_cargo import CargoCall
from ..dockerfile_model import Dockerfile, Mount, mounts

_OUT_FLAGS = ("--out-dir", "--artifact-dir")


def ships(df: Dockerfile, call: CargoCall, mount: Mount) -> bool:
    """Is the output `call` wrote into `mount` taken out of it (this RUN or a later one)?"""
    words = call.command.words
    if call.tool not in ("build", "rustc") or any(w.startswith(_OUT_FLAGS) for w in words):
        return True
    later = call.instruction.commands()
    start = next((i for i, c in enumerate(later) if c == call.command), -1)
    if any(_reads(c.path(w), w, call.target_dir) for c in later[start + 1:] for w in c.words[1:]):
        return True
    return _mounted_again(df, call, mount)


def _reads(path: str, word: str, target_dir: str) -> bool:
    """Does a word name something under the target dir?  A glob (a `$(…)` reads as `*`) does when
    its fixed part is the target dir's ancestor or lies inside it."""
    if "$" in word:
        return True
    if any(ch in path for ch in "*?["):
        path = posixpath.dirname(path.split("*")[0].split("?")[0].split("[")[0] + "x")
        return _under(target_dir, path) or _under(path, target_dir)
    return _under(path, target_dir)


def _under(path: str, directory: str) -> bool:
    return path == directory or directory == "/" or path.startswith(directory.rstrip("/") + "/")


def _mounted_again(df: Dockerfile, call: CargoCall, mount: Mount) -> bool:
    """A later RUN with a cache mount of the same id can read what this one left there."""
    seen = False
    for stage in df.stages:
        for ins in stage.instructions:
            if ins is call.instruction:
                seen = True
            elif seen and ins.cmd == "RUN" and any(m.type == "cache" and m.cache_id == mount.cache_id
                                                   for m in mounts(ins)):
                return True
    return False

"""The refresh steps of a RUN between a dummy pre-build and the real build, as cargo sees them.

`touch` or `find … -exec touch` of a real source that replaced a dummy; an `rm` of artefacts in
cargo's own names, or `cargo clean`, in the storage (layer or cache mount) that holds them;
and the dummies a RUN creates (`echo … > src/main.rs`, `touch src/lib.rs`, `cargo new`/`init`).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from ..dockerfile_cargo import cargo_words
from ..dockerfile_model import Instruction, storage_of
from ..dockerfile_shell import Command
from .names import artefact_miss, removes, shell_match, unit_names
from .project import Project
from .selection import package_of
from .state import Dummy, State

_VAR = re.compile(r"\$\{?\w+\}?")


def glob(path: str) -> str:
    return _VAR.sub("*", path)


def touch_or_create(state: State, ins: Instruction, path: str) -> None:
    hits = [d for d in state.dummies.values() if d.overwritten and shell_match(d.path, path)]
    if hits or state.is_real(path):
        state.touched_sources = True
        for dummy in hits:
            dummy.refreshed = True
        if hits:
            state.attempts.append(f"touch {path}")
    elif path.endswith(".rs") and path not in state.dummies:
        state.dummies[path] = Dummy(path, ins, package_of(path))


def find_touches(command: Command, ins: Instruction) -> bool:
    words = command.words
    return "touch" in words or (command.piped and "touch" in ins.text.split("xargs", 1)[-1])


def find(state: State, command: Command) -> None:
    roots = []
    for word in command.words[1:]:
        if word.startswith("-") or word in ("(", "!"):
            break
        roots.append(command.path(word))
    names = [command.words[i + 1] for i, w in enumerate(command.words[:-1]) if w in ("-name", "-iname")]
    hit = False
    state.touched_sources = True
    for dummy in state.dummies.values():
        base = posixpath.basename(dummy.path)
        under = any(dummy.path.startswith(r.rstrip("/") + "/") or r == "/" for r in roots)
        if dummy.overwritten and under and (not names or any(fnmatch.fnmatch(base, n) for n in names)):
            dummy.refreshed = hit = True
    if hit:
        state.attempts.append("find " + " ".join(roots))


def remove(project: Project, state: State, command: Command, ins: Instruction) -> None:
    """`rm` of artefacts or `cargo clean`: it acts only on the storage this RUN sees — an `rm` without
    the cache mount that holds the dummy's artefacts removes a directory of the layer, not them."""
    whole = (cargo_words(command.words) or ())[:1] == ("clean",)
    packages = set(command.words[command.words.index("-p") + 1:][:1]) if "-p" in command.words else set()
    patterns = [] if whole else [glob(command.path(w)) for w in command.words[1:] if not w.startswith("-")]
    acted = False
    for dummy in state.dummies.values():
        if not dummy.compiled:
            continue
        units = unit_names(project, state, dummy)
        for key in list(dummy.compiled):
            out_dir = posixpath.join(key[0], *([key[2]] if key[2] else []), key[3])
            if storage_of(ins, key[0]) != key[1]:
                continue
            if whole and (not packages or units.package in packages) or any(removes(p, out_dir, units) for p in patterns):
                dummy.compiled.discard(key)
                acted = True
    if acted:  # an rm that removes none of cargo's files for a dummy refreshes nothing (FB002, explained)
        state.attempts.append(" ".join(command.words))
    elif any("/target" in p or "/deps/" in p or ".fingerprint" in p for p in patterns):
        state.misses += [m for d in state.dummies.values() if d.compiled
                         for m in [artefact_miss(patterns, unit_names(project, state, d))] if m]


def cargo_new(state: State, ins: Instruction, command: Command) -> None:
    kinds = {"--name", "--vcs", "--edition", "--registry"}
    args = (cargo_words(command.words) or ("new",))[1:]  # past `+toolchain` and global options
    words = [w for i, w in enumerate(args) if not w.startswith("-") and (i == 0 or args[i - 1] not in kinds)]
    root = command.path(words[0] if words else ".")
    path = posixpath.join(root, "src", "lib.rs" if "--lib" in command.words else "main.rs")
    if not state.is_real(path):
        state.dummies[path] = Dummy(path, ins, root)

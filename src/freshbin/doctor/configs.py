"""Which `.cargo/config.toml` a cargo call reads: the one in the image when it runs.

Cargo reads `.cargo/config.toml` (or `.cargo/config`) in the directory it runs in and every
ancestor, the deeper file winning, and `$CARGO_HOME/config.toml` last.  A context's config
counts only where a COPY (or bind mount) put it, and only until a RUN writes over it: a
Dockerfile that blanks the file (`echo '' > .cargo/config.toml`, corpus 135) builds for the
host, whatever `[build] target` the repository sets.  A RUN that writes other content leaves a
config doctor cannot read: its triple is taken as computed (`*`), like `--target "$(…)"`.
"""

from __future__ import annotations

import posixpath

from ..dockerfile_cargo import CargoConfig
from ..dockerfile_shell import Command
from .project import Project
from .state import State

NAMES = ("config", "config.toml")  # cargo prefers the file without extension when both exist
_UNKNOWN = CargoConfig(target="*")
_EMPTY_WRITERS = ("echo", "printf", ":", "true")


def is_config(path: str) -> bool:
    directory, name = posixpath.split(path)
    return posixpath.basename(directory) == ".cargo" and name in NAMES


def bring(project: Project, state: State, src: str, target: str, is_dir: bool) -> None:
    """A COPY or bind mount of context path `src` to `target`: the context's configs under it arrive."""
    for rel, config in project.context_configs().items():
        if is_dir and (src in (".", "") or rel.startswith(src.rstrip("/") + "/")):
            state.configs[posixpath.join(target, rel if src in (".", "") else rel[len(src.rstrip("/")) + 1:])] = config
        elif not is_dir and rel == src:
            state.configs[target] = config


def write(state: State, command: Command) -> None:
    """A RUN writes (`>`) or removes (`rm`) a cargo config: an empty write or `rm` leaves no settings."""
    for path in command.writes:
        if is_config(path):
            state.configs[path] = CargoConfig() if _writes_nothing(command) else _UNKNOWN
    if posixpath.basename(command.name) == "rm":
        for word in command.words[1:]:
            if not word.startswith("-") and is_config(command.path(word)):
                state.configs.pop(command.path(word), None)


def _writes_nothing(command: Command) -> bool:
    """`echo '' > f`, `echo > f`, `printf '' > f`, `: > f`, `true > f`: an empty (or blank) file."""
    name = posixpath.basename(command.name)
    args = [w for w in command.words[1:] if not (name == "echo" and w in ("-n", "-e", "-ne", "-en"))]
    return name in _EMPTY_WRITERS and all(not w.strip() for w in args)


def in_effect(state: State, command: Command) -> CargoConfig:
    """The `[build]` settings cargo reads running `command`: ancestors of its directory, deepest last."""
    home = command.env.get("CARGO_HOME", "/usr/local/cargo")
    dirs = [home] + _ancestors(command.cwd)
    config = CargoConfig()
    for directory in dirs:
        base = directory if directory == home else posixpath.join(directory, ".cargo")
        found = next((state.configs[p] for name in NAMES for p in [posixpath.join(base, name)] if p in state.configs),
                     None)
        if found is not None:
            config = CargoConfig(found.target or config.target, found.target_dir or config.target_dir)
    return config


def _ancestors(cwd: str) -> list[str]:
    """`/`, …, `cwd`: outermost first, so deeper configs override."""
    parts = [p for p in cwd.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(len(parts) + 1)]

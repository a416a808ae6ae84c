"""Cargo in a Dockerfile: the compiling cargo invocations of each RUN, and the binaries shipped.

A `CargoCall` knows where its artefacts go: target dir (`--target-dir`, `CARGO_TARGET_DIR`,
`build.target-dir` of `.cargo/config.toml`, else `<cwd>/target`), triple (`--target`,
`CARGO_BUILD_TARGET`, `build.target`), profile directory (`--release`, `--profile`, install →
release) and whether a cache mount holds that directory.  `shipped_binaries` resolves the
`COPY --from=<stage> …/target/[<triple>/]<profile>/<name> <dest>` instructions of a target stage.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Mapping

from .dockerfile_model import Dockerfile, Instruction, Stage, copy_of, storage_of, unresolved
from .dockerfile_shell import Command, absolute, option, options

_TRIPLE = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+){2,3}$")
_PROFILE_DIRS = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}
_WRAPPERS = {"auditable": "build", "zigbuild": "build", "chef": "cook", "leptos": "build", "b": "build"}


@dataclass(frozen=True)
class CargoConfig:
    """`[build]` settings of the project's `.cargo/config.toml` that move the artefacts."""

    target: str | None = None
    target_dir: str | None = None


@dataclass(frozen=True)
class CargoCall:
    instruction: Instruction
    position: int  # index among the compiling calls of its RUN
    command: Command
    tool: str  # "build", "install", "rustc", "chef cook", …
    cwd: str
    target_dir: str  # absolute
    triple: str | None
    profile: str  # the directory name: debug, release or a custom profile
    bins: tuple[str, ...]
    packages: tuple[str, ...]
    storage: str  # "layer" or "cache:<id>"

    @property
    def chef(self) -> bool:
        return self.tool == "chef cook"

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """Artefacts of two calls meet only when target dir, its storage, triple and profile agree."""
        return self.target_dir, self.storage, self.triple, self.profile

    @property
    def out_dir(self) -> str:
        return posixpath.join(self.target_dir, *([self.triple] if self.triple else []), self.profile)

    @property
    def resolved(self) -> bool:
        return not any(unresolved(x or "") for x in (self.target_dir, self.triple, self.profile))


def cargo_calls(ins: Instruction, config: CargoConfig = CargoConfig()) -> list[CargoCall]:
    """The compiling cargo invocations of a RUN (build, install --path, rustc, chef cook, …)."""
    calls: list[CargoCall] = []
    for command in ins.commands():
        call = cargo_call(ins, len(calls), command, config)
        if call is not None:
            calls.append(call)
    return calls


_CARGO_NAMES = ("cargo", "xx-cargo")  # xx-cargo: tonistiigi/xx's wrapper, cargo with the TARGETPLATFORM triple
_GLOBAL_VALUE_OPTIONS = frozenset({"-Z", "--config", "-C", "--color"})


def cargo_words(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """The words of a cargo invocation from its subcommand on, past `+toolchain` and global
    options (`cargo +nightly -Z sparse-registry build`); None when `words` run no cargo."""
    if not words or posixpath.basename(words[0]) not in _CARGO_NAMES:
        return None
    i = 1
    while i < len(words) and words[i].startswith(("+", "-")):
        i += 2 if words[i] in _GLOBAL_VALUE_OPTIONS else 1
    return words[i:]


def compiling_tool(words: tuple[str, ...]) -> str | None:
    if not words:
        return None
    name = posixpath.basename(words[0])
    rest = list(cargo_words(words) or [w for w in words[1:] if not w.startswith("+")])
    if name == "cross" and rest[:1] == ["build"]:
        return "build"
    if name not in (*_CARGO_NAMES, "cargo-chef", "cargo-zigbuild") or not rest:
        return None
    sub = rest[0]
    if sub == "chef" and rest[1:2] == ["cook"] or name == "cargo-chef" and sub == "cook":
        return "chef cook"
    if sub in ("build", "rustc"):
        return sub
    if sub in _WRAPPERS and sub != "chef" and (rest[1:2] == ["build"] or sub in ("zigbuild", "b")):
        return "build"
    if sub == "install" and (option(words, "--path") or "--path" in words):
        return "install"
    return None


def cargo_call(ins: Instruction, position: int, command: Command, config: CargoConfig = CargoConfig()) -> CargoCall | None:
    """`command` as the `position`-th compiling call of its RUN (None when it compiles nothing),
    with the cargo config in effect where it runs."""
    tool = compiling_tool(command.words)
    if tool is None:
        return None
    words, env = command.words, command.env
    manifest = option(words, "--manifest-path")
    root = posixpath.dirname(command.path(manifest)) if manifest else command.cwd
    target_dir = _target_dir(words, env, config, command.cwd, root)
    triple = option(words, "--target") or env.get("CARGO_BUILD_TARGET") or config.target
    if posixpath.basename(words[0]) == "xx-cargo" and not option(words, "--target"):
        triple = "*"  # xx-cargo adds `--target $(xx-cargo --print-target-triple)`: computed, like `$(…)`
    if triple and not unresolved(triple):
        triple = re.sub(r"\.\d+(\.\d+)*$", "", triple)  # zigbuild's glibc suffix: x86_64-unknown-linux-gnu.2.17
    return CargoCall(ins, position, command, tool, command.cwd, target_dir, triple or None, _profile(words, tool),
                     tuple(options(words, "--bin")), tuple(options(words, "-p", "--package")),
                     storage_of(ins, target_dir))


def _target_dir(words: tuple[str, ...], env: dict[str, str], config: CargoConfig, cwd: str, root: str) -> str:
    """Where the call builds: a flag or variable, relative to the working directory, as set; the
    config's `build.target-dir`, relative to the project; else `target` beside the manifest
    (`--manifest-path`) — only that default moves with the manifest, so an explicit
    `CARGO_TARGET_DIR=/app/target` stays /app/target (held-out issue-27-b)."""
    explicit = option(words, "--target-dir") or env.get("CARGO_TARGET_DIR") or env.get("CARGO_BUILD_TARGET_DIR")
    if explicit:
        return absolute(explicit, cwd)
    return absolute(config.target_dir or "target", root)


def _profile(words: tuple[str, ...], tool: str) -> str:
    named = option(words, "--profile")
    if named:
        return _PROFILE_DIRS.get(named, named)
    if "--release" in words or "-r" in words:
        return "release"
    if tool == "install":
        return "debug" if "--debug" in words else "release"
    return "debug"


def stage_calls(df: Dockerfile, stage: Stage, config: CargoConfig = CargoConfig()) -> list[CargoCall]:
    """Every compiling call of `stage` and the stages it is built FROM, in order."""
    return [call for s in df.chain(stage) for ins in s.instructions if ins.cmd == "RUN"
            for call in cargo_calls(ins, config)]


@dataclass(frozen=True)
class ShippedBinary:
    instruction: Instruction  # the COPY --from
    stage: Stage  # the stage the binary is copied into
    from_stage: Stage
    source: str  # absolute path in the build stage, ARGs resolved
    name: str
    target_dir: str
    triple: str | None
    profile: str
    dest: str  # absolute path of the binary in the shipping stage
    produced_by: CargoCall | None  # the call whose output directory holds `source`


def shipped_binaries(df: Dockerfile, target: str | None = None,
                     config: CargoConfig = CargoConfig()) -> list[ShippedBinary]:
    """Binaries copied out of a cargo target dir by `target`'s stages (every stage when None)."""
    stages = list(df.stages) if target is None else df.chain(df.stage(target) or df.stages[-1])
    out = []
    for stage in stages:
        for ins in stage.instructions:
            copy = copy_of(ins)
            source_stage = df.stage(copy.from_stage) if copy else None
            if copy is None or source_stage is None or source_stage.index >= stage.index:
                continue
            calls = stage_calls(df, source_stage, config)
            for src in copy.sources:
                shipped = _binary(ins, stage, source_stage, copy.dest, absolute(src, "/"), calls, len(copy.sources))
                if shipped:
                    out.append(shipped)
    return out


def _binary(ins: Instruction, stage: Stage, source_stage: Stage, dest: str, source: str, calls: list[CargoCall],
            count: int) -> ShippedBinary | None:
    directory, name = posixpath.split(source)
    producer = next((c for c in reversed(calls) if c.out_dir == directory), None)
    if producer:
        target_dir, triple, profile = producer.target_dir, producer.triple, producer.profile
    else:
        parts = directory.split("/")
        if "target" not in parts or not name or name in ("release", "debug"):
            return None
        at = len(parts) - 1 - parts[::-1].index("target")
        rest = parts[at + 1:]
        if len(rest) not in (1, 2) or (len(rest) == 2 and not (_TRIPLE.match(rest[0]) or unresolved(rest[0]))):
            return None
        target_dir, profile = "/".join(parts[:at + 1]), rest[-1]
        triple = rest[0] if len(rest) == 2 else None
    into = dest.endswith("/") or count > 1
    return ShippedBinary(ins, stage, source_stage, source, name, target_dir, triple, profile,
                         posixpath.join(dest, name) if into else dest.rstrip("/"), producer)


def read_cargo_config(data: Mapping[str, object]) -> CargoConfig:
    build = data.get("build") if isinstance(data.get("build"), dict) else {}
    assert isinstance(build, dict)
    target, target_dir = build.get("target"), build.get("target-dir")
    return CargoConfig(target if isinstance(target, str) else None, target_dir if isinstance(target_dir, str) else None)

"""A parsed Dockerfile: stages, instructions, COPY sources and destinations, cache mounts, ARGs.

Parsed by BuildKit's own parser (the `dockerfile` package): line continuations, heredocs and
exec form are handled there; every instruction keeps its line numbers (for findings and for
rewriting the file).  ARG and ENV values are substituted the way BuildKit does: an ARG without
a default (and no build arg) stays *unresolved* — its `${NAME}` is kept, never replaced by an
empty string — and a global ARG is visible in a stage only when the stage declares it again.
Every instruction knows its WORKDIR, so paths come out absolute.  Cargo invocations and the
binaries a stage ships are read on top of this model in `dockerfile_cargo`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import dockerfile as parser

from .dockerfile_shell import Command, absolute, commands
from .errors import UsageError

_VAR = re.compile(r"\$(?:\{(\w+)(?:(:?[-+])([^}]*))?\}|(\w+))")


@dataclass(frozen=True)
class Instruction:
    cmd: str  # upper case
    args: tuple[str, ...]  # ARG/ENV substituted; a RUN heredoc's script replaces `<<EOF`
    flags: tuple[str, ...]
    line: int
    end_line: int
    original: str
    cwd: str = "/"  # WORKDIR in effect (absolute)
    env: Mapping[str, str] = field(default_factory=dict)  # ENV and ARG values in effect
    heredoc: bool = False
    exec_form: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.args)

    def flag(self, name: str) -> str | None:
        for f in self.flags:
            if f.startswith(f"--{name}="):
                return f.split("=", 1)[1]
        return None

    def commands(self) -> list[Command]:
        """A RUN's simple commands (exec form: the argv itself)."""
        if self.cmd != "RUN":
            return []
        if self.exec_form:
            return [Command(self.args, self.cwd, dict(self.env))]
        return commands("\n".join(self.args), self.cwd, dict(self.env))


@dataclass
class Stage:
    index: int
    name: str  # `AS name`, else the index as a string
    base: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def refers_to(self, ref: str | None) -> bool:
        return ref is not None and ref in (self.name, str(self.index))

    @property
    def copies_from_stages(self) -> bool:
        """Does the stage COPY/ADD --from another stage (or image)?"""
        return any(i.cmd in ("COPY", "ADD") and i.flag("from") for i in self.instructions)


@dataclass(frozen=True)
class Copy:
    """A COPY/ADD: sources (context-relative, or absolute in the `--from` stage) and destination."""

    instruction: Instruction
    sources: tuple[str, ...]
    dest: str  # absolute; ends with "/" when written so
    from_stage: str | None
    heredoc: bool

    def target_of(self, source: str, is_dir: bool) -> str:
        """Where `source` lands: a directory's contents go *into* dest; a file becomes dest or dest/name."""
        if is_dir:
            return self.dest.rstrip("/") or "/"
        if self.dest.endswith("/") or len(self.sources) > 1:
            return posixpath.join(self.dest, posixpath.basename(source.rstrip("/")))
        return self.dest


@dataclass(frozen=True)
class Mount:
    type: str
    target: str  # absolute
    options: Mapping[str, str]

    @property
    def cache_id(self) -> str:
        return self.options.get("id") or self.target

    @property
    def pins_owner(self) -> bool:
        """mode=/uid=/gid=: older engines keep such a cache mount even under --no-cache (FB005)."""
        return any(k in self.options for k in ("mode", "uid", "gid"))

    def covers(self, directory: str) -> bool:
        return directory == self.target or directory.startswith(self.target.rstrip("/") + "/")


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    text: str
    stages: tuple[Stage, ...]

    def stage(self, ref: str | None) -> Stage | None:
        return next((s for s in self.stages if s.refers_to(ref)), None)

    def needed(self, stage: Stage) -> set[str]:
        """Names of the stages building `stage` needs: its FROM chain and every `COPY --from`
        stage, transitively (what BuildKit builds for it)."""
        seen: set[str] = set()
        todo = [stage]
        while todo:
            for st in self.chain(todo.pop()):
                if st.name in seen:
                    continue
                seen.add(st.name)
                sources = (copy_of(ins) for ins in st.instructions)
                todo += [found for c in sources if c is not None and c.from_stage
                         for found in [self.stage(c.from_stage)] if found is not None]
        return seen

    def chain(self, stage: Stage) -> list[Stage]:
        """`stage` and the stages it is built FROM, oldest first."""
        out = [stage]
        while (parent := self.stage(out[0].base)) is not None and parent.index < out[0].index:
            out.insert(0, parent)
        return out


def substitute(text: str, env: Mapping[str, str]) -> str:
    """`$X`, `${X}`, `${X:-d}`, `${X:+a}`; unknown names stay as written (unresolved)."""
    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        have = name in env and (env[name] != "" or not (op or "").startswith(":"))
        if op and op.endswith("-"):
            return env[name] if have else substitute(word, env)
        if op and op.endswith("+"):
            return substitute(word, env) if have else ""
        return env[name] if name in env else m.group(0)
    return _VAR.sub(value, text)


def unresolved(text: str) -> bool:
    return "$" in text


def parse(path: Path, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The Dockerfile at `path`; one clear UsageError for missing, binary, empty or unparsable files."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"Dockerfile {path} does not exist; pass --dockerfile") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror}); check the path and permissions") from exc
    if b"\0" in raw:
        raise UsageError(f"{path} is a binary file, not a Dockerfile; pass --dockerfile")
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8") from exc
    if not text.strip():
        raise UsageError(f"{path} is empty; write the Dockerfile or pass --dockerfile")
    return parse_text(text, Path(path), build_args)


def parse_text(text: str, path: Path = Path("Dockerfile"), build_args: Mapping[str, str] | None = None) -> Dockerfile:
    try:
        parsed = parser.parse_string(text)
    except (parser.GoParseError, parser.GoIOError) as exc:
        raise UsageError(f"cannot parse {path}: {str(exc).splitlines()[0] if str(exc) else 'syntax error'}; "
                         "fix the Dockerfile syntax") from exc
    return Dockerfile(Path(path), text, tuple(_stages(parsed, dict(build_args or {}))))


# BuildKit's platform arguments: defined in the global scope without an ARG (a FROM line sees
# them; a stage sees them after `ARG TARGETARCH`), when the caller knows the platform.
AUTOMATIC_ARGS = ("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                  "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT")


def _automatic(build_args: dict[str, str]) -> dict[str, str]:
    return {key: build_args[key] for key in AUTOMATIC_ARGS if key in build_args}


def _stages(parsed: Any, build_args: dict[str, str]) -> list[Stage]:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    env: dict[str, str] = {}
    cwd = "/"
    for c in parsed:
        cmd = c.cmd.upper()
        if cmd == "FROM":
            words = list(c.value)
            base = substitute(words[0], {**_automatic(build_args), **global_args}) if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            parent = next((s for s in stages if s.name == base), None)
            stages.append(Stage(len(stages), name, base, c.start_line))
            last = parent.instructions[-1] if parent is not None and parent.instructions else None
            env, cwd = (dict(last.env), last.cwd) if last else ({}, "/")
            continue
        if cmd == "ARG":
            for item in c.value:
                key, sep, default = item.partition("=")
                scope = env if stages else global_args
                if key in build_args:
                    scope[key] = build_args[key]
                elif sep:
                    scope[key] = substitute(default.strip('"'), scope)
                elif stages and key in global_args:
                    scope[key] = global_args[key]
        elif cmd == "ENV" and stages:
            pairs = list(c.value)
            for i in range(0, len(pairs) - 1, 2):
                env[pairs[i]] = substitute(pairs[i + 1], env)
        elif cmd == "WORKDIR" and stages and c.value:
            cwd = absolute(substitute(c.value[0], env), cwd)
        if not stages:
            continue
        values = tuple(c.value)
        if cmd == "RUN" and c.heredocs:  # RUN <<EOF … EOF: the script is the heredoc's content
            values = tuple(h.content for h in c.heredocs)
        stages[-1].instructions.append(Instruction(
            cmd, tuple(substitute(v, env) for v in values), tuple(substitute(f, env) for f in c.flags),
            c.start_line, c.end_line, c.original, cwd, dict(env), bool(c.heredocs), bool(c.json)))
    return stages


def copy_of(ins: Instruction) -> Copy | None:
    """The COPY/ADD `ins` as sources and an absolute destination (None for other instructions)."""
    if ins.cmd not in ("COPY", "ADD") or len(ins.args) < 2:
        return None
    *sources, dest = ins.args
    from_stage = ins.flag("from")
    heredoc = any(s.startswith("<<") for s in sources)
    if ins.heredoc and heredoc:
        sources = [s for s in sources if not s.startswith("<<")] or ["<<heredoc"]
    dest_abs = absolute(dest, ins.cwd)
    if (dest.endswith("/") or dest in (".", "./")) and not dest_abs.endswith("/"):  # (WORKDIR /: not "//")
        dest_abs += "/"
    return Copy(ins, tuple(sources), dest_abs, from_stage, heredoc)


def mounts(ins: Instruction) -> list[Mount]:
    """`RUN --mount=…` options of `ins` (type defaults to bind, as in BuildKit)."""
    out = []
    for flag in ins.flags:
        if not flag.startswith("--mount="):
            continue
        opts: dict[str, str] = {}
        for item in flag[len("--mount="):].split(","):
            key, _, value = item.partition("=")
            opts[key.strip()] = value.strip()
        target = opts.get("target") or opts.get("dst") or opts.get("destination") or ""
        if target:
            out.append(Mount(opts.get("type", "bind"), absolute(target, ins.cwd), opts))
    return out


def cache_mount_over(ins: Instruction, directory: str) -> Mount | None:
    """The cache mount of `ins` that holds `directory`, if any."""
    return next((m for m in mounts(ins) if m.type == "cache" and m.covers(directory)), None)


def storage_of(ins: Instruction, directory: str) -> str:
    """Where `directory` lives while `ins` runs: "layer", or "cache:<id>" when a cache mount covers it."""
    mount = cache_mount_over(ins, directory)
    return f"cache:{mount.cache_id}" if mount else "layer"

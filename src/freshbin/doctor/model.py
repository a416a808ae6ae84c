"""The Dockerfile as doctor sees it: stages and instructions parsed by BuildKit's own parser.

ARG/ENV values are substituted into paths, line continuations and heredocs are handled by
the parser, and each instruction keeps its line numbers for findings and `--fix`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile as parser

from ..errors import UsageError

SEVERITIES = ("error", "warning", "info")
_VAR = re.compile(r"\$(?:\{(\w+)(?::?[-+][^}]*)?\}|(\w+))")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: str
    message: str
    fix: str


@dataclass
class Instruction:
    cmd: str  # upper case
    args: tuple[str, ...]  # substituted
    flags: tuple[str, ...]
    line: int
    end_line: int
    original: str

    @property
    def text(self) -> str:
        return " ".join(self.args)

    def flag(self, name: str) -> str | None:
        for f in self.flags:
            if f.startswith(f"--{name}="):
                return f.split("=", 1)[1]
        return None


@dataclass
class Stage:
    index: int
    name: str
    base: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)


def substitute(text: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), text)


def parse(path: Path) -> list[Stage]:
    """Stages of `path`; one clear UsageError for missing, binary, empty or unparsable files."""
    try:
        raw = path.read_bytes()
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
    try:
        commands = parser.parse_string(text)
    except parser.GoParseError as exc:
        raise UsageError(f"cannot parse {path}: {exc}; fix the Dockerfile syntax") from exc
    return _stages(commands)


def _stages(commands) -> list[Stage]:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    env: dict[str, str] = {}
    for c in commands:
        cmd = c.cmd.upper()
        if cmd == "FROM":
            base = substitute(c.value[0], global_args)
            name = c.value[2] if len(c.value) >= 3 and c.value[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(len(stages), name, base, c.start_line))
            env = dict(global_args)
            continue
        if cmd in ("ARG", "ENV"):
            for item in c.value if cmd == "ARG" else _pairs(c.value):
                key, _, default = item.partition("=")
                target = global_args if not stages else env
                target[key] = substitute(default, env if stages else global_args) if default else target.get(key, "")
        if not stages:
            continue
        values = c.value
        if cmd == "RUN" and c.heredocs:  # RUN <<EOF … EOF: the script is the heredoc's content
            values = tuple(h.content for h in c.heredocs)
        args = tuple(substitute(v, env) for v in values)
        stages[-1].instructions.append(
            Instruction(cmd, args, tuple(c.flags), c.start_line, c.end_line, c.original)
        )
    return stages


def _pairs(values: tuple[str, ...]) -> list[str]:
    # ENV a=b c=d parses to ('a', 'b', 'c', 'd') in the parser's key/value form.
    return [f"{values[i]}={values[i + 1]}" for i in range(0, len(values) - 1, 2)]

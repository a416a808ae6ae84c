"""The shell of a Dockerfile `RUN`, read as simple commands with the directory each runs in.

Only what stale-binary analysis needs: words of each simple command (after `VAR=value`
prefixes, `sudo`/`env`/`time`), the files it redirects output to, whether its output is piped
into the next command, the working directory after `cd`, and `sh -c '…'` read recursively.
Unknown shell syntax never raises: an unbalanced quote falls back to splitting on blanks.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")", "|&"})
_PUNCTUATION = frozenset(";&|()")
_PREFIXES = frozenset({"sudo", "time", "exec", "env", "nice", "command", "then", "do", "else", "!", "{", "}"})
_ASSIGN = re.compile(r"^[A-Za-z_]\w*=")
_REDIRECT = re.compile(r"^\d*(>>?|>\|)$")


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # command name first; assignments and prefixes removed
    cwd: str  # absolute directory the command runs in
    env: dict[str, str] = field(default_factory=dict)  # inline and exported assignments
    writes: tuple[str, ...] = ()  # files written by `>`/`>>` redirects, absolute
    piped: bool = False  # its stdout goes into the next command (`find … | xargs touch`)

    @property
    def name(self) -> str:
        return self.words[0] if self.words else ""

    def path(self, word: str) -> str:
        """`word` as an absolute path (relative words are taken from this command's directory)."""
        return absolute(word, self.cwd)


def absolute(path: str, cwd: str) -> str:
    """POSIX-normalised absolute path; `~` and a missing cwd become `/`-based."""
    if path.startswith("~"):
        path = "/root" + path[1:]
    joined = path if path.startswith("/") else posixpath.join(cwd or "/", path)
    return posixpath.normpath(joined).replace("//", "/")


def _tokens(script: str) -> list[str]:
    text = re.sub(r"\\\n", " ", script).replace("\n", " ; ")
    text = re.sub(r"\$\([^()]*\)|`[^`]*`", "*", text)  # command substitutions: unknown words
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: keep going with a rough split, its words unquoted as shlex would
        words = (w.replace("'", "").replace('"', "") for w in re.findall(r"&&|\|\||[;|&()<>]|[^\s;|&()<>]+", text))
        return [w for w in words if w]


def commands(script: str, cwd: str, env: dict[str, str] | None = None) -> list[Command]:
    """The simple commands of `script`, in order, with `cd` and `export` followed."""
    out: list[Command] = []
    state: dict[str, Any] = {"cwd": cwd or "/", "env": dict(env or {})}
    current: list[str] = []
    for token in _tokens(script) + [";"]:
        if token in SEPARATORS or (token and set(token) <= _PUNCTUATION):
            if current:
                out += _command(current, state, piped=token in ("|", "|&"))
            current = []
        else:
            current.append(token)
    return out


def _command(tokens: list[str], state: dict[str, Any], *, piped: bool) -> list[Command]:
    words: list[str] = []
    writes: list[str] = []
    inline: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (_REDIRECT.match(token) or token in (">", ">>")) and i + 1 < len(tokens):
            target = tokens[i + 1]
            if target == ">" and i + 2 < len(tokens):  # `>>` arrives as two `>` tokens
                target, i = tokens[i + 2], i + 1
            if not target.startswith("&") and target not in ("/dev/null", "/dev/stderr", "/dev/stdout"):
                writes.append(absolute(target, state["cwd"]))
            i += 2
            continue
        if token in ("<", "<<") or re.fullmatch(r"\d*<", token):
            i += 2
            continue
        if not words and _ASSIGN.match(token):
            key, _, value = token.partition("=")
            inline[key] = value
        elif not words and token in _PREFIXES:
            pass
        else:
            words.append(token)
        i += 1
    env = {**state["env"], **inline}
    if not words:
        state["env"].update(inline)  # a bare assignment sets a shell variable
        return []
    name = words[0]
    if name == "cd":
        target = next((w for w in words[1:] if not w.startswith("-")), "/root")
        state["cwd"] = absolute(target, state["cwd"])
        return []
    if name == "export":
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if sep:
                state["env"][key] = value
        return []
    flag = next((i for i, w in enumerate(words[1:-1], 1) if re.fullmatch(r"-[a-z]*c[a-z]*", w)), None)
    if posixpath.basename(name) in ("sh", "bash", "dash", "ash", "zsh") and flag is not None:
        return commands(words[flag + 1], state["cwd"], env)  # `sh -c`, `/bin/bash -euxc '…'`
    return [Command(tuple(words), state["cwd"], env, tuple(writes), piped)]


def option(words: tuple[str, ...], *names: str) -> str | None:
    """The value of the last `--name value` / `--name=value` / `-n value` among `words`."""
    value = None
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                value = words[i + 1]
            elif name.startswith("--") and word.startswith(name + "="):
                value = word.split("=", 1)[1]
    return value


def options(words: tuple[str, ...], *names: str) -> list[str]:
    """Every value of a repeatable option (`-p a -p b`, `--bin=a`)."""
    values = []
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                values.append(words[i + 1])
            elif name.startswith("--") and word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
    return values

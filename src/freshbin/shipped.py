"""Which file in the image is the shipped binary, and which cargo binary it is.

Real runtime stages rarely name the binary by an absolute ENTRYPOINT: `CMD ["api"]` on a
Debian base (resolved along PATH, whose first directory is /usr/local/sbin), `ENTRYPOINT
["tini", "--", "api"]`, `WORKDIR /app` + `CMD ["./api"]`, or a binary copied under another
name.  The rules, in order:

1. `freshbin.binary_path` when the user set it (`config`);
2. the Dockerfile's target stage: the file a `COPY --from=<stage>` takes from cargo's output
   (`…/target/[<triple>/]<profile>/<name>`, or a workspace binary's name) and where it lands
   (`dockerfile`);
3. ENTRYPOINT then CMD, past `tini`/`dumb-init`/`env`/`sh -c` wrappers, resolved along the
   image's whole PATH and its WORKDIR (`entrypoint` / `cmd`).

Each rule yields candidate paths; the image itself decides which exists (a regular file).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dockerfile_model import Copy, copy_of, parse, unresolved
from .errors import EnvironmentProblem

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # Docker's default
WRAPPERS = {"tini", "tini-static", "dumb-init", "catatonit", "env", "exec", "gosu", "su-exec"}
SHELLS = {"sh", "bash", "dash", "ash"}
_WRAPPER_VALUE_FLAGS = {"-p", "-e", "-r", "--rewrite"}  # tini -p SIGTERM, dumb-init -r 15:2
_CARGO_OUTPUT = re.compile(r"(?:^|/)target/(?:[\w.-]+/)?(?:release|debug|[\w-]+)/([^/]+)$")


@dataclass(frozen=True)
class BinaryLocation:
    candidates: tuple[str, ...]  # absolute paths to try, in order
    name: str  # the cargo binary's name, for the freshness rule
    found_by: str  # config | dockerfile | entrypoint | cmd
    evidence: str  # what named it, e.g. "Dockerfile:14 COPY --from=builder …"


def locate(config: dict[str, Any], *, override: str = "", dockerfile: Path | None = None, target: str = "",
           binaries: frozenset[str] = frozenset(), build_args: dict[str, str] | None = None) -> BinaryLocation:
    """The shipped binary of an image built from `dockerfile`'s `target` stage, with `config`."""
    if override:
        return BinaryLocation((override,), posixpath.basename(override), "config", "freshbin.binary_path")
    started = _started(config)
    if dockerfile is not None and target:
        copied = _copied_binaries(dockerfile, target, binaries, build_args or {})
        if copied:
            wanted = posixpath.basename(started[1][0]) if started else ""
            chosen = next((c for c in copied if wanted and posixpath.basename(c.candidates[0]) == wanted), copied[0])
            return chosen
    if started:
        found_by, words = started
        return BinaryLocation(tuple(_resolve(words[0], config)), posixpath.basename(words[0]), found_by,
                              f"{found_by.upper()} {shlex.join(words)}")
    raise EnvironmentProblem("cannot tell which file is the shipped binary (no COPY of a cargo output in the target "
                             "stage, no ENTRYPOINT or CMD naming it); set freshbin.binary_path")


# --- rule 2: the Dockerfile ----------------------------------------------------------------

def _copied_binaries(dockerfile: Path, target: str, binaries: frozenset[str],
                     build_args: dict[str, str]) -> list[BinaryLocation]:
    """COPY --from of cargo output in the target stage and the stages it is built FROM (the
    Dockerfile model doctor uses: ARGs and `--build-arg` values substituted, WORKDIR applied)."""
    df = parse(dockerfile, build_args)
    stage = df.stage(target)
    found: list[BinaryLocation] = []
    for st in df.chain(stage) if stage is not None else []:
        for ins in st.instructions:
            copy = copy_of(ins)
            if copy is not None and copy.from_stage and not copy.heredoc:
                found += _binary_copies(dockerfile, copy, binaries)
    return found


def _binary_copies(dockerfile: Path, copy: Copy, binaries: frozenset[str]) -> list[BinaryLocation]:
    out = []
    for src in copy.sources:
        match = _CARGO_OUTPUT.search(src)
        name = match.group(1) if match else posixpath.basename(src)
        if not (match or name in binaries) or unresolved(name) or any(ch in name for ch in "*?[") \
                or "." in name.lstrip("."):
            continue
        landing = copy.target_of(src, is_dir=False)
        # a destination without a trailing "/" may still be a directory of the image
        candidates = (landing,) if landing != copy.dest else (landing, posixpath.join(landing, name))
        evidence = f"{dockerfile.name}:{copy.instruction.line} {copy.instruction.original.strip()[:120]}"
        out.append(BinaryLocation(candidates, name, "dockerfile", evidence))
    return out


# --- rule 3: ENTRYPOINT / CMD --------------------------------------------------------------

def _started(config: dict[str, Any]) -> tuple[str, list[str]] | None:
    """("entrypoint"|"cmd", words from the program on) after unwrapping init and shell wrappers."""
    entrypoint, cmd = list(config.get("Entrypoint") or []), list(config.get("Cmd") or [])
    if entrypoint:
        words = _unwrap(entrypoint + cmd)
        if words and not _is_script(words[0]):
            return "entrypoint", words
    words = _unwrap(cmd)
    if words and not _is_script(words[0]):
        return "cmd", words
    return None


def _unwrap(words: list[str]) -> list[str]:
    for _ in range(8):  # wrappers nest (tini -- sh -c "exec app"); a bound keeps it finite
        if not words:
            return []
        base = posixpath.basename(words[0])
        if base in SHELLS and len(words) >= 3 and words[1] == "-c":
            words = shlex.split(words[2])
        elif base in WRAPPERS:
            words = _after_wrapper(words[1:])
        elif "=" in words[0] and not words[0].startswith(("/", ".")):
            words = words[1:]  # an environment assignment: `env A=b app`, `A=b exec app`
        else:
            return words
    return words


def _after_wrapper(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i].startswith("-"):
        if words[i] == "--":
            return words[i + 1:]
        i += 2 if words[i] in _WRAPPER_VALUE_FLAGS else 1
    return words[i:]


def _is_script(word: str) -> bool:
    return word.endswith(".sh") or posixpath.basename(word) in ("docker-entrypoint", "entrypoint")


def _resolve(word: str, config: dict[str, Any]) -> list[str]:
    if posixpath.isabs(word):
        return [posixpath.normpath(word)]
    if "/" in word:  # ./app, bin/app: relative to the WORKDIR
        return [posixpath.normpath(posixpath.join(config.get("WorkingDir") or "/", word))]
    path = next((e[5:] for e in config.get("Env") or [] if e.startswith("PATH=")), DEFAULT_PATH)
    return [posixpath.join(d or ".", word) for d in path.split(":") if d.startswith("/")]

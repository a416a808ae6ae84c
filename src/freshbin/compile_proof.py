"""The compile step's own proof: guard's build always compiles every local package, and says so.

A future mtime and a nonce file in every package directory reach the compile step only through
a `COPY` of a directory.  A Dockerfile that copies single files (`COPY src/main.rs src/main.rs`),
an ignore file that lets only `*.rs` through, or a path dependency outside the workspace leaves
every layer before the compile step as cached as before — and the compile step with it, which
may hold the dummy of an earlier build that nobody vouched for.  So the guarded build's
Dockerfile (a copy inside the guard's export, never the user's file) changes the RUN that
compiles the shipped binary:

* a nonce in its text: the step's cache key changes, so it always runs;
* before the user's command, the cargo fingerprints of every local (path) package are removed
  (`<target>/[<triple>/]<profile>/.fingerprint/<package>-*`): whatever mtimes the copied sources
  carry and whatever a cache mount or an earlier layer holds, cargo must compile each of them;
* when the shell exits, it prints `freshbin-compiled: <unit> …`: the fingerprint directories
  created after the step began.  That line is the proof deploy and verify read (evidence.py): a
  package listed there was compiled by this step, quiet cargo (`-q`) or not.

An unnamed shipped stage that copies artefacts gets a name (`AS freshbin-shipped`), so that
`--no-cache-filter` can rebuild its `COPY --from` (BuildKit v0.8 keys it by content).
Dependency layers (the pre-build) keep their cache: only the compile step and what follows run.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dockerfile_cargo import cargo_calls, shipped_binaries
from .dockerfile_model import Dockerfile, Instruction, parse_text, unresolved
from .errors import WorkspaceError
from .path_packages import PathGraph, manifest_of, path_graph
from .workspace import load_workspace

PROOF_PREFIX = "freshbin-compiled:"
SHIPPED_STAGE = "freshbin-shipped"
_PROOF = re.compile(r"^" + re.escape(PROOF_PREFIX) + r"(?P<units>.*)$")
_UNIT = re.compile(r"^(?P<name>[A-Za-z0-9_-]+?)-[0-9a-f]{16}$")


@dataclass(frozen=True)
class Instrumented:
    steps: tuple[int, ...]  # the lines of the RUNs that now prove their compile
    packages: tuple[str, ...]  # whose fingerprints they remove
    renamed: str | None = None  # the unnamed shipped stage, now SHIPPED_STAGE
    skipped: str | None = None  # why no step could be instrumented

    @property
    def note(self) -> str:
        if not self.steps:
            return f"compile step not instrumented ({self.skipped})"
        return (f"compile step re-run with the fingerprints of {len(self.packages)} local package(s) removed "
                f"(line {', '.join(map(str, self.steps))})")


def compiled_units(output: Iterable[str]) -> set[str] | None:
    """Package names in the step's `freshbin-compiled:` line; None when the step printed none."""
    found: set[str] | None = None
    for line in output:
        match = _PROOF.match(line.strip())
        if match:
            found = found or set()
            for unit in match.group("units").split():
                name = _UNIT.match(unit)
                if name:
                    found.add(name.group("name"))
    return found


def local_packages(workspace: Path, top: Path) -> list[str]:
    """Every path package cargo compiles for the workspace: members, path dependencies wherever they
    live in the repository (`../libs/common`), `exclude`d members reached by path, `[patch]` paths.

    `top` bounds the walk (the export's root): nothing outside the repository can be in the build."""
    return sorted(set(local_graph(workspace, top).names.values()))


def compiled_into(workspace: Path, top: Path, packages: set[str]) -> set[str]:
    """`packages` and every path package they depend on (dev-dependencies aside), wherever it lives."""
    return local_graph(workspace, top).closure(packages)


def local_graph(workspace: Path, top: Path) -> PathGraph:
    """The path packages of the workspace on disk (path_packages.py), read no further than `top`."""
    top = top.resolve()

    def read(directory: str) -> dict[str, Any] | None:
        where = (workspace / directory).resolve()
        return manifest_of(_bytes(where / "Cargo.toml")) if where.is_relative_to(top) else None

    try:
        members = [p.dir for p in load_workspace(workspace).packages if p.dir != "."]
    except WorkspaceError:
        members = []  # a workspace cargo cannot read: its root and what it names by path
    return path_graph(read, members)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def instrument(dockerfile: Path, target: str, packages: list[str], build_args: dict[str, str] | None = None,
               *, name_shipped_stage: bool = False) -> Instrumented:
    """Rewrite `dockerfile` (guard's copy) in place; see the module docstring."""
    text = dockerfile.read_text()
    df = parse_text(text, dockerfile, build_args)
    steps = _compile_steps(df, target)
    if not packages:
        return Instrumented((), (), skipped="no local package found")
    if not steps:
        return Instrumented((), tuple(packages), skipped="no cargo compile step found for the shipped stage")
    lines = text.splitlines(keepends=True)
    renamed = _name_stage(lines, df, target) if name_shipped_stage else None  # one line, in place: first
    nonce = secrets.token_hex(8)
    for ins, dirs in sorted(steps, key=lambda s: -s[0].line):  # last first: a splice joins its lines
        _splice(lines, ins, _prelude(nonce, packages, dirs))
    dockerfile.write_text("".join(lines))
    return Instrumented(tuple(sorted(ins.line for ins, _ in steps)), tuple(packages), renamed)


def _compile_steps(df: Dockerfile, target: str) -> list[tuple[Instruction, list[str]]]:
    """The RUNs whose output ships (the producers of the copied binaries; else the target chain's
    last compile), each with the target directories its calls use."""
    stage = df.stage(target) if target else (df.stages[-1] if df.stages else None)
    if stage is None:
        return []
    producers: dict[int, tuple[Instruction, list[str]]] = {}
    for shipped in shipped_binaries(df, stage.name):
        if shipped.produced_by is not None and not shipped.produced_by.chef:
            producers[shipped.produced_by.instruction.line] = (shipped.produced_by.instruction, [])
    if not producers:  # the binary leaves its stage another way (`cp … /app-bin`): the last compile it needs
        needed = df.needed(stage)
        calls = [call for s in df.stages if s.name in needed for ins in s.instructions if ins.cmd == "RUN"
                 for call in cargo_calls(ins) if not call.chef]
        if calls:
            producers[calls[-1].instruction.line] = (calls[-1].instruction, [])
    for ins, dirs in producers.values():
        for call in cargo_calls(ins):
            if call.target_dir not in dirs and not unresolved(call.target_dir):
                dirs.append(call.target_dir)
    return list(producers.values())


def _prelude(nonce: str, packages: list[str], dirs: list[str]) -> str:
    """The shell that runs before the user's command: remove the fingerprints, arm the proof."""
    where = " ".join(shlex.quote(d) for d in dirs) + ' "${CARGO_TARGET_DIR:-target}"'
    names = " ".join(packages)
    mark = f"/tmp/.freshbin-mark-{nonce}"
    proof = (f'echo "{PROOF_PREFIX} $(find {where} -maxdepth 4 -path \'*/.fingerprint/*\' -prune -newer {mark} '
             f'2>/dev/null | sed \'s|.*/||\' | sort -u | tr \'\\n\' \' \')"')
    return (f": freshbin-guard {nonce}; : > {mark}; "
            f"for fb_fp in $(find {where} -maxdepth 3 -type d -name .fingerprint 2>/dev/null); do "
            f"for fb_p in {names}; do rm -rf \"$fb_fp/$fb_p\"-*; done; done; "
            f"trap {shlex.quote(proof)} EXIT; ")


def _splice(lines: list[str], ins: Instruction, prelude: str) -> None:
    """Put `prelude` before the command of the RUN at `ins` (shell form, exec form, heredoc)."""
    start, end = ins.line - 1, ins.end_line
    block = "".join(lines[start:end])
    at = _command_start(block)
    if ins.heredoc:
        first_end = block.index("\n") + 1
        body = block[first_end:]
        shebang = body.startswith("#!")
        cut = first_end + (body.index("\n") + 1 if shebang else 0)
        block = block[:cut] + prelude.rstrip().rstrip(";") + "\n" + block[cut:]
    elif ins.exec_form:
        argv = json.loads(block[at:].replace("\\\n", " "))
        block = block[:at] + prelude + shlex.join(argv) + "\n"
    else:
        block = block[:at] + prelude + block[at:]
    lines[start:end] = [block]


def _command_start(block: str) -> int:
    """Offset of the command in a RUN block: after `RUN` and its `--flags`."""
    at = len(block) - len(block.lstrip())
    at += 3  # RUN
    while True:
        skipped = re.match(r"(?:[ \t]+|\\[ \t]*\r?\n)+", block[at:])
        if skipped:
            at += skipped.end()
        if block.startswith("--", at):
            flag = re.match(r"\S+", block[at:])
            assert flag is not None
            at += flag.end()
            continue
        return at


def _name_stage(lines: list[str], df: Dockerfile, target: str) -> str | None:
    """`FROM image` of an unnamed shipped stage becomes `FROM image AS freshbin-shipped`."""
    stage = df.stage(target) if target else (df.stages[-1] if df.stages else None)
    if stage is None or stage.name != str(stage.index) or any(s.name == SHIPPED_STAGE for s in df.stages):
        return None
    if not stage.copies_from_stages:
        return None
    row = stage.line - 1
    line = lines[row]
    stripped = line.rstrip("\r\n")
    if stripped.endswith("\\"):
        return None  # a FROM continued on the next line: left as it is
    lines[row] = f"{stripped} AS {SHIPPED_STAGE}{line[len(stripped):]}"
    return SHIPPED_STAGE

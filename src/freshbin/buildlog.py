"""The build's own record: which steps ran, which came from the cache, what cargo compiled.

BuildKit's `--progress plain` output is a stream of `#<id> …` lines: a header naming the step
(`#17 [builder 11/11] RUN cargo build --release`), its output (`#17 0.552    Compiling worker
v0.1.0 (/app/bin/worker)`), then `CACHED`, `DONE <s>` or `ERROR …`.  Steps interleave, and one
id may be headed twice (the same vertex listed again); both are handled.  This is the evidence
that names a stale binary's cause without a second, `--no-cache`, build:

* the compile step came from the cache although sources changed → the layer cache served it;
* the compile step ran and cargo did not compile a changed package ("Compiling <name> …" is
  missing) → cargo judged the old (or dummy) artefacts fresh: the mtime cause.

Format facts were read from real logs of BuildKit v0.8 (tests/data/buildlogs/) and, for the
platform prefix of multi-platform builds, of Docker 26.1's BuildKit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(r"^#(\d+) (.*)$")
# A multi-platform build prefixes the platform: `[linux/arm64 worker 1/1]`, and a stage built on
# the build platform for another one `[linux/amd64->arm64 builder 12/12]` (stage names hold no "/").
_HEADER = re.compile(r"^\[(?:(?P<platform>[^\]\s/]+/[^\]\s]+) +)?(?:(?P<stage>[^\]\s/]+) +)?"
                     r"(?P<pos>\d+)/(?P<total>\d+)\] (?P<instruction>.+)$")
_OUTPUT = re.compile(r"^\d+(?:\.\d+)? (?P<text>.*)$")
# `Compiling name v1.2.3 (/app/crates/name)`: the parenthesised path marks a local (path) package.
_COMPILING = re.compile(r"^\s*Compiling (?P<name>[A-Za-z0-9_-]+) v[^\s]+(?: \((?P<path>[^)]*)\))?")
_CARGO_COMPILE = re.compile(r"\bcargo\s+(?:\+\S+\s+)?(?:build|install|rustc)\b")
# Every cargo command that compiles local packages (a `cargo test` after the build prints its own
# `Compiling app` lines, which say nothing of the shipped binary's compile).
_ANY_CARGO_COMPILE = re.compile(r"\bcargo\s+(?:\+\S+\s+)?(?P<sub>build|b|install|rustc|test|t|check|c|clippy|doc|"
                                r"bench|run|r)\b")
_FINISHED = re.compile(r"^\s*Finished\b")
_CHEF_COOK = re.compile(r"\bcargo\s+chef\s+cook\b")


@dataclass
class Step:
    id: int
    stage: str | None  # None for [internal] steps
    position: int | None  # n of the header's n/m
    instruction: str  # as BuildKit shows it, e.g. "RUN cargo build --release"
    platform: str | None = None  # the target platform of a multi-platform build's step
    cross: bool = False  # headed `build->target`: built on one platform for another
    cached: bool = False
    done: bool = False
    error: bool = False
    output: list[str] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return not self.cached and (self.done or bool(self.output) or self.error)

    def compiled(self) -> set[str]:
        """Local packages cargo compiled in this step (those with a path in the Compiling line)."""
        return _local_compiles(self.output)

    def build_compiled(self) -> set[str] | None:
        """Local packages the step's *building* cargo call compiled; None when the output cannot say.

        One cargo call: every Compiling line.  Several (`cargo build && cargo test`): the lines up
        to the first `Finished`, when the first call is the build; otherwise nothing can be
        attributed.  Quiet cargo (`-q`: neither Compiling nor Finished lines) says nothing."""
        if not any(_COMPILING.match(line) or _FINISHED.match(line) for line in self.output):
            return None
        calls = [m.group("sub") for m in _ANY_CARGO_COMPILE.finditer(self.instruction)]
        if len(calls) <= 1:
            return self.compiled()
        if calls[0] not in ("build", "b", "install", "rustc"):
            return None
        first: list[str] = []
        for line in self.output:
            if _FINISHED.match(line):
                return _local_compiles(first)
            first.append(line)
        return None


def _local_compiles(output: list[str]) -> set[str]:
    names = set()
    for line in output:
        match = _COMPILING.match(line)
        if match and match.group("path") and not match.group("path").startswith(("registry+", "git+")):
            names.add(match.group("name"))
    return names


@dataclass(frozen=True)
class BuildRecord:
    steps: tuple[Step, ...]
    readable: bool  # False: nothing in the text looked like BuildKit's plain progress

    def compile_steps(self, platform: str = "", stages: set[str] | None = None) -> list[Step]:
        """Steps that run a real cargo compile (not a chef cook), in the order BuildKit listed them.

        With `platform` (a multi-platform build): of the `stages` that platform's image needs,
        the steps headed with that target platform; failing those, the ones built on the build
        platform without naming a target (`[linux/amd64 build-arm64 4/4]`: a stage that uses no
        TARGET* argument is one vertex, headed with the platform it runs on)."""
        steps = [s for s in self.steps if s.instruction.startswith("RUN ") and _CARGO_COMPILE.search(s.instruction)
                 and not _CHEF_COOK.search(s.instruction) and (stages is None or s.stage in stages)]
        if not platform:
            return steps
        return [s for s in steps if s.platform == platform] or [s for s in steps if s.platform is None or not s.cross]

    def final_compile(self, stage_order: list[str] | None = None, platform: str = "",
                      stages: set[str] | None = None) -> Step | None:
        """The last cargo compile of the build (of `platform`'s image, built from `stages`): the
        step whose output ships.  `stage_order` (the Dockerfile's stage names, first to last)
        ranks a `FROM deps AS builder` stage after `deps`."""
        rank = {name: i for i, name in enumerate(stage_order or [])}
        steps = self.compile_steps(platform, stages)
        return max(steps, key=lambda s: (rank.get(s.stage or "", -1), s.position or 0, s.id)) if steps else None


def parse_plain(text: str) -> BuildRecord:
    """Steps of a `--progress plain` log; `readable` is False when no step header was found."""
    steps: dict[int, Step] = {}
    for raw in text.splitlines():
        match = _LINE.match(raw.rstrip("\r"))
        if not match:
            continue
        step_id, rest = int(match.group(1)), match.group(2)
        header = _HEADER.match(rest)
        if header and step_id not in steps:
            steps[step_id] = Step(step_id, header.group("stage"), int(header.group("pos")),
                                  " ".join(header.group("instruction").split()),
                                  target_platform(header.group("platform")), "->" in (header.group("platform") or ""))
            continue
        if step_id not in steps:
            if rest.startswith("["):  # [internal] load …: not a Dockerfile step
                steps[step_id] = Step(step_id, None, None, rest)
            continue
        _apply(steps[step_id], rest)
    ordered = tuple(sorted(steps.values(), key=lambda s: s.id))
    return BuildRecord(ordered, readable=any(s.stage is not None for s in ordered))


def target_platform(prefix: str | None) -> str | None:
    """`linux/amd64->arm64` (built on amd64 for arm64) -> `linux/arm64`; `linux/arm64` as is."""
    if not prefix:
        return None
    built_on, arrow, target = prefix.partition("->")
    return f"{built_on.split('/', 1)[0]}/{target}" if arrow else built_on


def _apply(step: Step, rest: str) -> None:
    if rest == "CACHED":
        step.cached = True
    elif rest.startswith("DONE"):
        step.done = True
    elif rest.startswith(("ERROR", "CANCELED")):
        step.error = True
    else:
        output = _OUTPUT.match(rest)
        if output:
            step.output.append(output.group("text"))

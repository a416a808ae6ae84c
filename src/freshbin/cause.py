"""Name the cause of a stale binary from the build's own record, without a `--no-cache` build.

verify knows the subject's binary differs from the reference; which mechanism made it so is
written down already:

* the sources reaching the binary never were in the context → `.dockerignore` (the pattern);
* the build's step record (the deploy's, kept in its ledger record, else verify's own cached
  build's `--progress plain` log) says the real compile step
  - came from the cache → the layer cache served an old result: "build cache" (the step) —
    unless doctor finds a dependency pre-build hazard there: then every compile of these inputs,
    the cached one included, was judged by mtime ("cargo mtime freshness", doctor's line);
  - ran under a cache mount over cargo's target dir → "cache mount" (the mount's Dockerfile line);
  - ran and did not compile the changed packages → cargo judged old (or dummy) artefacts fresh:
    "cargo mtime freshness" (doctor's finding at that line, when it has one).

Each cause also says what a `--no-cache` build would do, so `verify --no-cache-build` is a
cross-check: a plain cache mount is emptied by `--no-cache` (it fixes the binary), one with
`mode=`/`uid=`/`gid=` is not; `--no-cache` fixes a served layer, and neither an mtime
judgement (the pre-build then always runs after the checkout) nor an ignored input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .buildlog import BuildRecord, Step, parse_plain
from .dockerfile_cargo import stage_calls
from .dockerfile_model import Dockerfile, Instruction, mounts
from .errors import FreshbinError
from .verdicts import Cause

STEP_RECORD = "step cache record"
DOCKERFILE_LINE = "Dockerfile line"
IGNORE_PATTERN = "ignore pattern"
MTIME_RULES = ("FB001", "FB002", "FB003")  # doctor's findings that explain an mtime judgement, first first
OWNER_OPTIONS = ("mode", "uid", "gid")  # a cache mount with one of these survives --no-cache (older engines)


@dataclass(frozen=True)
class StepFacts:
    """What one build's record says about its real compile step."""

    source: str  # "deploy record" or "cached build"
    step: str | None  # "[builder 11] RUN …"
    ran: bool | None  # False: served from the cache
    not_compiled: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedCause:
    cause: Cause
    decided_by: str  # STEP_RECORD, DOCKERFILE_LINE or IGNORE_PATTERN
    detail: str  # the step, the Dockerfile line or the ignore pattern with what it drops
    source: str  # whose record: "deploy record", "cached build", "ignore file"
    no_cache_fixes: bool  # what this cause predicts of a --no-cache build (the cross-check)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def from_record(record: BuildRecord, stage_order: list[str]) -> StepFacts | None:
    """The compile step of a parsed `--progress plain` log; None when the record is unreadable."""
    if not record.readable:
        return None
    step = record.final_compile(stage_order)
    if step is None:
        return StepFacts("cached build", None, None)
    return StepFacts("cached build", header(step), step.ran)


def from_deploy(evidence: dict[str, Any] | None) -> StepFacts | None:
    """The compile step as the deploy recorded it (ledger `evidence`); None when it has none."""
    if not evidence or evidence.get("step") is None or evidence.get("ran") is None:
        return None
    return StepFacts("deploy record", str(evidence["step"]), bool(evidence["ran"]),
                     tuple(evidence.get("not_compiled") or ()))


def header(step: Step) -> str:
    return f"[{step.stage} {step.position}] {step.instruction}"[:200]


def name_cause(facts: StepFacts, df: Dockerfile, target: str, doctor_lines: list[str]) -> NamedCause | None:
    """The cause the step record and the Dockerfile model name; None when the record has no compile step."""
    if facts.step is None or facts.ran is None:
        return None
    if not facts.ran:
        if doctor_lines:  # the cached result is an earlier compile of these inputs, judged by mtime
            return NamedCause(Cause.MTIME, DOCKERFILE_LINE, doctor_lines[0], facts.source, False,
                              f"{facts.step} came from the build cache; the Dockerfile's pre-build makes every "
                              "compile of these inputs ship stale artefacts, cached or not")
        return NamedCause(Cause.CACHE, STEP_RECORD, f"{facts.step} came from the build cache", facts.source, True)
    mounted = cache_mount_line(df, target, facts.step)
    if mounted is not None:
        line, survives = mounted
        return NamedCause(Cause.CACHE_MOUNT, DOCKERFILE_LINE, line, facts.source, not survives,
                          f"the compile step ran ({facts.step}) with cargo's target dir in a cache mount")
    skipped = f"; it did not compile {', '.join(facts.not_compiled)}" if facts.not_compiled else ""
    detail = f"{facts.step} ran{skipped}"
    return NamedCause(Cause.MTIME, STEP_RECORD, detail, facts.source, False,
                      f"doctor: {doctor_lines[0]}" if doctor_lines else "")


def cache_mount_line(df: Dockerfile, target: str, step: str) -> tuple[str, bool] | None:
    """(`Dockerfile:N RUN --mount=…`, does it survive --no-cache) for the compile step when a
    cache mount holds cargo's target dir; None when the artefacts live in the layer.  The step's
    header names its stage (`[builder 11] …`); the target's chain stands in when it does not."""
    named = df.stage(step[1:].split(" ", 1)[0]) if step.startswith("[") else None
    stage = named or df.stage(target) or (df.stages[-1] if df.stages else None)
    if stage is None:
        return None
    calls = [c for c in stage_calls(df, stage) if not c.chef]
    chosen = [c for c in calls if _same_step(c.instruction, step)] or calls[-1:]
    for call in chosen:
        if call.storage.startswith("cache:"):
            ins = call.instruction
            options = next((m.options for m in mounts(ins) if m.type == "cache"
                            and call.target_dir.startswith(m.target.rstrip("/"))), {})
            return (f"{df.path.name}:{ins.line} {ins.original.strip()[:160]}",
                    any(k in options for k in OWNER_OPTIONS))
    return None


def _same_step(ins: Instruction, step: str) -> bool:
    """BuildKit's header shows the instruction as written, flags included, whitespace folded."""
    written = " ".join(ins.original.replace("\\\n", " ").split())
    shown = step.split("] ", 1)[-1]
    return bool(shown) and (written.startswith(shown[:80]) or shown.startswith(written[:80]))


def doctor_mtime_lines(dockerfile: Path, context: Path, workspace: Path) -> list[str]:
    """doctor's findings that explain an mtime judgement, as `Dockerfile:N FBnnn message`."""
    from .doctor.run import diagnose  # the rules are only needed when a cause is named
    try:
        report = diagnose(dockerfile, context, workspace)
    except FreshbinError:
        return []
    found = sorted((f for f in report.findings if f.rule in MTIME_RULES), key=lambda f: MTIME_RULES.index(f.rule))
    return [f"{Path(f.file).name}:{f.line} {f.rule} {f.message}"[:200] for f in found]


def ignored(patterns_file: str, dropped: list[tuple[str, str]]) -> NamedCause:
    """The `.dockerignore` cause: `dropped` is [(path, pattern line)], the first pattern names it."""
    paths = ", ".join(p for p, _ in dropped[:4]) + (" …" if len(dropped) > 4 else "")
    return NamedCause(Cause.IGNORED, IGNORE_PATTERN, f"{patterns_file}: {dropped[0][1]} drops {paths}",
                      "ignore file", False, "cargo reads these files in a checkout of the commit; the build never saw them")


UNREADABLE = ("the build's step record could not be read (progress format unknown); the cause is named by a "
              "--no-cache build, as before")
NO_COMPILE = "the build's record shows no cargo compile step; the cause is named by a --no-cache build, as before"


def decide(log: str, deploy_evidence: dict[str, Any] | None, df: Dockerfile, target: str,
           doctor_lines: list[str]) -> tuple[NamedCause | None, str]:
    """(the cause, "") from the deploy's record, else the cached build's log; (None, why) when
    neither can name it and the `--no-cache` build must."""
    facts = from_deploy(deploy_evidence)
    if facts is None:
        facts = from_record(parse_plain(log), [s.name for s in df.stages])
        if facts is None:
            return None, UNREADABLE
    named = name_cause(facts, df, target, doctor_lines)
    return (named, "") if named is not None else (None, NO_COMPILE)

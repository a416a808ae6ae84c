"""Judge a build from its own record: did cargo compile what changed?

A deploy's freshness check used to compare the shipped binary with the previous deploy's, so it
was blind on a first deploy (every fresh CI runner) and when the dummy of a dependency pre-build
differs from every earlier binary.  The build log knows better: in the real compile step cargo
prints `Compiling <package> …` for every local package it rebuilds.  A package whose sources
changed since the base and that reaches the shipped binary, but that the compile step did not
compile, means cargo judged old (or dummy) artefacts fresh — the binary is stale, history or not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .buildlog import parse_plain
from .compile_proof import compiled_units
from .detect import WORKSPACE_PACKAGE, ChangeKind, Detection
from .dockerfile_model import parse as parse_dockerfile
from .errors import FreshbinError
from .platforms import target_args
from .verdicts import Cause



@dataclass(frozen=True)
class BuildEvidence:
    readable: bool
    step: str | None = None  # "[builder 11/11] RUN …", the compile step judged
    ran: bool | None = None  # False: BuildKit served the step from its cache
    compiled: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # changed packages that reach the binary
    not_compiled: list[str] = field(default_factory=list)
    cause: Cause | None = None
    note: str | None = None
    # The step ran and compiled every local package the binary is built from: the binary is this
    # build's compile of the context's sources, whatever the history says (the one FRESH evidence).
    vouched: bool = False
    proven: bool = False  # `compiled` comes from the step's own proof line (compile_proof.py)
    needed: list[str] = field(default_factory=list)  # the local packages the binary is built from

    @property
    def stale(self) -> bool:
        return bool(self.not_compiled)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge(log: str, detection: Detection, binary_name: str, dockerfile: Path, platform: str = "",
          target: str = "", needed: set[str] | None = None) -> BuildEvidence:
    """What the build's record says about the packages that changed and reach `binary_name` (in
    `platform`'s image of a multi-platform build: the stages `target` needs for that platform),
    and whether it vouches for the binary: `needed` are the local packages it is built from."""
    record = parse_plain(log)
    if not record.readable:
        return BuildEvidence(False, note="the build's record could not be read (progress format unknown); "
                                         "freshbin cannot vouch for the binary from it")
    changed = sorted({c.package for c in detection.changed if c.kind == ChangeKind.SOURCE and c.package
                      and c.package != WORKSPACE_PACKAGE and binary_name in c.binaries})
    step = record.final_compile(_stage_order(dockerfile), platform, _needed(dockerfile, target, platform))
    if step is None:
        return BuildEvidence(True, changed=changed, note="no cargo compile step in the build's record")
    header = f"[{f'{step.platform} ' if step.platform else ''}{step.stage} {step.position}] {step.instruction}"[:200]
    if not step.ran:
        return BuildEvidence(True, header, False, sorted(step.compiled()), changed,
                             note="the compile step came from the build cache: freshbin did not see it compile "
                                  "this commit's sources")
    proof = compiled_units(step.output)
    seen = proof if proof is not None else step.build_compiled()
    needed_list = sorted(needed or ())
    if seen is None:
        return BuildEvidence(True, header, True, [], changed, needed=needed_list,
                             note="the compile step ran but its output does not say what cargo compiled "
                                  "(quiet cargo, or several cargo calls)")
    compiled = sorted(seen)
    missing = [p for p in changed if p not in seen]
    cause = None
    if missing:
        cause = Cause.CACHE_MOUNT if "--mount=type=cache" in step.instruction else Cause.MTIME
    vouched = bool(needed) and not missing and all(p in seen for p in needed or ())
    note = None
    if not vouched and not missing:
        left = [p for p in needed_list if p not in seen]
        note = (f"the compile step did not compile {', '.join(left[:5])}, which the binary is built from: its "
                "artefacts came from an earlier step or build freshbin did not see" if left else
                "the binary's packages are unknown (no package of the workspace has that binary)")
    return BuildEvidence(True, header, True, compiled, changed, missing, cause, note, vouched, proof is not None,
                         needed_list)


def stale_reason(evidence: BuildEvidence, binary_name: str) -> str:
    return (f"STALE: {', '.join(evidence.not_compiled)} changed and reach{'es' if len(evidence.not_compiled) == 1 else ''} "
            f"{binary_name}, but the build's compile step ({evidence.step}) did not compile "
            f"{'it' if len(evidence.not_compiled) == 1 else 'them'}: {evidence.cause} — cargo kept older (or "
            "dummy) artefacts; run `freshbin doctor` and deploy with --strategy guard")


def _needed(dockerfile: Path, target: str, platform: str) -> set[str] | None:
    """The stages `platform`'s image of `target` is built from (TARGETARCH… resolved); None: all."""
    if not platform:
        return None
    try:
        df = parse_dockerfile(dockerfile, target_args(platform))
    except FreshbinError:
        return None
    stage = df.stage(target) if target else (df.stages[-1] if df.stages else None)
    return df.needed(stage) if stage is not None else None


def _stage_order(dockerfile: Path) -> list[str]:
    try:
        return [s.name for s in parse_dockerfile(dockerfile).stages]
    except FreshbinError:
        return []

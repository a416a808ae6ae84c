"""What the next deploy of this repository must do about a change: detect's answer in the words
deploy and doctor use.

detect knows which shipped binaries a change reaches; whether a deploy then ships them fresh
depends on the strategy it uses (guard by default) and on the Dockerfile: doctor's pre-build
findings (FB001–FB003) are what makes a cached or `--no-cache` build keep an old or dummy binary.
So the advice reads all three, instead of the how-to's rule ("a no-cache build is required").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import FreshbinError

if TYPE_CHECKING:
    from .detect import Detection

MTIME_RULES = ("FB001", "FB002", "FB003")  # cause.MTIME_RULES: the findings that make cargo keep a dummy


@dataclass(frozen=True)
class NextDeploy:
    strategy: str  # the strategy the next deploy uses (freshbin.strategy)
    binaries: tuple[str, ...]  # the shipped binaries the change reaches
    doctor: str  # what doctor finds in the Dockerfile that matters here, in one clause
    hazard: bool  # doctor finds a pre-build hazard (FB001–FB003)
    action: str  # one sentence: what this repository must do
    ok: bool  # the strategy ships the change as it is (nothing to do)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def doctor_view(dockerfile: Path, context: Path, workspace: Path) -> tuple[bool, str]:
    """(a pre-build hazard?, doctor's words) for the Dockerfile the deploy builds."""
    from .doctor.run import diagnose  # the rules load only when advice is asked for

    try:
        report = diagnose(dockerfile, context, workspace)
    except FreshbinError as exc:
        return False, f"doctor cannot read {dockerfile.name} ({exc})"
    found = [f for f in report.findings if f.rule in MTIME_RULES]
    if not found:
        return False, f"doctor finds no pre-build hazard in {dockerfile.name}"
    first = found[0]
    return True, f"doctor finds {first.rule} at {Path(first.file).name}:{first.line}"


def next_deploy(detection: Detection, strategy: str, doctor: tuple[bool, str]) -> NextDeploy:
    """The next deploy's answer to `detection` with `strategy`, given doctor's view."""
    hazard, said = doctor
    bins = tuple(detection.binaries)
    manifest = any(c.kind == "manifest" for c in detection.changed)
    names = ", ".join(bins)
    if not bins:
        return NextDeploy(strategy, bins, said, hazard, "no change reaches a shipped binary: the next deploy's binary "
                          "should equal the last one's", True)
    if strategy == "guard":
        extra = "; a manifest changed, so the dependency pre-build re-runs too" if manifest else ""
        extra += f" ({said}: guard builds are immune, `freshbin doctor --fix` makes plain ones safe)" if hazard else ""
        return NextDeploy(strategy, bins, said, hazard, f"strategy guard rebuilds {names} from this commit's "
                          f"sources with dependencies cached{extra}; nothing else to do", True)
    if hazard:
        what = (f"builds without cache, and the pre-build then ships the dummy {names}"
                if strategy == "no-cache" and detection.no_cache_required else f"may ship an old or dummy {names}")
        return NextDeploy(strategy, bins, said, hazard, f"strategy {strategy} {what}: {said}; run "
                          "`freshbin doctor --fix`, or deploy with --strategy guard", False)
    how = "without cache (every dependency too)" if strategy == "no-cache" and detection.no_cache_required else \
        "where the layer cache sees the change"
    return NextDeploy(strategy, bins, said, hazard, f"strategy {strategy} rebuilds {names} {how}; "
                      f"{said}", True)

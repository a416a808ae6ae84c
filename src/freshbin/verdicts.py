"""What verify decides and how it says it: the checks, the images taking part, the verdict.

Verdicts and causes are string enums: the JSON and the tables show exactly the strings they
always did, and code compares members, not free text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from .errors import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE
from .layers import FileEntry


class Verdict(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    INCONCLUSIVE = "inconclusive"


class Cause(StrEnum):
    CACHE = "build cache"
    MTIME = "cargo mtime freshness"
    CACHE_MOUNT = "cache mount"
    IGNORED = ".dockerignore"
    TAG_MOVED = "tag moved"
    OTHER_COMMIT = "deployed from another commit"
    PROPAGATION = "binary unchanged although its sources changed"
    RECORDED = "stale when deployed"


DIGEST_CHECK = "digest cached == no-cache (reproducible)"
RECORD_CHECK = "deploy record"
CAUSE_OF_CHECK = {"registry tag": Cause.TAG_MOVED, "revision label": Cause.OTHER_COMMIT,
                  "change propagation": Cause.PROPAGATION, DIGEST_CHECK: Cause.CACHE, RECORD_CHECK: Cause.RECORDED}


@dataclass(frozen=True)
class Check:
    name: str
    expected: str
    actual: str
    ok: bool | None  # None: informational, does not decide the verdict
    decisive: bool = True


@dataclass
class Side:
    """One image taking part: where it came from, its digest and its shipped binary."""

    name: str
    ref: str = ""
    digest: str | None = None
    binary_path: str | None = None
    binary_sha256: str | None = None
    binary_name: str = ""  # the cargo binary's name, for the change rules
    revision: str | None = None
    files: dict[str, FileEntry] = field(default_factory=dict, repr=False)
    pinned: bool = False  # built with every timestamp pinned: equal inputs give equal digests
    local: str = ""  # the image in the local store whose files are still to be read (layer_reader.py)

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "digest": self.digest, "binary_path": self.binary_path,
                "binary_sha256": self.binary_sha256, "revision": self.revision}


@dataclass(frozen=True)
class VerifyResult:
    verdict: Verdict
    cause: Cause | None
    commit: str
    target: str
    quick: bool
    checks: list[Check]
    sides: dict[str, Side]
    differing_files: list[dict[str, Any]]
    notes: list[str]
    platforms: dict[str, VerifyResult] | None = None  # several platforms: each one's own result
    evidence: dict[str, Any] | None = None  # what named the cause (cause.NamedCause): record, line or pattern
    layers: dict[str, Any] | None = None  # what comparing the files read (layer_reader.ReadStats)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict, "cause": self.cause, "commit": self.commit, "target": self.target,
            "quick": self.quick, "checks": [asdict(c) for c in self.checks],
            **{name: (side.to_json() if side else None)
               for name, side in ((n, self.sides.get(n)) for n in ("cached", "nocache", "reference", "deployed"))},
            "differing_files": self.differing_files, "evidence": self.evidence,
            "layers": self.layers, "notes": self.notes,
            **({"platforms": {name: result.to_json() for name, result in self.platforms.items()}}
               if self.platforms else {}),
        }


def judge(checks: list[Check], sides: dict[str, Side], quick: bool,
          named: Cause | None = None) -> tuple[Verdict, Cause | None]:
    """The verdict and its cause: `named` is the cause the build's record names (cause.py); without
    it the no-cache build names it, as verify.py's table says."""
    for check in checks:
        if check.name == DIGEST_CHECK and _deployed_as_built_from_scratch(sides):
            continue  # it speaks of verify's own cached build, not of what made the deployed image stale
        if check.decisive and check.ok is False and check.name in CAUSE_OF_CHECK:
            caught = CAUSE_OF_CHECK[check.name]
            # Pinned digests catch a cache; when the record names a cache mount, that is the cache.
            return Verdict.STALE, named if caught is Cause.CACHE and named is Cause.CACHE_MOUNT else caught
    if quick:
        # FRESH without builds only on a deploy freshbin vouched for, and nothing decisive against it.
        vouched = any(c.name == RECORD_CHECK and c.ok is True for c in checks)
        return (Verdict.FRESH, None) if vouched else (Verdict.INCONCLUSIVE, None)
    reference = sides["reference"].binary_sha256
    subject = sides.get("deployed") or sides["cached"]
    if subject.binary_sha256 == reference:
        return Verdict.FRESH, None
    if named is not None:
        return Verdict.STALE, named
    if sides["nocache"].binary_sha256 == reference:  # built whenever no record names the cause
        return Verdict.STALE, Cause.CACHE
    return Verdict.STALE, Cause.MTIME


def _deployed_as_built_from_scratch(sides: dict[str, Side]) -> bool:
    """Does a --no-cache build ship the deployed binary?  Then no cache made the deployed image what
    it is, whatever verify's own cached build did (seen on a remote BuildKit: the cached build
    compiled the change, the deploy and the --no-cache build shipped the dummy — the mtime hazard)."""
    deployed, nocache = sides.get("deployed"), sides.get("nocache")
    return bool(deployed and nocache and deployed.binary_sha256 and
                deployed.binary_sha256 == nocache.binary_sha256)


def merge_platforms(results: dict[str, VerifyResult]) -> VerifyResult:
    """One result for several platforms: stale when any platform is (its cause, its images and
    files), else inconclusive when any is, else fresh; checks and notes name their platform."""
    order = [Verdict.STALE, Verdict.INCONCLUSIVE, Verdict.FRESH]
    worst = min(results, key=lambda name: order.index(results[name].verdict))
    chosen = results[worst]
    checks = [replace(c, name=f"{name}: {c.name}") for name, r in results.items() for c in r.checks]
    notes = list(dict.fromkeys(f"{name}: {n}" for name, r in results.items() for n in r.notes))
    if chosen.verdict is Verdict.STALE:
        notes.append(f"stale on {', '.join(n for n, r in results.items() if r.verdict is Verdict.STALE)}")
    return VerifyResult(chosen.verdict, chosen.cause, chosen.commit, chosen.target, chosen.quick, checks,
                        chosen.sides, chosen.differing_files, notes, dict(results), chosen.evidence, chosen.layers)


def exit_code(result: VerifyResult) -> int:
    return {Verdict.FRESH: EXIT_OK, Verdict.STALE: EXIT_CHECK_FAILED}.get(result.verdict, EXIT_USAGE)


def short(value: str | None, width: int = 16) -> str:
    if not value:
        return "(none)"
    return value[:width]

"""Is the shipped binary the committed code?  The rules that judge a deploy against its history.

STALE when sources compiled into the shipped binary changed since the previous deploy and the
binary's sha256 did not, or when the binary equals one deployed earlier from sources that differ
for it (the dummy of a dependency pre-build coming back).  The build's own record (evidence.py)
decides without any history.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GitError
from .image import BinaryFacts

if TYPE_CHECKING:  # detect (and GitPython) loads beside a deploy's build, not before it
    from .detect import Detection


def previous_json(previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if not previous:
        return None
    return {"commit": previous.get("commit"), "digest": previous.get("digest"),
            "binary_sha256": (previous.get("binary") or {}).get("sha256"), "origin": previous.get("origin")}


def same_binary_as_other_revision(ws: Path, image: str, target: str, watch: list[str], records: list[dict[str, Any]],
                                  commit: str, binary: BinaryFacts,
                                  verdict: tuple[bool | None, str]) -> tuple[bool | None, str]:
    """STALE too when this exact binary was deployed before from sources that differ for it.

    Catches the dummy binary of a dependency pre-build coming back after a fresh deploy — from
    any machine: `records` (oldest first) is the deploy history, registry and ledger merged.
    """
    twin = next((r for r in reversed(records) if r.get("image") == image and r.get("target") == target
                 and (r.get("binary") or {}).get("sha256") == binary.sha256 and r.get("commit") != commit), None)
    if twin is None:
        return verdict
    from .detect import detect
    try:
        since = detect(ws, base=twin["commit"], head=commit, watch=watch)
    except GitError:
        return verdict  # the twin's commit is gone (rewritten history): nothing to prove
    fresh, reason = judge_freshness(twin, since, binary)
    return (fresh, reason) if fresh is False else verdict


def judge_freshness(previous: dict[str, Any] | None, detection: Detection, binary: BinaryFacts) -> tuple[bool | None, str]:
    """STALE when sources compiled into the shipped binary changed but its sha256 did not."""
    if not previous:
        return None, "first deploy of this image and target in the ledger; nothing to compare with"
    name = binary.name or Path(binary.path).name
    changed = [c.path for c in detection.changed if name in c.binaries]
    before = (previous.get("binary") or {}).get("sha256")
    if changed and before == binary.sha256:
        return False, (
            f"STALE: {changed[0]} changed since {previous['commit'][:12]} and is compiled into {name}, "
            f"but the shipped binary is byte-identical; run `invoke doctor` and deploy with --strategy guard"
        )
    if changed:
        return True, f"{name} changed with its sources ({len(changed)} file(s) since {previous['commit'][:12]})"
    return True, f"no source compiled into {name} changed since {previous['commit'][:12]}"

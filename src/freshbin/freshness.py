"""Is the shipped binary the committed code?  The rules that judge a deploy against its history.

STALE when sources compiled into the shipped binary changed since the previous deploy and the
binary's sha256 did not, or when the binary equals one deployed earlier from sources that differ
for it (the dummy of a dependency pre-build coming back).  The build's own record (evidence.py)
decides without any history.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GitError
from .image import BinaryFacts

if TYPE_CHECKING:  # detect (and GitPython) loads beside a deploy's build, not before it
    from .detect import Detection
    from .evidence import BuildEvidence


def decide(proof: BuildEvidence, previous: dict[str, Any] | None, detection: Detection, binary: BinaryFacts,
           earlier: list[dict[str, Any]], ws: Path, image: str, target: str, watch: list[str],
           commit: str) -> tuple[bool | None, str]:
    """FRESH only on evidence freshbin can vouch for; STALE on evidence of staleness; else None.

    * STALE: the compile step skipped a changed package (the build's record), or the binary is
      byte-identical to one deployed from sources that differ for it (the history);
    * FRESH: the compile step ran and compiled every local package the binary is built from
      (evidence.BuildEvidence.vouched) — an unchanged binary after a comment-only change is then
      simply what those sources compile to; or the binary is byte-identical to one an earlier
      deploy vouched for, and nothing compiled into it changed since that deploy's commit;
    * otherwise INCONCLUSIVE (None), saying why: a cached compile step nobody vouched for, quiet
      cargo, a history that cannot prove anything.  `earlier` is the history, oldest first.
    """
    from .evidence import stale_reason
    name = binary.name or Path(binary.path).name
    if proof.stale:
        return False, stale_reason(proof, name)
    if proof.vouched:
        return True, (f"the compile step ran and compiled every local package {name} is built from "
                      f"({', '.join(proof.needed[:6])}{' …' if len(proof.needed) > 6 else ''}) from this commit's sources")
    fresh, reason = judge_freshness(previous, detection, binary)
    if fresh is False:
        return fresh, reason
    since = _since(ws, watch, commit)  # one detect per earlier commit, shared by both history rules
    fresh, reason = same_binary_as_other_revision(image, target, earlier, commit, binary, (None, ""), since)
    if fresh is False:
        return fresh, reason
    twin = _same_sources_twin(earlier, commit, binary, since)
    why = proof.note or "the build's record does not show the compile"
    if twin is not None and twin.get("stale"):
        return False, (f"STALE: the binary is byte-identical to the one deployed from {str(twin['commit'])[:12]}, which "
                       f"was judged stale, and nothing compiled into {name} changed since; {why}")
    if twin is not None and twin.get("vouched"):
        return True, (f"byte-identical to the binary deployed from {str(twin['commit'])[:12]}, whose compile freshbin "
                      f"saw, and nothing compiled into {name} changed since")
    return None, (f"INCONCLUSIVE: freshbin cannot vouch for {name}: {why}; deploy with --strategy guard "
                  "(its compile step always runs and proves what it compiled)")


def _since(ws: Path, watch: list[str], commit: str) -> Callable[[str], Detection | None]:
    """detect from an earlier commit to `commit`, memoised; None when that commit is gone."""
    from .detect import detect

    @functools.cache
    def since(base: str) -> Detection | None:
        try:
            return detect(ws, base=base, head=commit, watch=watch)
        except GitError:
            return None  # the earlier commit is gone (rewritten history): nothing to prove
    return since


def _same_sources_twin(earlier: list[dict[str, Any]], commit: str, binary: BinaryFacts,
                       since: Callable[[str], Detection | None]) -> dict[str, Any] | None:
    """The newest earlier deploy of this very binary from a commit whose sources compiled into it
    are the same as `commit`'s (a judged one first: stale or vouched)."""
    name = binary.name or Path(binary.path).name
    same = [r for r in reversed(earlier) if (r.get("binary") or {}).get("sha256") == binary.sha256]
    for record in sorted(same, key=lambda r: not (r.get("stale") or r.get("vouched"))):
        if record.get("commit") == commit:
            return dict(record)
        changes = since(str(record["commit"]))
        if changes is not None and not any(name in c.binaries for c in changes.changed):
            return dict(record)
    return None


def previous_json(previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if not previous:
        return None
    return {"commit": previous.get("commit"), "digest": previous.get("digest"),
            "binary_sha256": (previous.get("binary") or {}).get("sha256"), "origin": previous.get("origin")}


def same_binary_as_other_revision(image: str, target: str, records: list[dict[str, Any]], commit: str,
                                  binary: BinaryFacts, verdict: tuple[bool | None, str],
                                  since: Callable[[str], Detection | None]) -> tuple[bool | None, str]:
    """STALE too when this exact binary was deployed before from sources that differ for it.

    Catches the dummy binary of a dependency pre-build coming back after a fresh deploy — from
    any machine: `records` (oldest first) is the deploy history, registry and ledger merged;
    `since(commit)` is detect from that commit (_since).
    """
    twin = next((r for r in reversed(records) if r.get("image") == image and r.get("target") == target
                 and (r.get("binary") or {}).get("sha256") == binary.sha256 and r.get("commit") != commit), None)
    changes = since(str(twin["commit"])) if twin is not None else None
    if twin is None or changes is None:
        return verdict
    fresh, reason = judge_freshness(twin, changes, binary)
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

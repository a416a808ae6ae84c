"""no-cache: the how-to's rule — `--no-cache` when detect says a source change reaches a shipped
binary, a cached build otherwise.  Slow, and still stale for the mtime cause (it makes it certain)."""

from __future__ import annotations

from contextlib import ExitStack

from .base import BuildContext, CachePlan, Situation, working_tree_context


class NoCache:
    name = "no-cache"
    summary = "the how-to's rule: --no-cache when a source change reaches a shipped binary"
    guarantees = ("no layer comes from the cache when sources changed; the dummy of a dependency pre-build "
                  "still ships (cargo's mtime rule), which deploy then flags")
    needs_detection = True  # --no-cache only when a source change reaches a shipped binary

    def cache_plan(self, situation: Situation) -> CachePlan:
        required = situation.detection.no_cache_required if situation.detection is not None else True
        return CachePlan(no_cache=required)

    def context(self, situation: Situation, stack: ExitStack, *, dry_run: bool) -> BuildContext:
        return working_tree_context(situation)


STRATEGY = NoCache()

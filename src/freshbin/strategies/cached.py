"""cached: a plain build of the working tree, for comparison (and for Dockerfiles `doctor --fix` made safe)."""

from __future__ import annotations

from contextlib import ExitStack

from .base import BuildContext, CachePlan, Situation, working_tree_context


class Cached:
    name = "cached"
    summary = "a plain cached build"
    guarantees = "nothing beyond buildx's own layer cache; safe only with a Dockerfile doctor passes"
    needs_detection = False

    def cache_plan(self, situation: Situation) -> CachePlan:
        return CachePlan()

    def context(self, situation: Situation, stack: ExitStack, *, dry_run: bool) -> BuildContext:
        return working_tree_context(situation)


STRATEGY = Cached()

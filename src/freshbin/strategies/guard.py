"""guard (the default): an mtime-proof export of the commit, dependency layers cached.

See freshbin/guard.py for the mechanism: every package source dated a year ahead (unique per
build) and a nonce in every package directory; the artefact-only stages are rebuilt with
`--no-cache-filter` (BuildKit v0.8 keys their COPY by content).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from ..guard import MECHANISM, cache_options, guarded_context
from .base import BuildContext, CachePlan, Situation


class Guard:
    name = "guard"
    summary = "mtime-proof build context, dependencies cached"
    guarantees = ("the shipped binary is compiled from the commit's sources whatever their mtimes and whatever "
                  "the layer cache holds; dependency layers stay cached")
    needs_detection = False

    def cache_plan(self, situation: Situation) -> CachePlan:
        p, req = situation.prepared, situation.request
        filters, no_cache, note = cache_options(situation.engine.no_cache_filter, p.dockerfile, p.stage)
        return CachePlan(no_cache, filters, f"{MECHANISM}; {note}")

    def context(self, situation: Situation, stack: ExitStack, *, dry_run: bool) -> BuildContext:
        p, req = situation.prepared, situation.request
        if dry_run:
            return BuildContext(Path("<guarded-export>"), p.dockerfile)
        guard = stack.enter_context(guarded_context(p.checkout.root, p.commit, p.workspace, p.workspace / req.context,
                                                    list(req.watch), from_worktree=p.dirty))
        return BuildContext(guard.path, guard.workspace / req.dockerfile,
                            f"{guard.mechanism} ({guard.files_refreshed} files, {guard.nonce_dirs} dirs)")


STRATEGY = Guard()

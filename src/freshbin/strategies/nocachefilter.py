"""no-cache-filter: `--no-cache-filter` on the stage that compiles the shipped binary and the
artefact-only stages after it, for Dockerfiles whose dependency pre-build has a stage of its own
(`FROM deps AS builder`): the compile re-runs from a fresh COPY of the sources, the dependency
stage stays cached.  With the pre-build in the compile stage it rebuilds every dependency
(FINDINGS: ~14x slower), and the deploy says so.
"""

from __future__ import annotations

from contextlib import ExitStack

from ..dockerfile_cargo import shipped_binaries
from ..dockerfile_model import Dockerfile, Stage, parse
from ..guard import artefact_stages
from .base import BuildContext, CachePlan, Situation, working_tree_context


class NoCacheFilter:
    name = "no-cache-filter"
    summary = "--no-cache-filter on the compile stage: for a pre-build in a stage of its own"
    guarantees = ("the compile stage and the artefact copies never come from the layer cache; the dependency "
                  "stage does, so cargo's mtime rule still applies to its dummy artefacts")
    needs_detection = False

    def cache_plan(self, situation: Situation) -> CachePlan:
        p, req = situation.prepared, situation.request
        df = parse(p.dockerfile, req.build_args)
        compile_stages = {b.from_stage.name for b in shipped_binaries(df, p.stage)} - _unnamed(df)
        stages = tuple(sorted(compile_stages | set(artefact_stages(p.dockerfile, p.stage))))
        if not situation.engine.no_cache_filter:
            return CachePlan(True, (), "this buildx has no --no-cache-filter: built with --no-cache instead")
        shared = [s.name for s in df.stages if s.name in compile_stages and _prebuilds(s)]
        note = f"--no-cache-filter {','.join(stages)}"
        if shared:
            note += f"; stage {shared[0]} also holds the dependency pre-build, so every dependency is rebuilt"
        return CachePlan(False, stages, note)

    def context(self, situation: Situation, stack: ExitStack, *, dry_run: bool) -> BuildContext:
        return working_tree_context(situation)


def _unnamed(df: Dockerfile) -> set[str]:
    """Stages without `AS name`: --no-cache-filter cannot name them."""
    return {s.name for s in df.stages if s.name == str(s.index)}


def _prebuilds(stage: Stage) -> bool:
    """More than one cargo compile in the stage: a pre-build before the real one."""
    return sum(1 for i in stage.instructions if i.cmd == "RUN" and "cargo" in i.text
               and any(w in i.text for w in ("build", "install"))) > 1


STRATEGY = NoCacheFilter()

"""guard (the default): an mtime-proof export of the commit, dependency layers cached.

See freshbin/guard.py for the mechanism: every package source dated a year ahead (unique per
build) and a nonce in every package directory; the artefact-only stages are rebuilt with
`--no-cache-filter` (BuildKit v0.8 keys their COPY by content).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from ..compile_proof import instrument, local_packages
from ..guard import MECHANISM, add_nonces, cache_options, guarded_context
from ..ignored_inputs import dropped_inputs, reinclude
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
            return BuildContext(Path("<guarded-export>"), p.dockerfile, whole=True)
        guard = stack.enter_context(guarded_context(p.checkout.root, p.commit, p.workspace, p.workspace / req.context,
                                                    list(req.watch), from_worktree=p.dirty, nonces=False))
        dockerfile = guard.workspace / req.dockerfile
        ignore_path, dropped = dropped_inputs(dockerfile, guard.path, exported_files(guard.path))
        if ignore_path is not None and dropped:
            reinclude(ignore_path, dropped)
        proof = instrument(dockerfile, p.stage, local_packages(guard.workspace, guard.root), dict(req.build_args),
                           name_shipped_stage=p.stage.isdigit())
        if not proof.steps:  # no compile step carries a nonce: the COPYs of sources must
            guard = add_nonces(guard, list(req.watch))
        note = f"future mtimes ({guard.files_refreshed} files"
        note += f", nonce files in {guard.nonce_dirs} dirs); {proof.note}" if guard.nonce_dirs else f"); {proof.note}"
        if dropped:
            note += f"; re-included {len(dropped)} cargo input(s) the ignore file drops"
        return BuildContext(guard.path, dockerfile, note, bool(proof.steps), True, ignore_path, tuple(dropped))


def exported_files(context: Path) -> list[str]:
    """Every file of the export below the context, relative to it (the commit's files)."""
    return sorted(path.relative_to(context).as_posix() for path in context.rglob("*")
                  if path.is_file() or path.is_symlink())


STRATEGY = Guard()

"""The mtime-proof build context shared by `deploy --strategy guard` and verify's reference build.

Two measured causes of stale Rust binaries are neutralised here, without touching the
Dockerfile and without invalidating the dependency layers:

* cargo judges path crates by mtime, and COPY keeps the context's mtimes: every file of every
  package of the workspace (read from the export itself: members, implicit path-dependency
  members, a root package's `src/`) and under the watched paths gets an mtime in the future (unique per build, because BuildKit re-sends
  only context files whose size or mtime changed), so it is newer than any artefact a
  dependency pre-build or a cache mount can hold;
* a layer that copies sources could come from the cache of an earlier (stale) build: the compile
  step itself carries a nonce and removes every local package's fingerprints (compile_proof.py),
  so it always runs and compiles the sources it is given, while the layers before it stay cached;
  where no compile step can be found, a nonce file in every package directory changes the content
  of every COPY of sources instead (those files then ship in images that copy such a directory).
  (`--no-cache-filter` would do the same only when the dependency pre-build lives in its own
  stage; with the common single-stage pattern it rebuilds every dependency, ~14x slower.)
* BuildKit v0.8 keys `COPY --from=builder …/release/app` by the *content* of the copied binary,
  and a `--no-cache` build can file a different result under an existing record (measured: after
  the how-to's `--no-cache` build shipped the dummy binary, a later build that compiled the real
  binary got the dummy back from that COPY's cache).  So the stages that only copy artefacts
  (no cargo in them) are built with `--no-cache-filter`: they cost a file copy.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import checkout
from .compile_proof import SHIPPED_STAGE
from .dockerfile_model import Stage, parse
from .errors import WorkspaceError
from .workspace import load_workspace

NONCE_NAME = ".freshbin-guard"
SKIPPED_DIRS = {"target", ".git"}
FUTURE_SECONDS = 365 * 24 * 3600
MECHANISM = "future mtimes + compile-step nonce"


@dataclass(frozen=True)
class GuardedContext:
    path: Path  # the build context directory to hand to buildx
    workspace: Path  # the workspace directory inside the export
    root: Path  # the export: the repository's files, nothing outside
    files_refreshed: int
    nonce_dirs: int
    mtime: float
    mechanism: str = MECHANISM


@contextmanager
def guarded_context(root: Path, commit: str, workspace: Path, context: Path, watch: list[str],
                    *, from_worktree: bool = False, nonces: bool = True) -> Iterator[GuardedContext]:
    """Yield a GuardedContext for `commit` (or the work tree) of the checkout at `root`; the temp
    dir is always removed."""
    tmp = Path(tempfile.mkdtemp(prefix="freshbin-guard-"))
    try:
        export = tmp / "export"
        export.mkdir()
        if from_worktree:
            _copy_worktree(root, export)
        else:
            _export_commit(root, commit, export)
        ws = export / workspace.resolve().relative_to(root)
        ctx = export / context.resolve().relative_to(root)
        refreshed, dirs, stamp = refresh(ws, source_dirs(ws, watch), nonces=nonces)
        yield GuardedContext(ctx, ws, export, refreshed, dirs, stamp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export_commit(root: Path, commit: str, dest: Path) -> None:
    archive = dest.parent / "export.tar"
    checkout.export_commit(root, commit, archive)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    archive.unlink()


def _copy_worktree(root: Path, dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files as they are on disk (for --allow-dirty)."""
    for rel in checkout.worktree_files(root):
        src = root / rel
        if not os.path.lexists(src):
            continue  # deleted in the work tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        elif src.is_file():
            shutil.copy2(src, target)


def source_dirs(workspace: Path, watch: list[str]) -> list[str]:
    """Every package directory of the exported workspace (implicit members and a root package
    included — a single crate's `src/` is as much a source as `crates/`), plus `watch`."""
    try:
        dirs = [p.dir for p in load_workspace(workspace).packages]
    except WorkspaceError:
        dirs = []  # not a readable workspace: the watched paths are all we know
    return _outermost(dirs + [w.strip("/") or "." for w in watch])


def _outermost(dirs: list[str]) -> list[str]:
    """Drop directories inside another listed one, so nothing is walked twice."""
    if "." in dirs:
        return ["."]
    kept: list[str] = []
    for d in sorted(set(dirs), key=lambda d: (d.count("/"), d)):
        if not any(d == k or d.startswith(k + "/") for k in kept):
            kept.append(d)
    return kept


def refresh(workspace: Path, dirs: list[str], *, nonces: bool = True) -> tuple[int, int, float]:
    """Future-date every file under `dirs` and (with `nonces`) drop a nonce in every directory below them.

    Build output (`target/`) and VCS directories are skipped: they are not sources, and a
    context that ships them gains nothing from new dates.  The nonce files are the fallback for a
    Dockerfile whose compile step cannot be instrumented (compile_proof.py): they end up in every
    image that copies a package directory, so guard drops them when the step carries its own nonce.
    """
    stamp = time.time() + FUTURE_SECONDS + secrets.randbelow(10**6) / 10**6
    nonce = secrets.token_hex(16)
    files = count = 0
    for rel in dirs:
        top = workspace if rel == "." else workspace / rel
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
            if nonces:
                (Path(dirpath) / NONCE_NAME).write_text(nonce + "\n")
                count += 1
            for name in filenames + ([NONCE_NAME] if nonces else []):
                path = Path(dirpath) / name
                if not path.is_symlink():
                    os.utime(path, (stamp, stamp))
                    files += 1
    return files, count, stamp


def add_nonces(guarded: GuardedContext, watch: list[str]) -> GuardedContext:
    """The fallback: nonce files (dated like the sources) in every package directory of the export."""
    files, dirs, stamp = refresh(guarded.workspace, source_dirs(guarded.workspace, watch))
    return dataclasses.replace(guarded, files_refreshed=files, nonce_dirs=dirs, mtime=stamp)


def artefact_stages(dockerfile: Path, target: str) -> tuple[str, ...]:
    """Named stages the target needs that only copy artefacts out of other stages: they run no
    cargo, take something `COPY --from` another stage, and are no base of a cargo stage — so a
    toolchain stage (`FROM rust AS chef` + `apt-get install …`, the base of the compile) stays
    cached; rebuilding it would rebuild every dependency after it."""
    stages = {s.name: s for s in parse(dockerfile).stages}
    if target not in stages:
        return ()
    needed, todo = [], [target]
    while todo:
        name = todo.pop()
        if name in needed or name not in stages:
            continue
        needed.append(name)
        todo += _stage_inputs(stages[name], stages)
    bases = _bases_of_cargo_stages(stages)
    return tuple(n for n in needed if not n.isdigit() and not _runs_cargo(stages[n]) and n not in bases
                 and stages[n].copies_from_stages)


def _bases_of_cargo_stages(stages: dict[str, Stage]) -> set[str]:
    """Every stage some cargo-running stage is built FROM, transitively."""
    by_index = {str(s.index): s.name for s in stages.values()}
    bases: set[str] = set()
    for stage in stages.values():
        if not _runs_cargo(stage):
            continue
        base = by_index.get(stage.base, stage.base)
        while base in stages and base not in bases:
            bases.add(base)
            base = by_index.get(stages[base].base, stages[base].base)
    return bases


def _stage_inputs(stage: Stage, stages: dict[str, Stage]) -> list[str]:
    by_index = {str(s.index): s.name for s in stages.values()}
    names = [stage.base] + [i.flag("from") or "" for i in stage.instructions if i.cmd in ("COPY", "ADD")]
    return [by_index.get(n, n) for n in names if n in stages or n in by_index]


def _runs_cargo(stage: Stage) -> bool:
    return any(i.cmd == "RUN" and "cargo" in i.text for i in stage.instructions)


def cache_options(no_cache_filter_supported: bool, dockerfile: Path, target: str) -> tuple[tuple[str, ...], bool, str]:
    """(--no-cache-filter stages, --no-cache, note) for a guarded build on this engine.

    An unnamed shipped stage that copies artefacts is named in the guarded Dockerfile
    (compile_proof.SHIPPED_STAGE), so its COPY --from is rebuilt like any artefact stage."""
    stages = artefact_stages(dockerfile, target)
    shipped = parse(dockerfile).stage(target) if target.isdigit() else None
    if shipped is not None and shipped.copies_from_stages:
        stages += (SHIPPED_STAGE,)
    if not stages:
        return (), False, "no artefact-only stage to rebuild"
    if no_cache_filter_supported:
        return stages, False, f"--no-cache-filter {','.join(stages)} (artefact copies are content-keyed)"
    return (), True, ("this buildx has no --no-cache-filter, so the guarded build runs --no-cache "
                      "(correct but slow; upgrade buildx)")


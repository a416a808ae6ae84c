"""verify: does the deployed image run the current code?  Digests first, then the binary itself.

The how-to compares the digests of a cached and a `--no-cache` build.  That alone decides
nothing: two builds of one commit almost never share a digest (timestamps), and for the
commonest cause — cargo trusting mtimes after a dependency pre-build against dummy sources —
the `--no-cache` build ships the same wrong binary.  So verify keeps that comparison, adds a
file-by-file comparison, and decides with a *reference* build: the same Dockerfile and target
built from the mtime-proof context of guard.py (the mechanism `deploy --strategy guard` uses).
Rust binaries are bit-for-bit reproducible here, so the reference binary's sha256 is the truth.

Verdict, from the binaries of the subject (the deployed image, else the cached build), the
no-cache build and the reference:
  subject == reference                        fresh
  subject != reference, no-cache == reference stale, cause "build cache" (`--no-cache` fixes it)
  subject != reference, no-cache != reference stale, cause "cargo mtime freshness"
                                              (`--no-cache` does not; `invoke doctor --fix` does)
`quick` builds nothing: the deploy history (registry and ledger), the registry's tag and the deployed binary.
Several platforms (`--platform linux/amd64,linux/arm64`): each is verified on its own — its
binary in the deployed index read through the registry, its builds single-platform — and the
verdict is the worst of them, naming the platform (verdicts.merge_platforms).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import buildx, engines, image, platforms, registry_files, runner
from . import strategies
from .freshness import judge_freshness
from .pipeline import BuildRequest, Prepared, locate_binary, prepare, revision_labels
from .detect import detect
from .errors import EnvironmentProblem, GitError
from .history import load as load_history
from .layers import FileEntry, differing, image_files, oci_image
from .verdicts import (DIGEST_CHECK, Cause, Check, Side, Verdict, VerifyResult, exit_code, judge, merge_platforms,
                       short as _short)

__all__ = ["Cause", "Check", "Side", "Verdict", "VerifyResult", "exit_code", "judge", "verify"]
from .shipped import BinaryLocation

Locator = Callable[[dict[str, Any]], BinaryLocation]

LOCAL_REPOSITORY = "localhost/freshbin-verify"
REFERENCE_STRATEGY = "guard"  # the mtime-proof build whose binary is the truth


def verify(req: BuildRequest, *, quick: bool = False, push: bool = False, no_cache_build: bool = False,
           through_registry: bool = False) -> VerifyResult:
    """`through_registry`: read the deployed image's `req.platform` image from the registry (one
    platform of an index, which the local store may hold only for the host's platform)."""
    targets = platforms.parse(req.platform)
    if len(targets) > 1:
        return merge_platforms({platform: verify(replace(req, platform=platform), quick=quick, push=push,
                                                 no_cache_build=no_cache_build, through_registry=True)
                                for platform in targets})
    p = prepare(req, image_required=quick or push)
    notes: list[str] = []
    checks: list[Check] = []
    sides: dict[str, Side] = {}
    history = _deployed_history(req, p)
    tag = req.tag or (history[-1].get("tag") if history else "")
    engine = buildx.preflight(req.builder, req.docker_context)

    def locator(config: dict[str, Any]) -> BinaryLocation:
        return locate_binary(req, p, config)

    with ExitStack() as cleanup:
        if req.image and tag:
            sides["deployed"] = _deployed_side(req, tag, locator, through_registry)
            checks += _deployed_checks(req, p, sides["deployed"], history, quick)
        elif quick:
            notes.append(f"nothing deployed to check: no deploy record (registry or ledger) for {req.image} "
                         f"target {req.target} and no --tag; deploy first or pass --tag")
        if not quick:
            sides.update(_builds(req, p, engine, push, no_cache_build, sides.get("deployed"), cleanup, notes, locator))
            checks += _build_checks(sides, notes)
    verdict, cause = judge(checks, sides, quick)
    files = differing({n: s.files for n, s in sides.items() if s.files}) if not quick else []
    return VerifyResult(verdict, cause, p.commit, req.target, quick, checks, sides, files, notes)


# --- the deployed image ---------------------------------------------------------------------

def _deployed_history(req: BuildRequest, p: Prepared) -> list[dict[str, Any]]:
    """Deploy records (registry and ledger) of this image and target, oldest first, ending with
    the deploy to verify."""
    if not req.image:
        return []
    history = [r for r in (platforms.for_platform(r, req.platform)
                           for r in load_history(req.image, p.ledger_path).for_target(req.target)[::-1]) if r]
    if req.tag:
        while history and history[-1].get("tag") != req.tag:
            history.pop()
    return history


def _deployed_side(req: BuildRequest, tag: str, locator: Locator, through_registry: bool = False) -> Side:
    """The deployed image: from the local store when it is there, else through the registry (the
    local engine never gets it: built on another context, deployed from another machine, or one
    platform of an index that the local store holds only for the host's platform)."""
    ref = f"{req.image}:{tag}"
    digest = buildx.registry_digest(ref)
    local = f"{req.image}@{digest}"
    if not through_registry and not req.docker_context and image.is_local(local):
        return _inspect_side(Side("deployed", ref, digest), local, locator)
    remote = registry_files.open_image(local, req.platform)
    return _side_from(Side("deployed", ref, digest), remote.config.get("config") or {},
                      registry_files.all_files(remote), locator)


def _deployed_checks(req: BuildRequest, p: Prepared, side: Side, history: list[dict[str, Any]], quick: bool) -> list[Check]:
    checks = []
    record = history[-1] if history else None
    if record is None:
        checks.append(Check("ledger record", f"a deploy of {side.ref}", "none in the ledger", None, False))
    else:
        checks.append(Check("registry tag", _short(record.get("digest"), 19), _short(side.digest, 19),
                            side.digest == record.get("digest")))
        recorded = (record.get("binary") or {}).get("sha256")
        checks.append(Check("deployed binary == ledger", _short(recorded), _short(side.binary_sha256),
                            side.binary_sha256 == recorded, False))
        checks.append(_propagation_check(req, p, history, quick))
    checks.append(_revision_check(req, p, side))
    return checks


def _revision_check(req: BuildRequest, p: Prepared, side: Side) -> Check:
    """The label must name the verified commit, or a commit whose sources compile to the same binary."""
    name = "revision label"
    if not side.revision:
        return Check(name, p.commit[:12], "(no org.opencontainers.image.revision label)", None, False)
    if side.revision == p.commit:
        return Check(name, p.commit[:12], side.revision[:12], True)
    try:
        since = detect(p.workspace, base=side.revision, head=p.commit, watch=list(req.watch))
    except GitError:
        return Check(name, p.commit[:12], f"{side.revision[:12]} (not in this repository)", False)
    binary = side.binary_name or Path(side.binary_path or "").name
    relevant = [c.path for c in since.changed if binary in c.binaries]
    actual = f"{side.revision[:12]} ({len(relevant)} change(s) to {binary} since)"
    return Check(name, p.commit[:12], actual, not relevant)


def _propagation_check(req: BuildRequest, p: Prepared, history: list[dict[str, Any]], quick: bool) -> Check:
    """The ledger rule: sources compiled into the binary changed since the deploy before, binary did not."""
    name = "change propagation"
    record = history[-1]
    previous = next((r for r in reversed(history[:-1]) if r.get("commit") != record.get("commit")), None)
    if previous is None:
        return Check(name, "binary changes with its sources", "no earlier deploy to compare", None, False)
    binary = record.get("binary") or {}
    try:
        since = detect(p.workspace, base=previous["commit"], head=record["commit"], watch=list(req.watch))
    except GitError:
        return Check(name, "binary changes with its sources", "earlier deploy's commit is gone", None, False)
    fresh, reason = judge_freshness(previous, since, image.BinaryFacts(binary.get("path", ""), binary.get("sha256", ""),
                                                                         0, binary.get("name", "")))
    # With builds, the reference decides (a comment-only change also leaves the binary identical).
    return Check(name, "binary changes with its sources", reason, fresh, decisive=quick)


# --- the three builds ----------------------------------------------------------------------

def _builds(req: BuildRequest, p: Prepared, engine: buildx.Engine, push: bool, always_no_cache: bool,
            deployed: Side | None, cleanup: ExitStack, notes: list[str], locator: Locator) -> dict[str, Side]:
    """cached, reference, and — when a cause must be named or it is asked for — no-cache.

    Where the engine pins timestamps (engines.py: the OCI exporter with rewrite-timestamp), the
    builds go to OCI archives with every timestamp pinned, so the how-to's digest comparison
    decides; elsewhere they are loaded (or pushed) as before.  The pin is PINNED_EPOCH, not the
    commit time: rewrite-timestamp only clamps times *later* than SOURCE_DATE_EPOCH, and a cached
    layer built before the commit (an unchanged binary's COPY, a rebuild of known content) keeps
    its older mtimes while the no-cache build's are clamped — measured on Docker 26.1: same files,
    different digests.  The created label still names the commit time.
    """
    behaviour = engines.behaviour(req.builder, req.docker_context)
    reproducible = not push and behaviour.oci_rewrite
    notes.append(behaviour.note)
    commit_time = int(p.repo.head.commit.committed_date)
    repository = req.image or LOCAL_REPOSITORY
    tag = req.tag or p.commit[:12]
    meta = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="freshbin-verify-")))
    labels = revision_labels(p.commit)
    if reproducible:
        labels["org.opencontainers.image.created"] = datetime.fromtimestamp(commit_time, timezone.utc).isoformat()

    def spec_of(name: str, ref: str, context: Path, dockerfile: Path, *, no_cache: bool, push: bool,
                no_cache_filter: tuple[str, ...] = ()) -> buildx.BuildSpec:
        return buildx.BuildSpec(
            context=context, dockerfile=dockerfile, target=req.target, platform=req.platform, tags=(ref,),
            metadata_file=meta / f"{name}.json", builder=req.builder, build_args=dict(req.build_args), labels=labels,
            no_cache=no_cache, no_cache_filter=no_cache_filter, push=push, load=not push,
            output=f"type=oci,dest={meta / (name + '.tar')}" if reproducible else "",
            source_date_epoch=engines.PINNED_EPOCH if reproducible else None, rewrite_timestamp=reproducible,
            docker_context=req.docker_context)

    def how_to_build(name: str, no_cache: bool) -> Side:
        spec = spec_of(name, f"{repository}:{tag}-{name}", p.workspace / req.context, p.dockerfile,
                       no_cache=no_cache, push=push)
        return _built_side(name, spec, cleanup, req, locator)

    # Order matters on BuildKit v0.8: a --no-cache build can file its result under an existing
    # cache record (see guard.py), so it runs last, after the builds it could mislead.
    sides = {"cached": how_to_build("cached", False)}
    # The reference is the guard strategy's build, taken from the one strategy table.
    guard = strategies.get(REFERENCE_STRATEGY)
    situation = strategies.Situation(req, p, engine)
    plan = guard.cache_plan(situation)
    ctx = guard.context(situation, cleanup, dry_run=False)
    spec = spec_of("reference", f"{LOCAL_REPOSITORY}:{tag}-reference", ctx.path, ctx.dockerfile,
                   no_cache=plan.no_cache, push=False, no_cache_filter=plan.no_cache_filter)
    sides["reference"] = _built_side("reference", spec, cleanup, req, locator)
    subject = deployed or sides["cached"]
    if push or always_no_cache or subject.binary_sha256 != sides["reference"].binary_sha256:
        sides["nocache"] = how_to_build("nocache", True)
    else:
        notes.append(f"no-cache build skipped: the {subject.name} binary equals the reference, so there is no "
                     "cause to name (pass --no-cache-build to run the how-to's comparison anyway)")
    notes.append(f"reference build ({guard.name}): {ctx.note}; {(plan.note or '').split('; ', 1)[-1]}")
    return sides


def _built_side(name: str, spec: buildx.BuildSpec, cleanup: ExitStack, req: BuildRequest, locator: Locator) -> Side:
    if not req.quiet:
        runner.progress(f"freshbin verify: {name} build ({'pushing' if spec.push else 'loading'} {spec.tags[0]})")
    metadata = buildx.build(spec, stream=not req.quiet)
    digest = metadata["containerimage.digest"]
    ref = spec.tags[0]
    if spec.output.startswith("type=oci,dest="):  # an archive: read it, the local store never sees it
        _, config, files = oci_image(Path(spec.output.split("dest=", 1)[1].split(",")[0]), spec.platform)
        return _side_from(Side(name, ref, digest, pinned=spec.rewrite_timestamp), config.get("config") or {}, files,
                          locator)
    cleanup.callback(_remove_images, [ref], spec.docker_context)
    local = image.ensure_local(metadata.get("containerimage.config.digest", digest), ref, spec.docker_context)
    return _inspect_side(Side(name, ref, digest), local, locator, spec.docker_context)


def _inspect_side(side: Side, local: str, locator: Locator, docker_context: str = "") -> Side:
    """A side read from the image store of the engine that built it (the local one by default)."""
    return _side_from(side, image.config_of(local, docker_context), image_files(local, docker_context), locator)


def _side_from(side: Side, config: dict[str, Any], files: dict[str, FileEntry], locator: Locator) -> Side:
    side.revision = (config.get("Labels") or {}).get("org.opencontainers.image.revision")
    side.files = files
    location = locator(config)
    present = [c for c in location.candidates if c in side.files]
    found = next((c for c in present if side.files[c].kind == "file"), present[0] if present else None)
    if found is None:
        raise EnvironmentProblem(f"the shipped binary ({location.evidence}) is not a file in {side.ref}; "
                                 "set freshbin.binary_path to its path")
    side.binary_path, side.binary_sha256, side.binary_name = found, side.files[found].sha256, location.name
    return side


def _build_checks(sides: dict[str, Side], notes: list[str]) -> list[Check]:
    cached, reference = sides["cached"], sides["reference"]
    subject = sides.get("deployed") or cached
    twin = sides.get("nocache") or reference  # the how-to's comparison needs two builds of one commit
    files = differing({cached.name: cached.files, twin.name: twin.files})
    pinned = "nocache" in sides and cached.pinned and twin.pinned
    if cached.digest != twin.digest and not files and not pinned:
        notes.append(f"non-reproducible image: {cached.name} and {twin.name} digests differ but every file is "
                     "identical (timestamps/metadata only) — not staleness")
    digest_ok = None
    if pinned:
        # Timestamps pinned: a from-scratch build of this commit must give the cached build's digest,
        # so equal digests prove the cache changed nothing; differing files prove it did.  Differing
        # digests over identical files (metadata not pinned) decide nothing.
        digest_ok = True if cached.digest == twin.digest else (False if files else None)
        notes.append("digests are reproducible on this engine: cached == no-cache digest decides whether the cache "
                     "changed the result" + ("" if digest_ok is not None else
                                             " (here they differ over identical files: metadata, not staleness)"))
    checks = [
        Check(DIGEST_CHECK if pinned else f"digest cached == {twin.name}", _short(cached.digest, 19),
              _short(twin.digest, 19), digest_ok, pinned),
        Check(f"files cached == {twin.name}", "same files", f"{len(files)} differ" if files else "same files",
              None, False),
    ]
    if "nocache" in sides:
        checks.append(Check("binary no-cache == reference", _short(reference.binary_sha256),
                            _short(sides["nocache"].binary_sha256),
                            sides["nocache"].binary_sha256 == reference.binary_sha256, False))
    checks.append(Check(f"binary {subject.name} == reference", _short(reference.binary_sha256),
                        _short(subject.binary_sha256), subject.binary_sha256 == reference.binary_sha256))
    return checks


def _remove_images(refs: list[str], docker_context: str = "") -> None:
    runner.run([*runner.docker(docker_context), "image", "rm", *refs], check=False)

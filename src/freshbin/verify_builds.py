"""verify's builds: the cached build (the how-to's), the reference, and — as a cross-check, or when
the build's record cannot name the cause — the `--no-cache` build; how each image is read.

The cached build's `--progress plain` log is kept: with the deploy's own record it names the
cause of a stale binary (cause.py), so the slow `--no-cache` build is no longer the way to a
verdict.  The reference context re-includes every tracked cargo input the ignore file drops
(ignored_inputs.py), so it sees what cargo sees in a checkout of the commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import build_cache, buildx, cause, engine_api, engines, ignored_inputs, image, layer_reader, runner, strategies
from .dockerfile_model import parse as parse_dockerfile
from .errors import EnvironmentProblem
from .layers import FileEntry, differing, image_files, oci_image
from .pipeline import BuildRequest, Prepared, revision_labels
from .shipped import BinaryLocation
from .verdicts import DIGEST_CHECK, Check, Side, short as _short

Locator = Callable[[dict[str, Any]], BinaryLocation]

LOCAL_REPOSITORY = "localhost/freshbin-verify"
REFERENCE_STRATEGY = "guard"  # the mtime-proof build whose binary is the truth


@dataclass
class Built:
    sides: dict[str, Side]
    named: cause.NamedCause | None = None  # the cause the records name (None: fresh, or the no-cache build names it)
    dropped: list[ignored_inputs.Dropped] = field(default_factory=list)
    ignore_path: Path | None = None  # the ignore file the reference build re-included inputs of


def builds(req: BuildRequest, p: Prepared, engine: buildx.Engine, push: bool, always_no_cache: bool,
           deployed_facts: Callable[[], tuple[Side | None, dict[str, Any] | None]], cleanup: ExitStack,
           notes: list[str], locator: Locator) -> Built:
    """cached, reference, and — when asked for or when no record names the cause — no-cache.

    `deployed_facts` gives the deployed image's side and its deploy's evidence (None, None when
    nothing is deployed).  With a deployed image (and neither `push` nor `always_no_cache`) the
    reference is built first and the cached build only when the deployed binary differs from it:
    a fresh deploy costs one build.  Without one, the cached build — then the subject — runs
    first, and the deployed facts are read beside it.

    Where the engine pins timestamps (engines.py: the OCI exporter with rewrite-timestamp), the
    builds go to OCI archives with every timestamp pinned, so the how-to's digest comparison
    decides; elsewhere they are loaded (or pushed) as before.  The pin is PINNED_EPOCH, not the
    commit time: rewrite-timestamp only clamps times *later* than SOURCE_DATE_EPOCH, and a cached
    layer built before the commit (an unchanged binary's COPY, a rebuild of known content) keeps
    its older mtimes while the no-cache build's are clamped — measured on Docker 26.1: same files,
    different digests.  The created label still names the commit time.
    """
    behaviour = engines.behaviour(req.builder, req.docker_context, engine)
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
            docker_context=req.docker_context, cache=build_cache.CacheOptions() if no_cache else req.cache.importing())

    def how_to_build(name: str, no_cache: bool) -> tuple[Callable[[], Side], str]:
        spec = spec_of(name, f"{repository}:{tag}-{name}", p.workspace / req.context, p.dockerfile,
                       no_cache=no_cache, push=push)
        return build_then_read(name, spec, cleanup, req, locator)

    out = Built({})
    deployed, deploy_evidence = deployed_facts() if not (push or always_no_cache) else (None, None)
    if deployed is not None:
        # With a deployed image the reference alone can decide: it is built first, and the cached
        # build (the how-to's) runs only when the deployed binary differs: its record may name the cause.
        reference = out.sides["reference"] = _reference(req, p, engine, cleanup, notes, locator, out, spec_of, tag)
        if deployed.binary_sha256 == reference.binary_sha256:
            notes.append("cached build skipped: the deployed binary equals the reference, so the how-to's build "
                         "decides nothing (pass --no-cache-build to run the how-to's comparison anyway)")
            return out
        read_cached, log = how_to_build("cached", False)
        out.sides["cached"] = read_cached()
    else:
        # Order matters on BuildKit v0.8: a --no-cache build can file its result under an existing
        # cache record (see guard.py), so it runs last, after the builds it could mislead; the
        # cached build is the subject here and runs first.
        read_cached, log = how_to_build("cached", False)
        deployed, deploy_evidence = deployed_facts()
        with ThreadPoolExecutor(1) as pool:  # the cached image is read beside the reference build
            cached_probe = pool.submit(read_cached)
            reference = _reference(req, p, engine, cleanup, notes, locator, out, spec_of, tag)
            out.sides["cached"], out.sides["reference"] = cached_probe.result(), reference
    subject = deployed or out.sides["cached"]
    stale = subject.binary_sha256 != reference.binary_sha256
    if stale:
        out.named = _name(req, p, deploy_evidence if deployed else None, log, out.dropped, out.ignore_path, notes)
    if push or always_no_cache or (stale and out.named is None):
        read_nocache, _ = how_to_build("nocache", True)
        out.sides["nocache"] = read_nocache()
    elif stale:
        notes.append(f"no-cache build skipped: the build's record names the cause ({out.named and out.named.decided_by});"
                     " pass --no-cache-build to cross-check it with the how-to's --no-cache build")
    else:
        notes.append(f"no-cache build skipped: the {subject.name} binary equals the reference, so there is no "
                     "cause to name (pass --no-cache-build to run the how-to's comparison anyway)")
    return out


def _reference(req: BuildRequest, p: Prepared, engine: buildx.Engine, cleanup: ExitStack, notes: list[str],
               locator: Locator, out: Built, spec_of: Callable[..., buildx.BuildSpec], tag: str) -> Side:
    """The reference: the guard strategy's build, taken from the one strategy table, with every
    tracked cargo input the ignore file drops re-included (out.dropped, out.ignore_path)."""
    guard = strategies.get(REFERENCE_STRATEGY)
    situation = strategies.Situation(req, p, engine)
    plan = guard.cache_plan(situation)
    ctx = guard.context(situation, cleanup, dry_run=False)  # re-includes the cargo inputs the ignore file drops
    out.ignore_path, out.dropped = ctx.ignore_path, list(ctx.dropped)
    if out.ignore_path is not None and out.dropped:
        notes.append(f"reference build: re-included {len(out.dropped)} tracked cargo input(s) that "
                     f"{out.ignore_path.name} drops ({', '.join(d.path for d in out.dropped[:3])})")
    spec = spec_of("reference", f"{LOCAL_REPOSITORY}:{tag}-reference", ctx.path, ctx.dockerfile,
                   no_cache=plan.no_cache, push=False, no_cache_filter=plan.no_cache_filter)
    reference = built_side("reference", spec, cleanup, req, locator)[0]
    notes.append(f"reference build ({guard.name}): {ctx.note}; {(plan.note or '').split('; ', 1)[-1]}")
    return reference


def _name(req: BuildRequest, p: Prepared, deploy_evidence: dict[str, Any] | None, log: str,
          dropped: list[ignored_inputs.Dropped], ignore_path: Path | None, notes: list[str]) -> cause.NamedCause | None:
    """The cause of a stale subject from the ignore file, the deploy's record or the cached build's."""
    if dropped and ignore_path is not None:
        return cause.ignored(ignore_path.name, [(d.path, f"line {d.line} {d.pattern}") for d in dropped])
    df = parse_dockerfile(p.dockerfile, dict(req.build_args))
    doctor = cause.doctor_mtime_lines(p.dockerfile, p.workspace / req.context, p.workspace)
    named, why = cause.decide(log, deploy_evidence, df, p.stage, doctor)
    if why:
        notes.append(why)
    return named


def built_side(name: str, spec: buildx.BuildSpec, cleanup: ExitStack, req: BuildRequest,
               locator: Locator) -> tuple[Side, str]:
    """The built image as a Side, and the build's progress log (its step record)."""
    read, log = build_then_read(name, spec, cleanup, req, locator)
    return read(), log


def _destination(spec: buildx.BuildSpec) -> str:
    """Where a verify build goes, in words: pushed, loaded into the engine's store, or an archive."""
    if spec.output.startswith("type=oci,dest="):
        return f"writing an OCI archive of {spec.tags[0]}"
    return f"{'pushing' if spec.push else 'loading'} {spec.tags[0]}"


def build_then_read(name: str, spec: buildx.BuildSpec, cleanup: ExitStack, req: BuildRequest,
                    locator: Locator) -> tuple[Callable[[], Side], str]:
    """Build; return how to read the built image as a Side (it may run beside the next build)
    and the build's progress log."""
    if not req.quiet:
        runner.progress(f"freshbin verify: {name} build ({_destination(spec)})")
    metadata, log = buildx.build_logged(spec, stream=not req.quiet)
    digest = metadata["containerimage.digest"]
    ref = spec.tags[0]
    if spec.output.startswith("type=oci,dest="):  # an archive: read it, the local store never sees it
        archive = Path(spec.output.split("dest=", 1)[1].split(",")[0])

        def read_archive() -> Side:
            _, config, files = oci_image(archive, spec.platform)
            return side_from(Side(name, ref, digest, pinned=spec.rewrite_timestamp), config.get("config") or {},
                             files, locator)
        return read_archive, log
    cleanup.callback(remove_images, [ref], spec.docker_context)

    def read_store() -> Side:
        local = image.ensure_local(metadata.get("containerimage.config.digest", digest), ref, spec.docker_context)
        return inspect_side(Side(name, ref, digest), local, locator, spec.docker_context)
    return read_store, log


def inspect_side(side: Side, local: str, locator: Locator, docker_context: str = "") -> Side:
    """The binary of an image in the store of the engine that built it (the local one by default),
    read alone (`docker cp`); its files are read later, with the other images', above their
    common base (read_files)."""
    config = image.config_of(local, docker_context)
    facts = image.read_binary(local, locator(config), docker_context)
    side.revision = (config.get("Labels") or {}).get("org.opencontainers.image.revision")
    side.local, side.binary_path, side.binary_sha256 = local, facts.path, facts.sha256
    side.binary_name = facts.name
    return side


def read_files(sides: dict[str, Side], notes: list[str], docker_context: str = "") -> layer_reader.ReadStats | None:
    """Every local side's files: above the common base when every side is in the local store,
    else whole (`docker save` on the context's engine: its layer store is on another host)."""
    local = {name: side.local for name, side in sides.items() if side.local}
    if not local:
        return None
    if len(local) == len(sides) and not docker_context:
        files, stats = layer_reader.read_all(local)
        for name, listing in files.items():
            sides[name].files = listing
        notes.append(f"files compared above the {stats.shared_layers} layer(s) every image shares: "
                     f"{stats.layers_read} layer(s) read ({stats.bytes_read / 1e6:.1f} MB, {stats.method})")
        return stats
    for name in local:  # beside OCI archives, read whole: the archives were
        sides[name].files = image_files(local[name], docker_context)
    return None


def side_from(side: Side, config: dict[str, Any], files: dict[str, FileEntry], locator: Locator) -> Side:
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


def build_checks(sides: dict[str, Side], notes: list[str]) -> list[Check]:
    reference = sides["reference"]
    if "cached" not in sides:  # skipped: the deployed binary is the reference's (builds)
        subject = sides["deployed"]
        return [Check(f"binary {subject.name} == reference", _short(reference.binary_sha256),
                      _short(subject.binary_sha256), subject.binary_sha256 == reference.binary_sha256)]
    cached = sides["cached"]
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


def remove_images(refs: list[str], docker_context: str = "") -> None:
    """Untag verify's own images (best effort): over the local socket when the CLI would use it."""
    sock = engine_api.socket_for(docker_context)
    if sock:
        try:
            refs = [ref for ref in refs if not engine_api.remove_image(sock, ref)]
        except engine_api.EngineAPIError:
            pass
    if refs:
        runner.run([*runner.docker(docker_context), "image", "rm", *refs], check=False)

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
A stale subject's cause is named from the build's own record (cause.py, verify_builds.py): the
ignore file, the deploy's step record, the cached build's.  The `--no-cache` build runs only as
a cross-check (`--no-cache-build`, `--push`) or when no record can be read; then the table above
names the cause, as it always did.
`quick` builds nothing: the deploy history (registry and ledger), the registry's tag and the deployed binary.
Several platforms (`--platform linux/amd64,linux/arm64`): each is verified on its own — its
binary in the deployed index read through the registry, its builds single-platform — and the
verdict is the worst of them, naming the platform (verdicts.merge_platforms).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import buildx, image, platforms, registry_files
from .cause import NamedCause
from .detect import detect
from .errors import GitError
from .freshness import judge_freshness
from .history import load as load_history
from .layers import differing
from .pipeline import BuildRequest, Prepared, locate_binary, prepare
from .shipped import BinaryLocation
from .verdicts import RECORD_CHECK, Cause, Check, Side, Verdict, VerifyResult, exit_code, judge, merge_platforms, short as _short
from .verify_builds import LOCAL_REPOSITORY, Locator, build_checks, builds, inspect_side, read_files, side_from

__all__ = ["Cause", "Check", "LOCAL_REPOSITORY", "Side", "Verdict", "VerifyResult", "exit_code", "judge", "verify"]


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
    # The deploy's own build args are needed before any build, so its history is read here (once:
    # the deployed image's probe below reuses it); otherwise that probe reads it beside the builds.
    known = _deployed_history(req, p) if not req.build_args and req.image and not quick else None
    if known is not None:
        recorded, names = _recorded_build_args(known)
        if recorded:
            req = replace(req, build_args=recorded)
            notes.append(f"built with the deploy record's build args ({', '.join(sorted(recorded))}); "
                         "pass --build-arg to build with others")
        elif names:
            notes.append(f"the deploy was built with --build-arg {', '.join(names)} (their values stay in the "
                         "deploying machine's ledger): pass them, or the reference is another build")
    engine = buildx.preflight(req.builder, req.docker_context)

    def locator(config: dict[str, Any]) -> BinaryLocation:
        return locate_binary(req, p, config)

    named: NamedCause | None = None
    stats = None
    # The deployed image (its history, the registry's digest, its binary) is read in a thread from
    # the start: beside the engine probes, and beside the cached build when that build runs first
    # (--push, --no-cache-build, nothing deployed; verify_builds.builds says the order).
    with ThreadPoolExecutor(1) as pool, ExitStack() as cleanup:
        deployed_probe = pool.submit(_deployed, req, p, locator, through_registry, quick, known)
        if quick:
            sides, checks, _ = deployed_probe.result()
            if not sides:
                notes.append(f"nothing deployed to check: no deploy record (registry or ledger) for {req.image} "
                             f"target {req.target} and no --tag; deploy first or pass --tag")
        else:
            def deployed_facts() -> tuple[Side | None, dict[str, Any] | None]:
                found, _, evidence = deployed_probe.result()
                return found.get("deployed"), evidence
            built = builds(req, p, engine, push, no_cache_build, deployed_facts, cleanup, notes, locator)
            sides, checks, _ = deployed_probe.result()
            sides.update(built.sides)
            stats = read_files(sides, notes, req.docker_context)
            checks += build_checks(sides, notes)
            named = built.named
            if named is not None and "nocache" in sides:
                checks.append(_cross_check(named, sides, notes))
    verdict, cause = judge(checks, sides, quick, named.cause if named else None)
    files = differing({n: s.files for n, s in sides.items() if s.files}) if not quick else []
    return VerifyResult(verdict, cause, p.commit, req.target, quick, checks, sides, files, notes,
                        evidence=named.to_json() if named is not None and cause == named.cause else None,
                        layers=stats.to_json() if stats is not None else None)


def _cross_check(named: NamedCause, sides: dict[str, Side], notes: list[str]) -> Check:
    """Does the how-to's --no-cache build behave as the named cause says it would?"""
    fixes = sides["nocache"].binary_sha256 == sides["reference"].binary_sha256
    said = "no-cache fixes" if named.no_cache_fixes else "no-cache does not fix"
    agrees = fixes == named.no_cache_fixes
    if not agrees and named.cause == Cause.CACHE:
        notes.append("the --no-cache build ships the old binary too: what the cache kept is the build context "
                     "(BuildKit does not send again a file whose size and mtime did not change, moby/buildkit#4950), "
                     "which --no-cache reuses; a fresh context (--strategy guard) fixes it")
    elif not agrees:
        notes.append(f"the --no-cache build disagrees with the record's cause ({named.cause}: {said} it); "
                     "report it with both build logs")
    return Check(f"cross-check: {named.cause}", said, "no-cache fixes" if fixes else "no-cache does not fix",
                 agrees, False)


# --- the deployed image ---------------------------------------------------------------------

def _deployed(req: BuildRequest, p: Prepared, locator: Locator, through_registry: bool, quick: bool,
              history: list[dict[str, Any]] | None = None) -> tuple[dict[str, Side], list[Check], dict[str, Any] | None]:
    """The deployed image's side (none when nothing is deployed), its checks, and the evidence its
    deploy recorded (the build's record, for naming a cause); `history`: already read."""
    history = _deployed_history(req, p) if history is None else history
    tag = req.tag or (history[-1].get("tag") if history else "")
    if not (req.image and tag):
        return {}, [], None
    side = _deployed_side(req, tag, locator, through_registry)
    evidence = history[-1].get("evidence") if history else None
    return {"deployed": side}, _deployed_checks(req, p, side, history, quick), evidence


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


def _recorded_build_args(history: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """The build args the deploy to verify was built with (the ledger's values), else the names the
    registry's record keeps (records of older freshbins have neither)."""
    record = history[-1] if history else {}
    values = record.get("build_args")
    if isinstance(values, dict) and values:
        return {str(k): str(v) for k, v in values.items()}, []
    return {}, [str(n) for n in record.get("build_arg_names") or []]


def _deployed_side(req: BuildRequest, tag: str, locator: Locator, through_registry: bool = False) -> Side:
    """The deployed image: from the local store when it is there, else through the registry (the
    local engine never gets it: built on another context, deployed from another machine, or one
    platform of an index that the local store holds only for the host's platform)."""
    ref = f"{req.image}:{tag}"
    digest = buildx.registry_digest(ref)
    local = f"{req.image}@{digest}"
    if not through_registry and not req.docker_context and image.is_local(local):
        return inspect_side(Side("deployed", ref, digest), local, locator)
    remote = registry_files.open_image(local, req.platform)
    return side_from(Side("deployed", ref, digest), remote.config.get("config") or {},
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
        checks.append(_record_check(record, quick))
    checks.append(_revision_check(req, p, side))
    return checks


def _record_check(record: dict[str, Any], quick: bool) -> Check:
    """What the deploy itself could vouch for: FRESH from `--quick` needs a deploy whose compile
    freshbin saw (`vouched`); a record that says stale, was built from a dirty tree, or could not
    be vouched for (older records too) decides nothing better.  With builds, the reference decides."""
    if record.get("stale") or record.get("fresh") is False:
        actual, ok = f"stale: {str(record.get('reason') or '')[:160] or 'the deploy said so'}", False
    elif record.get("dirty"):
        actual, ok = "deployed with --allow-dirty: uncommitted code, not the commit", None
    elif record.get("vouched"):
        actual, ok = "vouched: the deploy saw the compile of this commit's sources", True
    else:
        actual, ok = "not vouched: the deploy could not see the compile (cached step, quiet cargo, older freshbin)", None
    return Check(RECORD_CHECK, "a deploy freshbin vouched for", actual, ok, decisive=quick)


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
    # With builds, the reference decides (a comment-only change also leaves the binary identical);
    # a deploy that saw its compile already decided (the change did not alter the code).
    return Check(name, "binary changes with its sources", reason, fresh, decisive=quick and not record.get("vouched"))

"""deploy: build and push with a chosen strategy, confirm the digest, ledger it, check freshness.

Strategies:
  guard     build from an mtime-proof export of the commit (see guard.py); dependency layers
            stay cached — correct at about cached speed.  The default.
  no-cache  the how-to's rule: `--no-cache` when detect says a source change reaches a shipped
            binary, a cached build otherwise.  Slow, and still stale for the mtime cause.
  cached    a plain build, for comparison.
"""

from __future__ import annotations

import shlex
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import buildx, evidence, gitio, history, image, ledger, refs, shipped
from .detect import Detection, detect
from .errors import EnvironmentProblem, GitError, UsageError, WorkspaceError
from .guard import MECHANISM as GUARD_MECHANISM, cache_options, guarded_context
from .workspace import load_workspace

STRATEGIES = ("guard", "no-cache", "cached")


@dataclass(frozen=True)
class DeployRequest:
    workspace: Path
    image: str
    tag: str = ""
    platform: str = "linux/amd64"
    target: str = "api"
    dockerfile: str = "Dockerfile"
    context: str = "."
    builder: str = ""
    build_args: dict[str, str] = field(default_factory=dict)
    strategy: str = "guard"
    dry_run: bool = False
    allow_dirty: bool = False
    watch: tuple[str, ...] = ()  # what triggers a no-cache rebuild; empty: every package's sources
    ledger_path: Path | None = None
    binary_path: str = ""
    quiet: bool = False  # do not stream build progress to stderr (the demo)
    force: bool = False  # push over a tag that holds another commit's image
    moving_tags: tuple[str, ...] = ("latest",)  # tags expected to move between commits
    tracked_tag: str = ""  # whose image is "the previous deploy" (history.tracked)


@dataclass(frozen=True)
class DeployResult:
    image: str
    tag: str
    digest: str | None
    commit: str
    strategy: str
    no_cache: bool
    binary: dict | None
    previous: dict | None
    fresh: bool | None
    ledger: str
    commands: list[str]
    guard: str | None
    dry_run: bool
    reason: str
    history: dict | None = None  # where the deploy record went in the registry (history.Published)
    evidence: dict | None = None  # what the build's own record says (evidence.BuildEvidence)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Prepared:
    """The checked inputs of a build: shared by deploy and verify."""

    workspace: Path
    repo: object  # git.Repo
    commit: str
    tag: str
    dirty: bool
    dockerfile: Path
    ledger_path: Path


def prepare(req: DeployRequest, *, image_required: bool = True) -> Prepared:
    """Validate the image, tag, tree, Dockerfile and target before anything is built."""
    if image_required or req.image:
        refs.validate_repository(req.image)
    ws = Path(req.workspace).resolve()
    repo = gitio.open_repo(ws)
    ledger_path = (req.ledger_path or ws / ".freshbin" / "deploys.jsonl").resolve()
    dirty = bool(gitio.dirty_paths(repo, _repo_relative(repo, ledger_path.parent)))
    if dirty and not req.allow_dirty:
        raise GitError(
            "the working tree has uncommitted changes, which the image's revision label would not name; "
            "commit or stash them, or pass --allow-dirty"
        )
    commit = repo.head.commit.hexsha
    tag = refs.validate_tag(req.tag or commit[:12])
    dockerfile = ws / req.dockerfile
    stages = buildx.dockerfile_stages(dockerfile)
    if req.target not in stages:
        raise UsageError(f"{dockerfile.name} has no stage {req.target!r} (stages: {', '.join(stages) or 'none'}); pass --target")
    return Prepared(ws, repo, commit, tag, dirty, dockerfile, ledger_path)


def revision_labels(commit: str) -> dict[str, str]:
    return {
        "org.opencontainers.image.revision": commit,
        "org.opencontainers.image.created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def deploy(req: DeployRequest) -> DeployResult:
    if req.strategy not in STRATEGIES:
        raise UsageError(f"--strategy {req.strategy!r} is unknown; use one of {', '.join(STRATEGIES)}")
    p = prepare(req)
    ref = f"{req.image}:{p.tag}"
    if not req.dry_run:
        ledger.check_writable(p.ledger_path)
    # The engine probes and the registry lookups are round trips: run them at once, and detect
    # as soon as the deploy history (registry and ledger) names the base; errors in order.
    with ThreadPoolExecutor(3) as pool:
        past_probe = pool.submit(history.load, req.image, p.ledger_path,
                                 tracked_tag=history.tracked(req.tracked_tag, p.tag, req.moving_tags))
        engine_probe = pool.submit(buildx.preflight, req.builder)
        tag_probe = None if req.dry_run else pool.submit(_check_tag, req, ref, p.commit)
        past = past_probe.result()
        previous = past.previous(req.target)
        detection = detect(p.workspace, base=previous["commit"] if previous else None, worktree=p.dirty,
                           watch=list(req.watch))
        engine = engine_probe.result()
        if tag_probe is not None:
            tag_probe.result()
    no_cache = req.strategy == "no-cache" and detection.no_cache_required
    filters, guard_note = (), None
    if req.strategy == "guard":
        filters, guard_no_cache, cache_note = cache_options(engine.no_cache_filter, p.dockerfile, req.target)
        no_cache = no_cache or guard_no_cache
        guard_note = f"{GUARD_MECHANISM}; {cache_note}"
    with ExitStack() as stack:
        context, dockerfile_in_ctx = p.workspace / req.context, p.dockerfile
        if req.strategy == "guard" and req.dry_run:
            context = Path("<guarded-export>")
        elif req.strategy == "guard":
            guard = stack.enter_context(guarded_context(p.repo, p.commit, p.workspace, p.workspace / req.context,
                                                        list(req.watch), from_worktree=p.dirty))
            context, dockerfile_in_ctx = guard.path, guard.workspace / req.dockerfile
        meta_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="freshbin-meta-")))
        spec = buildx.BuildSpec(
            context=context, dockerfile=dockerfile_in_ctx, target=req.target, platform=req.platform, tags=(ref,),
            metadata_file=meta_dir / "metadata.json", builder=req.builder, build_args=dict(req.build_args),
            labels={**revision_labels(p.commit), **history.labels(p.repo, req.strategy)}, no_cache=no_cache, no_cache_filter=filters,
        )
        command = shlex.join(buildx.build_argv(spec))
        if req.dry_run:
            return DeployResult(req.image, p.tag, None, p.commit, req.strategy, no_cache, None,
                                _previous_json(previous), None, str(p.ledger_path), [command], guard_note, True,
                                f"dry run on builder {engine.builder} ({engine.driver}); nothing built or pushed")
        metadata, log = buildx.build_logged(spec, stream=not req.quiet)
    digest = metadata["containerimage.digest"]
    binary = _pushed_binary(req, p, ref, digest, metadata)
    proof = evidence.judge(log, detection, binary.name or Path(binary.path).name, p.dockerfile)
    fresh, reason = judge_freshness(previous, detection, binary)
    if fresh is not False:
        fresh, reason = _same_binary_as_other_revision(p.workspace, req, past.for_target(req.target)[::-1],
                                                       p.commit, binary, (fresh, reason))
    if fresh is not False and proof.stale:  # no history needed: the build says cargo skipped a change
        fresh, reason = False, evidence.stale_reason(proof, binary.name or Path(binary.path).name)
    shipped = binary.to_json()
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "image": req.image, "tag": p.tag, "digest": digest, "commit": p.commit, "strategy": req.strategy,
        "no_cache": no_cache, "platform": req.platform, "target": req.target, "builder": engine.builder,
        "triggers": [c.path for c in detection.changed if c.binaries][:100],
        "binary": shipped, "fresh": fresh, "stale": fresh is False, "dirty": p.dirty,
        "evidence": {k: v for k, v in proof.to_json().items() if k in ("step", "ran", "not_compiled", "cause")},
    }
    published = history.publish(req.image, {**record, "reason": reason}, source=history.source_url(p.repo))
    record["record"] = published.record
    try:
        ledger.append(p.ledger_path, record)
    except EnvironmentProblem as exc:
        raise EnvironmentProblem(f"pushed {ref} ({digest}) but could not record it: {exc}") from exc
    return DeployResult(req.image, p.tag, digest, p.commit, req.strategy, no_cache, shipped,
                        _previous_json(previous), fresh, str(p.ledger_path), [command], guard_note, False, reason,
                        asdict(published), proof.to_json())


def _pushed_binary(req: DeployRequest, p: Prepared, ref: str, digest: str, metadata: dict) -> image.BinaryFacts:
    """The shipped binary of what was pushed; meanwhile, the registry must serve that digest."""
    with ThreadPoolExecutor(1) as pool:
        served_probe = pool.submit(buildx.registry_digest, ref)
        local = image.ensure_local(metadata.get("containerimage.config.digest", ""), f"{req.image}@{digest}")
        config = image.config_of(local)
        binary = image.read_binary(local, locate_binary(req, p, config))
        served = served_probe.result()
    if served != digest:
        raise EnvironmentProblem(f"the registry serves {served} for {ref}, not the pushed {digest}; "
                                 "another deploy moved the tag")
    return binary


def locate_binary(req: DeployRequest, p: Prepared, config: dict) -> shipped.BinaryLocation:
    """Where the shipped binary is in an image built from this request (see shipped.py)."""
    try:
        binaries = frozenset(load_workspace(p.workspace).all_binaries())
    except WorkspaceError:
        binaries = frozenset()
    return shipped.locate(config, override=req.binary_path, dockerfile=p.dockerfile, target=req.target,
                          binaries=binaries, build_args=dict(req.build_args))


def _check_tag(req: DeployRequest, ref: str, commit: str) -> None:
    """Before building: the registry answers for `ref` (fail fast on 401/5xx/unreachable, not after
    a long build), and a tag holding another commit's image is not moved unless declared or --force."""
    exists, revision = buildx.remote_revision(ref)
    tag = ref.rsplit(":", 1)[1]
    if req.force or tag in req.moving_tags or not exists or revision == commit:
        return
    held = f"commit {revision[:12]}" if revision else "an image without a revision label"
    raise UsageError(f"{ref} already holds {held}; pushing would move the tag — choose another --tag, "
                     "pass --force, or list the tag in freshbin.moving_tags")


def _repo_relative(repo, path: Path) -> tuple[str, ...]:
    try:
        return (path.relative_to(Path(repo.working_tree_dir).resolve()).as_posix(),)
    except ValueError:
        return ()  # the ledger lives outside the repository


def _previous_json(previous: dict | None) -> dict | None:
    if not previous:
        return None
    return {"commit": previous.get("commit"), "digest": previous.get("digest"),
            "binary_sha256": (previous.get("binary") or {}).get("sha256"), "origin": previous.get("origin")}


def _same_binary_as_other_revision(ws: Path, req: DeployRequest, records: list[dict], commit: str,
                                   binary: image.BinaryFacts, verdict: tuple[bool | None, str]) -> tuple[bool | None, str]:
    """STALE too when this exact binary was deployed before from sources that differ for it.

    Catches the dummy binary of a dependency pre-build coming back after a fresh deploy — from
    any machine: `records` (oldest first) is the deploy history, registry and ledger merged.
    """
    twin = next((r for r in reversed(records) if r.get("image") == req.image and r.get("target") == req.target
                 and (r.get("binary") or {}).get("sha256") == binary.sha256 and r.get("commit") != commit), None)
    if twin is None:
        return verdict
    try:
        since = detect(ws, base=twin["commit"], head=commit, watch=list(req.watch))
    except GitError:
        return verdict  # the twin's commit is gone (rewritten history): nothing to prove
    fresh, reason = judge_freshness(twin, since, binary)
    return (fresh, reason) if fresh is False else verdict


def judge_freshness(previous: dict | None, detection: Detection, binary: image.BinaryFacts) -> tuple[bool | None, str]:
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

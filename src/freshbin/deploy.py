"""deploy: build and push with a chosen strategy, confirm the digest, record it, check freshness.

The strategies (guard, the default; no-cache, the how-to's rule; cached; no-cache-filter) live
in freshbin/strategies/, one module each; the shared build pipeline in pipeline.py; the rules
that judge the shipped binary in freshness.py and evidence.py.  This module only orchestrates.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shlex
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import buildx, checkout, early_read, history, image, ledger, platforms, registry_files, runner, strategies, tag_facts
from .errors import EnvironmentProblem, GitError, UsageError, WorkspaceError
from .freshness import decide, previous_json
from .pipeline import BuildRequest, Prepared, locate_binary, prepare, revision_labels

if TYPE_CHECKING:  # loaded beside the build, by the judging probes (_detect_after)
    from . import evidence
    from .detect import Detection

STRATEGIES = strategies.names()


@dataclass(frozen=True)
class DeployRequest(BuildRequest):
    strategy: str = strategies.DEFAULT
    dry_run: bool = False
    force: bool = False  # push over a tag that holds another commit's image


@dataclass(frozen=True)
class DeployResult:
    image: str
    tag: str
    digest: str | None
    commit: str
    strategy: str
    no_cache: bool
    binary: dict[str, Any] | None
    previous: dict[str, Any] | None
    fresh: bool | None
    ledger: str
    commands: list[str]
    guard: str | None  # what the strategy did to the build (guard: its mechanism)
    dry_run: bool
    reason: str
    history: dict[str, Any] | None = None  # where the deploy record went in the registry (history.Published)
    evidence: dict[str, Any] | None = None  # what the build's own record says (evidence.BuildEvidence)
    notes: list[str] | None = None  # detect's notes (e.g. the previous deploy's commit is not in this clone)
    platforms: dict[str, Any] | None = None  # several platforms: each one's binary and verdict

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def deploy(req: DeployRequest) -> DeployResult:
    strategy = strategies.get(req.strategy)
    p = prepare(req)
    targets = platforms.parse(req.platform)
    ref = f"{req.image}:{p.tag}"
    if not req.dry_run:
        ledger.check_writable(p.ledger_path)
    # The build must not start before the tag check passed (a push cannot be called back).  buildx
    # starts as soon as the context is ready and gets its Dockerfile when the check passed
    # (buildx.build_logged): the check (a registry round trip and the registry client's import,
    # ~0.08 s of CPU) runs during buildx's own start (~0.09 s), not beside the guard context, which
    # it would slow down on the interpreter lock.  The history read and detect matter only for
    # judging the pushed binary: unless the strategy's cache plan reads detect's answer, they
    # start once the check passed, beside the build.
    with ThreadPoolExecutor(6) as pool:
        engine_probe = pool.submit(buildx.preflight, req.builder, req.docker_context)
        multi_probe = pool.submit(platforms.require_support, targets, req.builder, req.docker_context)
        source = history.source_url(checkout.origin_url(p.checkout.root))
        early = strategy.needs_detection or req.dry_run
        if early:
            past_probe, detect_probe = _judging_probes(pool, req, p)
            past, detection = past_probe.result(), detect_probe.result()
        engine = engine_probe.result()
        multi_probe.result()
        situation = strategies.Situation(req, p, engine, detection if early else None)
        plan = strategy.cache_plan(situation)
        with ExitStack() as stack:
            ctx = strategy.context(situation, stack, dry_run=req.dry_run)
            meta_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="freshbin-meta-")))
            spec = buildx.BuildSpec(
                context=ctx.path, dockerfile=ctx.dockerfile, target=req.target, platform=req.platform, tags=(ref,),
                metadata_file=meta_dir / "metadata.json", builder=req.builder, build_args=dict(req.build_args),
                labels={**revision_labels(p.commit), **history.labels(source, req.strategy)},
                no_cache=plan.no_cache, no_cache_filter=plan.no_cache_filter, docker_context=req.docker_context,
                cache=req.cache,
            )
            command = shlex.join(buildx.build_argv(spec))
            if req.dry_run:
                return DeployResult(req.image, p.tag, None, p.commit, req.strategy, plan.no_cache, None,
                                    previous_json(past.previous(req.target)), None, str(p.ledger_path), [command],
                                    plan.note, True,
                                    f"dry run on builder {engine.builder} ({engine.driver}); nothing built or pushed",
                                    notes=list(detection.notes))
            judging = [(past_probe, detect_probe)] if early else []

            @functools.cache  # once: a push retried after a 5xx passes the gate again
            def tag_checked() -> None:
                """buildx's gate: a refused tag means nothing built, nothing pushed (buildx started,
                but gets no Dockerfile); the judging probes start once it passed."""
                _check_tag(req, ref, p.commit)
                if not early:
                    judging.append(_judging_probes(pool, req, p))

            # the local store gets the image before the push: its binary is read beside the push
            watcher = None if req.docker_context or len(targets) > 1 else early_read.EarlyRead(
                lambda image_id: image.read_binary(image_id, locate_binary(req, p, image.config_of(image_id))), pool)
            metadata, log = buildx.build_logged(spec, on_line=_progress(show=not req.quiet, watcher=watcher),
                                                after=tag_checked)
        try:
            past_probe, detect_probe = judging[0]
            past, detection = past_probe.result(), detect_probe.result()
        except (GitError, WorkspaceError) as exc:  # raised beside the build: the image is pushed by now
            raise type(exc)(f"pushed {ref} but could not judge it, nothing recorded: {exc}") from exc
    previous = past.previous(req.target)
    digest = metadata["containerimage.digest"]
    if len(targets) > 1:
        binaries = platforms.pushed_binaries(f"{req.image}@{digest}", targets,
                                             lambda platform, config: locate_binary(req, p, config, platform))
        _check_served(ref, digest)
    else:
        binaries = {targets[0]: _pushed_binary(req, p, ref, digest, metadata, watcher)}
    unseen = _inputs_kept_out(ctx, p)
    judged = {platform: _judge(req, p, past.for_target(req.target)[::-1], previous, detection, log, binary,
                               platform if len(targets) > 1 else "", unseen)
              for platform, binary in binaries.items()}
    fresh, reason, proof = _worst(judged)
    binary = binaries[targets[0]]  # the record's `binary`: the first platform's
    per_platform = None if len(targets) == 1 else {
        platform: {**binaries[platform].to_json(), "fresh": verdict[0], "reason": verdict[1]}
        for platform, verdict in judged.items()}
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),  # two deploys can share a second
        "image": req.image, "tag": p.tag, "digest": digest, "commit": p.commit, "subject": p.subject, "strategy": req.strategy,
        "no_cache": plan.no_cache, "platform": req.platform, "target": req.target, "builder": engine.builder,
        "triggers": [c.path for c in detection.changed if c.binaries][:100],
        "binary": binary.to_json(), "fresh": fresh, "stale": fresh is False, "dirty": p.dirty,
        "vouched": fresh is True and not p.dirty, "build_args": dict(req.build_args),
        "evidence": {k: v for k, v in proof.to_json().items()
                     if k in ("step", "ran", "not_compiled", "cause", "vouched", "proven")},
        **({"platforms": {k: v.to_json() for k, v in binaries.items()}} if per_platform else {}),
    }
    published = history.publish(req.image, {**record, "reason": reason}, source=source)
    record["record"] = published.record
    try:
        ledger.append(p.ledger_path, record)
    except EnvironmentProblem as exc:
        raise EnvironmentProblem(f"pushed {ref} ({digest}) but could not record it: {exc}") from exc
    return DeployResult(req.image, p.tag, digest, p.commit, req.strategy, plan.no_cache, binary.to_json(),
                        previous_json(previous), fresh, str(p.ledger_path), [command],
                        "; ".join(filter(None, [plan.note, ctx.note])), False, reason,
                        asdict(published), proof.to_json(), list(detection.notes), per_platform)


def _judge(req: DeployRequest, p: Prepared, records: list[dict[str, Any]], previous: dict[str, Any] | None,
           detection: Detection, log: str, binary: image.BinaryFacts,
           platform: str = "", unseen: tuple[str, ...] = ()) -> tuple[bool | None, str, evidence.BuildEvidence]:
    """Fresh or stale, why, and the build's own record: of one platform's binary when `platform`
    is named (records are then seen from that platform: platforms.for_platform)."""
    from . import evidence
    if platform:
        previous = platforms.for_platform(previous, platform)
        records = [r for r in (platforms.for_platform(r, platform) for r in records) if r]
    name = binary.name or Path(binary.path).name
    proof = evidence.judge(log, detection, name, p.dockerfile, platform, p.stage, _built_from(p, name))
    if unseen and proof.vouched:  # compiled, but not from everything cargo reads in a checkout
        proof = dataclasses.replace(proof, vouched=False, note=f"the ignore file keeps cargo inputs out of the build "
                                    f"({', '.join(unseen[:3])}): the compile did not see the commit whole")
    fresh, reason = decide(proof, previous, detection, binary, records, p.workspace, req.image, req.target,
                           list(req.watch), p.commit)
    return fresh, reason, proof


def _inputs_kept_out(ctx: strategies.BuildContext, p: Prepared) -> tuple[str, ...]:
    """Tracked cargo inputs the ignore file keeps out of a build that did not re-include them (guard does)."""
    if ctx.whole:
        return ()  # guard's context: what the ignore file dropped was re-included
    from .ignored_inputs import dropped_inputs
    context = ctx.path.resolve()
    root = p.checkout.root.resolve()
    tracked = [os.path.relpath(root / rel, context) for rel in checkout.worktree_files(root)]
    _, dropped = dropped_inputs(ctx.dockerfile, context, [t for t in tracked if not t.startswith("../")])
    return tuple(f"{d.path} ({d.pattern})" for d in dropped)


def _built_from(p: Prepared, binary: str) -> set[str]:
    """The workspace packages `binary` is compiled from (empty when the workspace cannot say)."""
    from .compile_proof import compiled_into
    from .workspace import load_workspace
    try:
        own = load_workspace(p.workspace).compiled_into(binary)
    except WorkspaceError:
        return set()
    return compiled_into(p.workspace, p.checkout.root, own) if own else set()


def _worst(judged: dict[str, tuple[bool | None, str, evidence.BuildEvidence]]
           ) -> tuple[bool | None, str, evidence.BuildEvidence]:
    """One verdict for the deploy: the first stale platform's, named; else the first platform's."""
    stale = next((platform for platform, verdict in judged.items() if verdict[0] is False), None)
    stale = stale or next((platform for platform, verdict in judged.items() if verdict[0] is None), None)
    if stale is None or len(judged) == 1:
        return next(iter(judged.values()))
    fresh, reason, proof = judged[stale]
    return fresh, f"{stale}: {reason}", proof


def _judging_probes(pool: ThreadPoolExecutor, req: DeployRequest, p: Prepared
                    ) -> tuple[Future[history.History], Future[Detection]]:
    """The deploy history and detect (once the history names the base), started."""
    past = pool.submit(history.load, req.image, p.ledger_path,
                       tracked_tag=history.tracked(req.tracked_tag, p.tag, req.moving_tags))
    return past, pool.submit(_detect_after, past, req, p)


def _detect_after(past_probe: Future[history.History], req: DeployRequest, p: Prepared) -> Detection:
    """detect, as soon as the deploy history (registry and ledger) names the base.

    Beside the build, this also loads what judging the pushed binary needs: GitPython, detect
    and the evidence rules, ~0.06 s of imports the path before buildx starts does not pay."""
    from . import evidence  # noqa: F401  (used after the build, by _judge)
    from .detect import detect
    previous = past_probe.result().previous(req.target)
    return detect(p.workspace, base_hint=previous["commit"] if previous else None, worktree=p.dirty,
                  watch=list(req.watch))


def _pushed_binary(req: DeployRequest, p: Prepared, ref: str, digest: str, metadata: dict[str, Any],
                   watcher: early_read.EarlyRead[image.BinaryFacts] | None = None) -> image.BinaryFacts:
    """The shipped binary of what was pushed; meanwhile, the registry must serve that digest.

    From the local image store when the build left the image there (the `docker` driver of the
    local engine); through the registry when it did not (another Docker context, a
    docker-container or remote driver) — never a pull into a store that never had it.
    """
    with ThreadPoolExecutor(1) as pool:
        served_probe = pool.submit(tag_facts.served_digest, ref)
        local = metadata.get("containerimage.config.digest", "")
        early = watcher.result(local) if watcher is not None else None
        if early is not None:  # read beside the push from the very image the metadata names
            binary = early
        elif not req.docker_context and image.is_local(local):
            binary = image.read_binary(local, locate_binary(req, p, image.config_of(local)))
        else:
            remote = registry_files.open_image(f"{req.image}@{digest}", req.platform)
            binary = image.registry_binary(remote, locate_binary(req, p, remote.config.get("config") or {}))
        served = served_probe.result()
    _check_served(ref, digest, served)
    return binary


def _progress(*, show: bool, watcher: early_read.EarlyRead[image.BinaryFacts] | None) -> Callable[[str], None]:
    """The build's progress lines: to the early binary read's watcher, and to the tasks' renderer
    when `show`."""
    def on_line(line: str) -> None:
        if watcher is not None:
            watcher.on_line(line)
        if show:
            runner.progress(line)
    return on_line


def _check_served(ref: str, digest: str, served: str | None = None) -> None:
    """The registry must serve the pushed digest under the tag."""
    served = served or tag_facts.served_digest(ref)
    if served != digest:
        raise EnvironmentProblem(f"the registry serves {served} for {ref}, not the pushed {digest}; "
                                 "another deploy moved the tag")


def _check_tag(req: DeployRequest, ref: str, commit: str) -> None:
    """Before building: the registry answers for `ref` (fail fast on 401/5xx/unreachable, not after
    a long build), and a tag holding another commit's image is not moved unless declared or --force."""
    exists, revision = tag_facts.tag_revision(ref)
    tag = ref.rsplit(":", 1)[1]
    if req.force or tag in req.moving_tags or not exists or revision == commit:
        return
    held = f"commit {revision[:12]}" if revision else "an image without a revision label"
    raise UsageError(f"{ref} already holds {held}; pushing would move the tag — choose another --tag, "
                     "pass --force, or list the tag in freshbin.moving_tags")

"""The buildx runner: engine preflight and feature probes, argv construction, metadata.

`build_argv` is pure (unit-tested); `build` runs it through the one runner with progress
streamed to a callback (the tasks render it on stderr).  Digests come from `--metadata-file`, never from parsing progress output.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import build_cache, buildx_facts, events, runner
from .dockerfile_model import parse as parse_dockerfile
from .errors import CommandFailed, EnvironmentProblem, last_line


@dataclass(frozen=True)
class Engine:
    buildx_version: str
    builder: str
    driver: str
    buildkit: str
    no_cache_filter: bool


@dataclass(frozen=True)
class BuildSpec:
    context: Path
    dockerfile: Path
    target: str
    platform: str
    tags: tuple[str, ...]
    metadata_file: Path
    builder: str = ""
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = ()
    push: bool = True
    load: bool = False  # into the local image store (when not pushing)
    output: str = ""  # e.g. "type=docker,dest=/tmp/x.tar"; overrides --push/--load
    source_date_epoch: int | None = None  # image created time, and what rewrite-timestamp clamps to
    rewrite_timestamp: bool = False  # clamp layer mtimes to SOURCE_DATE_EPOCH (probe: engines.py)
    docker_context: str = ""  # build on this Docker context's engine (`docker --context NAME buildx build`)
    cache: build_cache.CacheOptions = build_cache.CacheOptions()  # --cache-from / --cache-to (build_cache.py)


def build_argv(spec: BuildSpec, *, dockerfile_on_stdin: bool = False) -> list[str]:
    argv = [*runner.docker(spec.docker_context), "buildx", "build"]
    if spec.builder:
        argv += ["--builder", spec.builder]
    argv += ["--platform", spec.platform]
    if spec.target:  # none: buildx builds the last stage (which may have no name to pass)
        argv += ["--target", spec.target]
    argv += ["-f", "-" if dockerfile_on_stdin else str(spec.dockerfile)]
    for tag in spec.tags:
        argv += ["-t", tag]
    build_args = dict(spec.build_args)
    if spec.source_date_epoch is not None:
        build_args.setdefault("SOURCE_DATE_EPOCH", str(spec.source_date_epoch))
    for key, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(spec.labels.items()):
        argv += ["--label", f"{key}={value}"]
    if spec.no_cache:
        argv.append("--no-cache")
    for stage in spec.no_cache_filter:
        argv += ["--no-cache-filter", stage]
    argv += build_cache.argv(spec.cache)
    if spec.output:
        rewrite = spec.rewrite_timestamp and "rewrite-timestamp" not in spec.output
        argv += ["--output", spec.output + (",rewrite-timestamp=true" if rewrite else "")]
    elif spec.rewrite_timestamp:
        kind = "type=image,push=true" if spec.push else "type=docker"
        argv += ["--output", f"{kind},rewrite-timestamp=true"]
    elif spec.push:
        argv.append("--push")
    elif spec.load:
        argv.append("--load")
    argv += ["--metadata-file", str(spec.metadata_file), "--progress", "plain", str(spec.context)]
    return argv


def preflight(builder: str = "", docker_context: str = "") -> Engine:
    """docker, the Docker context, the daemon, buildx and the builder answer; the builder's facts.

    On the local engine with its `docker` driver the facts come from the cache (buildx_facts.py)
    once the daemon has answered over its socket; otherwise, and on a miss, the CLI is asked.
    """
    key = buildx_facts.local_key(builder, docker_context)
    cached = buildx_facts.cached(key) if key else None
    if cached is not None:
        try:
            return Engine(**cached)
        except TypeError:  # an entry of another freshbin version's shape: ask again
            pass
    engine = _probe(builder, docker_context)
    if key and engine.driver == "docker":  # a docker-container builder's facts change as it boots
        # keyed as buildx left its state: a first call may have written its `current` file
        buildx_facts.store(buildx_facts.local_key(builder, docker_context) or key, asdict(engine))
    return engine


def _probe(builder: str, docker_context: str) -> Engine:
    """Ask the CLI.  The probes run at once (each is a docker CLI start, ~0.1 s); their answers
    are then judged in order, so the first missing piece is the one reported."""
    docker = runner.docker(docker_context)
    probes = {
        **({"context": (["docker", "context", "inspect", docker_context], 30)} if docker_context else {}),
        "info": ([*docker, "info", "--format", "{{.ServerVersion}}"], 30),
        "version": ([*docker, "buildx", "version"], 30),
        "inspect": ([*docker, "buildx", "inspect", *([builder] if builder else [])], 60),
        "help": ([*docker, "buildx", "build", "--help"], 30),
    }
    with ThreadPoolExecutor(len(probes)) as pool:
        futures = {name: pool.submit(runner.run, argv, check=False, timeout=timeout)
                   for name, (argv, timeout) in probes.items()}
        answers = {name: future.result() for name, future in futures.items()}
    if docker_context and answers["context"].returncode != 0:
        raise EnvironmentProblem(f"Docker context {docker_context!r} does not exist; create it with `docker context "
                                 f"create {docker_context} --docker host=…` or pick one from `docker context ls`")
    if answers["info"].returncode != 0 and docker_context:
        raise EnvironmentProblem(f"the engine of Docker context {docker_context!r} does not answer; check its host "
                                 f"with `docker --context {docker_context} info`")
    if answers["info"].returncode != 0:
        raise EnvironmentProblem("the Docker daemon does not answer; start it (`invoke env.up` or `sudo systemctl start docker`)")
    version = answers["version"]
    if version.returncode != 0:
        raise EnvironmentProblem("docker buildx is not installed; install the buildx plugin (Debian: docker-buildx)")
    if answers["inspect"].returncode != 0:
        where = f" on Docker context {docker_context!r} (buildx refuses another context's docker driver)" \
            if docker_context else ""
        raise EnvironmentProblem(
            f"buildx builder {builder!r} not found{where}; list builders with `docker buildx ls` or omit --builder"
        )
    facts = _parse_inspect(answers["inspect"].stdout)
    words = version.stdout.split()
    return Engine(
        buildx_version=words[1] if len(words) > 1 else version.stdout.strip(),
        builder=facts.get("Name", builder or "default"),
        driver=facts.get("Driver", ""),
        buildkit=facts.get("BuildKit version", facts.get("Buildkit", "")),
        no_cache_filter="--no-cache-filter" in answers["help"].stdout,
    )


def _parse_inspect(text: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in facts:
            facts[key.strip()] = value.strip()
    return facts


PUSH_ATTEMPTS = 5


def build(spec: BuildSpec, *, stream: bool = True, on_line: runner.LineCallback | None = None) -> dict[str, Any]:
    """Run the build; return the metadata file's JSON."""
    return build_logged(spec, stream=stream, on_line=on_line)[0]


def build_logged(spec: BuildSpec, *, stream: bool = True, on_line: runner.LineCallback | None = None,
                 after: Callable[[], object] | None = None) -> tuple[dict[str, Any], str]:
    """Run the build; return the metadata file's JSON and the progress log (the build's own
    record of which steps ran, see buildlog.py).

    Progress lines go to `on_line`; without one, `stream` sends them to the renderer the tasks
    installed (runner.progress_to), and nothing is shown when none is.

    `after` must return before anything is built (deploy's tag check).  buildx starts at once and
    gets its Dockerfile on stdin when `after` returns — its own start (~0.08 s: the CLI, the
    plugin, the builder) overlaps the wait — and is killed unread when `after` raises.  A
    Dockerfile with an ignore file of its own (`NAME.dockerignore`, which buildx finds only beside
    a named Dockerfile) waits for `after` first instead.

    A push that the registry answers with a 5xx is retried (the build itself is cached by then,
    so a retry costs the push): a distribution registry answers 500 when concurrent pushes race
    on the same blob (measured with eight concurrent deploys).
    """
    on_stdin = after is not None and not own_ignore_file(spec.dockerfile)
    if after is not None and not on_stdin:
        after()
    argv = build_argv(spec, dockerfile_on_stdin=on_stdin)
    if spec.push:  # (verify announces each of its builds itself: which side it is)
        events.emit("build", f"building {describe(spec)}")
    on_line = _announcing_push(spec, on_line, stream)
    started = time.monotonic()

    def dockerfile_when_ready() -> bytes:
        assert after is not None
        after()
        return spec.dockerfile.read_bytes()

    log = ""
    with _own_temp_dir() as env:
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                log = runner.run(argv, stream=stream, on_line=on_line, env=env,
                                 stdin_when=dockerfile_when_ready if on_stdin else None).stderr
                break
            except CommandFailed as exc:
                if spec.push and attempt < PUSH_ATTEMPTS and _transient(exc.stderr):
                    time.sleep(attempt + random.random())  # jitter: racing pushes must not retry in step
                    continue
                raise CommandFailed(argv, exc.returncode, exc.stderr, hint=_hint(exc.stderr)) from None
    events.emit("built", f"{'built and pushed' if spec.push else 'built'} {spec.tags[0]} in "
                         f"{time.monotonic() - started:.1f} s")
    return read_metadata(spec.metadata_file), log


def describe(spec: BuildSpec) -> str:
    """A build in words: "stage worker of Dockerfile for REF (--no-cache)"."""
    stage = f"stage {spec.target}" if spec.target else "the last stage"
    cache = " (--no-cache)" if spec.no_cache else (
        f" (--no-cache-filter {','.join(spec.no_cache_filter)})" if spec.no_cache_filter else "")
    imported = build_cache.describe(spec.cache)
    return f"{stage} of {spec.dockerfile.name} for {spec.tags[0]}{cache}" + (f" ({imported})" if imported else "")


PUSHING = re.compile(r"#\d+ pushing ")  # BuildKit's plain progress: "#20 pushing layers", "#20 pushing REF with docker"


def _announcing_push(spec: BuildSpec, on_line: runner.LineCallback | None, stream: bool
                     ) -> runner.LineCallback | None:
    """The build's line sink, which also emits the `push` event at BuildKit's first pushing line."""
    sink = on_line if on_line is not None else (runner.progress if stream else None)
    if sink is None or not spec.push:
        return on_line
    pushed: list[bool] = []

    def watch(line: str) -> None:
        if not pushed and PUSHING.match(line):
            pushed.append(True)
            events.emit("push", f"pushing {spec.tags[0]}")
        sink(line)
    return watch


@contextmanager
def _own_temp_dir() -> Iterator[dict[str, str]]:
    """An environment whose TMPDIR is a directory we remove after the build.

    buildx copies a Dockerfile read from stdin to `$TMPDIR/dockerfileNNN/` and never removes it
    (docker/buildx#3117, reported against v0.23.0; Debian's v0.13.1 does it too: 2,441 such
    directories had piled up in this machine's /tmp), so each deploy would leave one behind."""
    with tempfile.TemporaryDirectory(prefix="freshbin-buildx-") as tmp:
        yield {**os.environ, "TMPDIR": tmp}


def own_ignore_file(dockerfile: Path) -> bool:
    """Has the Dockerfile an ignore file of its own (`Dockerfile.dockerignore` beside it)?"""
    return dockerfile.with_name(dockerfile.name + ".dockerignore").is_file()


# An HTTP status as the registry clients word it: "http status: 500", "…: 500 Internal Server Error",
# containerd's "unexpected status from PUT request to URL: 500 …" (never a run of digits in a digest).
_SERVER_ERROR = re.compile(r"(?:http status: |: )5(?:00|02|03|04)\b")
# A racing upload of the same blob, as a registry answers it: the manifest names a blob whose upload
# another push dropped (distribution 2.8, eight concurrent pushes), or the upload session vanished.
_RACED_BLOB = ("blob unknown to registry", "blob upload unknown", "blob_upload_unknown", "manifest_blob_unknown",
               # the containerd store's pusher, when the registry refuses an index naming a blob a racing
               # push dropped (measured: two concurrent deploys on Docker 26.1, 400 Bad Request)
               "references to blobs and/or manifests are missing")


def _transient(stderr: str) -> bool:
    """A registry's transient answer to racing writes, as buildx's push, the containerd image store's
    pusher or imagetools word it: a 5xx, or a blob a racing push dropped."""
    text = stderr.lower()
    return bool(_SERVER_ERROR.search(text)) or any(p in text for p in _RACED_BLOB)


DEFAULT_HINT = "see the build log above"


def _hint(stderr: str) -> str:
    text = stderr.lower()
    if "cannot connect to the docker daemon" in text or "is the docker daemon running" in text:
        return "the Docker daemon stopped answering; check `docker info` and restart it"
    if "connection refused" in text or "no such host" in text or "dial tcp" in text:
        return "the registry is unreachable; check it is running and the image name's host:port"
    if any(word in text for word in ("401", "unauthorized", "authentication required", "no basic auth credentials",
                                      "authorization failed", "pull access denied")):
        return "the registry refused the credentials; run `docker login REGISTRY`"
    if "cache export" in text and "not supported" in text:
        return ("this builder cannot export a build cache (the docker driver of a classic image store); use the "
                "containerd image store or another builder (--builder: docker-container, remote), or drop --cache-to")
    if "target stage" in text and "could not find" in text:
        return "check --target against the Dockerfile's stage names"
    if _SERVER_ERROR.search(text) or "internal server error" in text:
        return "the registry answered 500 (internal error); check the registry's log and retry"
    return DEFAULT_HINT


def read_metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"buildx wrote no metadata file {path}; upgrade buildx (needs --metadata-file)") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EnvironmentProblem(f"the buildx metadata file {path} is not JSON; rerun the build") from exc
    if not isinstance(data, dict) or not str(data.get("containerimage.digest", "")).startswith("sha256:"):
        raise EnvironmentProblem(f"the buildx metadata file {path} has no containerimage.digest; rerun the build")
    return data


def registry_digest(ref: str) -> str:
    """The manifest digest the registry serves for `ref` (imagetools, never progress output).
    A 5xx is retried like a push's: the distribution registry answers 500 under racing writes."""
    argv = ["docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"]
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        result = runner.run(argv, check=False, timeout=120)
        if result.returncode == 0 or attempt == PUSH_ATTEMPTS or not _transient(result.stderr):
            break
        time.sleep(attempt / 2 + random.random())
    if result.returncode != 0:
        raise EnvironmentProblem(f"the registry does not serve {ref}: {last_line(result.stderr) or 'no answer'}")
    try:
        digest: str = json.loads(result.stdout)["digest"]
        return digest
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise EnvironmentProblem(f"cannot read the manifest digest of {ref} from imagetools") from exc


def dockerfile_stages(dockerfile: Path) -> list[str]:
    """Stage names (`FROM … AS name`), from the Dockerfile model (BuildKit's own parser)."""
    return [stage.name for stage in parse_dockerfile(dockerfile).stages if stage.name != str(stage.index)]


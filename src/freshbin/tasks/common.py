"""What every task shares: the error edge and config lookups."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ParamSpec, TypeVar

from invoke import Context, Exit

from .. import config, events, refs, report, runner
from ..errors import EXIT_INTERRUPTED, FreshbinError, Terminated, UsageError, signal_of

if TYPE_CHECKING:  # the deploy machinery (git, engine) loads when a task runs, not for --help
    from ..deploy import DeployRequest

P = ParamSpec("P")
R = TypeVar("R")

BUILD_HELP = {
    "platform": config.flag_help("platform", "buildx --platform; several, comma-separated, deploy an image index "
                                 "(engines that build them at once: the containerd image store)"),
    "dockerfile": config.flag_help("dockerfile", "Dockerfile, relative to the workspace"),
    "context": config.flag_help("context", "build context, relative to the workspace"),
    "builder": config.flag_help("builder", "buildx builder"),
    "docker_context": config.flag_help("docker_context", "Docker context whose engine builds and pushes; the image "
                                       "is then read through the registry"),
    "build_arg": "NAME=value, repeatable; added to freshbin.build_args",
    "cache": config.flag_help("cache", "build cache short form: registry (a cache at IMAGE:buildcache, read and "
                              "written, mode=max) or gha"),
    "cache_from": config.flag_help("cache_from", "buildx --cache-from spec, repeatable (replaces the config's)"),
    "cache_to": config.flag_help("cache_to", "buildx --cache-to spec, repeatable (replaces the config's)"),
    "workspace": config.flag_help("workspace", "Cargo workspace root"),
}


def end_process(code: object) -> None:
    """End the CLI process once its task has returned, without the interpreter's teardown.

    Freeing every module's objects at exit took 0.05 s of each deploy (measured: from the last
    atexit handler to the end of the process), 1.5 % of a cached build.  Nothing is left for it to
    do: every temporary directory and engine process was ended by the `with` that made it, the
    thread pools were joined, and the output is flushed here.  (GitPython's persistent `git
    cat-file` readers end themselves when their input pipe closes with this process.)  A
    traceback (`--debug`) never gets here: it propagates as usual.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): what Python itself does with it
        print(code, file=sys.stderr)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def signalled(exc: KeyboardInterrupt | Terminated) -> tuple[str, int]:
    """The line and exit code for a Ctrl-C, SIGTERM or SIGHUP (docs/exit-codes.md)."""
    signum = signal_of(exc) or signal.SIGINT
    if signum == signal.SIGINT:
        return "freshbin: interrupted", EXIT_INTERRUPTED
    return f"freshbin: terminated ({signum.name})", 128 + signum


def end_signalled(exc: KeyboardInterrupt | Terminated) -> None:
    """End the CLI for a signal that came before any task's error edge (while invoke parses)."""
    line, code = signalled(exc)
    print(line, file=sys.stderr)
    end_process(code)


def cli_errors(body: Callable[P, R]) -> Callable[P, R]:
    """Turn FreshbinError into `Exit(message, code)`, Ctrl-C into exit 130 and SIGTERM/SIGHUP into
    128 + the signal: no tracebacks.

    The task edge also installs the renderers of streamed progress (a build's log) and of the
    core's own events (which build runs, pushing, judging), both on stderr.
    Set FRESHBIN_DEBUG=1 to see the traceback of a FreshbinError.
    """

    task_name = body.__name__

    @functools.wraps(body)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with runner.progress_to(report.progress), events.rendered_by(report.event_line(task_name)):
                return body(*args, **kwargs)
        except FreshbinError as exc:
            if os.environ.get("FRESHBIN_DEBUG"):
                raise
            raise Exit(f"freshbin: error: {exc}", code=exc.exit_code) from None
        except BrokenPipeError:
            # `freshbin … | head`: the reader left; say nothing more.
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            raise Exit(code=0) from None
        except (KeyboardInterrupt, Terminated) as exc:
            raise Exit(*signalled(exc)) from None

    return wrapper


FORMATS = ("table", "json", "markdown")
FORMAT_HELP = "table, json or markdown (a summary for a pull request or CI job) (default table)"


def output_format(format: str, json: bool, formats: tuple[str, ...] = FORMATS) -> str:
    """The report's format from --format and --json (the older spelling of --format json)."""
    if format not in formats:
        raise UsageError(f"--format {format!r} is unknown; use one of {', '.join(formats)}")
    if json and format not in ("table", "json"):
        raise UsageError(f"--json and --format {format} ask for two formats; pass one of them")
    return "json" if json else format


def summarise(markdown: str, format: str) -> None:
    """The Markdown summary: printed for --format markdown, appended to $GITHUB_STEP_SUMMARY when set."""
    if format == "markdown":
        print(markdown, end="")
    report.step_summary(markdown)


def dry(c: Context) -> bool:
    """invoke's core option -R/--dry (config `run.dry`): the tasks that change something honour it
    as their dry run, or refuse it with `no_dry_run`; docs/configuration.md#core-options lists which."""
    run = c.config.get("run") or {}
    return bool(run.get("dry"))


def no_dry_run(c: Context, task: str, why: str, remedy: str = "drop -R") -> None:
    """Refuse -R/--dry for a task that has no dry run: it would otherwise change something."""
    if dry(c):
        raise Exit(f"freshbin: error: {task} has no dry run ({why}); {remedy}", code=2)


def pick(value: Any, c: Context, key: str) -> Any:
    """Flag beats config beats default (an empty/None flag means "not given")."""
    if value not in (None, "", [], {}):
        return value
    return config.settings(c)[key]


def workspace_dir(c: Context, flag: str | None) -> Path:
    return Path(pick(flag, c, "workspace")).resolve()


def ledger_path(c: Context, ws: Path) -> Path:
    path = Path(config.settings(c)["ledger"])
    return path if path.is_absolute() else ws / path


def build_request(c: Context, *, workspace: str, build_arg: list[str] | None, strategy: str = "", dry_run: bool = False,
                  allow_dirty: bool = False, force: bool = False, cache: str = "", cache_from: list[str] | None = None,
                  cache_to: list[str] | None = None, **flags: str) -> DeployRequest:
    """What to build, from flags over config (shared by deploy and verify)."""
    ws = workspace_dir(c, workspace)
    build_args = dict(pick(None, c, "build_args"))
    build_args.update(refs.validate_build_arg(a) for a in (build_arg or []))
    from .. import build_cache
    from ..deploy import DeployRequest

    caches = build_cache.resolve(pick(cache, c, "cache"), pick(cache_from, c, "cache_from"),
                                 pick(cache_to, c, "cache_to"), pick(flags.get("image", ""), c, "image"))

    return DeployRequest(
        workspace=ws, build_args=build_args, strategy=pick(strategy, c, "strategy"), dry_run=dry_run,
        allow_dirty=allow_dirty, watch=tuple(pick(None, c, "watch")), ledger_path=ledger_path(c, ws),
        binary_path=pick(None, c, "binary_path"), force=force,
        moving_tags=tuple(pick(None, c, "moving_tags")), tracked_tag=pick(None, c, "tracked_tag"), cache=caches,
        **{key: pick(value, c, key) for key, value in flags.items()},
    )

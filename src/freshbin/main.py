"""The `freshbin` console script: invoke's Program over the same collection as tasks.py.

Config for the CLI comes from `freshbin.yaml` files (/etc/freshbin.yaml, ~/.freshbin.yaml and
./freshbin.yaml in the current directory, each with a `freshbin:` section), INVOKE_FRESHBIN_*
and FRESHBIN_* environment variables; `invoke` with a tasks.py reads invoke.yaml instead.
"""

from __future__ import annotations

import os
import signal

from invoke import Config, Exit, ParseError, Program
from invoke.config import AmbiguousMergeError

from . import __version__, config, runner
from .errors import Terminated, UsageError
from .tasks import ns
from .tasks.common import end_process, end_signalled


# invoke's core options for `c.run`, which freshbin's tasks never call: refused, not ignored.  The
# others are honoured: -R/--dry by each task (tasks/common.dry, docs/configuration.md#core-options),
# -d/--debug, -f/--config, -h, -l, -D, -F, -V, --complete, --print-completion-script, --write-pyc.
NOT_APPLICABLE = {"echo": "-e/--echo", "pty": "-p/--pty", "warn-only": "-w/--warn-only", "hide": "--hide",
                  "command-timeout": "-T/--command-timeout",
                  "prompt-for-sudo-password": "--prompt-for-sudo-password"}


class FreshbinConfig(Config):
    prefix = "freshbin"
    # INVOKE_FRESHBIN_IMAGE, as with invoke; FRESHBIN_IMAGE is read by config.py.  (invoke's own
    # default is None, so its inferred type is None: the override is a str by design.)
    env_prefix = "INVOKE"  # type: ignore[assignment]


def _signalled(signum: int, frame: object) -> None:
    """Ctrl-C, SIGTERM, SIGHUP: every running command gets the signal too (each runs in a process
    group of its own: runner._child), then the CLI unwinds — KeyboardInterrupt as Python's own
    handler raises it, errors.Terminated for the others."""
    runner.forward(signum)
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)


class FreshbinProgram(Program):
    """invoke's Program with freshbin's error edge: usage errors exit 2 with one line."""

    def run(self, argv: list[str] | None = None, exit: bool = True) -> None:  # noqa: A002 — invoke's own signature
        # `freshbin … | head`: end quietly like any Unix tool, not with a BrokenPipeError traceback.
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if not exit:  # in process (tests): the caller's interpreter goes on
            super().run(argv, exit)
            return
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _signalled)
        try:
            super().run(argv, exit)
        except SystemExit as done:  # invoke's exit with the task's code (errors.py documents them)
            end_process(done.code)
        except (KeyboardInterrupt, Terminated) as exc:  # before any task's own error edge (invoke parsing)
            end_signalled(exc)
        end_process(0)

    def parse_core(self, argv: list[str] | None) -> None:
        try:
            super().parse_core(argv)
        except ParseError as exc:
            raise _usage(exc) from None
        if self.args.debug.value:  # `freshbin --debug TASK`: tracebacks instead of one-line errors
            os.environ["FRESHBIN_DEBUG"] = "1"
        given = [flag for name, flag in NOT_APPLICABLE.items() if self.args[name].value]
        if given:  # never silently ignored (before --prompt-for-sudo-password prompts)
            raise Exit(f"freshbin: error: {given[0]} applies to shell commands a task runs through invoke, and "
                       "freshbin's tasks run none; drop it (-R/--dry is a dry run, `deploy --dry-run` prints the "
                       "build command, --debug shows tracebacks)", code=2)

    def parse_tasks(self) -> None:
        self.core.unparsed = doctor_file_arguments(self.core.unparsed, set(ns.task_names))
        try:
            super().parse_tasks()
        except ParseError as exc:
            raise _usage(exc) from None

    def execute(self) -> None:
        try:
            super().execute()
        except AmbiguousMergeError as exc:  # e.g. build_args: [1] merged over the {} default
            raise Exit(f"freshbin: error: a freshbin config value has the wrong type ({exc}); "
                       "fix freshbin.yaml (see `freshbin config`)", code=2) from None

    def update_config(self, merge: bool = True) -> None:
        """Also load ./freshbin.yaml: without a tasks.py, invoke has no project location."""
        try:
            self.config.set_project_location(os.getcwd())
            self.config.load_project(merge=False)
            super().update_config(merge=False)
            _check_files(self.config)
            if merge:
                self.config.merge()
        except UsageError as exc:
            raise Exit(f"freshbin: error: {exc}", code=2) from None
        except Exception as exc:  # a malformed file: one line, not a traceback
            if os.environ.get("FRESHBIN_DEBUG"):
                raise
            raise Exit(f"freshbin: error: cannot read the configuration ({exc.__class__.__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else 'invalid'}); fix freshbin.yaml", code=2) from None


def _check_files(cfg: Config) -> None:
    """Validate each file's freshbin section before invoke merges it (a list over a dict would crash)."""
    for level, path, section in config.level_sections(cfg):
        if level not in config.FILE_LEVELS or section is None:
            continue
        if not isinstance(section, dict):
            raise UsageError(f"the freshbin section of {path or level} must be a mapping of keys to values")
        try:
            config.validate(section)
        except UsageError as exc:
            raise UsageError(f"{path or level}: {exc}") from None


DOCTOR_VALUE_FLAGS = {"--dockerfile", "--context", "--workspace", "--format", "--failure-threshold"}


def doctor_file_arguments(argv: list[str], task_names: set[str]) -> list[str]:
    """`freshbin doctor A B` (how pre-commit passes the changed files) as `doctor --dockerfile A
    --dockerfile B`: invoke has no variadic positional arguments."""
    if "doctor" not in argv:
        return list(argv)
    at = argv.index("doctor") + 1
    out = list(argv[:at])
    expects_value = False
    for word in argv[at:]:
        if expects_value or word.startswith("-") or word in task_names:
            out.append(word)
            expects_value = word in DOCTOR_VALUE_FLAGS
            continue
        out += ["--dockerfile", word]
    return out


def _usage(exc: ParseError) -> Exit:
    return Exit(f"freshbin: error: {exc}; see `freshbin --help` or `freshbin TASK --help`", code=2)


program = FreshbinProgram(namespace=ns, version=__version__, name="freshbin", binary="freshbin",
                          config_class=FreshbinConfig)

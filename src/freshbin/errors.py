"""One error hierarchy: every user mistake or environment failure is a FreshbinError.

The message is one sentence naming the problem and the remedy; the CLI edge turns it into
`invoke.Exit` with the documented exit code, so users never see a traceback for their mistakes.
"""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check found a problem: stale binary, doctor findings, `detect --check`
EXIT_USAGE = 2  # usage or environment error
EXIT_INTERRUPTED = 130  # Ctrl-C; SIGTERM and SIGHUP end with 128 + the signal's number (143, 129)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (`timeout`, a CI job cancelled, the terminal closed).

    Raised by the CLI's signal handler so that it unwinds like Ctrl-C: the running command is
    sent the same signal and waited for, temporary directories are removed, nothing is recorded.
    A BaseException, as KeyboardInterrupt is: no `except Exception` may swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signal.Signals(signum)


def signal_of(exc: BaseException) -> signal.Signals | None:
    """The signal behind a Ctrl-C (KeyboardInterrupt: SIGINT) or a Terminated; None otherwise.
    The CLI exits with 128 + it (EXIT_INTERRUPTED for Ctrl-C), as a shell reports a signal."""
    if isinstance(exc, KeyboardInterrupt):
        return signal.SIGINT
    return exc.signum if isinstance(exc, Terminated) else None


class FreshbinError(Exception):
    """A failure the user can act on; `str()` is the one-line message."""

    exit_code = EXIT_USAGE


class UsageError(FreshbinError):
    """Bad flags, references or configuration."""


class GitError(FreshbinError):
    """The repository or a ref is not usable."""


class WorkspaceError(FreshbinError):
    """The Cargo workspace cannot be read."""


class EnvironmentProblem(FreshbinError):
    """Docker, buildx, the daemon, the builder or the registry is not usable."""


class CommandFailed(FreshbinError):
    """An external command exited non-zero; carries what is needed to diagnose it."""

    def __init__(self, argv: list[str], returncode: int, stderr: str = "", hint: str = ""):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        last = last_line(stderr)
        msg = f"`{' '.join(argv[:3])} …` failed (exit {returncode})"
        if last:
            msg += f": {last}"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)


def last_line(text: str) -> str:
    """The last non-blank line of a command's output, trimmed for a one-line message."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""

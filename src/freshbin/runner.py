"""The one place external commands run: argument lists only, never a shell string.

pre-commit's shape: `run_b` runs a command in bytes mode (image archives, `docker cp` tarballs)
and `run`, the text mode, is built on it, so nothing else needs `subprocess`.  pypa/build's shape
for progress: a streamed command hands each line of its stderr to a callback and never writes to
the terminal itself; `stream=True` without a callback uses the renderer the tasks installed with
`progress_to` (none installed: the lines are only kept).

Every command runs in a process group of its own, and a command never outlives the exception
that interrupts it: `docker buildx build` is two processes (the docker CLI runs the buildx plugin
as its child), and killing the CLI alone left the plugin building.  See `_ended_with`.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Callable, Iterator, Sequence

from .errors import CommandFailed, EnvironmentProblem, Terminated, signal_of

LineCallback = Callable[[str], None]

_PROGRESS: ContextVar[LineCallback | None] = ContextVar("freshbin_progress", default=None)


@dataclass(frozen=True)
class ResultB:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes  # empty when it went to `stdout_to`
    stderr: bytes


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def progress_to(on_line: LineCallback | None) -> Iterator[None]:
    """Within this block, `stream=True` hands progress lines to `on_line` (the tasks' renderer)."""
    token = _PROGRESS.set(on_line)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def progress(line: str) -> None:
    """A progress event of the core's own (e.g. "verify: reference build"): to the installed renderer."""
    renderer = _PROGRESS.get()
    if renderer is not None:
        renderer(line.rstrip("\n"))


def run_b(
    argv: Sequence[str],
    *,
    check: bool = True,
    on_line: LineCallback | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    input_bytes: bytes | None = None,
    stdout_to: IO[bytes] | None = None,
    timeout: float | None = None,
    hint: str = "",
    stdin_when: Callable[[], bytes] | None = None,
) -> ResultB:
    """Run `argv` in bytes mode; with `on_line`, each stderr line goes to it as it comes.

    `stdout_to` (an open binary file) takes stdout instead of memory: `docker save` archives.
    `stdin_when` (streamed commands only) starts the program at once and gives it its stdin when
    the callable returns: the program's own start overlaps whatever the callable waits for, and
    when the callable raises, the program is killed before it read a byte.
    Raises EnvironmentProblem when the program is missing or the timeout passes, and
    CommandFailed on a non-zero exit (when `check`).  The child never outlives an exception
    (Ctrl-C, a closed pipe): it is killed first.
    """
    args = [str(a) for a in argv]
    stdout = subprocess.PIPE if stdout_to is None else stdout_to
    try:
        if on_line is None:
            assert stdin_when is None, "stdin_when needs a streamed command"
            result = _collected(args, cwd=cwd, env=env, stdout=stdout, timeout=timeout, input_bytes=input_bytes)
        else:
            result = _streamed(args, on_line, cwd=cwd, env=env, stdout=stdout, timeout=timeout, stdin_when=stdin_when)
    except FileNotFoundError as exc:
        msg = f"`{args[0]}` is not installed or not on PATH; install it (see `invoke env.up`)"
        raise EnvironmentProblem(msg) from exc
    except subprocess.TimeoutExpired as exc:
        msg = f"`{shlex.join(args[:3])}` did not finish within {timeout} s; check the daemon"
        raise EnvironmentProblem(msg) from exc
    if check and result.returncode != 0:
        raise CommandFailed(args, result.returncode, decode(result.stderr), hint)
    return result


def _collected(args: list[str], *, cwd: str | None, env: dict[str, str] | None, stdout: int | IO[bytes],
               timeout: float | None, input_bytes: bytes | None) -> ResultB:
    """The whole output at the end (what `subprocess.run` does, with `_child`'s ending)."""
    stdin = subprocess.DEVNULL if input_bytes is None else subprocess.PIPE
    with _child(args, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE) as proc:
        out, err = proc.communicate(input_bytes, timeout=timeout)
    return ResultB(tuple(args), proc.returncode, out or b"", err)


def _streamed(args: list[str], on_line: LineCallback, *, cwd: str | None, env: dict[str, str] | None,
              stdout: int | IO[bytes], timeout: float | None,
              stdin_when: Callable[[], bytes] | None = None) -> ResultB:
    """Popen with stderr read line by line; stdout drained by a thread so neither pipe fills."""
    out: list[bytes] = []
    err: list[bytes] = []
    stdin = subprocess.DEVNULL if stdin_when is None else subprocess.PIPE
    with _child(args, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE) as proc:
        pipe = proc.stdout
        # (a daemon thread: a grandchild holding stdout open cannot hang us)
        drain = None if pipe is None else threading.Thread(target=lambda: out.append(pipe.read()), daemon=True)
        if drain is not None:
            drain.start()
        if stdin_when is not None:  # stderr waits meanwhile: a program waiting for its input writes little
            assert proc.stdin is not None
            data = stdin_when()
            try:
                proc.stdin.write(data)
                proc.stdin.close()
            except BrokenPipeError:  # it exited first: its stderr and exit code say why
                pass
        assert proc.stderr is not None
        for raw in proc.stderr:
            err.append(raw)
            on_line(decode(raw).rstrip("\n"))
        proc.wait(timeout=timeout)
        if drain is not None:
            drain.join()
    return ResultB(tuple(args), proc.returncode, b"".join(out), b"".join(err))


# --- ending a command and everything it started -----------------------------------------------

# How long a command may take to end on the signal we were sent before it is killed.  A buildx
# build cancelled with SIGINT or SIGTERM ended 0.05-0.08 s after the signal (tests/e2e/
# test_faults.py, Docker 20.10); the daemon cancels a build whose client is gone in any case.
GRACE_SECONDS = 10.0
KILLED_SECONDS = 5.0


# The process groups of the commands running now, in every thread; and the groups that `forward`
# already sent the signal being handled.  (Plain sets: each operation is atomic under the
# interpreter lock, and `forward` runs in a signal handler, where a lock could deadlock.)
_RUNNING: set[int] = set()
_FORWARDED: set[int] = set()


def forward(signum: int) -> None:
    """Send `signum` to every running command's group, in whichever thread it runs.

    The CLI's signal handlers call this before raising: a command in a worker thread (an image
    read beside a build) gets the signal at once, as it got the terminal's Ctrl-C when it shared
    our process group, instead of running to its end while the main thread waits for the thread."""
    for pgid in list(_RUNNING):
        _FORWARDED.add(pgid)
        _signal_group(pgid, signal.Signals(signum))


@contextmanager
def _child(args: list[str], **popen: object) -> Iterator[subprocess.Popen[bytes]]:
    """A process in a group of its own, ended with everything it started if the block raises.

    Its own group, because a terminal's Ctrl-C (or a SIGTERM to our group) would otherwise reach
    the buildx plugin directly while we kill only the docker CLI, and our exit would race the
    plugin's: the grandchild outlived us.  Now the signal reaches it through us (`forward`) and
    we wait for the whole group."""
    proc = subprocess.Popen(args, process_group=0, **popen)  # type: ignore[call-overload]
    _RUNNING.add(proc.pid)
    try:
        yield proc
    except BaseException as exc:  # Ctrl-C, SIGTERM, a closed pipe, a timeout, a failing callback
        _end_group(proc, _ended_with(exc))
        raise
    finally:
        _RUNNING.discard(proc.pid)
        _FORWARDED.discard(proc.pid)
        for each in (proc.stdin, proc.stdout, proc.stderr):
            if each is not None:
                with suppress(OSError):
                    each.close()


def _ended_with(exc: BaseException) -> signal.Signals:
    """The signal the command gets: the one we were sent (it may end cleanly: buildx cancels the
    build on SIGINT), else SIGKILL (nothing it does now matters)."""
    return signal_of(exc) or signal.SIGKILL


def _end_group(proc: subprocess.Popen[bytes], first: signal.Signals) -> None:
    """Send `first` to the command's group and wait for the group to be gone; SIGKILL it if the
    grace passes or a second Ctrl-C comes."""
    try:
        if first == signal.SIGKILL or proc.pid not in _FORWARDED:  # (a handler may have sent it already)
            _signal_group(proc.pid, first)
        if first != signal.SIGKILL and _wait_group(proc, GRACE_SECONDS):
            return
    except (KeyboardInterrupt, Terminated):
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    _wait_group(proc, KILLED_SECONDS)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_group(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """True once the command has been reaped and no live process is left in its group."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Is any process of group `pgid` still running?  From /proc on Linux, where a zombie does not
    count (an orphan's reaper may never collect it: in containers PID 1 often is no init);
    elsewhere, whether the group exists at all."""
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except FileNotFoundError:
        try:
            os.killpg(pgid, 0)  # (PermissionError: it exists, someone else's)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def docker(docker_context: str = "") -> list[str]:
    """The docker CLI aimed at `docker_context` (`docker --context NAME`; the flag beats DOCKER_HOST),
    or at whatever DOCKER_HOST/the current context names when empty."""
    return ["docker", "--context", docker_context] if docker_context else ["docker"]


def decode(data: bytes) -> str:
    """Text as text mode gives it: UTF-8 with bad bytes replaced, universal newlines."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    stream: bool = False,
    on_line: LineCallback | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
    hint: str = "",
    stdin_when: Callable[[], bytes] | None = None,
) -> Result:
    """`run_b`, decoded.  `on_line` streams stderr lines to it; `stream=True` without one streams
    them to the renderer installed with `progress_to` (nothing installed: nothing shown)."""
    sink = on_line if on_line is not None else (_PROGRESS.get() if stream else None)
    if stdin_when is not None and sink is None:
        sink = _ignore  # stdin_when is for streamed commands: stream to nowhere
    result = run_b(argv, check=check, on_line=sink, cwd=cwd, env=env, timeout=timeout, hint=hint,
                   input_bytes=None if input_text is None else input_text.encode("utf-8"), stdin_when=stdin_when)
    return Result(result.argv, result.returncode, decode(result.stdout), decode(result.stderr))


def _ignore(line: str) -> None:
    """A progress sink that keeps nothing (the lines are in the result's stderr)."""


def call(argv: Sequence[str], *, cwd: str | None = None) -> int:
    """Run `argv` on the terminal's own stdin/stdout/stderr (a script that talks to the user);
    its exit code.  The child is killed if we are interrupted first."""
    args = [str(a) for a in argv]
    try:
        return subprocess.call(args, cwd=cwd)
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"`{args[0]}` is not installed or not on PATH; install it") from exc

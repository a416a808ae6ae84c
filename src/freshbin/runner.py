"""The one place external commands run: argument lists only, never a shell string.

pre-commit's shape: `run_b` runs a command in bytes mode (image archives, `docker cp` tarballs)
and `run`, the text mode, is built on it, so nothing else needs `subprocess`.  pypa/build's shape
for progress: a streamed command hands each line of its stderr to a callback and never writes to
the terminal itself; `stream=True` without a callback uses the renderer the tasks installed with
`progress_to` (none installed: the lines are only kept).
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Callable, Iterator, Sequence

from .errors import CommandFailed, EnvironmentProblem

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
            proc = subprocess.run(
                args, cwd=cwd, env=env, input=input_bytes, timeout=timeout, stdout=stdout, stderr=subprocess.PIPE,
                stdin=None if input_bytes is not None else subprocess.DEVNULL,
            )
            result = ResultB(tuple(args), proc.returncode, proc.stdout or b"", proc.stderr)
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


def _streamed(args: list[str], on_line: LineCallback, *, cwd: str | None, env: dict[str, str] | None,
              stdout: int | IO[bytes], timeout: float | None,
              stdin_when: Callable[[], bytes] | None = None) -> ResultB:
    """Popen with stderr read line by line; stdout drained by a thread so neither pipe fills."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL if stdin_when is None else subprocess.PIPE,
                            stdout=stdout, stderr=subprocess.PIPE)
    out: list[bytes] = []
    err: list[bytes] = []
    pipe = proc.stdout
    drain = None if pipe is None else threading.Thread(target=lambda: out.append(pipe.read()), daemon=True)
    try:
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
    except BaseException:  # Ctrl-C, a closed pipe, a failing callback: never leave the child running
        proc.kill()  # (the drain thread is a daemon: a grandchild holding stdout cannot hang us)
        proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
        raise
    for each in (proc.stdout, proc.stderr):
        if each is not None:
            each.close()
    return ResultB(tuple(args), proc.returncode, b"".join(out), b"".join(err))


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

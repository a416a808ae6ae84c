"""The one place external commands run: argument lists only, never a shell string."""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Sequence

from .errors import CommandFailed, EnvironmentProblem


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    stream: bool = False,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
    hint: str = "",
) -> Result:
    """Run `argv`; with `stream`, the child's stderr goes to ours (build progress) and is kept.

    Raises EnvironmentProblem when the program is missing and CommandFailed on a non-zero exit
    (when `check`).
    """
    argv = [str(a) for a in argv]
    try:
        if stream:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, errors="replace",
            )
            stderr_lines = []
            assert proc.stderr is not None and proc.stdout is not None
            try:
                for line in proc.stderr:
                    sys.stderr.write(line)
                    stderr_lines.append(line)
                stdout = proc.stdout.read()
                proc.wait(timeout=timeout)
            except BaseException:  # Ctrl-C, a closed pipe: never leave the child running
                proc.kill()
                proc.wait()
                raise
            result = Result(tuple(argv), proc.returncode, stdout, "".join(stderr_lines))
        else:
            proc = subprocess.run(
                argv, cwd=cwd, env=env, text=True, capture_output=True, errors="replace",
                input=input_text, timeout=timeout,
                stdin=None if input_text is not None else subprocess.DEVNULL,
            )
            result = Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)
    except FileNotFoundError as exc:
        msg = f"`{argv[0]}` is not installed or not on PATH; install it (see `invoke env.up`)"
        raise EnvironmentProblem(msg) from exc
    except subprocess.TimeoutExpired as exc:
        msg = f"`{shlex.join(argv[:3])}` did not finish within {timeout} s; check the daemon"
        raise EnvironmentProblem(msg) from exc
    if check and result.returncode != 0:
        raise CommandFailed(argv, result.returncode, result.stderr, hint)
    return result

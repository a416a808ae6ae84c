"""The one runner: bytes and text mode, streamed progress to a callback, the errors it raises.

Killing the child on Ctrl-C during a real build is tested end to end in tests/e2e/test_faults.py.
"""

from __future__ import annotations

import re
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from freshbin import runner
from freshbin.errors import CommandFailed, EnvironmentProblem, Terminated

PACKAGE = Path(runner.__file__).resolve().parent
PY = sys.executable


def _py(code: str) -> list[str]:
    return [PY, "-c", code]


def test_bytes_mode_keeps_every_byte():
    result = runner.run_b(_py("import sys; sys.stdout.buffer.write(bytes(range(256)))"))
    assert result.stdout == bytes(range(256))
    assert result.returncode == 0


def test_bytes_mode_writes_stdout_to_a_file(tmp_path):
    target = tmp_path / "out.bin"
    with open(target, "wb") as out:
        result = runner.run_b(_py("import sys; sys.stdout.buffer.write(b'\\x00\\xff' * 100000)"), stdout_to=out)
    assert result.stdout == b""
    assert target.read_bytes() == b"\x00\xff" * 100000


def test_text_mode_decodes_replaces_bad_bytes_and_translates_newlines():
    result = runner.run(_py("import sys; sys.stdout.buffer.write(b'caf\\xc3\\xa9\\r\\nbad \\xff\\n')"))
    assert result.stdout == "café\nbad \ufffd\n"


def test_text_mode_feeds_input():
    assert runner.run(_py("import sys; print(sys.stdin.read().upper())"), input_text="hé").stdout == "HÉ\n"


def test_failure_carries_argv_code_and_stderr():
    with pytest.raises(CommandFailed) as caught:
        runner.run(_py("import sys; sys.stderr.write('first\\nthe reason\\n'); sys.exit(3)"), hint="do this")
    exc = caught.value
    assert exc.argv[:2] == [PY, "-c"] and exc.returncode == 3
    assert exc.stderr == "first\nthe reason\n"
    assert str(exc).endswith("failed (exit 3): the reason; do this")


def test_check_false_returns_the_failure():
    result = runner.run(_py("raise SystemExit(4)"), check=False)
    assert result.returncode == 4


def test_missing_program_is_an_environment_problem():
    with pytest.raises(EnvironmentProblem, match="`no-such-program-freshbin` is not installed"):
        runner.run(["no-such-program-freshbin", "x"])
    with pytest.raises(EnvironmentProblem, match="not installed"):
        runner.call(["no-such-program-freshbin"])


def test_timeout_is_an_environment_problem():
    with pytest.raises(EnvironmentProblem, match="did not finish within 0.2 s"):
        runner.run(_py("import time; time.sleep(5)"), timeout=0.2)


LOUD = ("import sys\n"
        "for i in range(3): sys.stderr.write(f'step {i}\\n'); sys.stderr.flush()\n"
        "sys.stdout.write('x' * 200000)\n"  # more than a pipe holds: stdout must be drained meanwhile
        "sys.stderr.write('last, no newline')\n")


def test_streaming_hands_each_stderr_line_to_the_callback_and_keeps_both_outputs():
    lines: list[str] = []
    result = runner.run(_py(LOUD), on_line=lines.append)
    assert lines == ["step 0", "step 1", "step 2", "last, no newline"]
    assert result.stderr == "step 0\nstep 1\nstep 2\nlast, no newline"
    assert result.stdout == "x" * 200000


def test_stream_without_callback_uses_the_installed_renderer_and_nothing_else():
    seen: list[str] = []
    runner.run(_py(LOUD), stream=True)  # nothing installed: nothing shown, nothing fails
    with runner.progress_to(seen.append):
        runner.run(_py(LOUD), stream=True)
        runner.run(_py(LOUD))  # not streamed: the renderer is not called
    assert seen == ["step 0", "step 1", "step 2", "last, no newline"]
    runner.run(_py(LOUD), stream=True)
    assert len(seen) == 4  # the block ended: uninstalled


def test_streamed_failure_raises_command_failed():
    with pytest.raises(CommandFailed) as caught:
        runner.run(_py("import sys; sys.stderr.write('boom\\n'); sys.exit(2)"), on_line=lambda line: None)
    assert caught.value.returncode == 2 and caught.value.stderr == "boom\n"


def test_a_failing_callback_kills_the_child(tmp_path):
    marker = tmp_path / "survived"
    code = f"import sys, time; sys.stderr.write('go\\n'); sys.stderr.flush(); time.sleep(2); open({str(marker)!r}, 'w')"

    def closed_pipe(line: str) -> None:
        raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        runner.run(_py(code), on_line=closed_pipe)
    time.sleep(2.5)
    assert not marker.exists()


# --- a command that starts a process of its own, as `docker buildx` starts the buildx plugin ---

GRANDCHILD = """
import os, signal, sys, time
where = sys.argv[1]
def cancel(*_):  # a graceful cancel, as buildx cancels its build on SIGINT
    time.sleep(0.3)
    open(os.path.join(where, "cancelled"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[2] == "stubborn" else cancel)
open(os.path.join(where, "pid.tmp"), "w").write(str(os.getpid()))
os.rename(os.path.join(where, "pid.tmp"), os.path.join(where, "pid"))
time.sleep(30)
"""

PARENT = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]])
while not os.path.exists(os.path.join(sys.argv[2], "pid")):
    time.sleep(0.01)
sys.stderr.write("started\\n"); sys.stderr.flush()
time.sleep(30)
"""


def _family(tmp_path: Path, kind: str = "graceful") -> list[str]:
    return [PY, "-c", PARENT, GRANDCHILD, str(tmp_path), kind]


def _running(tmp_path: Path) -> bool:
    """Is the grandchild still running (a zombie nobody reaps does not count)?"""
    pid = (tmp_path / "pid").read_text()
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in (b"Z", b"X")


def _raise_on_start(exc: BaseException):
    def on_line(line: str) -> None:
        if line == "started":
            raise exc
    return on_line


def test_ctrl_c_reaches_the_grandchild_and_is_waited_for(tmp_path):
    """The docker CLI dies on SIGINT at once; the buildx plugin it started cancels its build first.
    We return only when the plugin has ended (it outlived us before: tests/e2e/test_faults.py)."""
    with pytest.raises(KeyboardInterrupt):
        runner.run(_family(tmp_path), on_line=_raise_on_start(KeyboardInterrupt()))
    assert (tmp_path / "cancelled").exists(), "the grandchild was not sent SIGINT, or not waited for"
    assert not _running(tmp_path)


def test_sigterm_is_forwarded_as_sigterm(tmp_path):
    with pytest.raises(Terminated):
        runner.run(_family(tmp_path), on_line=_raise_on_start(Terminated(signal.SIGTERM)))
    assert not _running(tmp_path)
    assert not (tmp_path / "cancelled").exists()  # SIGTERM, not SIGINT: the default action ends it


def test_a_grandchild_that_ignores_ctrl_c_is_killed_after_the_grace(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "GRACE_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner.run(_family(tmp_path, "stubborn"), on_line=_raise_on_start(KeyboardInterrupt()))
    assert not _running(tmp_path)
    assert time.monotonic() - started < 5


def test_any_other_failure_kills_the_whole_family_at_once(tmp_path):
    with pytest.raises(BrokenPipeError):
        runner.run(_family(tmp_path), on_line=_raise_on_start(BrokenPipeError()))
    assert not _running(tmp_path)
    assert not (tmp_path / "cancelled").exists()  # SIGKILL: no graceful cancel


def test_forward_reaches_a_command_running_in_another_thread(tmp_path):
    """The CLI's Ctrl-C handler forwards the signal to every running command: one in a worker
    thread (an image read beside a build) ends at once instead of running to its end."""
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(runner.run, _family(tmp_path), check=False, on_line=lambda line: None)
        while not (tmp_path / "pid").exists():
            assert time.monotonic() - started < 20, "the family never started"
            time.sleep(0.01)
        runner.forward(signal.SIGINT)
        result = future.result(timeout=20)
    assert result.returncode != 0  # the parent died of its KeyboardInterrupt
    assert (tmp_path / "cancelled").exists() and not _running(tmp_path)
    assert time.monotonic() - started < 20


def test_a_timeout_kills_the_whole_family(tmp_path):
    with pytest.raises(EnvironmentProblem, match="did not finish within 1 s"):
        runner.run(_family(tmp_path), timeout=1)
    assert not _running(tmp_path)


def _package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_runner_imports_subprocess():
    offenders = [str(p.relative_to(PACKAGE)) for p in _package_files()
                 if p.name != "runner.py" and re.search(r"^\s*(import subprocess|from subprocess )", p.read_text(), re.M)]
    assert offenders == []


def test_only_report_and_tasks_write_to_the_terminal():
    writes = re.compile(r"\bprint\(|sys\.(stdout|stderr)\b")
    offenders = [f"{p.relative_to(PACKAGE)}:{n}" for p in _package_files()
                 if p.name != "report.py" and "tasks" not in p.relative_to(PACKAGE).parts
                 for n, line in enumerate(p.read_text().splitlines(), 1) if writes.search(line)]
    assert offenders == []


def test_only_the_tasks_use_the_renderer_module():
    """report.py is the tasks' side; the core hands progress to runner.progress instead."""
    uses = re.compile(r"^\s*(from \.+ import .*\breport\b|from \.+report import|import freshbin\.report)", re.M)
    offenders = [str(p.relative_to(PACKAGE)) for p in _package_files()
                 if p.name != "report.py" and "tasks" not in p.relative_to(PACKAGE).parts and uses.search(p.read_text())]
    assert offenders == []


def test_core_progress_events_reach_the_installed_renderer():
    from freshbin import runner
    seen: list[str] = []
    runner.progress("not shown: no renderer")
    with runner.progress_to(seen.append):
        runner.progress("verify: reference build\n")
    assert seen == ["verify: reference build"]


STARTED_THEN_READS = ("import sys, pathlib; pathlib.Path(sys.argv[1]).write_text('started');"
                      "data = sys.stdin.read(); sys.stderr.write('got ' + data + '\\n');"
                      "pathlib.Path(sys.argv[1]).write_text('read ' + data)")


def test_stdin_when_starts_the_program_first_and_feeds_it_when_the_callable_returns(tmp_path):
    """The program runs while the callable waits (deploy: buildx starts during the tag check)."""
    marker = tmp_path / "marker"

    def ready() -> bytes:
        deadline = time.monotonic() + 10
        while not marker.exists():  # the program is running before its input exists
            assert time.monotonic() < deadline, "the program did not start before its input was given"
            time.sleep(0.01)
        return b"the Dockerfile"

    lines: list[str] = []
    result = runner.run([PY, "-c", STARTED_THEN_READS, str(marker)], on_line=lines.append, stdin_when=ready)
    assert lines == ["got the Dockerfile"] and marker.read_text() == "read the Dockerfile"
    # without a progress callback it streams to nowhere and still feeds stdin
    assert runner.run([PY, "-c", STARTED_THEN_READS, str(marker)], stdin_when=lambda: b"x").stderr == "got x\n"


def test_stdin_when_raising_kills_the_program_before_it_reads_anything(tmp_path):
    """A refused tag: buildx is killed without ever getting its Dockerfile."""
    marker = tmp_path / "marker"

    def refuse() -> bytes:
        deadline = time.monotonic() + 10
        while not marker.exists():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        raise ValueError("the tag holds another commit")

    with pytest.raises(ValueError, match="another commit"):
        runner.run([PY, "-c", STARTED_THEN_READS, str(marker)], on_line=lambda line: None, stdin_when=refuse)
    time.sleep(0.2)
    assert marker.read_text() == "started"  # killed while waiting for stdin: it never read a byte

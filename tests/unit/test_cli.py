"""The CLI as a newcomer meets it: every flag has help, --help runs nothing, JSON matches the docs."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from freshbin.deploy import DeployResult

from ..conftest import FRESHBIN
from freshbin.tasks import ns
from freshbin.verify import VerifyResult

ROOT = Path(__file__).resolve().parents[2]
TASKS = sorted(ns.task_names)


@pytest.mark.parametrize("name", TASKS)
def test_every_flag_has_a_one_line_help(name):
    task = ns[name]
    assert (task.__doc__ or "").strip(), f"{name} has no docstring (the --list line)"
    for arg in task.get_arguments():
        assert arg.help and "\n" not in arg.help, f"{name} --{arg.name} has no help"


@pytest.mark.parametrize("name", TASKS)
def test_help_prints_and_runs_nothing(name, tmp_path):
    # No docker, no git on PATH: if --help ran anything, it would fail.
    proc = subprocess.run([*FRESHBIN, name, "--help"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PATH": str(tmp_path)})
    assert proc.returncode == 0 and proc.stdout.startswith("Usage:"), proc.stderr
    assert list(tmp_path.iterdir()) == []


def documented_fields(doc: str, marker: str) -> set[str]:
    """Top-level names in the docs' JSON field list: backticked words outside parentheses."""
    text = (ROOT / "docs" / doc).read_text().split(marker, 1)[1].lstrip("\n").split("\n\n", 1)[0]
    depth, top = 0, []
    for piece in re.split(r"([(){}])", text):
        if piece in "({" and piece:
            depth += 1
        elif piece in ")}" and piece:
            depth -= 1
        elif depth == 0:
            top.append(piece)
    return set(re.findall(r"`(\w+)`", " ".join(top)))


def test_deploy_json_fields_are_documented():
    fields = {f.name for f in dataclasses.fields(DeployResult)}
    assert documented_fields("deploy.md", "JSON fields:") == fields


def test_verify_json_fields_are_documented():
    result = VerifyResult("fresh", None, "c" * 40, "worker", False, [], {}, [], [])
    assert documented_fields("verify.md", "## JSON") == set(result.to_json())


def test_detect_json_fields_are_documented(example_repo):
    proc = subprocess.run([*FRESHBIN, "detect", "--json"], cwd=example_repo, capture_output=True, text=True)
    data = json.loads(proc.stdout)
    assert set(data) == documented_fields("detect.md", "JSON fields:")


def test_config_and_skill_json(example_repo, tmp_path):
    rows = json.loads(subprocess.run([*FRESHBIN, "config", "--json"], cwd=example_repo, capture_output=True,
                                     text=True).stdout)
    assert all(set(r) == {"key", "value", "source", "help"} for r in rows)
    installed = json.loads(subprocess.run([*FRESHBIN, "skill.install", "--dest", str(tmp_path), "--json"],
                                          capture_output=True, text=True).stdout)
    assert set(installed) == {"path", "action", "sha256"}


class _Tty:
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch):
    from freshbin import report

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert report.paint("x", "red", _Tty()) == "\x1b[31mx\x1b[0m"
    assert report.paint("x", "red", open(os.devnull, "w")) == "x"
    monkeypatch.setenv("NO_COLOR", "")
    assert report.paint("x", "red", _Tty()) == "x"


def test_doctor_task_severities_match_the_rules():
    from freshbin.doctor.rule import SEVERITIES
    from freshbin.tasks.doctor import SEVERITIES as TASK_SEVERITIES
    assert TASK_SEVERITIES == SEVERITIES


def test_help_imports_neither_git_nor_the_deploy_machinery():
    code = ("import sys; from freshbin.main import program; program.run(['freshbin', 'detect', '--help'], exit=False);"
            "heavy = [m for m in ('git', 'freshbin.deploy', 'freshbin.doctor', 'tabulate', 'oras') if m in sys.modules];"
            "print(heavy, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


@pytest.mark.parametrize("code, status, stderr", [(0, 0, ""), (None, 0, ""), (3, 3, ""), ("gone", 1, "gone\n")])
def test_the_cli_ends_with_its_code_and_its_output_flushed(code, status, stderr):
    """end_process skips the interpreter's teardown: what was printed must still arrive, and the
    exit status must be the one Python's own exit would give."""
    script = ("import sys; from freshbin.tasks.common import end_process; "
              f"print('{{\"a\": 1}}', end=''); sys.stderr.write(''); end_process({code!r})")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, '{"a": 1}', stderr)


def test_a_failing_task_through_the_cli_keeps_its_exit_code_and_message(tmp_path):
    proc = subprocess.run([*FRESHBIN, "detect", "--base", "no-such-ref"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("freshbin: error: ") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("signum, status, line", [
    ("SIGINT", 130, "freshbin: interrupted"),
    ("SIGTERM", 143, "freshbin: terminated (SIGTERM)"),
    ("SIGHUP", 129, "freshbin: terminated (SIGHUP)"),
])
def test_a_signal_before_any_task_runs_ends_with_one_line_and_its_code(signum, status, line):
    """The CLI's handlers are installed before invoke parses; a signal that arrives then (no task's
    error edge around it yet) still ends with the documented line and code, never a traceback."""
    script = ("import os, signal, time, invoke; from freshbin import main\n"
              "def parse_then_signalled(self, argv=None, exit=True):\n"
              f"    os.kill(os.getpid(), signal.{signum}); time.sleep(5)\n"
              "invoke.Program.run = parse_then_signalled\n"
              "main.program.run(['freshbin', '--help'])\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stderr, proc.stdout) == (status, line + "\n", "")

"""The docs name only commands, flags, config keys and tests that exist."""

import copy
import re
from pathlib import Path

import pytest

from freshbin import config
from freshbin.tasks import ns

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "skill.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"`(?:invoke|freshbin) ((?:[a-z][\w-]*\.)?[a-z][\w-]*)((?: +(?:--?[\w-]+(?:[ =][^\s`|]+)?|[^\s`|&;-][^\s`|;]*))*)")


def _task_flags(name: str) -> set[str]:
    task = copy.copy(ns[name])
    task.help = dict(task.help)  # invoke's get_arguments() pops the help texts it uses
    return {"--" + arg.replace("_", "-") for arg in task.get_arguments() for arg in [arg.name]} | {"--help"}


def _mentions():
    for doc in DOCS:
        in_code = False
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_code = not in_code
                continue
            for match in COMMAND.finditer("`" + line.lstrip("$ ") if in_code else line):
                yield doc.name, number, match.group(1), re.findall(r"--[\w-]+", match.group(2))


def test_every_named_command_and_flag_exists():
    problems = []
    for doc, number, name, flags in _mentions():
        if name in ("--list", "list"):
            continue
        if name not in ns.task_names:
            problems.append(f"{doc}:{number}: no task {name!r}")
            continue
        problems += [f"{doc}:{number}: {name} has no {f}" for f in flags if f not in _task_flags(name)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("task", ["detect", "deploy", "verify", "doctor"])
def test_flag_tables_match_the_task(task):
    text = (ROOT / "docs" / f"{task}.md").read_text()
    documented = set(re.findall(r"^\| `(--[\w-]+)`", text, re.M))
    assert documented == _task_flags(task) - {"--help"}


def test_config_reference_matches_the_defaults():
    text = (ROOT / "docs" / "configuration.md").read_text().split("## Flags and environment variables")[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert documented == set(config.DEFAULTS)


def test_cited_tests_exist():
    cited = set()
    for doc in DOCS:
        cited |= set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", doc.read_text()))
    assert cited
    for path, name in cited:
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{path}::{name} does not exist"


def test_the_demos_duration_is_one_number_everywhere():
    """`freshbin --help` (the demo's docstring), the README and getting started state one duration."""
    stated = {where: re.findall(r"about (\d+) s", text) for where, text in (
        ("--help", ns["demo"].__doc__ or ""), ("README.md", (ROOT / "README.md").read_text().split("freshbin demo", 1)[1][:80]),
        ("getting-started.md", (ROOT / "docs" / "getting-started.md").read_text().split("run `freshbin demo`", 1)[1][:40]))}
    assert all(stated.values()) and len({found[0] for found in stated.values()}) == 1, stated

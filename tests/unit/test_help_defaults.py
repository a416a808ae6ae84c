"""Every default a task's --help states is the real one: the configuration's for a flag that
overrides a config key, the task signature's for the others."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from freshbin import config
from freshbin.tasks import ns

ROOT = Path(__file__).resolve().parents[2]
STATED = re.compile(r"\(default:? ([^;),]*)")
FLAG_KEYS = {"build_arg": "build_args"}  # flags named unlike the config key they add to
# A task whose empty value means something of its own (it says so in its help and docs).
OWN_DEFAULTS = {("verify", "tag"): "the tag of the last deploy of --image and --target"}
NOT_CONFIG = {("demo", "build_arg"), ("history", "target")}  # same name, but they read no config


def flags():
    """Each task's flags, read from a copy: invoke's get_arguments() pops the help texts it uses."""
    for name in sorted(ns.task_names):
        task = copy.copy(ns[name])
        task.help = dict(task.help)
        for arg in task.get_arguments():
            yield name, arg


@pytest.mark.parametrize(("task", "arg"), list(flags()), ids=lambda v: v if isinstance(v, str) else v.name)
def test_help_states_the_real_default(task, arg):
    key = None if (task, arg.name) in NOT_CONFIG else FLAG_KEYS.get(arg.name, arg.name if arg.name in config.KEYS else None)
    stated = STATED.search(arg.help or "")
    if key is not None:
        expected = OWN_DEFAULTS.get((task, arg.name), config.KEYS[key].default_text)
        assert f"freshbin.{key}" in arg.help, f"{task} --{arg.name}: name the config key it overrides"
        if expected:
            assert stated and stated.group(1) == expected, f"{task} --{arg.name}: {arg.help!r} vs config {expected!r}"
        else:
            assert stated is None, f"{task} --{arg.name} states a default the config does not have"
    elif arg.default not in (None, "", False, 0, []):
        assert stated and stated.group(1) == str(arg.default), f"{task} --{arg.name}: {arg.help!r} vs {arg.default!r}"


@pytest.mark.parametrize("page", ["deploy", "verify"])
def test_the_flag_tables_state_the_config_defaults(page):
    """docs/deploy.md and verify.md: `| flag | config key | default | meaning |`."""
    rows = re.findall(r"^\| `--([\w-]+)` \| `(\w+)` \| ([^|]*) \|", (ROOT / "docs" / f"{page}.md").read_text(), re.M)
    assert rows
    for flag, key, cell in rows:
        expected = OWN_DEFAULTS.get((page, flag.replace("-", "_")), config.KEYS[key].default_text)
        if isinstance(config.KEYS[key].default, str) and expected:
            assert cell.strip().strip("`") == expected, f"docs/{page}.md --{flag}: {cell!r} vs {expected!r}"

"""Configuration precedence for every key: default < file < env < flag; wrong keys and types fail."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from invoke import Config, Context

from freshbin import config
from freshbin.errors import UsageError
from freshbin.tasks.common import pick

from ..conftest import FRESHBIN


def value_for(key: config.Key, layer: str):
    if key.type is list:
        return [f"{layer}-a/", f"{layer}-b/"]
    if key.type is dict:
        return {"LAYER": layer}
    return f"{layer}-{key.name}"


def env_text(value) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def freshbin_config(cwd: Path, env: dict[str, str]) -> dict[str, dict]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHBIN_", "INVOKE_FRESHBIN_"))}
    proc = subprocess.run([*FRESHBIN, "config", "--json"], cwd=cwd, capture_output=True, text=True,
                          env={**clean, **env})
    assert proc.returncode == 0, proc.stderr
    return {row["key"]: row for row in json.loads(proc.stdout)}


def test_every_key_default_then_file_then_env(tmp_path):
    defaults = freshbin_config(tmp_path, {})
    assert {k: r["value"] for k, r in defaults.items()} == config.DEFAULTS
    assert {r["source"] for r in defaults.values()} == {"default"}

    file_values = {k.name: value_for(k, "file") for k in config.SCHEMA}
    (tmp_path / "freshbin.yaml").write_text(yaml.safe_dump({"freshbin": file_values}))
    from_file = freshbin_config(tmp_path, {})
    for key in config.SCHEMA:
        assert from_file[key.name]["value"] == file_values[key.name]
        assert from_file[key.name]["source"] == f"project file {tmp_path / 'freshbin.yaml'}"

    env = {f"FRESHBIN_{k.name.upper()}": env_text(value_for(k, "env")) for k in config.SCHEMA}
    from_env = freshbin_config(tmp_path, env)
    for key in config.SCHEMA:
        assert from_env[key.name]["value"] == value_for(key, "env")
        assert from_env[key.name]["source"] == f"env FRESHBIN_{key.name.upper()}"


def test_invoke_env_layer_sits_between_file_and_freshbin_env(tmp_path):
    (tmp_path / "freshbin.yaml").write_text("freshbin:\n  target: from-file\n  image: from-file\n")
    rows = freshbin_config(tmp_path, {"INVOKE_FRESHBIN_TARGET": "from-invoke-env",
                                      "INVOKE_FRESHBIN_IMAGE": "from-invoke-env", "FRESHBIN_IMAGE": "from-env"})
    assert rows["target"]["value"] == "from-invoke-env" and rows["target"]["source"] == "env INVOKE_FRESHBIN_TARGET"
    assert rows["image"]["value"] == "from-env" and rows["image"]["source"] == "env FRESHBIN_IMAGE"


@pytest.mark.parametrize("key", config.SCHEMA, ids=lambda k: k.name)
def test_a_flag_beats_env_beats_file_beats_default(monkeypatch, key):
    for name in list(os.environ):
        if name.startswith("FRESHBIN_"):
            monkeypatch.delenv(name)
    ctx = Context(Config(defaults={"freshbin": dict(config.DEFAULTS)}))
    assert pick(None, ctx, key.name) == key.default
    ctx = Context(Config(defaults={"freshbin": dict(config.DEFAULTS)},
                         overrides={"freshbin": {key.name: value_for(key, "file")}}))
    assert pick(None, ctx, key.name) == value_for(key, "file")
    monkeypatch.setenv(f"FRESHBIN_{key.name.upper()}", env_text(value_for(key, "env")))
    assert pick(None, ctx, key.name) == value_for(key, "env")
    assert pick(value_for(key, "flag"), ctx, key.name) == value_for(key, "flag")


def test_env_lists_and_dicts_also_take_the_short_form():
    values = config.env_overrides({"FRESHBIN_WATCH": "crates/, bin/", "FRESHBIN_BUILD_ARGS": "A=1,B=two",
                                   "FRESHBIN_DEBUG": "1", "OTHER": "x"})
    assert values == {"watch": ["crates/", "bin/"], "build_args": {"A": "1", "B": "two"}}


@pytest.mark.parametrize("environ, message", [
    ({"FRESHBIN_IMGAE": "x"}, "unknown environment variable FRESHBIN_IMGAE"),
    ({"FRESHBIN_WATCH": "[1, "}, "FRESHBIN_WATCH is not valid JSON"),
    ({"FRESHBIN_WATCH": '{"a": 1}'}, "FRESHBIN_WATCH must be a JSON list"),
    ({"FRESHBIN_BUILD_ARGS": "novalue"}, "NAME=value pairs"),
])
def test_bad_env_is_one_clear_error(environ, message):
    with pytest.raises(UsageError, match=message):
        config.env_overrides(environ)


@pytest.mark.parametrize("text, message", [
    ("freshbin:\n  imagee: x\n", "unknown freshbin config key 'imagee'"),
    ("freshbin:\n  watch: bin/\n", "freshbin.watch must be a list"),
    ("freshbin:\n  build_args: [1]\n", "freshbin.build_args must be a dict"),
    ("freshbin:\n  target: 3\n", "freshbin.target must be a str"),
    ("freshbin: [\n", "cannot read the configuration"),
])
def test_wrong_keys_and_types_in_the_file_exit_2_with_one_line(tmp_path, text, message):
    (tmp_path / "freshbin.yaml").write_text(text)
    proc = subprocess.run([*FRESHBIN, "config"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

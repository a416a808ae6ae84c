"""The configuration schema: one table of keys, defaults, types and help.

Tasks read `c.freshbin.<key>`; a flag beats config, config beats the default.  Values come
from invoke's config system (invoke.yaml `freshbin:` section, INVOKE_FRESHBIN_* env vars) or,
for the `freshbin` CLI, freshbin.yaml and FRESHBIN_* env vars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import UsageError


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    type: type
    help: str


SCHEMA: tuple[Key, ...] = (
    Key("workspace", ".", str, "Cargo workspace root (directory holding the workspace Cargo.toml)"),
    Key("watch", ["crates/", "bin/"], list, "source paths, relative to the workspace, whose changes trigger a rebuild"),
    Key("image", "", str, "image repository to deploy, e.g. 127.0.0.1:5000/acme/api"),
    Key("tag", "", str, "image tag (default: the short commit)"),
    Key("platform", "linux/amd64", str, "buildx --platform"),
    Key("target", "api", str, "Dockerfile stage to build and ship"),
    Key("dockerfile", "Dockerfile", str, "Dockerfile path, relative to the workspace"),
    Key("context", ".", str, "build context, relative to the workspace"),
    Key("builder", "", str, "buildx builder name (default: the current builder)"),
    Key("build_args", {}, dict, "build arguments, NAME: value"),
    Key("strategy", "guard", str, "deploy strategy: guard, no-cache or cached"),
    Key("ledger", ".freshbin/deploys.jsonl", str, "deploy ledger (JSON Lines), relative to the workspace"),
    Key("binary_path", "", str, "path of the shipped binary inside the image (default: entrypoint/cmd)"),
)
DEFAULTS: dict[str, Any] = {k.name: k.default for k in SCHEMA}
KEYS = {k.name: k for k in SCHEMA}


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """Check names and types of a `freshbin` config section; return it merged over the defaults."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise UsageError(
            f"unknown freshbin config key {unknown[0]!r}; valid keys: {', '.join(sorted(KEYS))}"
        )
    merged = dict(DEFAULTS)
    for name, value in values.items():
        key = KEYS[name]
        if not isinstance(value, key.type):
            raise UsageError(
                f"config key freshbin.{name} must be a {key.type.__name__}, got {type(value).__name__} {value!r}"
            )
        merged[name] = value
    if not all(isinstance(w, str) and w for w in merged["watch"]):
        raise UsageError("config key freshbin.watch must be a list of non-empty paths, e.g. ['crates/', 'bin/']")
    return merged


def settings(ctx) -> dict[str, Any]:
    """The validated `freshbin` section of an invoke Context (defaults when absent)."""
    section = ctx.config.get("freshbin", {}) if ctx is not None else {}
    return validate(dict(section))

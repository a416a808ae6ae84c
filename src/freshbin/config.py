"""The configuration schema: one table of keys, defaults, types and help.

Precedence, lowest first: the defaults (`ns.configure`), config files (`invoke.yaml` for
`invoke`, `freshbin.yaml` for the `freshbin` CLI: system, user, project, each a `freshbin:`
section), `INVOKE_FRESHBIN_<KEY>` (invoke's env layer), a runtime file (`-f`),
`FRESHBIN_<KEY>` environment variables, and last the task's flags.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from .errors import UsageError

if TYPE_CHECKING:
    from invoke import Config, Context


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    type: type
    help: str
    shown: str = ""  # how an empty default reads in --help and the docs ("the last stage")
    whole: bool = False  # a list whose FRESHBIN_ value is one item unless JSON (its items hold commas)

    @property
    def default_text(self) -> str:
        """The default as --help states it: the value, or what an empty one means ("" when none)."""
        return self.shown or ("" if self.default in ("", [], {}) else str(self.default))


SCHEMA: tuple[Key, ...] = (
    Key("workspace", ".", str, "Cargo workspace root (directory holding the workspace Cargo.toml)"),
    Key("watch", [], list, "paths, relative to the workspace, whose changes trigger a no-cache rebuild "
        "(default: every package's sources)"),
    Key("image", "", str, "image repository to deploy, e.g. 127.0.0.1:5000/acme/api"),
    Key("tag", "", str, "image tag (default: the short commit)", "the short commit"),
    Key("platform", "linux/amd64", str, "buildx --platform"),
    Key("target", "", str, "Dockerfile stage to build and ship (default: the last stage)", "the last stage"),
    Key("dockerfile", "Dockerfile", str, "Dockerfile path, relative to the workspace"),
    Key("context", ".", str, "build context, relative to the workspace"),
    Key("builder", "", str, "buildx builder name (default: the current builder)", "the current builder"),
    Key("docker_context", "", str, "Docker context whose engine builds and pushes (`docker --context NAME buildx "
        "build`); the image is then read through the registry (default: DOCKER_HOST / the current context)",
        "DOCKER_HOST / the current context"),
    Key("build_args", {}, dict, "build arguments, NAME: value"),
    Key("cache", "", str, "build cache short form: registry (IMAGE:buildcache, read and written, mode=max) or gha",
        "none"),
    Key("cache_from", [], list, "buildx --cache-from specs the deploy (and verify's cached build) import, "
        "e.g. type=registry,ref=REGISTRY/IMAGE:buildcache", whole=True),
    Key("cache_to", [], list, "buildx --cache-to specs the deploy exports, e.g. "
        "type=registry,ref=REGISTRY/IMAGE:buildcache,mode=max", whole=True),
    Key("strategy", "guard", str, "deploy strategy: guard, no-cache, cached or no-cache-filter"),
    Key("ledger", ".freshbin/deploys.jsonl", str, "deploy ledger (JSON Lines), relative to the workspace"),
    Key("binary_path", "", str, "path of the shipped binary inside the image (default: entrypoint/cmd)"),
    Key("moving_tags", ["latest"], list, "tags deploy may move to another commit without --force"),
    Key("tracked_tag", "", str, "tag whose image is the previous deploy (default: freshbin.tag if it is a moving "
        "tag, else the newest record in the registry)"),
)
DEFAULTS: dict[str, Any] = {k.name: k.default for k in SCHEMA}
KEYS = {k.name: k for k in SCHEMA}


def flag_help(key: str, text: str, *, default: str = "") -> str:
    """A task flag's help for config key `key`: `text (default D; freshbin.KEY)`, D the config's
    default (a task whose empty value means something else names it in `default`), so --help and
    the configuration cannot disagree (tests/unit/test_help_defaults.py reads both)."""
    shown = default or KEYS[key].default_text
    return f"{text} ({f'default {shown}; ' if shown else ''}freshbin.{key})"


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


ENV_PREFIX = "FRESHBIN_"
NOT_CONFIG_ENV = {"FRESHBIN_DEBUG"}  # switches, not config keys


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`FRESHBIN_<KEY>` variables, parsed by the key's type; unknown names are errors (typos)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_CONFIG_ENV:
            continue
        key = KEYS.get(name[len(ENV_PREFIX):].lower())
        if key is None:
            valid = ", ".join(ENV_PREFIX + k.upper() for k in sorted(KEYS))
            raise UsageError(f"unknown environment variable {name}; valid: {valid}")
        values[key.name] = [raw.strip()] if key.whole and not raw.strip().startswith("[") and raw.strip() \
            else _parse_env(name, raw, key.type)
    return values


def _parse_env(name: str, raw: str, kind: type) -> Any:
    if kind is str:
        return raw
    if raw.strip().startswith(("[", "{")):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name} is not valid JSON ({exc.msg}); e.g. {name}='{_example(kind)}'") from exc
        if not isinstance(value, kind):
            raise UsageError(f"{name} must be a JSON {kind.__name__}, e.g. {name}='{_example(kind)}'")
        return value
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if kind is list:
        return items
    pairs = [item.partition("=") for item in items]
    if any(not sep or not k for k, sep, _ in pairs):
        raise UsageError(f"{name} must be NAME=value pairs separated by commas, or a JSON object")
    return {k: v for k, _, v in pairs}


def _example(kind: type) -> str:
    return '["crates/", "bin/"]' if kind is list else '{"BUILDER": "localhost/rust-builder:bookworm"}'


def settings(ctx: Context | None) -> dict[str, Any]:
    """The validated `freshbin` settings: invoke's merged config, then FRESHBIN_* env vars."""
    section = dict(ctx.config.get("freshbin", {})) if ctx is not None else {}
    section.update(env_overrides())
    return validate(section)


def explain(ctx: Context) -> list[dict[str, Any]]:
    """Every key's effective value and the layer it came from (for `freshbin config`)."""
    values = settings(ctx)
    layers = _layers(ctx)
    rows = []
    for key in SCHEMA:
        source = "default"
        for label, layer in layers:
            if key.name in layer:
                source = label.format(KEY=key.name.upper())
        rows.append({"key": key.name, "value": values[key.name], "source": source, "help": key.help})
    return rows


LEVELS = (("system", "system file"), ("user", "user file"), ("project", "project file"),
          ("env", "env INVOKE_FRESHBIN_{KEY}"), ("runtime", "runtime file (-f)"), ("overrides", "overrides"))
FILE_LEVELS = ("system", "user", "project", "runtime")


def level_sections(cfg: Config) -> list[tuple[str, str | None, Any]]:
    """(level, file path or None, raw `freshbin` section or None) of invoke's config levels,
    lowest first.  invoke keeps them in private attributes — private, but stable since 1.0."""
    out = []
    for level, _label in LEVELS:
        data = getattr(cfg, f"_{level}", None) or {}
        out.append((level, getattr(cfg, f"_{level}_path", None),
                    data.get("freshbin") if isinstance(data, dict) else None))
    return out


def _layers(ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    """(label, freshbin section) of every layer that sets something, lowest first."""
    labels = dict(LEVELS)
    out = [(f"{labels[level]} {path}" if path else labels[level], section)
           for level, path, section in level_sections(ctx.config) if isinstance(section, dict) and section]
    out.append((f"env {ENV_PREFIX}{{KEY}}", env_overrides()))
    return out

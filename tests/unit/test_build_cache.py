"""Build cache options: buildx's own specs, the short forms, where they go, and how they are configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from freshbin import build_cache, buildx, config
from freshbin.errors import UsageError

IMAGE = "127.0.0.1:5000/acme/api"


def test_registry_short_form_is_a_cache_beside_the_image_both_ways_with_mode_max():
    got = build_cache.resolve("registry", [], [], IMAGE)
    assert got.cache_from == (f"type=registry,ref={IMAGE}:buildcache",)
    assert got.cache_to == (f"type=registry,ref={IMAGE}:buildcache,mode=max",)
    assert got.importing() == build_cache.CacheOptions(got.cache_from, ())


def test_explicit_specs_come_first_and_the_short_form_adds_only_what_is_new():
    spec = f"type=registry,ref={IMAGE}:buildcache"
    got = build_cache.resolve("registry", [spec, "type=local,src=/tmp/c"], ["type=gha,mode=max"], IMAGE)
    assert got.cache_from == (spec, "type=local,src=/tmp/c")
    assert got.cache_to == ("type=gha,mode=max", f"type=registry,ref={IMAGE}:buildcache,mode=max")


@pytest.mark.parametrize("short, cache_from, words", [
    ("registr", [], "not a short form"),
    ("registry", [], "--image"),
    ("", ["type=registry,ref=a b"], "spaces"),
    ("", ["ref=x"], "names no type"),
    ("", ["type=registry,,mode=max"], "key=value"),
    ("", [""], "empty"),
])
def test_bad_cache_options_are_one_sentence(short, cache_from, words):
    image = "" if words == "--image" else IMAGE
    with pytest.raises(UsageError, match=words):
        build_cache.resolve(short, cache_from, [], image)


def test_a_bare_reference_is_buildx_shorthand_for_a_registry_cache():
    assert build_cache.resolve("", [f"{IMAGE}:buildcache"], [], IMAGE).cache_from == (f"{IMAGE}:buildcache",)
    assert build_cache.describe(build_cache.CacheOptions((f"{IMAGE}:c",), ("type=gha,mode=max",))) == \
        f"importing registry {IMAGE}:c; exporting gha"


def test_build_argv_passes_every_spec_in_order():
    cache = build_cache.resolve("", ["type=gha", "type=local,src=/c"], ["type=local,dest=/c,mode=max"], IMAGE)
    spec = buildx.BuildSpec(context=Path("."), dockerfile=Path("Dockerfile"), target="", platform="linux/amd64",
                            tags=(f"{IMAGE}:t",), metadata_file=Path("/tmp/m.json"), cache=cache)
    argv = buildx.build_argv(spec)
    pairs = [(argv[i], argv[i + 1]) for i, a in enumerate(argv) if a.startswith("--cache-")]
    assert pairs == [("--cache-from", "type=gha"), ("--cache-from", "type=local,src=/c"),
                     ("--cache-to", "type=local,dest=/c,mode=max")]
    assert "importing gha, local /c; exporting local /c" in buildx.describe(spec)


def test_env_variable_holds_one_spec_with_its_commas_or_a_json_list():
    one = config.env_overrides({"FRESHBIN_CACHE_TO": f"type=registry,ref={IMAGE}:buildcache,mode=max"})
    assert one == {"cache_to": [f"type=registry,ref={IMAGE}:buildcache,mode=max"]}
    many = config.env_overrides({"FRESHBIN_CACHE_FROM": '["type=gha", "type=local,src=/c"]'})
    assert many == {"cache_from": ["type=gha", "type=local,src=/c"]}
    assert config.env_overrides({"FRESHBIN_CACHE": "registry"}) == {"cache": "registry"}


def test_a_docker_driver_that_cannot_export_gets_a_remedy():
    hint = buildx._hint("ERROR: Cache export is not supported for the docker driver.\nSwitch to a different driver")
    assert "--cache-to" in hint and "containerd image store" in hint

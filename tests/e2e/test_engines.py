"""What differs between engines, checked on the engine the suite runs on (FRESHBIN_TEST_ENGINE).

The expectations come from the measured table in docs/engines.md (REPRODUCIBLE_DIGESTS), never
from freshbin's own probe: a wrong probe must fail here.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from freshbin import engines

from ..conftest import commit_all, engine_name, set_revision
from .conftest import PUSHES_INDEX, REPRODUCIBLE_DIGESTS, reproducible_digests, run_image, unique_image
from .test_deploy import freshbin_deploy, ok_json
from .test_verify import check, freshbin_verify

pytestmark = pytest.mark.e2e

# dockerd's image store (on the buildkit leg: Docker 20.10's, beside the remote builder)
STORE = {"default": "classic", "docker26": "classic", "docker26-containerd": "containerd", "buildkit": "classic"}


def test_probe_agrees_with_the_measured_table(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # probe for real, not from a cache
    found = engines.behaviour()
    assert (found.store, found.oci_rewrite) == (STORE[engine_name()], REPRODUCIBLE_DIGESTS[engine_name()])
    assert json.loads((tmp_path / "freshbin" / "engines.json").read_text())  # cached for the next run


def test_two_no_cache_builds_of_one_commit_have_one_digest_where_the_table_says(engine, example_repo):
    """verify --no-cache-build on the fixed Dockerfile: cached and no-cache builds of one commit."""
    set_revision(example_repo, "worker", f"repro-{uuid.uuid4().hex[:8]}")
    commit_all(example_repo, "a change")
    result = ok_json(freshbin_verify(example_repo, "--dockerfile", "Dockerfile.fixed", "--no-cache-build"))
    assert result["verdict"] == "fresh"
    assert result["cached"]["binary_sha256"] == result["nocache"]["binary_sha256"] == result["reference"]["binary_sha256"]
    if reproducible_digests():
        decided = check(result, "digest cached == no-cache (reproducible)")
        assert decided["ok"] is True and decided["decisive"] is True
        assert result["cached"]["digest"] == result["nocache"]["digest"], "the table says these digests match"
    else:
        informational = check(result, "digest cached == nocache")
        assert informational["ok"] is None and informational["decisive"] is False
        assert result["cached"]["digest"] != result["nocache"]["digest"]
        assert any("get different digests" in note for note in result["notes"])  # said plainly


def test_pushed_image_is_an_index_with_attestations_on_the_containerd_store_and_verifies(engine, example_repo):
    """containerd store: `--push` gives an index (image + provenance `unknown/unknown`); classic: a manifest."""
    image = unique_image("engine-index")
    revision = f"index-{uuid.uuid4().hex[:8]}"
    set_revision(example_repo, "worker", revision)
    commit_all(example_repo, "a change")
    deployed = ok_json(freshbin_deploy(example_repo, image, "--dockerfile", "Dockerfile.fixed"))
    raw = json.loads(subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", f"{image}@{deployed['digest']}"],
                                    capture_output=True, text=True, check=True).stdout)
    if PUSHES_INDEX[engine_name()]:
        platforms = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in raw["manifests"])
        assert raw["mediaType"].endswith("image.index.v1+json") and platforms == ["linux/amd64", "unknown/unknown"]
    else:
        assert "manifests" not in raw and "config" in raw
    assert run_image(f"{image}:{deployed['tag']}") == f"worker revision={revision}"
    quick = ok_json(freshbin_verify(example_repo, "--image", image, "--quick"))
    assert quick["verdict"] == "fresh" and quick["deployed"]["digest"] == deployed["digest"]
    assert check(quick, "revision label")["ok"] is True  # the label is read through the index

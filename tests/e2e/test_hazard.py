"""The stale binary, reproduced on the real engine with the example's two Dockerfiles.

A change committed in bin/worker has a checkout-time mtime.  Whenever the dependency pre-build
runs after that checkout (a --no-cache build, or a cached build after a Cargo.toml change), the
dummy artefacts are newer than the real source and the hazardous Dockerfile ships the dummy.
Dockerfile.fixed refreshes every source first and ships the change.
"""

from __future__ import annotations

import uuid

import pytest

from ..conftest import commit_all, set_revision
from .conftest import buildx_push, run_image, unique_image

pytestmark = pytest.mark.e2e


def _unique(prefix: str) -> str:
    """A revision no earlier build has seen, so no layer of this test can come from cache."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _change_worker(repo, revision: str, touch_manifest: bool = False) -> None:
    set_revision(repo, "worker", revision)
    if touch_manifest:
        manifest = repo / "bin" / "worker" / "Cargo.toml"
        manifest.write_text(manifest.read_text() + f'description = "{revision}"\n')
    commit_all(repo, f"worker: {revision}")


@pytest.mark.parametrize("dockerfile, fresh", [("Dockerfile", False), ("Dockerfile.fixed", True)])
def test_no_cache_build_ships_stale_worker_unless_fixed(engine, example_repo, dockerfile, fresh):
    revision = _unique("worker-v2")
    _change_worker(example_repo, revision)
    ref = unique_image("hazard-nocache") + ":v2"
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=ref, no_cache=True)
    output = run_image(ref)
    if fresh:
        assert output == f"worker revision={revision}"
    else:
        assert output == "dummy", f"expected the dummy binary from the pre-build, got {output!r}"


@pytest.mark.parametrize("dockerfile, fresh", [("Dockerfile", False), ("Dockerfile.fixed", True)])
def test_cached_build_after_manifest_change_ships_stale_worker_unless_fixed(engine, example_repo, dockerfile, fresh):
    image = unique_image("hazard-manifest")
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=f"{image}:v1")  # warm the cache
    revision = _unique("worker-v3")
    _change_worker(example_repo, revision, touch_manifest=True)
    buildx_push(example_repo, dockerfile=dockerfile, target="worker", ref=f"{image}:v3")
    output = run_image(f"{image}:v3")
    if fresh:
        assert output == f"worker revision={revision}"
    else:
        assert output == "dummy", f"expected the dummy binary from the re-run pre-build, got {output!r}"


def test_api_picks_up_touched_library_change_even_in_hazardous_dockerfile(engine, example_repo):
    """The partial touch does cover crates/greeting, so `api` (which depends on it) is rebuilt."""
    lib = example_repo / "crates" / "greeting" / "src" / "lib.rs"
    hello = _unique("hello")
    lib.write_text(lib.read_text().replace("hello from greeting", hello))
    commit_all(example_repo, "greeting changed")
    ref = unique_image("hazard-api") + ":v2"
    buildx_push(example_repo, dockerfile="Dockerfile", target="api", ref=ref, no_cache=True)
    assert run_image(ref) == f"api revision=api-initial pg storage ({hello})"


def test_doctor_fix_makes_the_hazardous_dockerfile_ship_the_change(engine, example_repo):
    import subprocess

    fixed = subprocess.run(["freshbin", "doctor", "--fix"], cwd=example_repo, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    again = subprocess.run(["freshbin", "doctor", "--fix"], cwd=example_repo, capture_output=True, text=True)
    assert "nothing to fix" in again.stderr
    revision = _unique("worker-fixed")
    _change_worker(example_repo, revision)
    ref = unique_image("doctor-fix") + ":v2"
    buildx_push(example_repo, dockerfile="Dockerfile", target="worker", ref=ref, no_cache=True)
    assert run_image(ref) == f"worker revision={revision}"

"""A verdict that never lies (issue #29): shapes × build histories × strategies, on the real engine.

The truth of every deploy is what the pushed image prints (each commit's binary prints its own
marker; the dummy of a pre-build prints `dummy-…`).  freshbin may say STALE or INCONCLUSIVE
where it cannot vouch; it must never say FRESH (deploy `fresh: true`, verify or `verify --quick`
FRESH) for an image that does not print the commit's marker.  A FRESH image called STALE is a
false STALE: each one is named in the failure.  tests/e2e/adversarial.py holds the shapes;
benchmarks/never_lies.py runs a larger randomised grid.
"""

from __future__ import annotations

import pytest

from .adversarial import SHAPES, Repo, prints
from .conftest import unique_image

pytestmark = pytest.mark.e2e


def judged(repo: Repo, image: str, strategy: str, *, verify: bool = True) -> list[str]:
    """Deploy HEAD with `strategy`, then verify (full and --quick); the lies, as lines."""
    code, result = repo.deploy(image, strategy)
    ref = f"{image}:{result['tag']}"
    truth = prints(ref) == repo.expected()
    lies = []
    where = f"{repo.shape.name}/{strategy}@{repo.markers[result['commit']]}"
    if result["fresh"] is True and not truth:
        lies.append(f"deploy FRESH, image prints {prints(ref)!r} ({where}): {result['reason']}")
    if result["fresh"] is False and truth:
        lies.append(f"false STALE from deploy ({where}): {result['reason']}")
    assert (code == 1) == (result["fresh"] is False), result
    quick = repo.verify(image, "--quick", "--tag", result["tag"])
    if quick["verdict"] == "fresh" and not truth:
        lies.append(f"verify --quick FRESH on a stale image ({where})")
    if verify:
        full = repo.verify(image, "--tag", result["tag"])
        if full["verdict"] == "fresh" and not truth:
            lies.append(f"verify FRESH on a stale image ({where}): {full['notes']}")
        if full["verdict"] == "stale" and truth:
            lies.append(f"false STALE from verify ({where}): {full['cause']}")
    return lies


@pytest.mark.parametrize("shape", ["single-file-copy", "only-rs-ignored"])
def test_after_a_poisoned_cache_guard_ships_the_commit_and_nothing_says_fresh_on_the_dummy(engine, tmp_path, shape):
    """The how-to's `--no-cache` build (a PR job) leaves the dummy in the builder's cache; the
    nonce cannot reach a single-file COPY.  guard must ship the commit; the how-to's own
    strategies must not be called fresh on the dummy."""
    repo = Repo(SHAPES[shape], tmp_path)
    image = unique_image(shape)
    repo.poison(image)
    lies = judged(repo, image, "cached", verify=False)
    lies += judged(repo, image, "guard")
    code, result = repo.deploy(image, "guard")
    assert prints(f"{image}:{result['tag']}") == repo.expected(), result
    assert result["fresh"] is True and code == 0, result["reason"]
    repo.commit("m1")
    repo.poison(image)
    lies += judged(repo, image, "no-cache", verify=False)
    lies += judged(repo, image, "guard", verify=False)
    assert not lies, "\n".join(lies)


def test_a_rollback_with_a_library_outside_the_workspace_ships_the_old_library(engine, tmp_path):
    """Path dependency in ../../libs, target dir in a cache mount: deploy B, then roll back to A."""
    repo = Repo(SHAPES["outside-library"], tmp_path)
    image = unique_image("outside")
    first = repo.commit("m1")
    lies = judged(repo, image, "guard", verify=False)
    repo.commit("m2")
    lies += judged(repo, image, "guard", verify=False)
    repo.checkout(first)
    lies += judged(repo, image, "guard")
    code, result = repo.deploy(image, "guard")
    assert prints(f"{image}:{result['tag']}") == "m1" and result["fresh"] is True, result["reason"]
    lies += judged(repo, image, "cached", verify=False)
    assert not lies, "\n".join(lies)


def test_quiet_cargo_and_a_test_build_in_the_compile_step(engine, tmp_path):
    """`cargo build -q && cargo test`: guard proves the compile (no false STALE); a cached build
    of the dummy is never fresh because the test build printed `Compiling app`."""
    repo = Repo(SHAPES["quiet-and-tested"], tmp_path)
    image = unique_image("quiet")
    lies = judged(repo, image, "guard", verify=False)
    code, result = repo.deploy(image, "guard")
    assert result["fresh"] is True, result["reason"]
    repo.commit("m1")
    lies += judged(repo, image, "guard", verify=False)
    repo.poison(image)
    lies += judged(repo, image, "cached", verify=False)
    assert not lies, "\n".join(lies)


def test_an_ignore_file_that_drops_cargo_config(engine, tmp_path):
    """`.*` drops `.cargo/config.toml` (rustflags): guard builds what cargo builds in a checkout;
    a plain cached build without it is never called fresh."""
    repo = Repo(SHAPES["config-ignored"], tmp_path)
    image = unique_image("ignored")
    lies = judged(repo, image, "cached")
    lies += judged(repo, image, "guard")
    code, result = repo.deploy(image, "guard")
    assert prints(f"{image}:{result['tag']}") == repo.expected() and result["fresh"] is True, result["reason"]
    assert not lies, "\n".join(lies)


def test_two_projects_sharing_one_cache_mount_id(engine, tmp_path):
    """Project X deploys first; project Y (same package name, same WORKDIR, same mount id, older
    sources in guard's export) must ship its own code, and nothing may call X's binary Y's."""
    shape = SHAPES["shared-cache-mount"]
    x = Repo(shape, tmp_path / "x", marker="x1")
    y = Repo(shape, tmp_path / "y", salt=x.salt, marker="y1")
    lies = judged(x, unique_image("shared-x"), "guard", verify=False)
    image = unique_image("shared-y")
    lies += judged(y, image, "guard", verify=False)
    code, result = y.deploy(image, "guard")
    assert prints(f"{image}:{result['tag']}") == "y1" and result["fresh"] is True, result["reason"]
    lies += judged(x, unique_image("shared-x"), "cached", verify=False)
    assert not lies, "\n".join(lies)

"""`invoke env.up|down|status`: the real Docker engine, buildx, registry and builder images."""

from __future__ import annotations

import subprocess
from importlib import resources

from invoke import Collection, Exit, task


def _script(action: str) -> int:
    script = resources.files("freshbin") / "data" / "testenv.sh"
    with resources.as_file(script) as path:
        return subprocess.call(["bash", str(path), action])


@task
def up(c):
    """Install and start Docker, buildx, a registry on 127.0.0.1:5000 and the builder images."""
    code = _script("up")
    if code:
        raise Exit(code=code)


@task
def down(c):
    """Stop the registry and dockerd, if env.up started them."""
    code = _script("down")
    if code:
        raise Exit(code=code)


@task
def status(c):
    """Show what is installed and running."""
    _script("status")


@task(name="deps-image")
def deps_image(c):
    """Build localhost/rust-builder-deps:bookworm (crate sources from Debian) for the benchmarks."""
    code = _script("deps-image")
    if code:
        raise Exit(code=code)


ns = Collection("env", up, down, status, deps_image)

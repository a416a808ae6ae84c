"""`invoke env.up|down|status`: the real Docker engine, buildx, registry and builder images.

`--engine 26` adds a second daemon (Debian 13's docker.io 26) beside the default one, with its
own socket under /var/lib/freshbin-env; `--containerd-store` gives it the containerd image store.
`--engine buildkit` starts the standalone BuildKit (../shared/buildkit/, v0.26.3) as buildx's
`remote` builder `freshbin-buildkit` — the shape of a CI runner's builder — and pushes the base
images it needs to the loopback registry; `env.prune --engine buildkit` empties it (a fresh runner).
The default engine stays the default: tests reach the others with FRESHBIN_TEST_ENGINE.
"""

from __future__ import annotations

from importlib import resources

from invoke import Collection, Context, Exit, task

from .. import runner
from .common import no_dry_run

ENGINES = ("", "26", "buildkit")
ENGINE_HELP = {
    "engine": "also run a second engine: 26 (Debian 13's docker.io) beside the default one, or buildkit "
              "(the standalone BuildKit as buildx's remote builder freshbin-buildkit, a CI runner's shape)",
    "containerd_store": "with --engine 26: the containerd image store instead of the classic one",
}


def _script(action: str, engine: str = "", containerd_store: bool = False) -> int:
    if str(engine) not in ENGINES:
        raise Exit(f"freshbin: error: --engine {engine!r} is unknown; use 26 or buildkit, or none for the default engine",
                   code=2)
    if containerd_store and str(engine) != "26":
        raise Exit("freshbin: error: --containerd-store is an option of --engine 26; add --engine 26", code=2)
    args = [action]
    if engine:
        args += ["--engine", str(engine)]
    if containerd_store:
        args.append("--containerd-store")
    script = resources.files("freshbin") / "data" / "testenv.sh"
    with resources.as_file(script) as path:
        return runner.call(["bash", str(path), *args])


@task(help=ENGINE_HELP)
def up(c: Context, engine: str = "", containerd_store: bool = False) -> None:
    """Install and start Docker, buildx, a registry on 127.0.0.1:5000 and the builder images."""
    no_dry_run(c, "env.up", "it installs packages and starts dockerd and a registry",
               "drop -R; `freshbin env.status` shows what is there")
    code = _script("up", engine, containerd_store)
    if code:
        raise Exit(code=code)


@task(help=ENGINE_HELP)
def down(c: Context, engine: str = "", containerd_store: bool = False) -> None:
    """Stop what env.up started: the registry and dockerd, or only the --engine 26 daemon or buildkit."""
    no_dry_run(c, "env.down", "it stops the registry and dockerd",
               "drop -R; `freshbin env.status` shows what runs")
    code = _script("down", engine, containerd_store)
    if code:
        raise Exit(code=code)


@task
def status(c: Context) -> None:
    """Show what is installed and running: each engine's version, image store, BuildKit and builders."""
    _script("status")


@task(help=ENGINE_HELP)
def prune(c: Context, engine: str = "", containerd_store: bool = False) -> None:
    """Give back the disk test runs took: the engine's build cache and every image but localhost/rust-*;
    without --engine also the loopback registry's blobs (only if env.up started the registry)."""
    no_dry_run(c, "env.prune", "it deletes build cache, images and registry blobs",
               "drop -R; `freshbin env.status` shows what is there")
    code = _script("prune", engine, containerd_store)
    if code:
        raise Exit(code=code)


@task(name="deps-image")
def deps_image(c: Context) -> None:
    """Build localhost/rust-builder-deps:bookworm (crate sources from Debian) for the benchmarks."""
    no_dry_run(c, "env.deps-image", "it builds an image")
    code = _script("deps-image")
    if code:
        raise Exit(code=code)


@task(name="cross-image", help=ENGINE_HELP)
def cross_image(c: Context, engine: str = "", containerd_store: bool = False) -> None:
    """Build localhost/rust-builder-cross:bookworm (cargo for aarch64); with --engine 26 --containerd-store
    also the linux/arm64 and two-platform runtimes in that daemon (multi-platform deploys)."""
    no_dry_run(c, "env.cross-image", "it builds images")
    code = _script("cross-image", engine, containerd_store)
    if code:
        raise Exit(code=code)


@task(name="big-image")
def big_image(c: Context) -> None:
    """Build localhost/rust-builder-big:bookworm (an HTTP service's crates from Debian) for bench.deploy --workload big."""
    no_dry_run(c, "env.big-image", "it builds an image")
    code = _script("big-image")
    if code:
        raise Exit(code=code)


ns = Collection("env", up, down, status, prune, deps_image, cross_image, big_image)

"""Repository shapes and build histories that made freshbin say FRESH on a stale image (issue #29).

Each shape writes a real repository (a seed, then a clone: packed objects) whose binary prints a
marker that each commit changes; the truth of a deploy is what the pushed image prints, never
what freshbin says.  Shared by tests/e2e/test_never_lies.py (a fixed grid) and
benchmarks/never_lies.py (a larger randomised run).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..conftest import BUILD_ARGS, FRESHBIN, clone, commit_all, git, write

RUNTIME_FROM = "FROM ${RUNTIME}"
HEAD = "ARG BUILDER\nARG RUNTIME\n"


@dataclass(frozen=True)
class Shape:
    name: str
    files: Callable[[str, str], dict[str, str]]  # (marker, salt) -> {path: text}: one commit's tree
    workspace: str = "."  # where freshbin runs (the Cargo workspace), relative to the repository
    dockerfile: str = "Dockerfile"
    context: str = "."
    target: str = ""  # "" = the last stage, unnamed in some shapes
    expected: Callable[[str], str] = lambda marker: marker  # what the image prints for a commit's marker


def _main(marker_expr: str, salt: str) -> str:
    return (f'fn main() {{ if std::env::var_os("FB_{salt}").is_some() {{ return; }} println!("{{}}", {marker_expr}); }}\n')


APP_MANIFEST = '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n'
SHIP_APP = ('COPY --from=build /app/target/release/app /usr/local/bin/app\n'
            'ENTRYPOINT ["/usr/local/bin/app"]\n')


def _dummy_prebuild(salt: str, copy: str, compile_: str, *, quiet: str = "", runtime: str = "FROM ${RUNTIME}"
                    ) -> str:
    """The hazardous pattern: manifest, a dummy `main.rs` pre-built, then `copy` and `compile_`."""
    return (HEAD + "FROM ${BUILDER} AS build\nWORKDIR /app\nCOPY Cargo.toml ./\n"
            f"RUN mkdir src && echo 'fn main() {{ println!(\"dummy-{salt}\"); }}' > src/main.rs "
            f"&& cargo build --release{quiet}\n{copy}\n{compile_}\n{runtime}\n{SHIP_APP}")


def _single_file_copy(marker: str, salt: str) -> dict[str, str]:
    """Dummy pre-build, then `COPY src/main.rs src/main.rs`: no directory COPY carries a nonce;
    the shipped stage has no name."""
    return {"Cargo.toml": APP_MANIFEST, "src/main.rs": _main(f'"{marker}"', salt),
            "Dockerfile": _dummy_prebuild(salt, "COPY src/main.rs src/main.rs", "RUN cargo build --release",
                                          runtime=RUNTIME_FROM)}


def _only_rs_ignored(marker: str, salt: str) -> dict[str, str]:
    """An ignore file that lets only `*.rs` and the manifest through (the nonce file never reaches)."""
    files = _single_file_copy(marker, salt)
    files["Dockerfile"] = files["Dockerfile"].replace("COPY src/main.rs src/main.rs", "COPY src src")
    files[".dockerignore"] = "*\n!Cargo.toml\n!src\n!src/**/*.rs\n"
    return files


def _outside_library(marker: str, salt: str) -> dict[str, str]:
    """The workspace in `svc/`, its binary's library in `libs/common` (outside it), the target dir in
    a cache mount shared by id: a rollback must not ship the newer library."""
    return {
        "libs/common/Cargo.toml": '[package]\nname = "common"\nversion = "0.1.0"\nedition = "2021"\n',
        "libs/common/src/lib.rs": f'pub fn marker() -> &\'static str {{ "{marker}" }}\n',
        "svc/Cargo.toml": '[workspace]\nmembers = ["app"]\nresolver = "2"\n',
        "svc/app/Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n'
                              '[dependencies]\ncommon = { path = "../../libs/common" }\n',
        "svc/app/src/main.rs": _main("common::marker()", salt),
        "svc/Dockerfile": HEAD + "FROM ${BUILDER} AS build\nWORKDIR /src\nCOPY . .\n"
                          f"RUN --mount=type=cache,target=/src/svc/target,id=fb-{salt} cd svc && cargo build --release "
                          "&& cp target/release/app /app-bin\n"
                          "FROM ${RUNTIME} AS run\nCOPY --from=build /app-bin /usr/local/bin/app\n"
                          'ENTRYPOINT ["/usr/local/bin/app"]\n',
    }


def _quiet_and_tested(marker: str, salt: str) -> dict[str, str]:
    """Dummy pre-build whose cargo is quiet, then the real build (quiet) and `cargo test` in one RUN."""
    return {"Cargo.toml": APP_MANIFEST, "src/main.rs": _main(f'"{marker}"', salt),
            "Dockerfile": _dummy_prebuild(salt, "COPY src src", "RUN cargo build --release -q && cargo test --release",
                                          quiet=" -q", runtime="FROM ${RUNTIME} AS run")}


def _how_to(marker: str, salt: str) -> dict[str, str]:
    """The how-to's recipe itself: manifest, dummy pre-build, `COPY src src`, the real build."""
    return {"Cargo.toml": APP_MANIFEST, "src/main.rs": _main(f'"{marker}"', salt),
            "Dockerfile": _dummy_prebuild(salt, "COPY src src", "RUN cargo build --release",
                                          runtime="FROM ${RUNTIME} AS run")}


def _config_ignored(marker: str, salt: str) -> dict[str, str]:
    """`.*` in the ignore file drops `.cargo/config.toml`, whose rustflags decide what the binary prints."""
    return {
        "Cargo.toml": APP_MANIFEST,
        "src/main.rs": (f'fn main() {{ if std::env::var_os("FB_{salt}").is_some() {{ return; }} '
                        f'if cfg!(fb_flag) {{ println!("flagged-{marker}"); }} else {{ println!("{marker}"); }} }}\n'),
        ".cargo/config.toml": '[build]\nrustflags = ["--cfg", "fb_flag"]\n',
        ".dockerignore": ".*\ntarget\n",
        "Dockerfile": HEAD + "FROM ${BUILDER} AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
                      "FROM ${RUNTIME} AS run\nCOPY --from=build /app/target/release/app /usr/local/bin/app\n"
                      'ENTRYPOINT ["/usr/local/bin/app"]\n',
    }


def _shared_cache_mount(marker: str, salt: str) -> dict[str, str]:
    """One cache mount `id` for two projects (a copy-pasted Dockerfile): the same package name in
    the same WORKDIR, so the other project's artefacts carry the very fingerprints cargo looks for."""
    return {
        "Cargo.toml": APP_MANIFEST,
        "src/main.rs": _main(f'"{marker}"', "shared"),
        "Dockerfile": HEAD + "FROM ${BUILDER} AS build\nWORKDIR /app\nCOPY . .\n"
                      f"RUN --mount=type=cache,target=/app/target,id=fb-shared-{salt} cargo build --release "
                      "&& cp target/release/app /app-bin\n"
                      "FROM ${RUNTIME} AS run\nCOPY --from=build /app-bin /usr/local/bin/app\n"
                      'ENTRYPOINT ["/usr/local/bin/app"]\n',
    }


SHAPES = {
    "single-file-copy": Shape("single-file-copy", _single_file_copy),
    "only-rs-ignored": Shape("only-rs-ignored", _only_rs_ignored),
    "outside-library": Shape("outside-library", _outside_library, workspace="svc", context=".."),
    "quiet-and-tested": Shape("quiet-and-tested", _quiet_and_tested),
    "how-to": Shape("how-to", _how_to),
    "config-ignored": Shape("config-ignored", _config_ignored, expected=lambda m: f"flagged-{m}"),
    "shared-cache-mount": Shape("shared-cache-mount", _shared_cache_mount),
}


class Repo:
    """A clone of a shape's repository; each `commit(marker)` rewrites the tree in the seed,
    commits and pulls, as a developer's push and a CI checkout would."""

    def __init__(self, shape: Shape, tmp: Path, salt: str = "", marker: str = "m0") -> None:
        self.shape, self.salt = shape, salt or uuid.uuid4().hex[:10]
        self.seed = tmp / "seed"
        self.seed.mkdir(parents=True)
        git(self.seed, "init", "-q", "-b", "main")
        self._write(marker)
        commit_all(self.seed, marker)
        self.clone = clone(self.seed, tmp / "clone")
        self.markers = {git(self.clone, "rev-parse", "HEAD").strip(): marker}

    @property
    def workspace(self) -> Path:
        return self.clone / self.shape.workspace

    def _write(self, marker: str) -> None:
        for path, text in self.shape.files(marker, self.salt).items():
            write(self.seed / path, text)

    def commit(self, marker: str, also: dict[str, str] | None = None) -> str:
        """Commit the shape's tree for `marker`, with `also` ({path: text}) written over it."""
        self._write(marker)
        for path, text in (also or {}).items():
            write(self.seed / path, text)
        commit_all(self.seed, marker)
        git(self.clone, "pull", "-q", "--ff-only")
        head = git(self.clone, "rev-parse", "HEAD").strip()
        self.markers[head] = marker
        return head

    def fresh_clone(self, dest: Path) -> None:
        """A CI runner's checkout: a new clone of the seed (no ledger, no target, new mtimes)."""
        self.clone = clone(self.seed, dest)

    def another_clone(self, dest: Path) -> Repo:
        """A second checkout of the same repository (another runner, or another branch's job)."""
        twin = copy.copy(self)
        twin.fresh_clone(dest)
        return twin

    def build_arg_flags(self) -> list[str]:
        return [flag for key, value in BUILD_ARGS.items() for flag in ("--build-arg", f"{key}={value}")]

    def checkout(self, commit: str) -> None:
        git(self.clone, "checkout", "-q", commit)

    def expected(self) -> str:
        return self.shape.expected(self.markers[git(self.clone, "rev-parse", "HEAD").strip()])

    def deploy(self, image: str, strategy: str, *extra: str) -> tuple[int, dict]:
        return self.deploy_logged(image, strategy, *extra)[:2]

    def deploy_logged(self, image: str, strategy: str, *extra: str) -> tuple[int, dict, str]:
        """Exit code, the JSON result, and stderr (the build's plain progress)."""
        argv = [*FRESHBIN, "deploy", "--image", image, "--strategy", strategy, "--json", "--context",
                self.shape.context, "--force", *extra]
        if self.shape.target:
            argv += ["--target", self.shape.target]
        for key, value in BUILD_ARGS.items():
            argv += ["--build-arg", f"{key}={value}"]
        proc = subprocess.run(argv, cwd=self.workspace, capture_output=True, text=True, timeout=900)
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        return proc.returncode, json.loads(proc.stdout), proc.stderr

    def verify(self, image: str, *extra: str) -> dict:
        argv = [*FRESHBIN, "verify", "--image", image, "--json", "--context", self.shape.context, *extra]
        for key, value in BUILD_ARGS.items():
            argv += ["--build-arg", f"{key}={value}"]
        proc = subprocess.run(argv, cwd=self.workspace, capture_output=True, text=True, timeout=1800)
        assert proc.returncode in (0, 1, 2), proc.stderr[-3000:]
        assert proc.stdout.strip(), proc.stderr[-3000:]
        return json.loads(proc.stdout)

    def poison(self, image: str) -> None:
        """The how-to's build in a PR job: a plain `docker buildx build --no-cache` of the checkout,
        pushed under a tag of its own — its layers are in the builder's cache from then on."""
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["docker", "buildx", "build", "--no-cache", "--platform", "linux/amd64", "--push",
                    "-t", f"{image}:poison-{uuid.uuid4().hex[:6]}", "-f", str(self.workspace / self.shape.dockerfile),
                    "--metadata-file", str(Path(tmp) / "m.json")]
            for key, value in BUILD_ARGS.items():
                argv += ["--build-arg", f"{key}={value}"]
            proc = subprocess.run(argv + [str(self.workspace / self.shape.context)], capture_output=True, text=True,
                                  timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]


def prints(ref: str) -> str:
    """What the pushed image prints: the truth."""
    subprocess.run(["docker", "pull", "-q", ref], check=True, capture_output=True, timeout=300)
    return subprocess.run(["docker", "run", "--rm", ref], capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

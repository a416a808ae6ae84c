"""The bad-input matrix: every task, through the real CLI — one line, the documented exit code.

Each case builds its situation for real (git repositories, files, PATH, DOCKER_HOST) and runs
`freshbin …` as a user would.  Cases marked `engine` need the Docker engine for the step before
the one that fails (e.g. a daemon that answers, so that the missing buildx is what is reported).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from ..conftest import FRESHBIN, EXAMPLE, commit_all, git, write

DOCKER = shutil.which("docker") or "/usr/bin/docker"


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: str  # a substring of the one stderr line ("" when the task succeeds)
    code: int = 2
    setup: Callable[[Path], dict] = lambda ws: {}  # may edit ws; returns extra env (or {"cwd": …})
    engine: bool = False
    extra: list[str] = field(default_factory=list)


def plain_dir(ws: Path) -> dict:
    shutil.rmtree(ws / ".git")
    return {}


def bare(ws: Path) -> dict:
    target = ws.parent / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ws), str(target)], check=True)
    return {"cwd": str(target)}


def empty_repo(ws: Path) -> dict:
    target = ws.parent / "empty"
    shutil.copytree(EXAMPLE, target)
    git(target, "init", "-q")
    return {"cwd": str(target)}


def shallow(ws: Path) -> dict:
    write(ws / "bin" / "worker" / "src" / "extra.rs", "// 2\n")
    commit_all(ws, "second")
    target = ws.parent / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{ws}", str(target)], check=True)
    return {"cwd": str(target)}


def detached(ws: Path) -> dict:
    write(ws / "bin" / "worker" / "src" / "extra.rs", "// 2\n")
    commit_all(ws, "second")
    git(ws, "checkout", "-q", "--detach", "HEAD")
    return {}


def ambiguous(ws: Path) -> dict:
    git(ws, "branch", "twin")
    write(ws / "README.md", "x\n")
    commit_all(ws, "second")
    git(ws, "tag", "twin", "HEAD")  # a branch and a tag of one name, on different commits
    return {}


def dirty(ws: Path) -> dict:
    write(ws / "bin" / "worker" / "src" / "main.rs", "fn main() {}\n")
    return {}


def file_as(name: str, data: bytes) -> Callable[[Path], dict]:
    def setup(ws: Path) -> dict:
        (ws / name).write_bytes(data)
        commit_all(ws, f"{name}")
        return {}
    return setup


def config_file(text: str) -> Callable[[Path], dict]:
    def setup(ws: Path) -> dict:
        write(ws / "freshbin.yaml", text)
        commit_all(ws, "config")
        return {}
    return setup


def ledger_lines(text: str) -> Callable[[Path], dict]:
    def setup(ws: Path) -> dict:
        write(ws / ".freshbin" / "deploys.jsonl", text)
        return {}
    return setup


def non_utf8(ws: Path) -> dict:
    (ws / "bin" / "worker" / "src" / os.fsdecode(b"caf\xe9.rs")).write_text("// x\n")
    commit_all(ws, "latin-1 name")
    return {}


def broken_manifest(ws: Path) -> dict:
    (ws / "Cargo.toml").write_text("[workspace\n")
    commit_all(ws, "broken")
    return {}


def no_docker(ws: Path) -> dict:
    bin_dir = ws.parent / "bin-nodocker"
    bin_dir.mkdir()
    os.symlink(shutil.which("git"), bin_dir / "git")
    return {"PATH": str(bin_dir)}


def daemon_down(ws: Path) -> dict:
    return {"DOCKER_HOST": f"unix://{ws.parent}/no-daemon.sock"}


def no_buildx(ws: Path) -> dict:
    bin_dir = ws.parent / "bin-nobuildx"
    bin_dir.mkdir()
    wrapper = bin_dir / "docker"
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = buildx ]; then echo "docker: \'buildx\' is not a docker command." >&2; '
                       f'exit 1; fi\nexec {DOCKER} "$@"\n')
    wrapper.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def skill_dest_is_file(ws: Path) -> dict:
    write(ws.parent / "notadir", "x")
    return {}


IMG = ["--image", "127.0.0.1:5000/acme/worker", "--target", "worker"]
CASES = [
    Case("detect: not a git repository", ["detect"], "is not inside a git repository", setup=plain_dir),
    Case("detect: bare repository", ["detect"], "bare", setup=bare),
    Case("detect: empty repository", ["detect"], "no commits", setup=empty_repo),
    Case("detect: unknown base", ["detect", "--base", "nope"], "nope"),
    Case("detect: ambiguous ref resolves with git's rule", ["detect", "--base", "twin"], "", code=0, setup=ambiguous),
    Case("detect: ref with ..", ["detect", "--base", "a..b"], "a..b"),
    Case("detect: ref with $(…)", ["detect", "--head", "$(id)"], "$(id)"),
    Case("detect: shallow clone", ["detect"], "--deepen", setup=shallow),
    Case("detect: detached HEAD works", ["detect"], "", code=0, setup=detached),
    Case("detect: non-UTF-8 file name", ["detect", "--json"], "", code=0, setup=non_utf8),
    Case("detect: corrupt ledger lines are skipped", ["detect", "--image", "127.0.0.1:5000/acme/worker"], "",
         code=0, setup=ledger_lines('{"image": "127.0.0.1:5000/acme/worker", "commit": "x"\n\x00garbage\n')),
    Case("detect: broken workspace Cargo.toml", ["detect"], "not valid TOML", setup=broken_manifest),
    Case("deploy: dirty tree", ["deploy", *IMG], "uncommitted changes", setup=dirty),
    Case("deploy: missing Dockerfile", ["deploy", *IMG, "--dockerfile", "Nope"], "does not exist"),
    Case("deploy: empty Dockerfile", ["deploy", *IMG, "--dockerfile", "Empty"], "Empty",
         setup=file_as("Empty", b"")),
    Case("deploy: binary Dockerfile", ["deploy", *IMG, "--dockerfile", "Bin"], "Bin",
         setup=file_as("Bin", b"\x00\x01\x02\xff" * 64)),
    Case("deploy: unknown target stage", ["deploy", "--image", "127.0.0.1:5000/a/b", "--target", "nope"],
         "no stage 'nope'"),
    Case("deploy: uppercase image", ["deploy", "--image", "127.0.0.1:5000/Acme/API"], "Acme"),
    Case("deploy: image too long", ["deploy", "--image", "127.0.0.1:5000/" + "a" * 300], "too long"),
    Case("deploy: image with spaces", ["deploy", "--image", "acme/a b"], "acme/a b"),
    Case("deploy: image with ;", ["deploy", "--image", "acme/a;reboot"], "acme/a;reboot"),
    Case("deploy: image with $(…)", ["deploy", "--image", "acme/$(id)"], "acme/$(id)"),
    Case("deploy: image with newline", ["deploy", "--image", "acme/a\nb"], "acme/a"),
    Case("deploy: tag with ..", ["deploy", *IMG, "--tag", "a..b:c"], "tag"),
    Case("deploy: tag too long", ["deploy", *IMG, "--tag", "t" * 129], "tag"),
    Case("deploy: tag with ;", ["deploy", *IMG, "--tag", "v1;id"], "tag"),
    Case("deploy: bad build arg", ["deploy", *IMG, "--build-arg", "NOEQUALS"], "NOEQUALS"),
    Case("deploy: unknown strategy", ["deploy", *IMG, "--strategy", "yolo"], "yolo"),
    Case("deploy: unknown flag", ["deploy", "--imagee", "x"], "--imagee"),
    Case("deploy: docker CLI absent", ["deploy", *IMG], "`docker` is not installed", setup=no_docker),
    Case("deploy: daemon down", ["deploy", *IMG], "daemon does not answer", setup=daemon_down),
    Case("deploy: buildx absent", ["deploy", *IMG], "buildx is not installed", setup=no_buildx, engine=True),
    Case("deploy: unknown builder", ["deploy", *IMG, "--builder", "nope"], "builder 'nope' not found",
         engine=True),
    Case("deploy: ledger path under a file", ["deploy", *IMG], "cannot write the deploy ledger",
         setup=config_file("freshbin:\n  ledger: Cargo.toml/deploys.jsonl\n"), engine=True),
    Case("config: wrong type", ["config"], "freshbin.watch must be a list", setup=config_file("freshbin:\n  watch: 3\n")),
    Case("config: unknown key", ["detect"], "unknown freshbin config key", setup=config_file("freshbin:\n  x: 1\n")),
    Case("config: unknown FRESHBIN_ variable", ["detect"], "FRESHBIN_IMGAE",
         setup=lambda ws: {"FRESHBIN_IMGAE": "x"}),
    Case("verify: quick without an image", ["verify", "--quick"], "no image given; pass --image REGISTRY/NAME, or set "
         "`image:` in the `freshbin:` section of freshbin.yaml"),
    Case("verify: unknown target", ["verify", "--target", "nope"], "no stage 'nope'"),
    Case("doctor: Dockerfile without a Rust build is clean, with a note", ["doctor", "--dockerfile", "Plain"], "",
         code=0, setup=file_as("Plain", b"FROM scratch\nCOPY a /a\n")),
    Case("doctor: unparsable Dockerfile", ["doctor", "--dockerfile", "Bad"], "cannot parse",
         setup=file_as("Bad", b"FROM x\nRUN <<EOF\n")),
    Case("doctor: unknown format", ["doctor", "--format", "xml"], "xml"),
    Case("skill.install: destination is a file", ["skill.install", "--dest", "../notadir"], "notadir",
         setup=skill_dest_is_file),
    Case("unknown task", ["deplyo"], "deplyo"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, example_repo: Path, request):
    if case.engine:
        request.getfixturevalue("engine")
    extra = case.setup(example_repo)
    cwd = extra.pop("cwd", str(example_repo))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRESHBIN_", "INVOKE_FRESHBIN_"))}
    env.update(extra)
    proc = subprocess.run([*FRESHBIN, *case.argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == case.code, proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr
    if case.code:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("freshbin: error:"), proc.stderr
        assert case.expect in lines[0], lines[0]
        assert proc.stdout == ""


def test_the_matrix_is_wide():
    assert len(CASES) >= 30 and {c.argv[0] for c in CASES} >= {"detect", "deploy", "verify", "doctor", "config"}


@pytest.mark.parametrize("content, message", [
    (None, "wrote no metadata file"),
    (b"", "is not JSON"),
    (b"\xff\xfe garbage", "is not JSON"),
    (b"[1, 2]", "has no containerimage.digest"),
    (b'{"containerimage.digest": "md5:abc"}', "has no containerimage.digest"),
])
def test_metadata_file_missing_or_garbage(tmp_path, content, message):
    from freshbin.buildx import read_metadata
    from freshbin.errors import EnvironmentProblem

    path = tmp_path / "metadata.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(EnvironmentProblem, match=message):
        read_metadata(path)


def test_truncated_and_corrupt_ledger_lines_are_reported_and_appends_stay_parseable(tmp_path):
    from freshbin import ledger

    path = tmp_path / "deploys.jsonl"
    path.write_bytes(b'{"image": "a", "commit": "1"}\n{"image": "a", "comm\n\x00\x01\n{"image": "a", "commit": "2"')
    read = ledger.read(path)
    assert [r["commit"] for r in read.records] == ["1"] and len(read.problems) == 3
    ledger.append(path, {"image": "a", "commit": "3"})  # after a fragment without newline
    assert [r["commit"] for r in ledger.read(path).records] == ["1", "3"]
    assert path.read_bytes().startswith(b'{"image": "a", "commit": "1"}\n')  # never rewritten

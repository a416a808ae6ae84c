"""demo: the whole story on a throwaway copy of examples/workspace, in about a minute.

1. deploy the way the how-to says (`--no-cache` when sources changed) — it pushes fine;
2. verify: the shipped binary is stale, and why (cargo mtime freshness, which --no-cache caused);
3. doctor names the hazard; 4. doctor --fix rewrites the refresh step;
5. deploy again; 6. verify: fresh.
Everything runs through the library (no subprocess of freshbin itself); the temp copy, the local
images verify makes and the registry tags the demo pushed are removed at the end.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import ledger, runner
from .deploy import DeployRequest, DeployResult, deploy
from .doctor import check, fix
from .errors import UsageError
from .verify import Check, VerifyResult, verify

EXAMPLE = Path("examples") / "workspace"
DEFAULT_BUILD_ARGS = {"BUILDER": "localhost/rust-builder:bookworm", "RUNTIME": "localhost/rust-runtime:bookworm"}
GIT_IDENTITY = ["-c", "user.name=freshbin demo", "-c", "user.email=demo@example.invalid", "-c", "commit.gpgsign=false"]


@dataclass
class Step:
    number: int
    title: str
    rows: list[tuple[str, str]]
    data: dict[str, Any] = field(default_factory=dict)


def example_dir() -> Path:
    """examples/workspace of the clone we run from: beside the package (editable install) or
    in the current directory or one of its parents (a clone with a regular install)."""
    roots = [Path(__file__).resolve().parents[2], Path.cwd(), *Path.cwd().parents]
    for root in roots:
        if (root / EXAMPLE / "Cargo.toml").is_file():
            return root / EXAMPLE
    raise UsageError("examples/workspace is not available (the demo runs from a clone of freshbin); "
                     "clone the repository and run `freshbin demo` there")


def run_demo(registry: str, build_args: dict[str, str], on_step: Callable[[Step], None], *,
             keep: bool = False) -> list[Step]:
    image = f"{registry}/freshbin-demo/worker-{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="freshbin-demo-"))
    steps: list[Step] = []

    def emit(step: Step) -> None:
        steps.append(step)
        on_step(step)

    ws = tmp / "workspace"
    try:
        shutil.copytree(example_dir(), ws, ignore=shutil.ignore_patterns("target", ".freshbin"))
        git(ws, "init", "-q", "-b", "main")
        commit_all(ws, "initial")
        request = DeployRequest(workspace=ws, image=image, target="worker", build_args=build_args,
                                strategy="no-cache", quiet=True)
        deploy(request)  # the service as it runs today
        revision = f"worker-{uuid.uuid4().hex[:8]}"
        set_revision(ws, revision)
        commit_all(ws, f"worker: {revision}")
        emit(_deploy_step(1, "Deploy the how-to's way: --no-cache because bin/worker changed", deploy(request),
                          revision, image))
        before = verify(request)
        emit(_verify_step(2, "verify: is the deployed binary the current code?", before))
        findings = check(ws / "Dockerfile", ws, ws)
        emit(Step(3, "doctor: the hazard, found statically",
                  [(f"Dockerfile:{f.line} {f.rule}", f.message) for f in findings],
                  {"rules": sorted({f.rule for f in findings})}))
        new, diff = fix(ws / "Dockerfile", ws, ws)
        (ws / "Dockerfile").write_text(new)
        commit_all(ws, "doctor --fix")
        changed = [line for line in diff.splitlines() if line.startswith(("+", "-")) and
                   not line.startswith(("+++", "---"))]
        emit(Step(4, "doctor --fix: refresh every source before the real build",
                  [("diff", line) for line in changed], {"fixed": bool(diff), "diff": diff}))
        revision = f"worker-{uuid.uuid4().hex[:8]}"
        set_revision(ws, revision)
        commit_all(ws, f"worker: {revision}")
        emit(_deploy_step(5, "Deploy again (the fixed Dockerfile, plain cached build)",
                          deploy(DeployRequest(workspace=ws, image=image, target="worker", build_args=build_args,
                                               strategy="cached", quiet=True)), revision, image))
        after = verify(request)
        emit(_verify_step(6, "verify: fresh", after))
        return steps
    finally:
        _delete_tags(image, ws / ".freshbin" / "deploys.jsonl")
        if keep:
            on_step(Step(0, f"kept the demo workspace at {ws}", []))
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _deploy_step(number: int, title: str, result: DeployResult, revision: str, image: str) -> Step:
    ref = f"{image}:{result.tag}"
    runs = _run(ref)
    flags = " --no-cache" if result.no_cache else ""
    rows = [("command", f"docker buildx build --target worker{flags} … --push (strategy {result.strategy})"),
            ("pushed", f"{ref} {(result.digest or '')[:19]}"),
            ("commit says", f"worker revision={revision}"), ("container says", runs),
            ("ledger", result.reason)]
    return Step(number, title, rows, {"fresh": runs == f"worker revision={revision}", "ledger_fresh": result.fresh,
                                      "digest": result.digest, "container_output": runs, "revision": revision,
                                      "image": image, "tag": result.tag})


def _verify_step(number: int, title: str, result: VerifyResult) -> Step:
    rows = [(c.name, _check_text(c)) for c in result.checks]
    rows.append(("verdict", result.verdict.upper() + (f" — cause: {result.cause}" if result.cause else "")))
    return Step(number, title, rows, {"verdict": result.verdict, "cause": result.cause})


def _check_text(check: Check) -> str:
    if check.ok is None:
        return f"{check.expected} vs {check.actual} (info)"
    if check.ok:
        return f"{check.actual} (ok)"
    return f"FAIL: expected {check.expected}, got {check.actual}"


def _run(ref: str) -> str:
    proc = runner.run(["docker", "run", "--rm", ref], check=False, timeout=120)
    return proc.stdout.strip() or proc.stderr.strip()[-200:]


def set_revision(ws: Path, revision: str, binary: str = "worker") -> None:
    """Edit bin/<binary>'s REVISION marker: the one-line change the demo (and the benchmarks) deploy."""
    main = ws / "bin" / binary / "src" / "main.rs"
    main.write_text("\n".join(f'const REVISION: &str = "{revision}";' if line.startswith("const REVISION")
                              else line for line in main.read_text().splitlines()) + "\n")


def git(ws: Path, *args: str) -> None:
    runner.run(["git", *GIT_IDENTITY, *args], cwd=str(ws))


def commit_all(ws: Path, message: str) -> None:
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", message)


def _delete_tags(image: str, ledger_path: Path) -> None:
    """Remove what the demo pushed (the loopback registry allows deletes); best effort."""
    host, _, repository = image.partition("/")
    base = f"http://{host}/v2/{repository}/manifests"
    for record in ledger.read(ledger_path).records:
        index = _index_digest(f"{base}/{record['digest'].replace(':', '-')}")  # the deploy records' index
        for digest in (record["digest"], record.get("record"), index):
            try:
                if digest:
                    urllib.request.urlopen(urllib.request.Request(f"{base}/{digest}", method="DELETE"),
                                           timeout=10).close()
            except (urllib.error.URLError, OSError):
                pass
    runner.run(["docker", "image", "rm", *{f"{image}:{r['tag']}" for r in ledger.read(ledger_path).records}],
               check=False)


def _index_digest(url: str) -> str | None:
    request = urllib.request.Request(url, method="HEAD",
                                     headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            digest: str | None = response.headers.get("Docker-Content-Digest")
            return digest
    except (urllib.error.URLError, OSError):
        return None


def story(steps: list[Step]) -> dict[str, Any]:
    """The JSON summary the tests assert on: stale -> fixed -> fresh."""
    by_number = {s.number: s for s in steps}
    return {
        "how_to_deploy": by_number[1].data,
        "verify_before": by_number[2].data,
        "doctor": by_number[3].data,
        "fix": {"fixed": by_number[4].data["fixed"]},
        "deploy_after_fix": by_number[5].data,
        "verify_after": by_number[6].data,
        "steps": [asdict(s) | {"rows": [list(r) for r in s.rows]} for s in steps],
    }


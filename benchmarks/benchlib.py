"""What the deploy and verify benchmarks share: timing, builds, the truth about a binary, stats.

Measures, never asserts.  Freshness is judged two independent ways for every row: the image is
run and must print the revision just committed, and the shipped binary's sha256 must equal the
reference build's (the mtime-proof build verify uses).
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from freshbin import buildx, image, shipped, strategies  # noqa: E402
from freshbin.pipeline import BuildRequest, prepare  # noqa: E402

FRESHBIN = [sys.executable, "-m", "freshbin"]  # the code of this clone, not whatever is on PATH

REGISTRY = "127.0.0.1:5000"
RESULTS = Path(__file__).resolve().parent / "results"


def timed(argv: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(argv[:4])} … failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, proc


def buildx_argv(ws: Path, ref: str, args: dict[str, str], *, dockerfile: str = "Dockerfile", target: str = "worker",
                extra: tuple[str, ...] = (), push: bool = True) -> list[str]:
    argv = ["docker", "buildx", "build", "--platform", "linux/amd64", "--target", target,
            "-f", str(ws / dockerfile), "-t", ref, "--progress", "plain", *extra]
    for key, value in args.items():
        argv += ["--build-arg", f"{key}={value}"]
    return argv + (["--push"] if push else ["--load"]) + [str(ws)]


def binary_sha(ref: str) -> str:
    local = image.ensure_local(ref, ref)
    config = image.config_of(local)
    return image.read_binary(local, shipped.locate(config)).sha256


def runs_revision(ref: str, revision: str, binary: str = "worker") -> bool:
    proc = subprocess.run(["docker", "run", "--rm", ref], capture_output=True, text=True, timeout=120)
    return proc.stdout.strip().splitlines()[:1] == [f"{binary} revision={revision}"]


def reference_sha(ws: Path, args: dict[str, str], *, target: str = "worker") -> str:
    """The binary of the mtime-proof reference build of HEAD (not timed)."""
    req = BuildRequest(workspace=ws, image="", target=target, build_args=args)
    situation = strategies.Situation(req, prepare(req, image_required=False), buildx.preflight())
    guard = strategies.get("guard")  # the reference is the guard strategy's build, as in verify
    tag = f"localhost/freshbin-bench:ref-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        plan, ctx = guard.cache_plan(situation), guard.context(situation, stack, dry_run=False)
        spec = buildx.BuildSpec(context=ctx.path, dockerfile=ctx.dockerfile, target=target,
                                platform="linux/amd64", tags=(tag,), metadata_file=Path(tmp) / "m.json",
                                build_args=args, no_cache=plan.no_cache, no_cache_filter=plan.no_cache_filter,
                                push=False, load=True)
        buildx.build(spec, stream=False)
    try:
        return binary_sha(tag)
    finally:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True)


def summarise(samples: list[float]) -> dict:
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "runs": len(samples), "samples_s": [round(s, 3) for s in samples]}


def machine() -> dict:
    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    engine = buildx.preflight()
    return {
        "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
        "debian": Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "",
        "docker_server": out(["docker", "info", "--format", "{{.ServerVersion}}"]),
        "buildx": engine.buildx_version, "buildkit": engine.buildkit, "driver": engine.driver,
        "bytecode": BYTECODE,  # options() compiled it before any row ran
    }


def write_results(name: str, data: dict, smoke: bool, results_dir: Path | None = None) -> Path:
    target = results_dir or RESULTS
    target.mkdir(parents=True, exist_ok=True)
    path = target / (f"{name}.smoke.json" if smoke else f"{name}.json")
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


BYTECODE = "compiled before measuring, as pip install does"  # what the results record (machine())


def compile_bytecode() -> str:
    """freshbin's modules compiled to bytecode, as `pip install` leaves an installed package.

    An editable install under PYTHONDONTWRITEBYTECODE (this machine sets it) never writes
    `__pycache__`, so every CLI start would compile all of freshbin from source: 0.05 s measured,
    a cost no user's installed freshbin pays.  Returns what the results record about it."""
    import compileall

    import freshbin

    compileall.compile_dir(str(Path(freshbin.__file__).parent), quiet=1)
    return BYTECODE


def options(doc: str) -> tuple[argparse.Namespace, int, int]:
    """The flags every deploy/verify benchmark takes; (opts, measured runs, warm-up rounds).
    freshbin's bytecode is compiled here, before any row runs (compile_bytecode)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (a busy machine: 0)")
    parser.add_argument("--smoke", action="store_true", help="the small example, one run, no warm-up (CI)")
    parser.add_argument("--workload", choices=("deps", "big"), default="deps",
                        help="deps: 5 crates' closure (~1 min cold); big: an HTTP service, 159 crates (~3 min cold on 2 cores)")
    parser.add_argument("--results", type=Path, default=None, help="directory for the JSON (default results/)")
    parser.add_argument("--expensive-runs", type=int, default=None,
                        help="measured runs of the rows that rebuild every crate (default: --runs; big workload: 1)")
    parser.add_argument("--only", default="", help="comma-separated words: only the rows whose names contain one")
    parser.add_argument("--all-rows", action="store_true",
                        help="big workload: also the other full-rebuild rows (each ~3 min on 2 cores)")
    opts = parser.parse_args()
    compile_bytecode()
    runs, warmup = (1, 0) if opts.smoke else (opts.runs, opts.warmup)
    return opts, runs, warmup


WORKLOADS = {"deps": "example + serde, serde_json, regex, clap 4, tokio",
             "big": "example + an HTTP service on hyper/tower/tokio/tracing/reqwest (159 crates)"}


def workload_kind(opts: argparse.Namespace) -> str:
    return "small" if opts.smoke else opts.workload


def save(name: str, opts: argparse.Namespace, runs: int, warmup: int, results: dict, **extra: object) -> None:
    """Results as results/NAME.json (NAME.big.json for the big workload, NAME.smoke.json in smoke runs)."""
    data = {"workload": "small example" if opts.smoke else WORKLOADS[opts.workload],
            "runs": runs, "warmup_rounds": warmup, "machine": machine(), "date": time.strftime("%Y-%m-%d"),
            **extra, "results": results}
    suffix = ".big" if opts.workload == "big" else ""
    print(f"wrote {write_results(name + suffix, data, opts.smoke, opts.results)}")


def expensive_runs(opts: argparse.Namespace, default: int) -> int:
    return max(1, default if opts.expensive_runs is None else opts.expensive_runs)


def number(value: float | None, digits: int) -> str:
    """A table cell: the figure, or "-" where the row has none (e.g. no --no-cache run yet)."""
    return "-" if value is None else f"{value:.{digits}f}"

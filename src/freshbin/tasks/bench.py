"""`invoke bench.*`: run the benchmarks (from a clone; they are long and never run in CI)."""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import Collection, Context, Exit, task

from .. import runner
from .common import no_dry_run


def _script(name: str, *args: str) -> None:
    roots = [Path(__file__).resolve().parents[3], Path.cwd(), *Path.cwd().parents]
    script = next((r / "benchmarks" / name for r in roots if (r / "benchmarks" / name).is_file()),
                  Path("benchmarks") / name)
    if not script.is_file():
        raise Exit(f"freshbin: error: {script} not found; the benchmarks run from a clone of freshbin", code=2)
    code = runner.call([sys.executable, str(script), *args])
    if code:
        raise Exit(code=code)


def _common(runs: int, smoke: bool) -> list[str]:
    return (["--smoke"] if smoke else []) + (["--runs", str(runs)] if runs else [])


@task(name="deploy", help={"runs": "measured runs per row (default 3)", "smoke": "small example, one run",
                           "workload": "deps (default) or big (an HTTP service, 159 crates; needs env.big-image)"})
def deploy_bench(c: Context, runs: int = 0, smoke: bool = False, workload: str = "") -> None:
    """Deploy strategies side by side after a one-line change (needs `freshbin env.deps-image`)."""
    no_dry_run(c, "bench.deploy", "it builds and pushes images")
    _script("deploy_strategies.py", *_common(runs, smoke), *(["--workload", workload] if workload else []))


@task(name="verify", help={"runs": "measured runs per row (default 3)", "smoke": "small example, one run"})
def verify_bench(c: Context, runs: int = 0, smoke: bool = False) -> None:
    """verify, verify --quick and the how-to's two-build verification."""
    no_dry_run(c, "bench.verify", "it builds and pushes images")
    _script("verify_cost.py", *_common(runs, smoke))


@task(name="detect", help={"runs": "runs per command (default 5)", "smoke": "tiny repository, one run"})
def detect_bench(c: Context, runs: int = 0, smoke: bool = False) -> None:
    """detect vs git diff --name-only on 20k files / 5k commits."""
    no_dry_run(c, "bench.detect", "it writes a results file")
    _script("detect_scale.py", *_common(runs, smoke))


@task(name="fresh-runner", help={"runs": "measured runs per row (default 3)", "smoke": "small example, one run"})
def fresh_runner_bench(c: Context, runs: int = 0, smoke: bool = False) -> None:
    """A fresh CI runner with a registry cache vs a warm builder vs --no-cache, on the remote builder
    (needs `freshbin env.up --engine buildkit` and, without --smoke, `freshbin env.deps-image`)."""
    no_dry_run(c, "bench.fresh-runner", "it empties the remote builder, builds and pushes images")
    _script("fresh_runner.py", *_common(runs, smoke))


@task(name="report")
def report_bench(c: Context) -> None:
    """Render docs/benchmarks.md and the chart from benchmarks/results/*.json."""
    no_dry_run(c, "bench.report", "it rewrites docs/benchmarks.md and its chart")
    _script("report.py")


ns = Collection("bench", deploy_bench, verify_bench, detect_bench, fresh_runner_bench, report_bench)

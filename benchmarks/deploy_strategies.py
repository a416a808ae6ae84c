"""Deploy strategies side by side after the same one-line change in bin/: time and freshness.

Rows: a plain cached build; the how-to's `--no-cache`; `--no-cache-filter builder` (where the
engine has it); `freshbin deploy --strategy S` on the hazardous Dockerfile for every strategy in
freshbin's strategy table; `freshbin deploy --strategy cached` on the Dockerfile after `freshbin
doctor --fix`.  Every measurement first
commits a fresh one-line change, so each row deploys a change of its own; a warm-up round is not
counted; rows alternate within a run so ratios hold on a noisy machine.  Measures, never asserts.
The rows that recompile every crate (`--no-cache` in any form) run `--expensive-runs` times
(default: every run; 1 on the big workload, where each takes ~3 min on 2 cores), and when
fewer than the others only in the last rounds, never in the warm-up (they need no warm cache).

    python benchmarks/deploy_strategies.py [--runs 3] [--smoke] [--workload deps|big] [--results DIR]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from tabulate import tabulate

import benchlib
import workload
from freshbin import strategies


def rows(ws: Path, image: str, args: dict[str, str], engine_filter: bool) -> dict:
    """name -> function(tag) -> (seconds, ref): each builds and pushes HEAD as IMAGE:tag."""
    build_args = [x for k, v in args.items() for x in ("--build-arg", f"{k}={v}")]

    def buildx(*extra: str):
        def run(tag: str):
            ref = f"{image}:{tag}"
            wall, _ = benchlib.timed(benchlib.buildx_argv(ws, ref, args, extra=extra), ws)
            return wall, ref
        return run

    def freshbin(*extra: str):
        def run(tag: str):
            argv = [*benchlib.FRESHBIN, "deploy", "--image", image, "--tag", tag, "--target", "worker", "--json",
                    *build_args, *extra]
            wall, _ = benchlib.timed(argv, ws, ok_codes=(0, 1))  # 1: deploy itself flagged the binary stale
            return wall, f"{image}:{tag}"
        return run

    table = {
        "cached build (plain buildx)": buildx(),
        "--no-cache (the how-to)": buildx("--no-cache"),
    }
    if engine_filter:
        table["--no-cache-filter builder"] = buildx("--no-cache-filter", "builder")
    for name in strategies.names():  # every strategy in the table, the new ones included
        table[f"freshbin deploy --strategy {name}"] = freshbin("--strategy", name)
    table["freshbin deploy, Dockerfile after doctor --fix"] = freshbin("--strategy", "cached", "--dockerfile",
                                                                       "Dockerfile.doctored")
    return table


def expensive(name: str) -> bool:
    """Rows that rebuild every dependency on the hazardous Dockerfile (no-cache in any form)."""
    return "no-cache" in name


def main() -> None:
    opts, runs, warmup = benchlib.options(__doc__)
    kind = benchlib.workload_kind(opts)
    expensive_runs = min(runs, benchlib.expensive_runs(opts, 1 if kind == "big" else runs))
    args = workload.build_args(kind=kind)
    engine = benchlib.buildx.preflight()
    image = f"{benchlib.REGISTRY}/freshbin-bench/worker-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="freshbin-bench-") as tmp:
        ws = workload.make_workload(Path(tmp) / "ws", kind=kind)
        crates = workload.crates_in(ws, workload.builder_image(kind=kind)) if kind != "small" else 0
        shutil.copy(ws / "Dockerfile", ws / "Dockerfile.doctored")
        subprocess.run([*benchlib.FRESHBIN, "doctor", "--fix", "--dockerfile", "Dockerfile.doctored"], cwd=ws,
                       capture_output=True, check=False)
        workload.commit_all(ws, "doctor --fix")
        table = rows(ws, image, args, engine.no_cache_filter)
        if kind == "big" and not opts.all_rows:  # the how-to's full rebuild against guard and a cached build
            table = {n: run for n, run in table.items() if n in BIG_ROWS}
        if opts.only:  # rows whose names contain one of the comma-separated words (the cached row always)
            words = [w.strip() for w in opts.only.split(",") if w.strip()]
            table = {n: run for n, run in table.items() if n == BIG_ROWS[0] or any(w in n for w in words)}
        samples: dict[str, list[tuple[int, float]]] = {name: [] for name in table}
        freshness: dict[str, list[dict]] = {name: [] for name in table}
        for round_no in range(warmup + runs):
            for name, run in table.items():
                # the last rounds: the cheap rows' rounds are saved first (a long run may be cut short)
                if expensive(name) and expensive_runs < runs and round_no < warmup + runs - expensive_runs:
                    continue
                revision = workload.one_line_change(ws)
                wall, ref = run(f"r{round_no}-{uuid.uuid4().hex[:6]}")
                if round_no < warmup:
                    continue
                samples[name].append((round_no, wall))
                ran = benchlib.runs_revision(ref, revision)
                same = benchlib.binary_sha(ref) == benchlib.reference_sha(ws, args)
                freshness[name].append({"revision": revision, "runs_revision": ran, "equals_reference": same})
                print(f"  {name}: {wall:.1f} s, {'fresh' if ran and same else 'STALE'}", flush=True)
            if round_no >= warmup:  # after every measured round: a long run leaves its rounds so far
                results = summary(samples, freshness)
                benchlib.save("deploy_strategies", opts, round_no - warmup + 1, warmup, results, crates=crates)
    num = benchlib.number
    print(tabulate([[n, num(r["median_s"], 1), num(r["min_s"], 1), num(r["max_s"], 1), num(r["x_cached"], 2),
                     num(r["paired_x_cached"], 2), num(r["nocache_over_this"], 1), f"{r['fresh_runs']}/{r['runs']}"]
                    for n, r in results.items()],
                   headers=["deploy after a one-line bin/ change", "median s", "min", "max", "x cached",
                            "x cached (paired)", "no-cache / this", "fresh"]))


BIG_ROWS = ("cached build (plain buildx)", "--no-cache (the how-to)", "freshbin deploy --strategy guard")


def summary(samples: dict[str, list[tuple[int, float]]], freshness: dict[str, list[dict]]) -> dict:
    """Per row: medians, freshness, the ratio to the cached build (of medians, and the median of the
    ratios to the cached build of the same round: the paired figure, robust to a drifting machine)."""
    cached_by_round = dict(samples["cached build (plain buildx)"])
    results = {}
    for name, taken in samples.items():
        if not taken:
            continue
        results[name] = benchlib.summarise([wall for _, wall in taken])
        results[name]["fresh_runs"] = sum(f["runs_revision"] and f["equals_reference"] for f in freshness[name])
        results[name]["freshness"] = freshness[name]
        pairs = [wall / cached_by_round[r] for r, wall in taken if r in cached_by_round]
        results[name]["paired_x_cached"] = statistics.median(pairs) if pairs else None
    cached = results["cached build (plain buildx)"]["median_s"]
    nocache = results.get("--no-cache (the how-to)", {}).get("median_s")
    for r in results.values():
        r["x_cached"] = r["median_s"] / cached
        r["nocache_over_this"] = nocache / r["median_s"] if nocache else None
    return results

if __name__ == "__main__":
    main()

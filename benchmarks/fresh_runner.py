"""A fresh CI runner with a registry cache against a warm builder and the how-to's `--no-cache`.

On the standalone BuildKit as buildx's remote builder (`invoke env.up --engine buildkit`), the
deps workload, each row deploying a one-line change of its own, side by side in every round:

  fresh runner   the builder emptied (`buildx prune --all`), a fresh clone, then
                 `freshbin deploy --cache registry` (guard; the cache beside the image)
  warm builder   `freshbin deploy` (guard) on the builder as the previous row left it
  --no-cache     the how-to's `docker buildx build --no-cache --push`

Only the deploy (or build) is timed, not the prune and the clone.  Each row's image is run: it
must print the revision just committed.  Measures, never asserts.

    python benchmarks/fresh_runner.py [--runs 3] [--smoke] [--results DIR]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from tabulate import tabulate

import benchlib
import workload

BUILDER = "freshbin-buildkit"  # testenv.sh up --engine buildkit
BASE = f"{benchlib.REGISTRY}/freshbin-base"  # the remote builder cannot see dockerd's images


def remote_args(kind: str) -> dict[str, str]:
    """The workload's base images as the remote builder reaches them: copies in the registry."""
    out = {}
    for key, local in workload.build_args(kind=kind).items():
        copy = f"{BASE}/{local.split('/', 1)[1]}"
        subprocess.run(["docker", "tag", local, copy], check=True, capture_output=True)
        subprocess.run(["docker", "push", "-q", copy], check=True, capture_output=True, timeout=900)
        out[key] = copy
    return out


def empty_builder() -> None:
    subprocess.run(["docker", "buildx", "prune", "--builder", BUILDER, "--all", "--force"], check=True,
                   capture_output=True, timeout=600)


def main() -> None:
    opts, runs, warmup = benchlib.options(__doc__)
    kind = benchlib.workload_kind(opts)
    os.environ["BUILDX_BUILDER"] = BUILDER
    args = remote_args(kind)
    image = f"{benchlib.REGISTRY}/freshbin-bench/fresh-runner-{uuid.uuid4().hex[:6]}"
    flags = [x for k, v in args.items() for x in ("--build-arg", f"{k}={v}")]
    samples: dict[str, list[float]] = {"fresh runner (guard, --cache registry)": [], "warm builder (guard)": [],
                                       "--no-cache (the how-to)": []}
    fresh_ok: dict[str, int] = {name: 0 for name in samples}
    with tempfile.TemporaryDirectory(prefix="freshbin-bench-") as tmp:
        seed = workload.make_workload(Path(tmp) / "seed", kind=kind)
        clones = iter(range(1000))

        def deploy(ws: Path, *extra: str) -> float:
            argv = [*benchlib.FRESHBIN, "deploy", "--image", image, "--target", "worker", "--json", "--force",
                    *flags, *extra]
            wall, _ = benchlib.timed(argv, ws, ok_codes=(0, 1))
            return wall

        def fresh_runner() -> tuple[float, str]:
            empty_builder()
            ws = Path(tmp) / f"runner{next(clones)}"
            subprocess.run(["git", "clone", "-q", str(seed), str(ws)], check=True)
            return deploy(ws, "--cache", "registry"), f"{image}:{_head(ws)[:12]}"

        def warm() -> tuple[float, str]:
            return deploy(seed), f"{image}:{_head(seed)[:12]}"

        def no_cache() -> tuple[float, str]:
            ref = f"{image}:nocache-{uuid.uuid4().hex[:6]}"
            wall, _ = benchlib.timed(benchlib.buildx_argv(seed, ref, args, extra=("--no-cache",)), seed)
            return wall, ref

        rows = dict(zip(samples, (fresh_runner, warm, no_cache)))
        for round_ in range(warmup + runs):
            for name, row in rows.items():
                revision = workload.one_line_change(seed)
                wall, ref = row()
                ok = _prints(ref, revision)
                if round_ >= warmup:
                    samples[name].append(wall)
                    fresh_ok[name] += ok
                print(f"round {round_}{' (warm-up)' if round_ < warmup else ''}: {name}: {wall:.1f} s, "
                      f"{'ships the change' if ok else 'STALE'}", flush=True)
    results = {name: {**benchlib.summarise(times), "fresh_runs": fresh_ok[name]} for name, times in samples.items()}
    fresh, warm_s, nocache = (statistics.median(samples[n]) for n in samples)
    ratios = {"fresh_runner_over_warm": fresh / warm_s, "no_cache_over_fresh_runner": nocache / fresh}
    print(tabulate([[n, f"{r['median_s']:.1f}", f"{r['min_s']:.1f}", f"{r['max_s']:.1f}", f"{r['fresh_runs']}/{r['runs']}"]
                    for n, r in results.items()], headers=["row", "median s", "min s", "max s", "ships the change"]))
    print(json.dumps({k: round(v, 2) for k, v in ratios.items()}))
    benchlib.save("fresh_runner", opts, runs, warmup, results, builder=BUILDER, ratios=ratios)


def _head(ws: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ws, capture_output=True, text=True, check=True).stdout.strip()


def _prints(ref: str, revision: str) -> bool:
    subprocess.run(["docker", "pull", "-q", ref], capture_output=True, timeout=600)
    return benchlib.runs_revision(ref, revision)


if __name__ == "__main__":
    main()

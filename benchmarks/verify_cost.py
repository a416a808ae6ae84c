"""What verification costs: `freshbin verify`, `verify --quick`, and the how-to's two builds + push.

The how-to verifies by building cached and `--no-cache`, pushing both and comparing digests.
Every measurement first commits a fresh one-line change in bin/ and (for verify) deploys it with
`freshbin deploy`, untimed, so no row reuses another's layers.  The *stale* rows deploy with
`--strategy cached` after a manifest edit (the pre-build re-runs after the checkout, the dummy
ships): the case verify exists for, whose cause the build's record now names without a
`--no-cache` build.  Measures, never asserts.

    python benchmarks/verify_cost.py [--runs 3] [--warmup 1] [--smoke] [--results DIR]
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

from tabulate import tabulate

import benchlib
import workload


def main() -> None:
    opts, runs, warmup = benchlib.options(__doc__)
    args = workload.build_args(opts.smoke)
    build_args = [x for k, v in args.items() for x in ("--build-arg", f"{k}={v}")]
    image = f"{benchlib.REGISTRY}/freshbin-bench/verify-{uuid.uuid4().hex[:6]}"
    samples: dict[str, list[float]] = {}
    verdicts: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="freshbin-bench-") as tmp:
        ws = workload.make_workload(Path(tmp) / "ws", small=opts.smoke)

        def deployed() -> None:
            workload.one_line_change(ws)
            benchlib.timed([*benchlib.FRESHBIN, "deploy", "--image", image, "--target", "worker", *build_args], ws, (0, 1))

        def stale_deployed() -> None:
            workload.manifest_change(ws)
            benchlib.timed([*benchlib.FRESHBIN, "deploy", "--image", image, "--target", "worker", "--strategy", "cached",
                            *build_args], ws, (0, 1))

        def verify(*extra: str, stale: bool = False):
            def run() -> tuple[float, str]:
                (stale_deployed if stale else deployed)()
                wall, proc = benchlib.timed([*benchlib.FRESHBIN, "verify", "--image", image, "--target", "worker", "--json",
                                             *build_args, *extra], ws, ok_codes=(0, 1, 2))
                data = json.loads(proc.stdout)
                return wall, data["verdict"] + (f" ({data['cause']})" if data.get("cause") else "")
            return run

        def how_to() -> tuple[float, str]:
            workload.one_line_change(ws)
            tag = uuid.uuid4().hex[:8]
            start = time.perf_counter()
            digests = []
            for suffix, extra in (("cached", ()), ("nocache", ("--no-cache",))):
                meta = Path(tmp) / f"{tag}-{suffix}.json"
                benchlib.timed(benchlib.buildx_argv(ws, f"{image}:{tag}-{suffix}", args,
                                                    extra=(*extra, "--metadata-file", str(meta))), ws)
                digests.append(json.loads(meta.read_text())["containerimage.digest"])
            return time.perf_counter() - start, "digests equal" if digests[0] == digests[1] else "digests differ"

        def no_cache_build() -> tuple[float, str]:
            workload.one_line_change(ws)
            wall, _ = benchlib.timed(benchlib.buildx_argv(ws, f"{image}:nc-{uuid.uuid4().hex[:6]}", args,
                                                          extra=("--no-cache",)), ws)
            return wall, "-"

        table = {
            "how-to: cached + --no-cache builds, push, compare digests": how_to,
            "a --no-cache build and push (for scale)": no_cache_build,
            "freshbin verify": verify(),
            "freshbin verify --quick": verify("--quick"),
            "freshbin verify, stale deploy": verify(stale=True),
        }
        for round_no in range(warmup + runs):
            for name, run in table.items():
                wall, verdict = run()
                if round_no >= warmup:
                    samples.setdefault(name, []).append(wall)
                    verdicts.setdefault(name, []).append(verdict)
                    print(f"  {name}: {wall:.1f} s ({verdict})", flush=True)
    results = {name: {**benchlib.summarise(s), "verdicts": verdicts[name]} for name, s in samples.items()}
    how = results["how-to: cached + --no-cache builds, push, compare digests"]["median_s"]
    nocache = results["a --no-cache build and push (for scale)"]["median_s"]
    for r in results.values():
        r["x_how_to"], r["x_no_cache_build"] = r["median_s"] / how, r["median_s"] / nocache
    print(tabulate([[n, f"{r['median_s']:.1f}", f"{r['min_s']:.1f}", f"{r['max_s']:.1f}", f"{r['x_how_to']:.2f}",
                     f"{r['x_no_cache_build']:.2f}", ", ".join(sorted(set(r["verdicts"])))]
                    for n, r in results.items()],
                   headers=["verification", "median s", "min", "max", "x how-to", "x no-cache build", "verdict"]))
    benchlib.save("verify_cost", opts, runs, warmup, results)


if __name__ == "__main__":
    main()

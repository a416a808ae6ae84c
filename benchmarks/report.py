"""Render docs/benchmarks.md and docs/benchmarks.png from benchmarks/results/*.json.

    python benchmarks/report.py
"""

from __future__ import annotations

import json
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def deploy_section(data: dict) -> str:
    rows = [[name, f"{r['median_s']:.1f}", f"{r['min_s']:.1f}", f"{r['max_s']:.1f}", f"{r['x_cached']:.2f}",
             f"{r['nocache_over_this']:.1f}", f"{r['fresh_runs']}/{r['runs']}"] for name, r in data["results"].items()]
    return tabulate(rows, headers=["deploy after a one-line `bin/` change", "median s", "min s", "max s",
                                   "× cached", "no-cache ÷ this", "fresh runs"], tablefmt="github")


def verify_section(data: dict) -> str:
    rows = [[name, f"{r['median_s']:.1f}", f"{r['min_s']:.1f}", f"{r['max_s']:.1f}", f"{r['x_how_to']:.2f}",
             f"{r['x_no_cache_build']:.2f}", ", ".join(sorted(set(r["verdicts"])))]
            for name, r in data["results"].items()]
    return tabulate(rows, headers=["verification", "median s", "min s", "max s", "× how-to", "× no-cache build",
                                   "verdict"], tablefmt="github")


def detect_section(data: dict) -> str:
    rows = [[name, f"{r['median_s']:.3f}", f"{r['min_s']:.3f}", f"{r['max_s']:.3f}", f"{r['ratio_to_git']:.2f}"]
            for name, r in data["results"].items()]
    return tabulate(rows, headers=["command", "median s", "min s", "max s", "× git diff"], tablefmt="github")


def chart(data: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(data["results"])
    medians = [data["results"][n]["median_s"] for n in names]
    low = [m - data["results"][n]["min_s"] for n, m in zip(names, medians)]
    high = [data["results"][n]["max_s"] - m for n, m in zip(names, medians)]
    fresh = [data["results"][n]["fresh_runs"] == data["results"][n]["runs"] for n in names]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.barh(names, medians, xerr=[low, high], color=["#2a9d55" if f else "#c0392b" for f in fresh])
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median, min–max), after a one-line change in bin/")
    ax.set_title("Deploy strategies (green: shipped the change, red: stale binary)")
    for y, (value, top) in enumerate(zip(medians, high)):
        ax.text(value + top + 0.6, y, f"{value:.1f} s", va="center")
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)


def main() -> None:
    deploy, verify, detect = load("deploy_strategies"), load("verify_cost"), load("detect_scale")
    machine = (deploy or verify or {}).get("machine", {})
    parts = ["# Benchmarks", "",
             "Measured, never asserted. Every number below comes from `benchmarks/results/*.json`, written by "
             "the scripts named in each section; this page is rendered from them by "
             "`python benchmarks/report.py`. Rerun on your machine with `invoke bench.deploy`, "
             "`invoke bench.verify`, `invoke bench.detect`, then `invoke bench.report`.", "",
             "## Machine", "",
             tabulate([[k, v] for k, v in machine.items()], headers=["", ""], tablefmt="github"), ""]
    if deploy:
        chart(deploy)
        parts += ["## Deploy strategies", "",
                  f"`python benchmarks/deploy_strategies.py --runs {deploy['runs']}` — workload: {deploy['workload']} "
                  "(the dependency build is the cost `--no-cache` pays every time). Each measurement commits its own "
                  "one-line change to `bin/worker`, then builds and pushes; one warm-up round is not counted. "
                  "*Fresh* means both: the container prints the revision just committed, and the shipped binary's "
                  "sha256 equals the reference build's.", "",
                  deploy_section(deploy), "", "![deploy strategies](benchmarks.png)", "",
                  "The how-to's `--no-cache` is an order of magnitude slower *and* ships the dummy binary on the "
                  "common Dockerfile: `--no-cache` re-runs the dummy pre-build after the checkout, which is "
                  "exactly the mtime hazard. `--no-cache-filter builder` is as slow here because the pre-build "
                  "shares the `builder` stage (doctor rule FB006). `guard` needs no Dockerfile change. The plain "
                  "cached build is fresh in this run only because the dependency layer was built before the "
                  "change; after any `Cargo.toml`/`Cargo.lock` change it ships the dummy too "
                  "(`tests/e2e/test_hazard.py::test_cached_build_after_manifest_change_ships_stale_worker_unless_fixed`).", ""]
    if verify:
        parts += ["## Verification cost", "",
                  f"`python benchmarks/verify_cost.py --runs {verify['runs']}` — same workload. The how-to's "
                  "verification builds cached and `--no-cache`, pushes both and compares digests (which differ "
                  "for timestamps alone). `freshbin verify` names a stale binary's cause from the build's own "
                  "record and runs the `--no-cache` build only with `--no-cache-build` (a cross-check). The "
                  "`freshbin verify` rows measure a fresh deploy (the common case after `deploy --strategy "
                  "guard`); the *stale deploy* row a `--strategy cached` deploy after a manifest edit, which "
                  "ships the dummy — the case verify exists for.", "",
                  verify_section(verify), ""]
    if detect:
        parts += ["## detect at scale", "",
                  f"`python benchmarks/detect_scale.py` — {detect['files']} files, {detect['commits']} commits in "
                  f"range, {detect['runs']} runs.", "", detect_section(detect), "",
                  "Most of the CLI's time is interpreter start and imports (invoke, GitPython).", ""]
    DOC.write_text("\n".join(parts))
    print(f"wrote {DOC}" + (f" and {CHART}" if deploy else ""))


if __name__ == "__main__":
    main()

"""detect vs raw `git diff --name-only` on a synthetic repository (20k files, 5k commits in range),
and on one commit of a reth-scale workspace (tests/unit/workspace_gen.py: ~150 packages, each
commit's graph read from git).

Prints tables and writes benchmarks/results/detect_scale.json.  Measures, never asserts.

    python benchmarks/detect_scale.py [--files 20000] [--commits 5000] [--runs 5] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

import benchlib

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
FRESHBIN = [sys.executable, "-m", "freshbin"]


def make_repo(root: Path, files: int, commits: int) -> tuple[str, str]:
    """A workspace with `files` sources over 100 crates, then `commits` one-file commits (fast-import)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    crates = 100
    members = ", ".join(f'"crates/c{i}"' for i in range(crates)) + ', "bin/app"'
    lines = ["commit refs/heads/main", "committer B <b@example.invalid> 1700000000 +0000", "data 4", "init"]

    def blob(path: str, text: str) -> None:
        data = text.encode()
        lines.extend([f"M 100644 inline {path}", f"data {len(data)}", data.decode()])

    blob("Cargo.toml", f"[workspace]\nmembers = [{members}]\n")
    deps = "\n".join(f'c{i} = {{ path = "../../crates/c{i}" }}' for i in range(crates))
    blob("bin/app/Cargo.toml", f'[package]\nname = "app"\nversion = "0.1.0"\n[dependencies]\n{deps}\n')
    blob("bin/app/src/main.rs", "fn main() {}\n")
    for i in range(crates):
        blob(f"crates/c{i}/Cargo.toml", f'[package]\nname = "c{i}"\nversion = "0.1.0"\n')
    for n in range(files):
        blob(f"crates/c{n % crates}/src/m{n}.rs", f"// {n}\n")
    for k in range(commits):
        lines += ["commit refs/heads/main", f"committer B <b@example.invalid> {1700000001 + k} +0000", "data 2", "c"]
        n = (k * 7919) % files
        blob(f"crates/c{n % crates}/src/m{n}.rs", f"// {n} v{k}\n")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input="\n".join(lines) + "\n",
                   text=True, check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True)
    # Real member manifests on disk are what detect reads; fast-import already wrote them.
    base = subprocess.run(["git", "-C", str(root), "rev-list", "--max-parents=0", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    return base, "HEAD"


def timed(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv[0]} failed with exit {proc.returncode}")
    return wall, usage.ru_maxrss


def in_process(root: Path, base: str) -> float:
    code = f"import time,sys; from freshbin.detect import detect; t=time.perf_counter(); detect({str(root)!r}, base={base!r}); print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny repo, one run (CI)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON (default results/)")
    args = parser.parse_args()
    if args.smoke:
        args.files, args.commits, args.runs = 300, 50, 1
    bytecode = benchlib.compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        base, head = make_repo(root, args.files, args.commits)
        cases = {
            "git diff --name-only": ["git", "diff", "--name-only", base, head],
            "freshbin detect --json (CLI)": [*FRESHBIN, "detect", "--json", "--base", base],
        }
        subprocess.run(cases["freshbin detect --json (CLI)"], cwd=root, check=True, stdout=subprocess.DEVNULL)  # warm-up
        results = measure(cases, root, base, args.runs)
        print(f"detect scale: {args.files} files, {args.commits} commits in range, {args.runs} runs, "
              f"{os.cpu_count()} cores")
        print(table(results))
    with tempfile.TemporaryDirectory() as tmp:
        ws_results, packages = workspace_scale(Path(tmp), args.runs)
        print(f"\nworkspace graph: one commit of a generated workspace with {packages} packages")
        print(table(ws_results))
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / ("detect_scale.smoke.json" if args.smoke else "detect_scale.json")
    out.write_text(json.dumps({"files": args.files, "commits": args.commits, "runs": args.runs, "bytecode": bytecode,
                               "results": results,
                               "workspace": {"packages": packages, "results": ws_results}}, indent=2) + "\n")
    print(f"wrote {out}")


def measure(cases: dict[str, list[str]], root: Path, base: str, runs: int) -> dict[str, dict]:
    """Median/min/max wall and peak RSS of each command, then detect() in process; ratios to git."""
    subprocess.run(cases[next(k for k in cases if "CLI" in k)], cwd=root, check=True, stdout=subprocess.DEVNULL)
    samples: dict[str, list[tuple[float, int | None]]] = {name: [] for name in cases}
    inproc = "detect() in process (no interpreter start)"
    samples[inproc] = []
    for _ in range(runs):  # interleaved, so a noisy machine slows every command of a round alike
        for name, argv in cases.items():
            samples[name].append(timed(argv, root))
        samples[inproc].append((in_process(root, base), None))
    results = {}
    for name, taken in samples.items():
        walls = [s[0] for s in taken]
        results[name] = {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
                         "peak_rss_kib": max((s[1] for s in taken if s[1] is not None), default=None)}
    raw = results["git diff --name-only"]["median_s"]
    for r in results.values():
        r["ratio_to_git"] = r["median_s"] / raw
    gits = [s[0] for s in samples["git diff --name-only"]]
    results[inproc]["paired_ratio_median"] = statistics.median(
        d / g for (d, _), g in zip(samples[inproc], gits))
    return results


def table(results: dict[str, dict]) -> str:
    rows = [[name, f"{r['median_s']:.3f}", f"{r['min_s']:.3f}", f"{r['max_s']:.3f}", r["peak_rss_kib"] or "",
             f"{r['ratio_to_git']:.2f}"] for name, r in results.items()]
    return tabulate(rows, headers=["command", "median s", "min s", "max s", "peak RSS KiB", "x git"])


def workspace_scale(tmp: Path, runs: int) -> tuple[dict[str, dict], int]:
    """detect on the last commit of the generated workspace history (~150 packages)."""
    sys.path.insert(0, str(ROOT))
    os.environ.update({"GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@example.invalid",
                       "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@example.invalid"})
    from tests.unit.workspace_gen import generate  # the generator lives with the tests
    from freshbin.git_tree import GitTree
    from freshbin.workspace import load_tree
    import git as gitpython

    root = tmp / "ws"
    commits = generate(root)
    packages = len(load_tree(GitTree(gitpython.Repo(root), commits[-1])).packages)
    base = commits[-2]
    cases = {
        "git diff --name-only": ["git", "diff", "--name-only", base, "HEAD"],
        "freshbin detect --json (CLI)": [*FRESHBIN, "detect", "--json", "--base", base],
    }
    return measure(cases, root, base, runs), packages


if __name__ == "__main__":
    main()

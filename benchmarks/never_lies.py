"""A randomised "never lies" run (issue #29): shapes × random build histories × strategies.

Each run takes one repository shape of tests/e2e/adversarial.py and a random history of steps —
a new commit, the how-to's `--no-cache` build in a PR job (it poisons the builder's cache), a
rollback to an earlier commit, a deploy with a random strategy — and after every deploy compares
freshbin's verdicts (deploy, `verify --quick`, and `verify` for one deploy in three) with the
truth: what the pushed image prints.  It counts, per shape and per judge, false FRESH (a lie),
false STALE, inconclusive and right verdicts; nothing is asserted (tests/e2e/test_never_lies.py
is the fixed grid that must pass).

    python3 benchmarks/never_lies.py --runs 12 --seed 7 [--builder buildkit] [--results DIR]

`--builder buildkit` builds on the standalone BuildKit that `testenv.sh up --engine buildkit`
starts (base images from the registry).  Results: `never_lies[.smoke].json` under --results.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import conftest  # noqa: E402
from tests.e2e.adversarial import SHAPES, Repo, prints  # noqa: E402

JUDGES = ("deploy", "verify --quick", "verify")
STRATEGIES = ("guard", "cached", "no-cache")


def verdict_of(judge: str, result: dict) -> str:
    if judge == "deploy":
        return {True: "fresh", False: "stale", None: "inconclusive"}[result["fresh"]]
    return str(result["verdict"])


def outcome(verdict: str, truth: bool) -> str:
    if verdict == "fresh":
        return "right" if truth else "FALSE FRESH"
    if verdict == "stale":
        return "false stale" if truth else "right"
    return "inconclusive"


def one_run(rng: random.Random, shape_name: str, steps: int, tmp: Path, counts: Counter, lies: list[str]) -> None:
    repo = Repo(SHAPES[shape_name], tmp)
    image = f"{conftest.REGISTRY}/freshbin-never-lies/{shape_name}-{uuid.uuid4().hex[:8]}"
    commits = [next(iter(repo.markers))]
    for step in range(steps):
        move = rng.choice(("commit", "poison", "rollback", "deploy", "deploy"))
        if move == "commit":
            commits.append(repo.commit(f"m{step + 1}"))
            continue
        if move == "poison":
            repo.poison(image)
            continue
        if move == "rollback" and len(commits) > 1:
            repo.checkout(rng.choice(commits[:-1]))
        strategy = rng.choice(STRATEGIES)
        _, result = repo.deploy(image, strategy)
        truth = prints(f"{image}:{result['tag']}") == repo.expected()
        judged = {"deploy": result,
                  "verify --quick": repo.verify(image, "--quick", "--tag", result["tag"])}
        if rng.random() < 1 / 3:
            judged["verify"] = repo.verify(image, "--tag", result["tag"])
        for judge, answer in judged.items():
            said = outcome(verdict_of(judge, answer), truth)
            counts[(shape_name, judge, said)] += 1
            if said in ("FALSE FRESH", "false stale"):
                lies.append(f"{said}: {judge} of {shape_name}/{strategy}@{repo.markers[result['commit']]}")
        if move == "rollback":
            conftest.git(repo.clone, "checkout", "-q", "main")  # the next commit is pulled onto main


def table(counts: Counter) -> list[str]:
    lines = [f"{'shape':<18} {'judge':<15} {'right':>6} {'FALSE FRESH':>12} {'false stale':>12} {'inconclusive':>13}"]
    for shape in SHAPES:
        for judge in JUDGES:
            row = [counts[(shape, judge, k)] for k in ("right", "FALSE FRESH", "false stale", "inconclusive")]
            if any(row):
                lines.append(f"{shape:<18} {judge:<15} {row[0]:>6} {row[1]:>12} {row[2]:>12} {row[3]:>13}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--builder", choices=("docker", "buildkit"), default="docker")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--smoke", action="store_true", help="one short run per shape (the suite's smoke test)")
    args = parser.parse_args()
    if args.builder == "buildkit":
        os.environ["BUILDX_BUILDER"] = conftest.REMOTE_BUILDER
        conftest.BUILD_ARGS.update(conftest.REMOTE_BUILD_ARGS)
    rng = random.Random(args.seed)
    plan = [(name, 3) for name in SHAPES] if args.smoke else \
        [(rng.choice(list(SHAPES)), args.steps) for _ in range(args.runs)]
    counts: Counter = Counter()
    lies: list[str] = []
    started = time.time()
    for shape_name, steps in plan:
        with tempfile.TemporaryDirectory(prefix="never-lies-") as tmp:
            one_run(rng, shape_name, steps, Path(tmp), counts, lies)
    lines = table(counts)
    print("\n".join(lines))
    print("\n".join(lies) or "no false FRESH, no false STALE")
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"never_lies{'.smoke' if args.smoke else ''}.json"
    out.write_text(json.dumps({
        "seed": args.seed, "runs": len(plan), "builder": args.builder, "seconds": round(time.time() - started),
        "counts": [{"shape": s, "judge": j, "outcome": o, "n": n} for (s, j, o), n in sorted(counts.items())],
        "lies": lies, "table": lines}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

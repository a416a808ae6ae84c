"""detect against cargo on public Rust workspaces: `truth` writes cargo's answer, `check` compares.

    python3 -m tests.realrepos.detect_check truth [REPO ...]   # cargo 1.95: detect_truth.json
    python3 -m tests.realrepos.detect_check check [REPO ...]   # detect's agreement, per repository

The repositories are snapshots (`git` directories) under $FRESHBIN_MIRROR (default /work/.mirror,
`owner+name/repo`).  `truth` picks each repository's ranges from its first-parent history — the
parent of each of the newest commits that change a Cargo.toml, and a few wider ranges across
them — exports both commits, runs `cargo metadata` and stores per range the packages and
binaries cargo's graphs say the changed files reach (cargo_truth.py).  It never runs detect, so
the truth is written before detect is asked.  tests/unit/test_detect_real.py runs `check`.

Xuepoo/vectomancy (31 ranges) and tokio-rs/axum (36) come from the held-out set
tests/heldout/issue-27/detect (in git at 3dd5b39), folded in: their ranges were sampled by that set's `pick.py`, not by
`pick_ranges`, and their entries here were computed with cargo_truth.py's rules (`cargo_view`,
`diff`, `expected`) on those ranges, without detect.  They are not in REPOS: `truth` with either
name would replace those ranges by `pick_ranges`'s.

BurntSushi/ripgrep (25 ranges) and tokio-rs/tracing (25) come the same way from the held-out set
tests/heldout/issue-27-b/detect (in git at 90b9926), folded in: ranges sampled by that set's
`pick.py` and `pick_manifest.py`, entries computed with cargo_truth.py's rules, without detect;
not in REPOS either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .cargo_truth import View, cargo_view, diff, expected, export

TRUTH = Path(__file__).with_name("detect_truth.json")
REPOS = ["librespot-org/librespot", "getzola/zola", "casey/just", "rust-lang/mdBook", "gitui-org/gitui",
         "iced-rs/iced", "zellij-org/zellij", "cross-rs/cross", "mozilla/sccache", "rust-lang/rust-clippy",
         "rust-lang/regex", "image-rs/image", "dtolnay/syn"]
MANIFEST_COMMITS = 14  # newest first-parent commits changing a Cargo.toml, per repository
WIDE = 4  # ranges spanning several of them


def mirror(repo: str) -> Path:
    return Path(os.environ.get("FRESHBIN_MIRROR", "/work/.mirror")) / repo.replace("/", "+") / "repo"


def work_clone(repo: str) -> Path:
    """A clone of the snapshot without a checkout (`--shared`: no objects copied) for detect,
    which refuses a bare repository and reads every commit from git, never from the work tree."""
    dest = Path(tempfile.gettempdir()) / "freshbin-realrepos" / repo.replace("/", "+")
    if not dest.is_dir():
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(mirror(repo)), str(dest)], check=True)
    return dest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def pick_ranges(repo: Path) -> list[tuple[str, str]]:
    """(base, head) pairs: each manifest-changing commit against its parent, then wider spans."""
    log = git(repo, "log", "--first-parent", "--format=%H", f"-{MANIFEST_COMMITS}", "HEAD", "--",
              "Cargo.toml", "*/Cargo.toml").split()
    ranges = [(git(repo, "rev-parse", f"{c}^1").strip(), c) for c in log]
    heads = [c for _b, c in ranges]
    ranges += [(heads[i + 3], heads[i]) for i in range(0, min(WIDE * 3, len(heads) - 3), 3)]
    return ranges


def views_of(repo: Path, commits: set[str], scratch: Path) -> tuple[dict[str, View], dict[str, str]]:
    """Cargo's view of each commit, or why cargo refused it."""
    views, failed = {}, {}
    for commit in sorted(commits):
        try:
            views[commit] = cargo_view(export(repo, commit, scratch / commit))
        except RuntimeError as exc:
            failed[commit] = str(exc)
    return views, failed


def truth_for(name: str) -> dict:
    repo = mirror(name)
    ranges = pick_ranges(repo)
    with tempfile.TemporaryDirectory() as scratch:
        views, failed = views_of(repo, {c for r in ranges for c in r}, Path(scratch))
    entries = []
    for base, head in ranges:
        if base in failed or head in failed:
            continue
        packages, binaries = expected(views[base], views[head], diff(repo, base, head))
        entries.append({"base": base, "head": head, "packages": sorted(packages), "binaries": sorted(binaries)})
    return {"repo": name, "ranges": entries, "cargo_refused": failed}


def write_truth(names: list[str]) -> None:
    cargo = subprocess.run(["cargo", "--version"], capture_output=True, text=True).stdout.strip()
    for name in names:  # one repository at a time: a long run keeps what it has
        old = json.loads(TRUTH.read_text())["repos"] if TRUTH.exists() else []
        repos = [r for r in old if r["repo"] != name] + [truth_for(name)]
        TRUTH.write_text(dump({"cargo": cargo, "repos": sorted(repos, key=lambda r: r["repo"])}))


def dump(truth: dict) -> str:
    """JSON with one line per range: small, and a diff shows which range changed."""
    repos = []
    for r in truth["repos"]:
        ranges = ",\n    ".join(json.dumps(x) for x in r["ranges"])
        repos.append(f'  {{"repo": {json.dumps(r["repo"])}, "cargo_refused": {json.dumps(r["cargo_refused"])},'
                     f'\n   "ranges": [\n    {ranges}]}}')
    return f'{{"cargo": {json.dumps(truth["cargo"])}, "repos": [\n' + ",\n".join(repos) + "]}\n"


def check(names: list[str] | None = None) -> dict[str, list[dict]]:
    """{repo: [disagreeing ranges, with what detect said]} for every repository present here."""
    from freshbin.detect import detect
    from freshbin.errors import FreshbinError

    out: dict[str, list[dict]] = {}
    for entry in json.loads(TRUTH.read_text())["repos"]:
        if (names and entry["repo"] not in names) or not mirror(entry["repo"]).is_dir():
            continue
        misses = []
        for r in entry["ranges"]:
            try:
                result = detect(work_clone(entry["repo"]), base=r["base"], head=r["head"])
            except FreshbinError as exc:  # an exit 2 on a range cargo reads is a disagreement too
                misses.append({**r, "detect": {"error": str(exc)}})
                continue
            if (result.packages, result.binaries) != (r["packages"], r["binaries"]):
                misses.append({**r, "detect": {"packages": result.packages, "binaries": result.binaries}})
        out[entry["repo"]] = misses
    return out


def report(names: list[str] | None = None) -> str:
    truth = {e["repo"]: len(e["ranges"]) for e in json.loads(TRUTH.read_text())["repos"]}
    misses = check(names)
    lines = [f"{repo}: {truth[repo] - len(m)}/{truth[repo]}" for repo, m in misses.items()]
    agree = sum(truth[r] - len(m) for r, m in misses.items())
    lines.append(f"total: {agree}/{sum(truth[r] for r in misses)} ranges agree, {len(misses)} repositories")
    for repo, m in misses.items():
        lines += [f"  miss {repo} {x['base'][:10]}..{x['head'][:10]}: cargo {x['packages']} {x['binaries']}"
                  f" / detect {x['detect']}" for x in m]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("truth", "check"):
        print(__doc__)
        return 2
    if argv[0] == "truth":
        write_truth(argv[1:] or REPOS)
    else:
        print(report(argv[1:] or None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

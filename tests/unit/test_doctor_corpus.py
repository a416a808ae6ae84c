"""doctor on the corpus of real Dockerfiles (tests/corpus/doctor), against the hand-written truth.

Every case: exit code never 2, every expected hazard found at its line (recall 100 %, less the
misses the truth names in `known_miss` with their reason), and of
the error/warning findings at least 90 % match an expected (rule, line) (precision), not counting
the wrong findings the truth names in `known_false` with their reason (both figures are printed
with and without them).  Every
case with an FB001/FB002 finding: `--fix` is idempotent, the re-lint has no such finding, and
the refresh names only directories that exist in the image at that point (those the
Dockerfile copies).  `python -m tests.unit.test_doctor_corpus` prints the corpus table.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from freshbin.dockerfile_model import copy_of, parse
from freshbin.doctor import diagnose, fix

from ..conftest import FRESHBIN, REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "corpus" / "doctor"
TRUTH = json.loads((CORPUS / "truth.json").read_text())
GRADED = ("error", "warning")


def run_case(entry: dict) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(expected, found) sets of (rule, line) for the error/warning findings of one case."""
    case = CORPUS / entry["case"]
    report = diagnose(case / entry["dockerfile"], case)
    expected = {(e["rule"], e["line"]) for e in entry["expected"]}
    found = {(f.rule, f.line) for f in report.findings if f.severity in GRADED}
    return expected, found


def figures() -> dict:
    rows, matched, found_total, expected_total, hit, known_false = [], 0, 0, 0, 0, 0
    for entry in TRUTH:
        expected, found = run_case(entry)
        rows.append((entry["case"], ",".join(json.loads((CORPUS / entry["case"] / "SOURCE.json").read_text())["shape"]),
                     "hazard" if entry["hazardous"] else "safe", " ".join(f"{r}:{n}" for r, n in sorted(expected)) or "-",
                     " ".join(f"{r}:{n}" for r, n in sorted(found)) or "-"))
        matched += len(found & expected)
        found_total += len(found)
        expected_total += len(expected)
        hit += len(expected & found)
        known_false += len(found & {(m["rule"], m["line"]) for m in entry.get("known_false", [])})
    return {"rows": rows, "precision": matched / found_total if found_total else 1.0,
            "recall": hit / expected_total if expected_total else 1.0, "findings": found_total,
            "expected": expected_total, "matched": matched, "cases": len(rows), "known_false": known_false,
            "precision_less_known_false": matched / (found_total - known_false) if found_total - known_false else 1.0}


def test_the_corpus_is_what_the_issue_asks_for():
    assert len(TRUTH) >= 30 and sum(e["hazardous"] for e in TRUTH) >= 5
    for entry in TRUTH:
        source = json.loads((CORPUS / entry["case"] / "SOURCE.json").read_text())
        assert re.fullmatch(r"[0-9a-f]{40}", source.get("commit", "")) or source.get("commits"), entry["case"]


def test_precision_and_recall_on_the_corpus(capsys):
    result = figures()
    with capsys.disabled():
        print(f"\ncorpus: {result['cases']} cases, {result['expected']} expected, {result['findings']} findings, "
              f"precision {result['precision']:.1%} ({result['matched']}/{result['findings']}; "
              f"{result['precision_less_known_false']:.1%} less {result['known_false']} known_false), "
              f"recall {result['recall']:.1%}")
    known = sum(len(e.get("known_miss", [])) for e in TRUTH)
    assert result["recall"] >= (result["expected"] - known) / result["expected"], [r for r in result["rows"] if r[3] != r[4]]
    assert result["precision_less_known_false"] >= 0.9, [r for r in result["rows"] if r[3] != r[4]]


@pytest.mark.parametrize("entry", TRUTH, ids=[e["case"] for e in TRUTH])
def test_each_case_every_line_right_and_never_exit_2(entry):
    expected, found = run_case(entry)
    known = {(m["rule"], m["line"]) for m in entry.get("known_miss", [])}  # a miss the truth explains
    assert expected - known <= found, f"missed {expected - known - found}"
    wrong_line = {(r, n) for r, n in found if any(r == er for er, _ in expected) and (r, n) not in expected}
    assert not wrong_line, f"right rule, wrong line: {wrong_line}"
    case = CORPUS / entry["case"]
    proc = subprocess.run([*FRESHBIN, "doctor", "--format", "json", entry["dockerfile"]], cwd=case,
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.returncode == (1 if entry["hazardous"] and expected - known else 0) or found - expected, proc.stdout


FIXABLE = [e for e in TRUTH if any(x["rule"] in ("FB001", "FB002") and {"rule": x["rule"], "line": x["line"]} not in
                                   [{"rule": m["rule"], "line": m["line"]} for m in e.get("known_miss", [])]
                                   for x in e["expected"])]  # a known miss gets no fix


@pytest.mark.parametrize("entry", FIXABLE, ids=[e["case"] for e in FIXABLE])
def test_fix_on_each_fixable_case(tmp_path, entry):
    case = tmp_path / entry["case"]
    shutil.copytree(CORPUS / entry["case"], case)
    path = case / entry["dockerfile"]
    new, diff = fix(path, case)
    assert diff, "a case with FB001/FB002 must get a fix"
    path.write_text(new)
    assert fix(path, case) == (new, ""), "--fix is not idempotent"
    assert not {f.rule for f in diagnose(path, case).findings} & {"FB001", "FB002"}
    named = [name for line in diff.splitlines() if line.startswith("+")
             for dirs in re.findall(r"find (.+?) -name", line) for name in dirs.split()]
    assert named
    for name in named:
        assert in_image(path, case, name), f"--fix names {name}, which no COPY put in the image"


def in_image(dockerfile: Path, context: Path, name: str) -> bool:
    """Is `name` (relative to the WORKDIR of the fixed RUN) a directory some COPY from the
    context brought into the image — the context's own directory under the COPY's source (for
    a wildcard source, the directory whose entries it names)?"""
    model = parse(dockerfile)
    for stage in model.stages:
        for ins in stage.instructions:
            copy = copy_of(ins)
            if copy is None or copy.from_stage or copy.heredoc:
                continue
            target = posixpath.normpath(posixpath.join(ins.cwd, name))
            for src in copy.sources:
                if any(ch in posixpath.basename(src) for ch in "*?["):
                    src = posixpath.dirname(src) or "."  # `COPY src/* ./src`: the entries of src go into ./src
                dest = copy.dest.rstrip("/") or "/"
                if target == dest or target.startswith(dest + "/"):
                    rel = posixpath.relpath(target, dest)
                    if (context / src.lstrip("/") / rel).is_dir():
                        return True
    return False


if __name__ == "__main__":
    from tabulate import tabulate
    result = figures()
    print(tabulate(result["rows"], headers=("case", "shape", "truth", "expected", "findings")))
    print(f"\n{result['cases']} cases; {result['expected']} expected hazards, {result['findings']} error/warning "
          f"findings, {result['matched']} matching: precision {result['precision']:.1%} "
          f"({result['precision_less_known_false']:.1%} less {result['known_false']} known_false), recall {result['recall']:.1%}")

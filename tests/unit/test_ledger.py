import json
import multiprocessing

import pytest

from freshbin import ledger
from freshbin.errors import EnvironmentProblem


def test_corrupt_and_truncated_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "deploys.jsonl"
    ledger.append(path, {"image": "a", "commit": "1"})
    with open(path, "ab") as fh:
        fh.write(b'{"image": "a", "commit": "2"\n\xff\xfe garbage\n[1, 2]\n{"image": "a", "co')  # truncated tail
    ledger.append(path, {"image": "a", "commit": "3"})
    read = ledger.read(path)
    assert [r["commit"] for r in read.records] == ["1", "3"]
    assert len(read.problems) == 4 and all("skipped" in p for p in read.problems)
    assert ledger.last_for(read, "a")["commit"] == "3" and ledger.last_for(read, "b") is None


def _append_many(path, worker):
    for i in range(50):
        ledger.append(path, {"image": "img", "commit": f"{worker}-{i}", "pad": "x" * 5000})


def test_concurrent_appends_never_interleave(tmp_path):
    path = tmp_path / "deploys.jsonl"
    procs = [multiprocessing.Process(target=_append_many, args=(path, w)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 400 and all(json.loads(line)["image"] == "img" for line in lines)


def test_unwritable_ledger_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(EnvironmentProblem, match="cannot write the deploy ledger"):
        ledger.append(blocker / "deploys.jsonl", {"image": "a", "commit": "1"})

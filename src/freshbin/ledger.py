"""The deploy ledger: append-only JSON Lines, one record per successful push.

Appends take an exclusive `flock` on a sidecar lock file and are fsynced, so concurrent deploys
never interleave and a crash never leaves half a record behind a good one.  Reading never fails
on a bad line: it is reported and skipped, and the file is never rewritten.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EnvironmentProblem


@dataclass(frozen=True)
class LedgerRead:
    records: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)  # "line N: reason"


def read(path: Path) -> LedgerRead:
    path = Path(path)
    if not path.exists():
        return LedgerRead([])
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                problems.append(f"{path}:{number}: corrupt record skipped ({exc.__class__.__name__})")
                continue
            if not isinstance(record, dict) or "image" not in record or "commit" not in record:
                problems.append(f"{path}:{number}: record without image/commit skipped")
                continue
            records.append(record)
    return LedgerRead(records, problems)


def last_for(read_result: LedgerRead, image: str, target: str | None = None) -> dict[str, Any] | None:
    """The newest record for `image` (and `target`, when given)."""
    for record in read_result.records[::-1]:
        if record.get("image") == image and (target is None or record.get("target") == target):
            return record
    return None


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one record atomically with respect to other freshbin processes."""
    path = Path(path)
    line = (json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(fd).st_size
            try:
                _terminate_partial_line(fd)
                _write_all(fd, line)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)  # disk full mid-record: leave the ledger as it was
                raise
            finally:
                os.close(fd)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write the deploy ledger {path} ({exc.strerror}); make its directory writable or set freshbin.ledger"
        ) from exc


MIN_FREE_BYTES = 64 * 1024


def check_writable(path: Path) -> None:
    """Before a deploy pushes anything: the ledger's directory exists or can be made, is writable
    and has room, so a pushed image is never left unrecorded for a reason known in advance."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a"):
            pass
        fs = os.statvfs(path.parent)
        free = fs.f_bavail * fs.f_frsize
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot write the deploy ledger {path} ({exc.strerror}); make its directory writable or set freshbin.ledger"
        ) from exc
    if free < MIN_FREE_BYTES:
        raise EnvironmentProblem(f"only {free} bytes free for the deploy ledger in {path.parent}; free some space "
                                 "or set freshbin.ledger elsewhere (nothing was built or pushed)")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _terminate_partial_line(fd: int) -> None:
    """A previous writer killed mid-line must not glue its fragment to our record."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")

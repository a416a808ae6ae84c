"""A small on-disk cache of facts about this machine's engine and tools, keyed by what decides them.

Asking buildx what it is costs a docker CLI process per question (four of them, ~0.1–0.3 s of a
2-core machine before every build); probing the engine's behaviour costs two builds.  The answers
change only when what the key names changes (a binary replaced, a builder switched, a daemon
upgraded), so each one lives in $XDG_CACHE_HOME/freshbin/NAME.json under its key for at most a day.
A cache that cannot be read or written is only a miss: the probe runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

MAX_AGE_S = 24 * 3600


def key_of(parts: Any) -> str:
    """A short stable key for a JSON-able description of what decides the facts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def path(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "freshbin" / f"{name}.json"


def read(name: str, key: str, max_age_s: float = MAX_AGE_S) -> dict[str, Any] | None:
    """The facts stored under `key`, or None (absent, too old, or the file unreadable)."""
    try:
        entry = _entries(path(name)).get(key)
        if isinstance(entry, dict) and time.time() - float(entry.get("at", 0)) < max_age_s:
            return {k: v for k, v in entry.items() if k != "at"}
    except (OSError, TypeError, ValueError):
        pass
    return None


def write(name: str, key: str, facts: dict[str, Any]) -> None:
    """Store `facts` under `key` (atomically: a reader sees the old file or the new one)."""
    target = path(name)
    try:
        data = _entries(target)
    except (OSError, ValueError):
        data = {}
    data[key] = {**facts, "at": time.time()}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(target)
    except OSError:
        pass  # a read-only home: probe again next time


def _entries(file: Path) -> dict[str, Any]:
    if not file.exists():
        return {}
    data = json.loads(file.read_text())
    return data if isinstance(data, dict) else {}

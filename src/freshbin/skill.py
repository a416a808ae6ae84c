"""The skill document: where it lives in the package, and installing it into an agent's skills folder.

The canonical text is `skill.md` at the repository root; the package ships it as
`freshbin/data/skill.md` so `freshbin skill.install` works from a plain `pip install`.
Agents load `<skills dir>/<name>/SKILL.md`; an existing copy that differs is never overwritten
without `force` (it may hold local edits).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import UsageError

NAME = "docker-buildx-stale-rust-binary"
DEFAULT_DEST = ".claude/skills"


@dataclass(frozen=True)
class Installed:
    path: str
    action: str  # created | updated | unchanged; with dry_run: would create | would update
    sha256: str


def text() -> str:
    return (resources.files("freshbin") / "data" / "skill.md").read_text(encoding="utf-8")


def install(dest: Path, *, force: bool = False, dry_run: bool = False) -> Installed:
    """Write the skill to DEST/NAME/SKILL.md; `dry_run` (invoke's -R) says what it would do and writes nothing."""
    body = text()
    target = Path(dest) / NAME / "SKILL.md"
    digest = hashlib.sha256(body.encode()).hexdigest()
    if target.is_dir():
        raise UsageError(f"{target} is a directory; remove it or choose another --dest")
    if target.exists():
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the installed {target} ({exc}); remove it or pass --force") from exc
        if current == body:
            return Installed(str(target), "unchanged", digest)
        if not force:
            raise UsageError(f"{target} exists and differs from this version (local edits?); "
                             "pass --force to replace it")
        action = "updated"
    else:
        action = "created"
    if dry_run:
        return Installed(str(target), f"would {action[:-1]}", digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(".SKILL.md.tmp")
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        raise UsageError(f"cannot write {target} ({exc.strerror}); check --dest and its permissions") from exc
    return Installed(str(target), action, digest)

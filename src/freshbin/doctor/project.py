"""What doctor reads besides the Dockerfile: the build context, its manifests and cargo config.

The workspace is optional: a Dockerfile can be checked from its own text, and manifests only
add names (which binaries exist, which files cargo writes for a package).  A manifest that
exists but does not parse is an error (exit 2); a missing one is a note.
"""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dockerfile_cargo import CargoConfig, read_cargo_config
from ..dockerfile_model import Dockerfile, parse
from ..errors import WorkspaceError
from ..workspace import Workspace, load_workspace
from .targets import artefacts

CARGO_CONFIGS = (".cargo/config.toml", ".cargo/config")


@dataclass
class Project:
    dockerfile: Dockerfile
    context: Path
    workspace: Workspace | None
    cargo_config: CargoConfig
    notes: list[str] = field(default_factory=list)
    _manifests: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _configs: dict[str, CargoConfig] | None = None

    @property
    def file(self) -> str:
        return str(self.dockerfile.path)

    def exists(self, rel: str) -> bool | None:
        """Whether context path `rel` exists (None when it holds a glob or leaves the context)."""
        if any(ch in rel for ch in "*?[$") or rel.startswith(".."):
            return None
        return (self.context / rel).exists()

    def is_dir(self, rel: str) -> bool:
        """A context path is a directory if it is one; a path that is not there is guessed by its name."""
        rel = rel.rstrip("/") or "."
        if rel in (".", "") or (self.context / rel).is_dir():
            return True
        if (self.context / rel).exists():
            return False
        return "." not in posixpath.basename(rel) and "*" not in rel

    def glob(self, rel: str) -> list[str]:
        """The context paths a COPY wildcard source matches (none for a plain path or an unresolved ARG)."""
        if not any(ch in rel for ch in "*?[") or "$" in rel or rel.startswith(".."):
            return []
        return sorted(p.relative_to(self.context).as_posix() for p in self.context.glob(rel))

    def context_configs(self) -> dict[str, CargoConfig]:
        """Every `.cargo/config.toml` / `.cargo/config` under the context, by context path: a COPY
        brings them into the image (`doctor.configs`)."""
        if self._configs is None:
            found = [p for name in CARGO_CONFIGS for p in self.context.glob(f"**/{name}") if p.is_file()]
            self._configs = {p.relative_to(self.context).as_posix(): read_cargo_config(_toml(p))
                             for p in sorted(found)[:100]}
        return self._configs

    def manifest(self, rel: str) -> dict[str, Any] | None:
        """The parsed context-relative Cargo.toml `rel`, None if absent; WorkspaceError if unparsable."""
        if rel not in self._manifests:
            path = self.context / rel
            if not rel or not path.is_file():
                self._manifests[rel] = None
            else:
                self._manifests[rel] = _toml(path)
        return self._manifests[rel]

    def binary_names(self) -> set[str]:
        """Every file name cargo can write into a profile directory for a manifest under the
        context: binary targets as cargo infers them and library artefacts (`lib<name>.so` of a
        cdylib).  A package name counts only when it is a binary target's name."""
        names: set[str] = set(self.workspace.all_binaries()) if self.workspace else set()
        for path in sorted(self.context.glob("**/Cargo.toml"))[:500]:
            rel = path.relative_to(self.context).as_posix()
            names |= artefacts(posixpath.dirname(rel), self.manifest(rel) or {}, self.context)
        return names

def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path} is not valid TOML ({exc}); fix it so cargo can read it") from exc
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path} ({exc.strerror}); check its permissions") from exc


def load(dockerfile: Path, context: Path, workspace: Path | None) -> Project:
    """Parse the Dockerfile (UsageError if unreadable) and read what the context offers."""
    model = parse(dockerfile)
    notes: list[str] = []
    ws = None
    root = workspace if workspace is not None else context
    if (root / "Cargo.toml").is_file():
        ws = load_workspace(root)
    else:
        notes.append(f"no Cargo.toml in {root}: names of packages and binaries come from the Dockerfile alone")
    config = CargoConfig()
    for rel in CARGO_CONFIGS:
        if (context / rel).is_file():
            config = read_cargo_config(_toml(context / rel))
            break
    return Project(model, context, ws, config, notes)

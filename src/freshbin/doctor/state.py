"""The walk's state: the dummy sources a Dockerfile created and the real sources it copied.

Kept apart from the walk (`analysis`) and the refresh steps (`steps`) that both change it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..dockerfile_cargo import CargoCall, CargoConfig
from ..dockerfile_model import Copy, Instruction


@dataclass
class Dummy:
    path: str  # absolute path pattern in the image
    created: Instruction
    package_dir: str
    compiled: set[tuple[str, str, str | None, str]] = field(default_factory=set)
    prebuild: CargoCall | None = None
    overwritten: Copy | None = None
    copied_to: str = ""  # where that COPY put the source covering this dummy
    package: str = ""  # cargo package name (known once a hazard is reported)
    kind: str = ""  # its unit: "bin", "lib" or "build" (known once a hazard is reported)
    crate: str = ""  # the unit's target name with underscores (known once a hazard is reported)
    refreshed: bool = False
    reported: bool = False


@dataclass
class State:
    dummies: dict[str, Dummy] = field(default_factory=dict)
    real: list[tuple[str, str, bool]] = field(default_factory=list)  # (image path, context path, is dir)
    attempts: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    copied_sources: bool = False
    touched_sources: bool = False  # a touch/find refreshed copied sources (dummies or not) since the last COPY
    configs: dict[str, CargoConfig] = field(default_factory=dict)  # image path of a cargo config -> its [build]

    def clone(self) -> "State":
        copy = State({k: Dummy(**vars(d)) for k, d in self.dummies.items()}, list(self.real))
        copy.copied_sources, copy.configs = self.copied_sources, dict(self.configs)
        return copy

    def context_path(self, image_path: str) -> str | None:
        for target, source, is_dir in reversed(self.real):
            if image_path == target:
                return source
            if is_dir and image_path.startswith(target.rstrip("/") + "/"):
                return posixpath.normpath(posixpath.join(source, image_path[len(target.rstrip("/")) + 1:]))
        return None

    def is_real(self, image_path: str) -> bool:
        return self.context_path(image_path) is not None and image_path not in self.dummies

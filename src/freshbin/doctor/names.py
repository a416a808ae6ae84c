"""The file names cargo gives a package's artefacts, and whether an `rm` pattern hits them.

Cargo writes a binary's compiled unit to `<profile>/deps/<crate>-<hash>` and a library's to
`<profile>/deps/lib<crate>-<hash>.rlib`, where the crate name is the target name with `-`
turned into `_`; its fingerprint directory is `<profile>/.fingerprint/<package>-<hash>` (the
package name as written).  Removing the unit's output (or fingerprint) makes cargo rebuild it;
removing the uplifted `<profile>/<name>` or a `.d` file does not.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Dummy, State
    from .project import Project

HASH = "0123456789abcdef"


@dataclass(frozen=True)
class Units:
    package: str
    kind: str  # "bin", "lib" or "build"
    crate: str  # target name with underscores

    def outputs(self, out_dir: str) -> list[str]:
        """Files (and the fingerprint dir) whose removal makes cargo rebuild this unit."""
        deps = posixpath.join(out_dir, "deps")
        unit = {"bin": f"{deps}/{self.crate}-{HASH}", "lib": f"{deps}/lib{self.crate}-{HASH}.rlib",
                "build": f"{out_dir}/build/{self.package}-{HASH}/build-script-build"}[self.kind]
        return [unit, f"{out_dir}/.fingerprint/{self.package}-{HASH}"]


def shell_match(path: str, pattern: str) -> bool:
    """A shell glob: `*`, `?` and `[…]` never cross a `/`."""
    regex = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            regex += "[^/]*"
        elif ch == "?":
            regex += "[^/]"
        elif ch == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            regex += "[" + pattern[i + 1:end].replace("!", "^", 1) + "]"
            i = end
        else:
            regex += re.escape(ch)
        i += 1
    return re.fullmatch(regex, path) is not None


def removes(pattern: str, out_dir: str, units: Units) -> bool:
    """Does `rm -rf <pattern>` remove what makes cargo rebuild `units` in `out_dir`?"""
    paths = _ancestors(posixpath.join(out_dir, "deps")) + units.outputs(out_dir)
    return any(shell_match(path, pattern) for path in paths)


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:k]) for k in range(1, len(parts) + 1)]


def artefact_miss(patterns: list[str], units: Units) -> str | None:
    if units.kind == "build":
        return None
    expected = "deps/" + ("lib" if units.kind == "lib" else "") + f"{units.crate}-<hash>"
    why = " (the crate name, with underscores)" if "-" in units.package else ""
    return (f"`rm {' '.join(patterns)}` removes none of the artefacts of {units.package}: "
            f"cargo names them {expected}{why}")


def unit_names(project: "Project", state: "State", dummy: "Dummy") -> Units:
    manifest_at = state.context_path(posixpath.join(dummy.package_dir, "Cargo.toml"))
    data: dict[str, Any] = (project.manifest(manifest_at) if manifest_at else None) or {}
    package = data.get("package") if isinstance(data.get("package"), dict) else {}
    name = str((package or {}).get("name") or posixpath.basename(dummy.package_dir) or "app")
    rel = dummy.path[len(dummy.package_dir) + 1:] if dummy.path.startswith(dummy.package_dir + "/") else dummy.path
    if rel == "build.rs":
        return Units(name, "build", name.replace("-", "_"))
    if rel.endswith("lib.rs"):
        lib = data.get("lib") if isinstance(data.get("lib"), dict) else {}
        return Units(name, "lib", str((lib or {}).get("name") or name).replace("-", "_"))
    bins = [b for b in data.get("bin", []) or [] if isinstance(b, dict)]
    target = next((str(b.get("name")) for b in bins
                   if posixpath.normpath(str(b.get("path", ""))) == posixpath.normpath(rel)), None)
    if target is None and rel.startswith("src/bin/"):
        target = posixpath.splitext(rel[len("src/bin/"):])[0].split("/")[0]
    return Units(name, "bin", (target or name).replace("-", "_"))


def new_unit(project: "Project", state: "State", dummy: "Dummy") -> bool:
    """The real package gains a build script (or a library beside a dummy binary) the pre-build
    never had: its units then depend on a new unit, so cargo rebuilds them whatever the mtimes."""
    where = state.context_path(dummy.package_dir)
    for inside in ("Cargo.toml", "src"):
        found = state.context_path(posixpath.join(dummy.package_dir, inside))
        where = where or (posixpath.dirname(found) if found else None)
    if where is None:
        return False
    for extra in ("build.rs", "src/lib.rs"):
        image = posixpath.join(dummy.package_dir, extra)
        if image == dummy.path or image in state.dummies:
            continue
        if extra == "src/lib.rs" and not dummy.path.endswith("main.rs"):
            continue
        if project.exists(posixpath.normpath(posixpath.join(where, extra))):
            return True
    return False

"""Which dummy sources a cargo call compiles: the targets its flags select, not every dummy.

A pre-build writes stubs so that the manifest parses (`benches/x.rs` for a `[[bench]]`, a
`src/bin/tool.rs` beside the main binary); cargo compiles only the targets the call selects.
`cargo build` (and `install`, `rustc`) builds libraries and binaries, never benches, examples
or tests without `--benches`/`--bench`/`--examples`/`--example`/`--tests`/`--test`/
`--all-targets`; `--bin X` builds that binary (with its package's library and build script);
`--lib` alone no binary; `-p P` no binary of another package.  A stub the call never compiled
leaves no artefact, so it cannot be the dummy the real build keeps (FB001/FB002).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from ..dockerfile_cargo import CargoCall
from ..dockerfile_model import unresolved
from .names import unit_names

if TYPE_CHECKING:
    from .state import Dummy, State
    from .project import Project

_OPTIONAL = {"benches": ("--benches", "--bench"), "examples": ("--examples", "--example"),
             "tests": ("--tests", "--test")}


def compiles(project: "Project", state: "State", dummy: "Dummy", call: CargoCall) -> bool:
    """Does `call` compile the dummy source file (as far as its flags and the manifest tell)?"""
    words = call.command.words
    if "--all-targets" in words:
        return True
    rel = dummy.path[len(dummy.package_dir) + 1:] if dummy.path.startswith(dummy.package_dir + "/") else ""
    top = rel.split("/", 1)[0]
    if top in _OPTIONAL:
        return any(w == flag or w.startswith(flag + "=") for w in words for flag in _OPTIONAL[top])
    units = unit_names(project, state, dummy)
    if units.kind != "bin" or "--bins" in words:
        return True
    if call.packages and not any(unresolved(p) for p in call.packages) and units.package not in call.packages:
        return False
    if call.bins:
        return any(unresolved(b) or b.replace("-", "_") == units.crate for b in call.bins)
    return "--lib" not in words


def package_of(path: str) -> str:
    """The package directory of a dummy path: the part before `/src/`, `/benches/`, … ."""
    for part in ("/src/", "/benches/", "/examples/", "/tests/"):
        head, sep, _ = path.rpartition(part)
        if sep:
            return head
    return posixpath.dirname(path)

"""What cargo writes into `<target dir>/[<triple>/]<profile>/` for the packages under a context.

FB007 asks whether a `COPY --from` names a file cargo produces.  That is a binary target's
name — cargo's own inference (`[[bin]] name`, `src/main.rs` as the package name only when no
`[[bin]]` claims that path, `src/bin/*`) — or a library's artefact, `lib<name>.so` for a
`cdylib`/`dylib`, `lib<name>.a` for a `staticlib`, `lib<name>.rlib` otherwise, with the lib
name's `-` turned into `_`.  The package name alone is no file: a package whose only binary is
renamed by `[[bin]] name` writes no `target/release/<package>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..trees import DiskTree
from ..workspace import binary_targets

LIB_FILES = {"cdylib": "lib{}.so", "dylib": "lib{}.so", "staticlib": "lib{}.a", "rlib": "lib{}.rlib",
             "lib": "lib{}.rlib", "proc-macro": "lib{}.so"}


def lib_files(rel: str, manifest: dict[str, Any], context: Path) -> set[str]:
    """The library files cargo uplifts for the package at `rel` (none without a lib target)."""
    lib = manifest.get("lib") if isinstance(manifest.get("lib"), dict) else {}
    assert isinstance(lib, dict)
    declared = lib.get("path")
    path = declared if isinstance(declared, str) else "src/lib.rs"
    if not lib and not (context / rel / path).is_file():
        return set()
    package = manifest.get("package") if isinstance(manifest.get("package"), dict) else {}
    name = str(lib.get("name") or (package or {}).get("name") or "").replace("-", "_")
    kinds = lib.get("crate-type") or lib.get("crate_type") or ["lib"]
    if lib.get("proc-macro") is True:
        kinds = ["proc-macro"]
    return {LIB_FILES[k].format(name) for k in kinds if isinstance(k, str) and k in LIB_FILES and name}


def artefacts(rel: str, manifest: dict[str, Any], context: Path) -> set[str]:
    """Every file name of the package at context path `rel` in cargo's profile directory."""
    package = manifest.get("package") if isinstance(manifest.get("package"), dict) else None
    if not package or not isinstance(package.get("name"), str):
        return set()
    bins = binary_targets(DiskTree(context), rel or ".", manifest, package["name"])
    return set(bins) | lib_files(rel, manifest, context)

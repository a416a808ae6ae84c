"""A generated Cargo workspace with a history: the shapes real workspaces take, at scale.

~150 packages in `crates/*` (libraries), `services/*` (binaries: src/main.rs, src/bin/*.rs,
[[bin]]), `tools/extra`, implicit members (path dependencies under `vendor/` that `members` does
not list), `[workspace.dependencies]` paths, target-specific, build and dev dependencies, an
excluded directory, a fuzz crate nested in a member — then commits that edit sources, rename a package, delete a member, change
a members glob and add an implicit member.  Deterministic: the same seed writes the same files.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from ..conftest import commit_all, git, write

LIBS, SERVICES, IMPLICIT = 120, 26, 6


def _lib_manifest(name: str, deps: list[str], rng: random.Random, extra: str = "") -> str:
    """A manifest whose path dependencies use every style cargo allows."""
    lines = [f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{extra}', "[dependencies]"]
    build, target, dev = [], [], []
    for dep in deps:
        style = rng.randrange(6)
        spec = f'{dep} = {{ path = "../{dep}" }}'
        if style == 0:
            spec = f"{dep}.workspace = true"
        if style == 1:
            build.append(spec)
        elif style == 2:
            target.append(spec)
        elif style == 3:
            dev.append(spec)
        else:
            lines.append(spec)
    for header, specs in (("[build-dependencies]", build), ("[target.'cfg(unix)'.dependencies]", target),
                          ("[dev-dependencies]", dev)):
        if specs:
            lines += [header, *specs]
    return "\n".join(lines) + "\n"


def generate(root: Path, seed: int = 7) -> list[str]:
    """Write the workspace into a new repository at `root`; returns the commit ids, oldest first."""
    rng = random.Random(seed)
    libs = [f"lib{i:03d}" for i in range(LIBS)]
    ws_deps = "\n".join(f'{lib} = {{ path = "crates/{lib}" }}' for lib in libs)
    write(root / "Cargo.toml", '[workspace]\nresolver = "2"\nmembers = ["crates/*", "services/*", "tools/extra"]\n'
          f'exclude = ["crates/excluded"]\n\n[workspace.dependencies]\n{ws_deps}\n')
    for i, lib in enumerate(libs):
        deps = rng.sample(libs[:i], min(i, rng.randrange(4)))
        manifest = _lib_manifest(lib, deps, rng)
        if i % 20 == 5:  # a path dependency that `members` does not list: an implicit member
            manifest += f'[dependencies.imp{i // 20}]\npath = "../../vendor/imp{i // 20}"\n'
        write(root / "crates" / lib / "Cargo.toml", manifest)
        write(root / "crates" / lib / "src" / "lib.rs", f"pub fn id() -> u32 {{ {i} }}\n")
    for j in range(IMPLICIT):
        nested = f'\n[dependencies]\nimpdeep = {{ path = "../impdeep" }}\n' if j == 1 else ""
        write(root / "vendor" / f"imp{j}" / "Cargo.toml", f'[package]\nname = "imp{j}"\nversion = "0.1.0"\n{nested}')
        write(root / "vendor" / f"imp{j}" / "src" / "lib.rs", "")
    write(root / "vendor" / "impdeep" / "Cargo.toml", '[package]\nname = "impdeep"\nversion = "0.1.0"\n')
    write(root / "vendor" / "impdeep" / "src" / "lib.rs", "")
    write(root / "vendor" / "unused" / "Cargo.toml", '[package]\nname = "unused"\nversion = "0.1.0"\n')
    write(root / "vendor" / "unused" / "src" / "lib.rs", "")
    write(root / "crates" / "excluded" / "Cargo.toml", '[package]\nname = "excluded"\nversion = "0.1.0"\n')
    write(root / "crates" / "excluded" / "src" / "main.rs", "fn main() {}\n")
    # a fuzz crate nested in a member, a workspace of its own: no member, so nothing it holds ships
    write(root / "crates" / "lib001" / "fuzz" / "Cargo.toml",
          '[package]\nname = "lib001-fuzz"\nversion = "0.1.0"\n\n[dependencies.lib001]\npath = ".."\n\n[workspace]\n')
    write(root / "crates" / "lib001" / "fuzz" / "src" / "main.rs", "fn main() {}\n")
    for k in range(SERVICES):
        name = f"svc{k:02d}"
        deps = rng.sample(libs, 3)
        extra = ""
        if k % 5 == 0:
            extra = f'[[bin]]\nname = "{name}-admin"\npath = "src/admin.rs"\n'
            write(root / "services" / name / "src" / "admin.rs", "fn main() {}\n")
        manifest = _lib_manifest(name, [], rng, extra) + "".join(
            f'{d} = {{ path = "../../crates/{d}" }}\n' for d in deps)
        write(root / "services" / name / "Cargo.toml", manifest)
        write(root / "services" / name / "src" / "main.rs", "fn main() {}\n")
        if k % 4 == 1:  # src/bin/*.rs
            write(root / "services" / name / "src" / "bin" / f"tool{k}.rs", "fn main() {}\n")
        if k == 3:  # src/bin/*/main.rs
            write(root / "services" / name / "src" / "bin" / "multi" / "main.rs", "fn main() {}\n")
    write(root / "tools" / "extra" / "Cargo.toml", '[package]\nname = "extra"\nversion = "0.1.0"\nautobins = false\n\n'
          '[[bin]]\nname = "extra-a"\npath = "src/a.rs"\n\n[[bin]]\nname = "extra-b"\npath = "src/b.rs"\n\n'
          '[dependencies]\nlib001 = { path = "../../crates/lib001" }\n')
    write(root / "tools" / "extra" / "src" / "a.rs", "fn main() {}\n")
    write(root / "tools" / "extra" / "src" / "b.rs", "fn main() {}\n")
    write(root / "tools" / "extra" / "src" / "main.rs", "fn main() {}\n")  # not a target: autobins = false
    git(root, "init", "-q", "-b", "main")
    commits = [commit_all(root, "generated workspace")]
    commits += _history(root, libs, rng)
    return commits


def _edit(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def _history(root: Path, libs: list[str], rng: random.Random) -> list[str]:
    commits = []
    # 1. edits across libraries, a service, an implicit member and an integration test
    for lib in rng.sample(libs, 5):
        _edit(root / "crates" / lib / "src" / "lib.rs", "// edit 1")
    _edit(root / "services" / "svc04" / "src" / "main.rs", "// edit 1")
    _edit(root / "vendor" / "impdeep" / "src" / "lib.rs", "// edit 1")
    write(root / "crates" / "lib010" / "tests" / "it.rs", "#[test] fn t() {}\n")
    commits.append(commit_all(root, "edits"))
    # 1b. only the nested fuzz crate changes: the range reaches nothing
    _edit(root / "crates" / "lib001" / "fuzz" / "src" / "main.rs", "// fuzz edit")
    _edit(root / "crates" / "lib001" / "fuzz" / "Cargo.toml", "# fuzz edit")
    commits.append(commit_all(root, "fuzz"))
    # 2. rename package lib020 -> lib-twenty (dependents keep the key through `package =`)
    _rename_package(root, "lib020", "lib-twenty")
    _edit(root / "crates" / "lib020" / "src" / "lib.rs", "// edit 2")
    commits.append(commit_all(root, "rename lib020"))
    # 3. delete member lib030 (dependents drop it)
    _drop_dependency(root, "lib030")
    shutil.rmtree(root / "crates" / "lib030")
    commits.append(commit_all(root, "delete lib030"))
    # 4. glob change: `libs/*` joins; lib040 moves there (its dependents follow)
    text = (root / "Cargo.toml").read_text().replace('members = ["crates/*"', 'members = ["crates/*", "libs/*"')
    (root / "Cargo.toml").write_text(text.replace('lib040 = { path = "crates/lib040" }', 'lib040 = { path = "libs/lib040" }'))
    (root / "libs").mkdir()
    git(root, "mv", "crates/lib040", "libs/lib040")
    moved = root / "libs" / "lib040" / "Cargo.toml"
    moved.write_text(moved.read_text().replace('path = "../lib', 'path = "../../crates/lib'))
    for manifest in root.glob("*/*/Cargo.toml"):
        manifest.write_text(manifest.read_text().replace('"../lib040"', '"../../libs/lib040"')
                            .replace('"../../crates/lib040"', '"../../libs/lib040"'))
    write(root / "libs" / "newlib" / "Cargo.toml", '[package]\nname = "newlib"\nversion = "0.1.0"\n')
    write(root / "libs" / "newlib" / "src" / "lib.rs", "")
    _edit(root / "libs" / "lib040" / "src" / "lib.rs", "// edit 4")
    commits.append(commit_all(root, "libs/* glob"))
    # 5. a service starts to depend on a new implicit member; `unused` stays outside
    _edit(root / "services" / "svc07" / "Cargo.toml", 'later = { path = "../../vendor/later" }')
    write(root / "vendor" / "later" / "Cargo.toml", '[package]\nname = "later"\nversion = "0.1.0"\n')
    write(root / "vendor" / "later" / "src" / "lib.rs", "")
    _edit(root / "vendor" / "unused" / "src" / "lib.rs", "// edit 5")
    commits.append(commit_all(root, "implicit member later"))
    return commits


def _rename_package(root: Path, old: str, new: str) -> None:
    manifest = root / "crates" / old / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace(f'name = "{old}"', f'name = "{new}"', 1))
    ws = root / "Cargo.toml"
    ws.write_text(ws.read_text().replace(f'{old} = {{ path = "crates/{old}" }}',
                                         f'{old} = {{ path = "crates/{old}", package = "{new}" }}'))
    for other in root.glob("*/*/Cargo.toml"):
        text = other.read_text()
        for path in (f'"../{old}"', f'"../../crates/{old}"'):
            text = text.replace(f"path = {path} }}", f'path = {path}, package = "{new}" }}')
        other.write_text(text)


def _drop_dependency(root: Path, name: str) -> None:
    for other in root.glob("*/*/Cargo.toml"):
        kept = [ln for ln in other.read_text().splitlines() if not ln.startswith(f"{name} ") and not ln.startswith(f"{name}.")]
        other.write_text("\n".join(kept) + "\n")
    ws = root / "Cargo.toml"
    ws.write_text("\n".join(ln for ln in ws.read_text().splitlines() if not ln.startswith(f"{name} ")) + "\n")
